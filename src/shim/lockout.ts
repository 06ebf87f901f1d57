import type { ShimRules } from './rules.js';
import type { SourceFailures, UserState } from './store-model.js';

/**
 * The lock-out model (issue 17 item 8; docs/shim.md "Lock-out"). One address must not be able to
 * lock users out (149 requests from one address locked out all 13 token users), yet guessing from
 * many addresses must still stop. So failures are counted per user *and per source* (the end user's
 * address: the caller's own, the `client_ip` an authenticated caller passes, or the RADIUS
 * Calling-Station-Id), and a user is locked only
 *  - when the failures reached `maxFails` and came from more than one source, the sources besides the
 *    busiest one accounting for at least half of `maxFails`, or
 *  - when one source reached `maxFails` on its own and its caller is not authenticated (no API key):
 *    nothing vouches for that address, so the user is protected as before.
 * A single source behind an authenticated caller (a VPN, an application) that reaches `maxFails` is
 * blocked for that user only: the user keeps signing in from elsewhere (Entra smart lockout's
 * familiar / unfamiliar split, with the source address as the location). Each source also has a
 * failure budget across all users (source-budget.ts). An exact replay of an accepted code is no
 * failure at all (10 parallel replays of a user's valid code used to lock the user).
 */

/** Sources remembered per user (the newest); with two or more the multi-source rule applies anyway. */
export const MAX_SOURCES_PER_USER = 16;

/** Who is asking, as far as the lock-out is concerned. */
export interface Requester {
  /** The end user's address (or the caller's when it names none). */
  source: string;
  /** The caller proved itself (API key, RADIUS shared secret): it vouches for `source`. */
  authenticated: boolean;
}

export type LockStatus =
  /** Nothing stands in the way. */
  | { kind: 'open' }
  /** Locked: the user, or this source for this user. */
  | { kind: 'locked'; scope: 'user' | 'source' }
  /** A lock (of the user or of this source) has run out: write `next`, then go on. */
  | { kind: 'expired'; next: UserState };

const expired = (at: number, nowMs: number, rules: ShimRules): boolean => rules.lockoutMinutes > 0 && nowMs - at >= rules.lockoutMinutes * 60_000;

export const CLEARED: Readonly<UserState> = Object.freeze({ fails: 0, lockedAt: null, sources: Object.freeze({}) as SourceFailures });

export function isCleared(state: UserState): boolean {
  return state.fails === 0 && state.lockedAt === null && Object.keys(state.sources).length === 0;
}

/**
 * The sources are keyed by text the request carries (a Calling-Station-Id can be `__proto__`): a copy
 * without a prototype takes any key as its own, and a read sees only own keys.
 */
const sourcesCopy = (from: SourceFailures): SourceFailures => Object.assign(Object.create(null) as SourceFailures, from);
const sourceOf = (sources: SourceFailures, name: string) => (Object.hasOwn(sources, name) ? sources[name] : undefined);

/** Whether the user is locked out now, whole or from one of their sources (what an unlock releases). */
export function anyLockOut(state: UserState, rules: ShimRules): boolean {
  return state.lockedAt !== null || Object.values(state.sources).some((s) => s.fails >= rules.maxFails);
}

/**
 * Whether an unlock request made at `requestedAt` may clear `state`: only failures counted before it,
 * so never a lock-out that began after it (of the user or of one of their sources), nor failures made
 * since: a request kept and put back later cannot wipe a guesser's count (a review: 450 guesses, never
 * locked out). docs/shim.md, `shim unlock`.
 */
export function unlockReaches(state: UserState, requestedAt: number): boolean {
  if (state.lockedAt !== null && requestedAt < state.lockedAt) return false;
  return !Object.values(state.sources).some((s) => requestedAt < s.at);
}

/** Whether a request from `who` may try a code for a user in `state` at `nowMs`. */
export function lockStatus(state: UserState, who: Requester, nowMs: number, rules: ShimRules): LockStatus {
  if (state.lockedAt !== null) {
    return expired(state.lockedAt, nowMs, rules) ? { kind: 'expired', next: { ...CLEARED, sources: {} } } : { kind: 'locked', scope: 'user' };
  }
  const mine = sourceOf(state.sources, who.source);
  if (mine && mine.fails >= rules.maxFails) {
    if (!expired(mine.at, nowMs, rules)) return { kind: 'locked', scope: 'source' };
    const sources = sourcesCopy(state.sources);
    delete sources[who.source];
    return { kind: 'expired', next: { fails: Math.max(0, state.fails - mine.fails), lockedAt: null, sources } };
  }
  return { kind: 'open' };
}

/** The user's state after a counted failure from `who`, the lock-out decided as described above. */
export function afterFailure(state: UserState, who: Requester, nowMs: number, rules: ShimRules): UserState {
  const sources = sourcesCopy(state.sources);
  const mine = { fails: (sourceOf(sources, who.source)?.fails ?? 0) + 1, at: nowMs };
  delete sources[who.source];
  sources[who.source] = mine; // newest last
  const names = Object.keys(sources);
  if (names.length > MAX_SOURCES_PER_USER) {
    for (const name of names.sort((a, b) => sources[a]!.at - sources[b]!.at).slice(0, names.length - MAX_SOURCES_PER_USER)) delete sources[name];
  }
  const fails = state.fails + 1;
  // Guessing spread over sources locks the user; one source's failures plus a typo elsewhere do not
  // (one vouched address failing 9 times must not leave the user one mistyped code from a lock-out):
  // beyond the busiest source, the others must account for half the limit.
  const busiest = Math.max(...Object.values(sources).map((f) => f.fails));
  const manySources = Object.keys(sources).length >= 2 && fails >= rules.maxFails && fails - busiest >= Math.ceil(rules.maxFails / 2);
  const loneUnvouched = !who.authenticated && mine.fails >= rules.maxFails;
  return { fails, lockedAt: manySources || loneUnvouched ? nowMs : null, sources };
}
