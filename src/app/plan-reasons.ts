import { cutoverOperations, policyOperations } from '../apply/operations.js';
import type { Finding } from '../mapping/finding.js';
import type { SavedPlan } from '../plan/plan-file.js';

/** The plan's reason for a change: its rule and why. */
export interface Reason {
  rule: string;
  because: string;
}

/** What an operation is looked up by: its id (a policy or cutover step), else its user and resource (a user's, whatever the step). */
export interface ReasonKey {
  id: string;
  userId?: string;
  resource?: string;
}

/** The apply operation a rollback's operation undoes (`rollback/<id>`), or the id itself. */
const undone = (id: string): string => (id.startsWith('rollback/') ? id.slice('rollback/'.length) : id);

/** Users read at a time: a plan of 100,000 users is read a slab at a time, not held whole. */
const CHUNK = 500;

/**
 * The plan's rule and reason for each operation a run built from it (a rollback's undo: those of the
 * change it undoes), so that the run report answers "by which rule". A policy operation writes every
 * changed property of its target: their rules and reasons are joined. Reads the users with changes.
 */
export async function planReasons(plan: SavedPlan): Promise<(o: ReasonKey) => Reason | undefined> {
  const byOp = new Map<string, Reason[]>();
  const add = (id: string, r: Reason) => {
    const list = byOp.get(id);
    if (list) list.push(r);
    else byOp.set(id, [r]);
  };
  for (const c of plan.policyChanges) add(policyOperations([c])[0]!.id, c);
  for (const c of plan.cutoverChanges) {
    const { beforeWaves, afterWaves } = cutoverOperations([c]);
    for (const o of [...beforeWaves, ...afterWaves]) add(o.id, c);
  }
  const joined = new Map([...byOp].map(([id, list]) => [id, { rule: distinct(list.map((r) => r.rule)).join(', '), because: distinct(list.map((r) => r.because)).join('; ') }]));
  const byUser = new Map<string, Reason>();
  const positions = plan.users.flatMap((u, i) => (u.userId !== null && u.pending > 0 ? [i] : []));
  for (let i = 0; i < positions.length; i += CHUNK) {
    for (const u of await plan.read(positions.slice(i, i + CHUNK))) for (const c of u.changes) byUser.set(userKey(u.userId, c.resource), { rule: c.rule, because: c.because });
  }
  return (o) => joined.get(undone(o.id)) ?? (o.userId !== undefined && o.resource !== undefined ? byUser.get(userKey(o.userId, o.resource)) : undefined);
}

/** The plan's findings of each user (by the export's username, lower case), in the plan's order. */
export async function findingsByUser(plan: SavedPlan): Promise<Map<string, Finding[]>> {
  const out = new Map<string, Finding[]>();
  for (const f of await plan.findings()) {
    if (f.user === undefined) continue;
    const key = f.user.toLowerCase();
    const list = out.get(key);
    if (list) list.push(f);
    else out.set(key, [f]);
  }
  return out;
}

const userKey = (userId: string, resource: string): string => `${userId}\n${resource}`;

const distinct = (xs: string[]): string[] => [...new Set(xs)];
