import { createHash, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import type { GraphConnection } from '../graph/graph-connection.js';
import type { OathSeed } from '../model/export-data.js';
import type { PlanFile } from '../plan/plan-file.js';
import { applyPlanFromMemory, loadApplyPlan, userChanges, type ApplyPlan, type PlanUser, type PlanUserList } from './apply-plan.js';
import { Executor, type ExecStats } from './executor.js';
import { Journal, readRun, type OpRecord, type OpState, type RunView } from './journal.js';
import { policyOperations, userOperations, type Operation } from './operations.js';
import { findStale, type StaleObject } from './staleness.js';
import { collectGarbageIfGrown } from './heap.js';
import { acquireLock, type HeldLock } from './state-lock.js';
import { recheckTenant } from './tenant-recheck.js';
import { UserError } from '../model/user-error.js';

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
export class StalePlanError extends UserError {
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
  const applyPlan = applyPlanFromMemory(plan, Buffer.alloc(0));
  return { policyOps: policyOperations(plan.policy_changes), users: [...selectUsers(applyPlan, sel)].map((u) => ({ upn: u.upn, userId: u.userId, ops: userOperations(userChanges(u)) })) };
}

/** The plan's users a run applies, in order: --users, then --max-users. */
function selectUsers(plan: ApplyPlan, sel: Pick<ApplySelection, 'users' | 'maxUsers'>): PlanUserList {
  const wanted = sel.users ? new Set(sel.users.map((u) => u.toLowerCase())) : undefined;
  return plan.users.select(wanted ? (upn) => wanted.has(upn.toLowerCase()) : undefined, sel.maxUsers);
}

export function planHash(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads with more $batch requests in flight than writes: a re-check is many small GETs. */
const READ_CONCURRENCY_MIN = 16;
/** Users re-read per step of the pre-flight check (bounds the tenant state held at once). */
const PREFLIGHT_CHUNK = 500;
/**
 * A wave is read again before it is written unless the pre-flight read of its users is younger
 * than this: the re-read is there to catch what others change during a long run, and a read a few
 * seconds old is as good as a new one (at Graph's write quota a wave of 500 users takes about a minute).
 */
const RECHECK_AFTER_MS = 60_000;

/**
 * Applies a saved plan: policy first (so every method a user gets is enabled before it becomes
 * a default), then the users in waves. Refuses to start on stale objects unless told to skip
 * them. Holds the state directory's lock throughout; journals every operation.
 */
export async function startApply(plan: ApplyPlan | PlanFile, planBytes: Buffer | undefined, sel: ApplySelection, deps: ApplyDeps): Promise<ApplyOutcome> {
  const applyPlan = 'copyTo' in plan ? plan : applyPlanFromMemory(plan, planBytes ?? Buffer.from(`${JSON.stringify(plan, null, 2)}\n`));
  const lock = await acquireLock(deps.stateDir, 'apply');
  logTakeover(lock, deps);
  try {
    const users = selectUsers(applyPlan, sel);
    const policyOps = policyOperations(applyPlan.policyChanges);
    const preflightAt = Date.now();
    const stale = await preflight(applyPlan, users, policyOps.length > 0, deps.conn, sel.concurrency);
    if (stale.length > 0 && !sel.skipStale) throw new StalePlanError(stale);
    const staleUsers = new Set(stale.filter((s) => s.user).map((s) => s.user!.toLowerCase()));
    const stalePolicy = stale.some((s) => !s.user);

    const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
    const runDir = join(deps.stateDir, 'runs', runId);
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    await lock.setRun(runId);
    await applyPlan.copyTo(join(runDir, 'plan.json'));
    let total = policyOps.length;
    for (const u of users) total += userOperations(userChanges(u)).length;
    const journal = await Journal.create(runDir, {
      t: 'run',
      id: runId,
      kind: 'apply',
      created: new Date().toISOString(),
      planHash: applyPlan.hash,
      options: { ...sel, skippedStale: [...staleUsers], stalePolicy },
      totalOps: total,
    });
    const skipped: OpRecord[] = [
      ...(stalePolicy ? policyOps.map((o) => ({ op: o.id, state: 'skipped' as const, error: 'stale' })) : []),
      ...[...users].filter((u) => staleUsers.has(u.upn.toLowerCase())).flatMap((u) => userOperations(userChanges(u)).map((o) => ({ op: o.id, state: 'skipped' as const, error: 'stale' }))),
    ];
    await journal.ops(skipped);
    // The pre-flight check has just read every user: the first wave needs no second read.
    return await execute({ runId, runDir, journal, plan: applyPlan, users, policyOps, total, prior: new Map(skipped.map((r) => [r.op, r])), sel, deps, stale, readAt: preflightAt });
  } finally {
    await lock.release();
  }
}

/** Finishes an interrupted run: done operations are not sent again; `started` ones are read back first. */
export async function resumeApply(runId: string, deps: ApplyDeps): Promise<ApplyOutcome> {
  const lock = await acquireLock(deps.stateDir, 'resume');
  logTakeover(lock, deps);
  try {
    await lock.setRun(runId);
    const runDir = join(deps.stateDir, 'runs', runId);
    const view: RunView = await readRun(runDir);
    if (view.header.kind !== 'apply') throw new Error(`run ${runId} is a ${view.header.kind}; use rollback to resume it`);
    const plan = await loadApplyPlan(join(runDir, 'plan.json'));
    if (plan.hash !== view.header.planHash) throw new Error(`run ${runId}: its plan copy does not match the journal`);
    const sel = view.header.options as unknown as ApplySelection & { waves?: number };
    // A resume runs the remaining waves (a --waves limit of the first run applied to it only).
    const { waves: _waves, ...rest } = sel;
    const users = selectUsers(plan, rest);
    const policyOps = policyOperations(plan.policyChanges);
    const journal = await Journal.append(runDir);
    return await execute({ runId, runDir, journal, plan, users, policyOps, total: view.header.totalOps, prior: view.ops, sel: rest, deps, stale: [] });
  } finally {
    await lock.release();
  }
}

function logTakeover(lock: HeldLock, deps: ApplyDeps): void {
  const t = lock.tookOver;
  if (t) deps.log?.(`Took over the lock left by ${t.operation} pid ${t.pid} of ${t.user}@${t.host} (started ${t.started}), which is no longer running.`);
}

interface RunContext {
  runId: string;
  runDir: string;
  journal: Journal;
  plan: ApplyPlan;
  users: PlanUserList;
  policyOps: Operation[];
  total: number;
  prior: ReadonlyMap<string, OpRecord>;
  sel: ApplySelection;
  deps: ApplyDeps;
  stale: StaleObject[];
  /** When every user was read (pre-flight of a new run); a resume reads each wave. */
  readAt?: number;
}

async function execute(ctx: RunContext): Promise<ApplyOutcome> {
  const { journal, prior, sel, deps, users } = ctx;
  const policyRead = await deps.conn.get<AuthenticationMethodsPolicy>('/policies/authenticationMethodsPolicy', 'beta');
  const executor = new Executor({
    conn: deps.conn,
    journal,
    concurrency: sel.concurrency,
    context: { seeds: deps.seeds, policy: policyRead, now: Date.now },
    onProgress: () => undefined,
  });
  executor.seedResults(prior);
  const counts: Record<OpState, number> = { pending: 0, started: 0, done: 0, failed: 0, skipped: 0 };
  const outcomes: UserOutcome[] = [];
  const usersTotal = users.length;
  let usersDone = 0;
  const report = (phase: string, wave?: number, waves?: number) => deps.onProgress?.({ phase, ...(wave !== undefined ? { wave } : {}), ...(waves !== undefined ? { waves } : {}), users: usersDone, usersTotal, stats: executor.stats });
  const timer = setInterval(() => report('running'), 1000);
  timer.unref();
  let state: ApplyOutcome['state'] = 'completed';
  const statusOf = (id: string, now: ReadonlyMap<string, { status: string; error?: string }>): { status: OpState; error?: string } => {
    const s = now.get(id);
    if (s) return { status: toOpState(s.status), ...(s.error ? { error: s.error } : {}) };
    const p = prior.get(id);
    return p ? { status: p.state === 'started' ? 'pending' : p.state, ...(p.error ? { error: p.error } : {}) } : { status: 'pending' };
  };
  try {
    // 1. The policy, its own step: every method must be enabled before a user's default points at it.
    const policyPending = ctx.policyOps.filter((o) => !settledBefore(prior.get(o.id)));
    let policyNow = new Map<string, { status: string; error?: string }>();
    if (policyPending.length > 0) {
      report('policy');
      policyNow = await executor.run(policyPending, prior);
    }
    for (const o of ctx.policyOps) counts[statusOf(o.id, policyNow).status]++;
    if (policyPending.some((o) => policyNow.get(o.id)?.status === 'failed')) {
      deps.log?.('The policy step failed: user changes were not started (fix the cause, then resume).');
      for (const u of users) {
        const ops = userOperations(userChanges(u));
        for (const o of ops) counts[statusOf(o.id, new Map()).status]++;
        outcomes.push(outcomeOf(u, ops, new Map(), statusOf));
      }
      state = 'partial';
      await journal.end('partial', counts);
      return outcome();
    }

    // 2. Users, wave by wave. Each wave's users are read again before it is written; that read is
    // made while the wave before is being written, so the write pipe never waits for it.
    const waves = Math.ceil(users.length / sel.batchSize);
    const waveUsers = (w: number) => users.slice(w * sel.batchSize, (w + 1) * sel.batchSize);
    const pendingOps = (w: number) =>
      waveUsers(w)
        .flatMap((u) => userOperations(userChanges(u)))
        .filter((o) => !settledBefore(prior.get(o.id)));
    const stopAt = sel.waves ?? Infinity;
    let recheck: { wave: number; result: Promise<StaleObject[]> } | undefined;
    const recheckWave = (w: number) => ({ wave: w, result: checkWave(ctx, waveUsers(w), deps.conn) });
    const fresh = () => ctx.readAt !== undefined && Date.now() - ctx.readAt < RECHECK_AFTER_MS;
    for (let w = 0; w < waves; w++) {
      const wave = waveUsers(w);
      const ops = pendingOps(w);
      if (ops.length === 0 || w >= stopAt) {
        if (w >= stopAt && ops.length > 0) state = 'stopped';
        for (const u of wave) {
          const all = userOperations(userChanges(u));
          for (const o of all) counts[statusOf(o.id, new Map()).status]++;
          outcomes.push(outcomeOf(u, all, new Map(), statusOf));
        }
        usersDone += wave.length;
        continue;
      }
      await journal.wave(w + 1, 'started');
      report('wave', w + 1, waves);
      let waveStale: StaleObject[] = [];
      if (recheck?.wave === w) waveStale = await recheck.result;
      else if (!fresh()) waveStale = await recheckWave(w).result;
      // Read the next wave with something to do while this one is written (unless the pre-flight read is still fresh).
      recheck = undefined;
      for (let n = w + 1; n < Math.min(waves, stopAt) && !fresh(); n++) {
        if (pendingOps(n).length > 0) {
          recheck = recheckWave(n);
          recheck.result.catch(() => undefined);
          break;
        }
      }
      const staleNow = new Set(waveStale.map((s) => s.user!.toLowerCase()));
      const staleNowRecords = new Map<string, { status: string; error?: string }>();
      if (waveStale.length > 0) {
        ctx.stale.push(...waveStale);
        const recs = ops.filter((o) => staleNow.has((o.user ?? '').toLowerCase())).map((o) => ({ op: o.id, state: 'skipped' as const, error: 'stale' }));
        await journal.ops(recs);
        for (const r of recs) staleNowRecords.set(r.op, { status: 'skipped', error: 'stale' });
      }
      const runnable = ops.filter((o) => !staleNow.has((o.user ?? '').toLowerCase()));
      const now = runnable.length > 0 ? await executor.run(runnable, prior) : new Map<string, { status: string; error?: string }>();
      for (const [id, s] of staleNowRecords) now.set(id, s);
      for (const u of wave) {
        const all = userOperations(userChanges(u));
        for (const o of all) counts[statusOf(o.id, now).status]++;
        outcomes.push(outcomeOf(u, all, now, statusOf));
      }
      usersDone += wave.length;
      await journal.wave(w + 1, 'done');
      collectGarbageIfGrown();
    }
    if (state === 'completed' && (counts.failed > 0 || counts.skipped > 0 || counts.pending > 0)) state = 'partial';
    await journal.end(state, counts);
    return outcome();
  } finally {
    clearInterval(timer);
    report('done');
    await journal.close();
  }

  function outcome(): ApplyOutcome {
    return { runId: ctx.runId, runDir: ctx.runDir, state, stale: ctx.stale, users: outcomes, counts, stats: executor.stats };
  }
}

type StatusOf = (id: string, now: ReadonlyMap<string, { status: string; error?: string }>) => { status: OpState; error?: string };

function outcomeOf(u: PlanUser, ops: Operation[], now: ReadonlyMap<string, { status: string; error?: string }>, statusOf: StatusOf): UserOutcome {
  const st = ops.map((o) => statusOf(o.id, now));
  const done = st.filter((s) => s.status === 'done').length;
  const failed = st.filter((s) => s.status === 'failed').length;
  const skipped = st.filter((s) => s.status === 'skipped').length;
  const error = st.find((s) => s.error)?.error;
  const outcome: UserOutcome['outcome'] =
    done === ops.length ? 'done' : st.every((s) => s.error === 'stale') ? 'stale' : failed > 0 && done === 0 ? 'failed' : failed > 0 || skipped > 0 ? 'partial' : done === 0 ? 'pending' : 'partial';
  return { upn: u.upn, outcome, operations: ops.length, done, ...(error ? { error } : {}) };
}

function toOpState(status: string): OpState {
  return status === 'waiting' || status === 'ready' || status === 'inflight' || status === 'verify' ? 'pending' : (status as OpState);
}

/**
 * Done, or left out as stale: not run again by a resume. Failed operations are retried, and so
 * are those skipped because a dependency failed.
 */
function settledBefore(r: OpRecord | undefined): boolean {
  return r?.state === 'done' || (r?.state === 'skipped' && r.error === 'stale');
}

/** Before the run starts: every user (in chunks, so the tenant state held stays small) and the policy. */
async function preflight(plan: ApplyPlan, users: PlanUserList, withPolicy: boolean, conn: GraphConnection, concurrency: number): Promise<StaleObject[]> {
  const stale: StaleObject[] = [];
  if (withPolicy) {
    const policy = await conn.get<AuthenticationMethodsPolicy>('/policies/authenticationMethodsPolicy', 'beta');
    stale.push(...findStale([], plan.policyChanges, { tenantId: 'unknown', policy, users: new Map(), hardwareTokens: new Map() }));
  }
  for (let i = 0; i < users.length; i += PREFLIGHT_CHUNK) {
    stale.push(...(await staleAmong(users.slice(i, i + PREFLIGHT_CHUNK), conn, concurrency)));
    collectGarbageIfGrown();
  }
  return stale;
}

/** A wave's users re-read before it is written; objects this run already touched are not compared. */
async function checkWave(ctx: RunContext, wave: PlanUser[], conn: GraphConnection): Promise<StaleObject[]> {
  const touched = (u: PlanUser, resource: string) => {
    for (const step of ['', '/create', '/assign', '/activate', '/delete']) {
      const r = ctx.prior.get(`${u.userId}/${resource}${step}`);
      if (r && r.state !== 'pending') return true;
    }
    return false;
  };
  const trimmed = wave.map((u) => ({ upn: u.upn, userId: u.userId, changes: u.changes.filter((c) => !touched(u, c.resource)) })).filter((u) => u.changes.length > 0);
  return staleAmong(trimmed, conn, ctx.sel.concurrency);
}

async function staleAmong(users: PlanUser[], conn: GraphConnection, concurrency: number): Promise<StaleObject[]> {
  if (users.length === 0) return [];
  const serials = users.flatMap((u) => u.changes.filter((c) => c.resource.startsWith('hardwareOathMethods/')).map((c) => c.resource.slice('hardwareOathMethods/'.length)));
  const tenant = await recheckTenant(
    conn,
    users.map((u) => ({ upn: u.upn, userId: u.userId, needsPreferences: u.changes.some((c) => c.resource === 'signInPreferences') })),
    serials,
    { concurrency: Math.max(concurrency, READ_CONCURRENCY_MIN) },
  );
  return findStale(users.flatMap((u) => userChanges(u)), [], tenant);
}
