import type { OpRecord } from './journal.js';
import type { StaleObject } from './staleness.js';

/** The error a skipped operation of a user left out as stale is journaled with (resume, runs and report key on it). */
export const STALE = 'stale';

/**
 * Why each user was left out as stale, by lower-case username (`''`: the policy and the cutover, no
 * user's): every object of theirs that changed since the plan, with why, in the pre-flight's words
 * (`hardwareOathMethods/20010006: the token with serial ... is assigned to another user (...)`). The
 * pre-flight's reasons name resources, serials, users, groups and object ids: never a secret or a
 * phone number.
 */
export function staleReasons(stale: readonly StaleObject[]): Map<string, string> {
  const by = new Map<string, string[]>();
  for (const s of stale) {
    const key = (s.user ?? '').toLowerCase();
    const said = `${s.target}: ${s.reason}`;
    const list = by.get(key) ?? [];
    if (!list.includes(said)) list.push(said);
    by.set(key, list);
  }
  return new Map([...by].map(([k, v]) => [k, v.join('; ')]));
}

/**
 * The journal records of operations left out as stale: skipped, the error `stale` (what readers key
 * on), and `staleReason`, why their user (or the policy) was left out, so that what was not written
 * says why in the run's evidence, as the pre-flight says it without --skip-stale.
 */
export function staleRecords(ops: readonly { id: string; user?: string }[], reasons: ReadonlyMap<string, string>): OpRecord[] {
  return ops.map((o) => {
    const why = reasons.get((o.user ?? '').toLowerCase());
    return { op: o.id, state: 'skipped' as const, error: STALE, ...(why !== undefined ? { staleReason: why } : {}) };
  });
}
