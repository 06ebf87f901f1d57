import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphConnection } from '../graph/graph-connection.js';
import { readTenant } from '../graph/tenant-reader.js';
import type { OathSeed } from '../model/export-data.js';
import { writeFileAtomic, type PlanFile } from '../plan/plan-file.js';
import { Executor, type ExecStats } from './executor.js';
import { countStates, Journal, readRun, type OpRecord, type OpState, type RunView } from './journal.js';
import { policyOperations, userOperations, type Operation } from './operations.js';
import { findStale, type StaleObject } from './staleness.js';
import { acquireLock, type HeldLock } from './state-lock.js';

export interface ApplySelection {
  /** Users per wave. */
  batchSize: number;
  /** Stop after this many waves (the run can be resumed). */
  waves?: number;
  /** Only these users (lower-cased UPNs). */
  users?: string[];
  maxUsers?: number;
  skipStale: boolean;
  concurrency: number;
}

export interface UserOutcome {
  upn: string;
  outcome: 'done' | 'failed' | 'partial' | 'skipped' | 'stale' | 'pending';
  operations: number;
  done: number;
  error?: string;
}

export interface ApplyOutcome {
  runId: string;
  runDir: string;
  state: 'completed' | 'partial' | 'stopped';
  stale: StaleObject[];
  users: UserOutcome[];
  counts: Record<OpState, number>;
  stats: ExecStats;
}

/** The plan refers to objects that changed in the tenant since it was made. */
export class StalePlanError extends Error {
  constructor(readonly stale: StaleObject[]) {
    super(`the plan is stale: ${stale.length} object(s) changed in the tenant since it was made (re-plan, or --skip-stale to leave them out)`);
    this.name = 'StalePlanError';
  }
}

export interface ApplyDeps {
  conn: GraphConnection;
  stateDir: string;
  seeds: ReadonlyMap<string, OathSeed>;
  onProgress?: (p: { phase: string; wave?: number; waves?: number; users: number; usersTotal: number; stats: ExecStats }) => void;
  log?: (line: string) => void;
}

interface RunPlan {
  policyOps: Operation[];
  /** Users in apply order, each with their operations. */
  users: { upn: string; userId: string; ops: Operation[] }[];
}

/** The operations a plan gives under a selection: deterministic, so a resume rebuilds the same ids. */
export function operationsFor(plan: PlanFile, sel: Pick<ApplySelection, 'users' | 'maxUsers'>): RunPlan {
  const wanted = sel.users ? new Set(sel.users.map((u) => u.toLowerCase())) : undefined;
  const byUser = new Map<string, PlanFile['user_changes']>();
  for (const c of plan.user_changes) {
    if (wanted && !wanted.has(c.user.toLowerCase())) continue;
    byUser.set(c.user_id, [...(byUser.get(c.user_id) ?? []), c]);
  }
  let users = [...byUser.values()].map((changes) => ({ upn: changes[0]!.user, userId: changes[0]!.user_id, ops: userOperations(changes) })).filter((u) => u.ops.length > 0);
  if (sel.maxUsers !== undefined) users = users.slice(0, sel.maxUsers);
  return { policyOps: policyOperations(plan.policy_changes), users };
}

export function planHash(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Applies a saved plan: policy first (so every method a user gets is enabled before it becomes
 * a default), then the users in waves. Refuses to start on stale objects unless told to skip
 * them. Holds the state directory's lock throughout; journals every operation.
 */
export async function startApply(plan: PlanFile, planBytes: Buffer, sel: ApplySelection, deps: ApplyDeps): Promise<ApplyOutcome> {
  const lock = await acquireLock(deps.stateDir, 'apply');
  logTakeover(lock, deps);
  try {
    const runPlan = operationsFor(plan, sel);
    const stale = await checkStale(plan, runPlan, deps.conn, sel.concurrency);
    if (stale.length > 0 && !sel.skipStale) throw new StalePlanError(stale);
    const staleUsers = new Set(stale.filter((s) => s.user).map((s) => s.user!.toLowerCase()));
    const stalePolicy = stale.some((s) => !s.user);

    const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
    const runDir = join(deps.stateDir, 'runs', runId);
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(runDir, 'plan.json'), planBytes, 0o600);
    const total = runPlan.policyOps.length + runPlan.users.reduce((n, u) => n + u.ops.length, 0);
    const journal = await Journal.create(runDir, {
      t: 'run',
      id: runId,
      kind: 'apply',
      created: new Date().toISOString(),
      planHash: planHash(planBytes),
      options: { ...sel, skippedStale: [...staleUsers], stalePolicy },
      totalOps: total,
    });
    const skipped: OpRecord[] = [
      ...(stalePolicy ? runPlan.policyOps.map((o) => ({ op: o.id, state: 'skipped' as const, error: 'stale' })) : []),
      ...runPlan.users.filter((u) => staleUsers.has(u.upn.toLowerCase())).flatMap((u) => u.ops.map((o) => ({ op: o.id, state: 'skipped' as const, error: 'stale' }))),
    ];
    await journal.ops(skipped);
    return await execute(runId, runDir, journal, runPlan, plan, new Map(skipped.map((r) => [r.op, r])), sel, deps, stale, lock);
  } finally {
    await lock.release();
  }
}

/** Finishes an interrupted run: done operations are not sent again; `started` ones are read back first. */
export async function resumeApply(runId: string, deps: ApplyDeps): Promise<ApplyOutcome> {
  const lock = await acquireLock(deps.stateDir, 'resume');
  logTakeover(lock, deps);
  try {
    const runDir = join(deps.stateDir, 'runs', runId);
    const view: RunView = await readRun(runDir);
    if (view.header.kind !== 'apply') throw new Error(`run ${runId} is a ${view.header.kind}; use rollback to resume it`);
    const planBytes = await readFile(join(runDir, 'plan.json'));
    if (planHash(planBytes) !== view.header.planHash) throw new Error(`run ${runId}: its plan copy does not match the journal`);
    const plan = JSON.parse(planBytes.toString('utf8')) as PlanFile;
    const sel = view.header.options as unknown as ApplySelection & { waves?: number };
    const runPlan = operationsFor(plan, sel);
    const journal = await Journal.append(runDir);
    // A resume runs the remaining waves (a --waves limit of the first run applied to it only).
    const { waves: _waves, ...rest } = sel;
    return await execute(runId, runDir, journal, runPlan, plan, view.ops, rest, deps, [], lock);
  } finally {
    await lock.release();
  }
}

function logTakeover(lock: HeldLock, deps: ApplyDeps): void {
  const t = lock.tookOver;
  if (t) deps.log?.(`Took over the lock left by ${t.operation} pid ${t.pid} of ${t.user}@${t.host} (started ${t.started}), which is no longer running.`);
}

async function execute(
  runId: string,
  runDir: string,
  journal: Journal,
  runPlan: RunPlan,
  plan: PlanFile,
  prior: ReadonlyMap<string, OpRecord>,
  sel: ApplySelection,
  deps: ApplyDeps,
  stale: StaleObject[],
  _lock: HeldLock,
): Promise<ApplyOutcome> {
  const policyRead = await deps.conn.get<Record<string, unknown>>('/policies/authenticationMethodsPolicy', 'beta');
  const executor = new Executor({
    conn: deps.conn,
    journal,
    concurrency: sel.concurrency,
    context: { seeds: deps.seeds, policy: policyRead, now: Date.now },
    onProgress: () => undefined,
  });
  executor.seedResults(prior);
  const statuses = new Map<string, { status: string; error?: string }>();
  for (const [id, r] of prior) statuses.set(id, { status: r.state, ...(r.error ? { error: r.error } : {}) });
  const usersTotal = runPlan.users.length;
  let usersDone = 0;
  const report = (phase: string, wave?: number, waves?: number) => deps.onProgress?.({ phase, ...(wave !== undefined ? { wave } : {}), ...(waves !== undefined ? { waves } : {}), users: usersDone, usersTotal, stats: executor.stats });
  const timer = setInterval(() => report('running'), 1000);
  timer.unref();
  let state: ApplyOutcome['state'] = 'completed';
  try {
    // 1. The policy, its own step: every method must be enabled before a user's default points at it.
    const policyPending = runPlan.policyOps.filter((o) => !settledBefore(prior.get(o.id)));
    if (policyPending.length > 0) {
      report('policy');
      for (const [id, s] of await executor.run(policyPending, prior)) statuses.set(id, s);
      if (policyPending.some((o) => statuses.get(o.id)?.status === 'failed')) {
        deps.log?.('The policy step failed: user changes were not started (fix the cause, then resume).');
        state = 'partial';
        await journal.end('partial', countStates(recordsOf(statuses), runPlan.policyOps.length + runPlan.users.reduce((n, u) => n + u.ops.length, 0)));
        return outcome();
      }
    }
    // 2. Users, wave by wave.
    const waves = Math.ceil(runPlan.users.length / sel.batchSize);
    for (let w = 0; w < waves; w++) {
      const wave = runPlan.users.slice(w * sel.batchSize, (w + 1) * sel.batchSize);
      const ops = wave.flatMap((u) => u.ops).filter((o) => !settledBefore(prior.get(o.id)));
      if (ops.length === 0) {
        usersDone += wave.length;
        continue;
      }
      if (sel.waves !== undefined && w >= sel.waves) {
        state = 'stopped';
        break;
      }
      await journal.wave(w + 1, 'started');
      report('wave', w + 1, waves);
      // Re-read the wave's users just before writing: objects changed since the plan are left out.
      const waveStale = await checkStale(plan, { policyOps: [], users: wave }, deps.conn, sel.concurrency, prior);
      const staleNow = new Set(waveStale.map((s) => s.user!.toLowerCase()));
      if (waveStale.length > 0) {
        stale.push(...waveStale);
        const recs = wave.filter((u) => staleNow.has(u.upn.toLowerCase())).flatMap((u) => u.ops.map((o) => ({ op: o.id, state: 'skipped' as const, error: 'stale' })));
        await journal.ops(recs);
        for (const r of recs) statuses.set(r.op, { status: 'skipped', error: 'stale' });
      }
      const runnable = ops.filter((o) => !staleNow.has((o.user ?? '').toLowerCase()));
      for (const [id, s] of await executor.run(runnable, prior)) statuses.set(id, s);
      usersDone += wave.length;
      await journal.wave(w + 1, 'done');
    }
    const counts = countStates(recordsOf(statuses), runPlan.policyOps.length + runPlan.users.reduce((n, u) => n + u.ops.length, 0));
    if (state === 'completed' && (counts.failed > 0 || counts.skipped > 0)) state = 'partial';
    await journal.end(state, counts);
    return outcome();
  } finally {
    clearInterval(timer);
    report('done');
    await journal.close();
  }

  function outcome(): ApplyOutcome {
    const total = runPlan.policyOps.length + runPlan.users.reduce((n, u) => n + u.ops.length, 0);
    const users: UserOutcome[] = runPlan.users.map((u) => {
      const st = u.ops.map((o) => statuses.get(o.id));
      const done = st.filter((s) => s?.status === 'done').length;
      const failed = st.filter((s) => s?.status === 'failed').length;
      const skipped = st.filter((s) => s?.status === 'skipped').length;
      const error = st.find((s) => s?.error)?.error;
      const outcome: UserOutcome['outcome'] =
        done === u.ops.length ? 'done' : st.every((s) => s?.error === 'stale') ? 'stale' : failed > 0 && done === 0 ? 'failed' : failed > 0 || skipped > 0 ? 'partial' : done === 0 ? 'pending' : 'partial';
      return { upn: u.upn, outcome, operations: u.ops.length, done, ...(error ? { error } : {}) };
    });
    return { runId, runDir, state, stale, users, counts: countStates(recordsOf(statuses), total), stats: executor.stats };
  }
}

/**
 * Done, or left out as stale: not run again by a resume. Failed operations are retried, and so
 * are those skipped because a dependency failed.
 */
function settledBefore(r: OpRecord | undefined): boolean {
  return r?.state === 'done' || (r?.state === 'skipped' && r.error === 'stale');
}

function recordsOf(statuses: Map<string, { status: string; error?: string }>): OpRecord[] {
  return [...statuses].map(([op, s]) => ({ op, state: (s.status === 'waiting' || s.status === 'ready' || s.status === 'inflight' || s.status === 'verify' ? 'pending' : s.status) as OpState }));
}

/** Re-reads the tenant objects of the given operations and returns those changed since the plan. */
async function checkStale(plan: PlanFile, runPlan: RunPlan, conn: GraphConnection, concurrency: number, prior?: ReadonlyMap<string, OpRecord>): Promise<StaleObject[]> {
  // Only objects not yet touched by this run: ours are changed on purpose.
  const touched = new Set<string>();
  for (const [id, r] of prior ?? []) if (r.state !== 'pending') touched.add(id.replace(/\/(create|assign|activate|delete)$/, ''));
  const untouched = (userId: string, resource: string) => !touched.has(`${userId}/${resource}`);
  const ids = new Set(runPlan.users.map((u) => u.userId));
  const changes = plan.user_changes.filter((c) => ids.has(c.user_id) && c.action !== 'no-op' && untouched(c.user_id, c.resource));
  const policyChanges = runPlan.policyOps.length > 0 ? plan.policy_changes : [];
  if (changes.length === 0 && policyChanges.length === 0) return [];
  const upns = [...new Set(changes.map((c) => c.user))];
  const serials = changes.filter((c) => c.resource.startsWith('hardwareOathMethods/')).map((c) => c.resource.slice('hardwareOathMethods/'.length));
  const tenant = await readTenant(conn, { upns, serials, concurrency });
  return findStale(changes, policyChanges, tenant);
}
