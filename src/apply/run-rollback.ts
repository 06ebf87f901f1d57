import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import type { GraphConnection } from '../graph/graph-connection.js';
import { readTenant } from '../graph/tenant-reader.js';
import { sameNumber } from '../mapping/phone-rules.js';
import type { TenantSnapshot } from '../model/tenant.js';
import { canonicalJson } from '../plan/fingerprint.js';
import type { PlanFile } from '../plan/plan-file.js';
import { policyPropertyState, splitResource, userResourceState } from '../plan/resource-state.js';
import { Executor, type ExecStats } from './executor.js';
import { countStates, Journal, readRun, type OpRecord, type OpState } from './journal.js';
import type { Operation } from './operations.js';
import { operationsFor, planHash, type ApplySelection } from './run-apply.js';
import { acquireLock } from './state-lock.js';

export interface RollbackOutcome {
  runId: string;
  rollbackOf: string;
  state: 'completed' | 'partial';
  /** Objects changed in the tenant since the run: reported, left alone (unless --force). */
  changedSince: { user?: string; target: string; reason: string }[];
  /** What cannot be undone through Graph (a pre-existing token's activation). */
  notReversible: { user?: string; target: string; reason: string }[];
  counts: Record<OpState, number>;
  stats: ExecStats;
}

export interface RollbackDeps {
  conn: GraphConnection;
  stateDir: string;
  concurrency: number;
  force: boolean;
  log?: (line: string) => void;
}

/**
 * Undoes what an apply run did, newest first: deletes what it created, restores what it updated
 * and the previous default method, puts back the policy. Objects changed since the run are
 * reported and left alone unless --force. Itself journaled (kind rollback) and resumable.
 */
export async function startRollback(applyRunId: string, deps: RollbackDeps): Promise<RollbackOutcome> {
  const lock = await acquireLock(deps.stateDir, 'rollback');
  try {
    const applyDir = join(deps.stateDir, 'runs', applyRunId);
    const run = await readRun(applyDir);
    if (run.header.kind !== 'apply') throw new Error(`run ${applyRunId} is a ${run.header.kind}, not an apply`);
    const plan = JSON.parse(await readFile(join(applyDir, 'plan.json'), 'utf8')) as PlanFile;
    const original = operationsFor(plan, run.header.options as unknown as ApplySelection);
    const byId = new Map<string, Operation>([...original.policyOps, ...original.users.flatMap((u) => u.ops)].map((o) => [o.id, o]));
    const { inverses, notReversible } = inverseOperations(run.doneOrder.map((id) => byId.get(id)).filter((o): o is Operation => !!o), run.ops);

    // Objects changed since the run are not overwritten (unless --force).
    const tenant = await readTenantFor(deps.conn, inverses, deps.concurrency);
    const changedSince = deps.force ? [] : inverses.flatMap((inv) => changed(inv, tenant));
    const changedIds = new Set(changedSince.map((c) => c.opId));

    const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
    const runDir = join(deps.stateDir, 'runs', runId);
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    await lock.setRun(runId);
    const journal = await Journal.create(runDir, {
      t: 'run',
      id: runId,
      kind: 'rollback',
      created: new Date().toISOString(),
      planHash: run.header.planHash,
      rollbackOf: applyRunId,
      options: { force: deps.force },
      totalOps: inverses.length,
    });
    const skipped: OpRecord[] = inverses.filter((o) => changedIds.has(o.id)).map((o) => ({ op: o.id, state: 'skipped', error: 'changed since the run' }));
    await journal.ops(skipped);
    const outcome = await executeRollback(runId, applyRunId, journal, inverses, new Map(skipped.map((s) => [s.op, s])), tenant.policy, deps);
    return { ...outcome, changedSince: changedSince.map(({ opId: _o, ...c }) => c), notReversible };
  } finally {
    await lock.release();
  }
}

/** Finishes an interrupted rollback run. */
export async function resumeRollback(rollbackRunId: string, deps: RollbackDeps): Promise<RollbackOutcome> {
  const lock = await acquireLock(deps.stateDir, 'rollback');
  try {
    await lock.setRun(rollbackRunId);
    const view = await readRun(join(deps.stateDir, 'runs', rollbackRunId));
    if (view.header.kind !== 'rollback' || !view.header.rollbackOf) throw new Error(`run ${rollbackRunId} is not a rollback`);
    const applyDir = join(deps.stateDir, 'runs', view.header.rollbackOf);
    const run = await readRun(applyDir);
    const plan = JSON.parse(await readFile(join(applyDir, 'plan.json'), 'utf8')) as PlanFile;
    if (planHash(await readFile(join(applyDir, 'plan.json'))) !== run.header.planHash) throw new Error(`run ${view.header.rollbackOf}: its plan copy does not match the journal`);
    const original = operationsFor(plan, run.header.options as unknown as ApplySelection);
    const byId = new Map<string, Operation>([...original.policyOps, ...original.users.flatMap((u) => u.ops)].map((o) => [o.id, o]));
    const { inverses, notReversible } = inverseOperations(run.doneOrder.map((id) => byId.get(id)).filter((o): o is Operation => !!o), run.ops);
    const policy = await deps.conn.get<AuthenticationMethodsPolicy>('/policies/authenticationMethodsPolicy', 'beta');
    const journal = await Journal.append(join(deps.stateDir, 'runs', rollbackRunId));
    const outcome = await executeRollback(rollbackRunId, view.header.rollbackOf, journal, inverses, view.ops, policy, deps);
    return { ...outcome, changedSince: [], notReversible };
  } finally {
    await lock.release();
  }
}

async function executeRollback(
  runId: string,
  rollbackOf: string,
  journal: Journal,
  inverses: Operation[],
  prior: ReadonlyMap<string, OpRecord>,
  policy: AuthenticationMethodsPolicy,
  deps: RollbackDeps,
): Promise<Omit<RollbackOutcome, 'changedSince' | 'notReversible'>> {
  const executor = new Executor({ conn: deps.conn, journal, concurrency: deps.concurrency, context: { seeds: new Map(), policy, now: Date.now } });
  try {
    const pending = inverses.filter((o) => !['done', 'skipped'].includes(prior.get(o.id)?.state ?? ''));
    const statuses = new Map<string, { status: string }>();
    for (const [id, r] of prior) statuses.set(id, { status: r.state });
    for (const [id, s] of await executor.run(pending, prior)) statuses.set(id, s);
    const records = [...statuses].map(([op, s]) => ({ op, state: (['done', 'failed', 'skipped'].includes(s.status) ? s.status : 'pending') as OpState }));
    const counts = countStates(records, inverses.length);
    const state = counts.failed > 0 || counts.skipped > 0 || counts.pending > 0 ? 'partial' : 'completed';
    await journal.end(state, counts);
    return { runId, rollbackOf, state, counts, stats: executor.stats };
  } finally {
    await journal.close();
  }
}

/**
 * The inverse of each done operation, newest first, chained per user (a default method is
 * restored before the phone it pointed at is deleted) and the policy last (it went first).
 */
export function inverseOperations(done: Operation[], records: ReadonlyMap<string, OpRecord>): { inverses: Operation[]; notReversible: { user?: string; target: string; reason: string }[] } {
  const inverses: Operation[] = [];
  const notReversible: { user?: string; target: string; reason: string }[] = [];
  const lastOfUser = new Map<string, string>();
  const userOps: Operation[] = [];
  const policyOps: Operation[] = [];
  const add = (o: Operation) => {
    const key = o.userId ?? 'policy';
    const prev = lastOfUser.get(key);
    o.dependsOn = prev ? [prev] : [];
    lastOfUser.set(key, o.id);
    (o.userId ? userOps : policyOps).push(o);
  };
  for (const op of [...done].reverse()) {
    const base = { user: op.user, userId: op.userId, resource: op.resource, stateFingerprint: '', dependsOn: [] } as Omit<Operation, 'id' | 'kind' | 'after' | 'before'>;
    const id = `rollback/${op.id}`;
    const planned = op.before as Record<string, unknown> | null;
    switch (op.kind) {
      case 'phone-create':
        add({ ...base, id, kind: 'phone-delete', after: null, before: op.after });
        break;
      case 'phone-update':
        add({ ...base, id, kind: 'phone-update', after: planned, before: op.after });
        break;
      case 'phone-delete':
        add({ ...base, id, kind: 'phone-create', after: planned, before: null });
        break;
      case 'email-create':
        add({ ...base, id, kind: 'email-delete', after: null, before: op.after });
        break;
      case 'email-update':
        add({ ...base, id, kind: 'email-update', after: planned, before: op.after });
        break;
      case 'token-create': {
        const deviceId = records.get(op.id)?.result?.deviceId;
        add({ ...base, id: `${id}/unassign`, kind: 'token-unassign', after: null, before: { ...op.after, deviceId } });
        add({ ...base, id: `${id}/delete`, kind: 'token-delete', after: null, before: { ...op.after, deviceId } });
        break;
      }
      case 'token-assign':
        add({ ...base, id, kind: 'token-unassign', after: null, before: { ...op.after, deviceId: (op.after as { deviceId?: string } | null)?.deviceId } });
        break;
      case 'token-activate':
        // Undone by unassigning (a token this run created or assigned); a token that was already
        // the user's stays activated: Graph has no way back.
        if ((op.before as { assignedTo?: string | null } | null)?.assignedTo) {
          notReversible.push({ user: op.user!, target: op.resource, reason: 'the token was already assigned to the user; its activation cannot be undone through Graph' });
        }
        break;
      case 'signin-update':
        add({ ...base, id, kind: 'signin-update', after: planned ?? { userPreferredMethodForSecondaryAuthentication: null }, before: op.after });
        break;
      case 'policy-config':
      case 'policy-root':
        add({ ...base, id, kind: op.kind, after: planned, before: op.after });
        break;
      default:
        break;
    }
  }
  inverses.push(...userOps, ...policyOps);
  // The policy is put back after every user's methods are.
  const lastUserOps = [...lastOfUser.entries()].filter(([k]) => k !== 'policy').map(([, v]) => v);
  const firstPolicy = policyOps[0];
  if (firstPolicy) firstPolicy.dependsOn = [...firstPolicy.dependsOn, ...lastUserOps];
  return { inverses, notReversible };
}

async function readTenantFor(conn: GraphConnection, inverses: Operation[], concurrency: number): Promise<TenantSnapshot> {
  const upns = [...new Set(inverses.filter((o) => o.user).map((o) => o.user!))];
  const serials = inverses.filter((o) => o.resource.startsWith('hardwareOathMethods/')).map((o) => splitResource(o.resource)[1]!);
  return readTenant(conn, { upns, serials, concurrency });
}

/** Whether the object an inverse would touch still holds what the run left there. */
function changed(inv: Operation, tenant: TenantSnapshot): { opId: string; user?: string; target: string; reason: string }[] {
  const left = inv.before as Record<string, unknown> | null;
  const report = (reason: string) => [{ opId: inv.id, ...(inv.user ? { user: inv.user } : {}), target: inv.resource, reason }];
  if (inv.kind === 'policy-config' || inv.kind === 'policy-root') {
    for (const [key, value] of Object.entries(left ?? {})) {
      const [target, property] = inv.kind === 'policy-config' ? [inv.resource, key] : [key.slice(0, key.lastIndexOf('.')), key.slice(key.lastIndexOf('.') + 1)];
      if (canonicalJson(policyPropertyState(tenant.policy, target, property)) !== canonicalJson(value)) return report(`${property} changed since the run`);
    }
    return [];
  }
  const user = inv.user ? tenant.users.get(inv.user.toLowerCase()) : undefined;
  if (!user) return report('the user is no longer in the tenant');
  const now = userResourceState(inv.resource, user, tenant.hardwareTokens);
  switch (inv.kind) {
    case 'phone-delete':
    case 'phone-update':
      return now && sameNumber(String(now.phoneNumber), String(left?.phoneNumber)) ? [] : report('the phone changed since the run');
    case 'phone-create':
      return now ? report('a phone of that type exists again') : [];
    case 'email-delete':
    case 'email-update':
      return now && String(now.emailAddress).toLowerCase() === String(left?.emailAddress).toLowerCase() ? [] : report('the email method changed since the run');
    case 'token-unassign':
    case 'token-delete':
      return now && now.assignedTo === user.id ? [] : inv.kind === 'token-delete' ? [] : report('the token is no longer assigned to the user');
    case 'signin-update':
      return now?.userPreferredMethodForSecondaryAuthentication === left?.userPreferredMethodForSecondaryAuthentication ? [] : report('the default method changed since the run');
    default:
      return [];
  }
}
