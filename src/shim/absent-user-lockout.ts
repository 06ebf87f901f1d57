import { afterFailure, CLEARED, lockStatus, type Requester } from './lockout.js';
import type { ShimRules } from './rules.js';
import type { UserState } from './store-model.js';

/** Names remembered at most, the least recently tried forgotten first: guesses at endless names cannot fill memory. */
const MAX_ABSENT_NAMES = 10_000;

export type AbsentAttempt = { kind: 'failed' } | { kind: 'locked'; scope: 'user' | 'source' };

/**
 * Attempts on names the shim cannot verify (no such user, or a user without a token, as one disabled
 * in MFA Server), counted and locked out by the rules of a known user's (lockout.ts), for a front
 * end whose answers must not tell whether a user exists (RADIUS: the VPN shows its Reply-Message to
 * anyone). A guesser who tries a made-up name `--max-fails` times from one address then sees the
 * lock-out a real user would be under; were only real users ever locked out, the lock-out message
 * would tell them apart. Kept in memory per server, like the source budget.
 */
export class AbsentUserLockout {
  readonly #states = new Map<string, UserState>();

  constructor(
    private readonly rules: ShimRules,
    private readonly now: () => number,
    private readonly maxNames = MAX_ABSENT_NAMES,
  ) {}

  /** One attempt on the absent user `key` from `who`: locked (not counted, as for a known user), or counted as a failure. */
  attempt(key: string, who: Requester): AbsentAttempt {
    const nowMs = this.now();
    let state = this.#states.get(key) ?? CLEARED;
    const status = lockStatus(state, who, nowMs, this.rules);
    if (status.kind === 'locked') {
      // Tried again: kept as recent, so a flood of other names does not end its lock-out sooner.
      this.#keep(key, state);
      return { kind: 'locked', scope: status.scope };
    }
    if (status.kind === 'expired') state = status.next;
    this.#keep(key, afterFailure(state, who, nowMs, this.rules));
    return { kind: 'failed' };
  }

  /** Re-inserted, so that the Map's order is the order of use and its first key the least recent. */
  #keep(key: string, state: UserState): void {
    this.#states.delete(key);
    if (this.#states.size >= this.maxNames) this.#states.delete(this.#states.keys().next().value!);
    this.#states.set(key, state);
  }

  get size(): number {
    return this.#states.size;
  }
}
