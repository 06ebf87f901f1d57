import { liveState, type AbsentNameStore } from './absent-names.js';
import { afterFailure, lockStatus, type Requester } from './lockout.js';
import { failureWindowMs, type ShimRules } from './rules.js';

export type AbsentAttempt = { kind: 'failed' } | { kind: 'locked'; scope: 'user' | 'source' };

const MAX_ATTEMPTS = 8;

/** Other attempts on the name kept winning the compare-and-set (other nodes): answered as a real user's would be (busy). */
export class AbsentContentionError extends Error {}

/**
 * Attempts on names the shim cannot verify (no such user, or a user without a token, as one disabled
 * in MFA Server), counted and locked out by the rules of a known user's (lockout.ts), for a front
 * end whose answers must not tell whether a user exists (RADIUS: the VPN shows its Reply-Message to
 * anyone). A guesser who tries a made-up name `--max-fails` times from one address then sees the
 * lock-out a real user would be under; were only real users ever locked out, the lock-out message
 * would tell them apart. The steps are a real user's (verifier.ts): read (a node's cache first),
 * decide, write with a compare-and-set, read again when it lost; a lock-out from a cache is
 * confirmed by a fresh read; an answer waits until its change is durable. So the answer costs what a
 * real user's costs (a journal commit; a database round trip, two from a cold cache), and with
 * PostgreSQL every node counts the same tries.
 */
export class AbsentUserLockout {
  constructor(
    private readonly store: AbsentNameStore,
    private readonly rules: ShimRules,
    private readonly now: () => number,
  ) {}

  /** One attempt on the absent name `key` from `who`: locked (not counted, as for a known user), or counted as a failure. */
  async attempt(key: string, who: Requester): Promise<AbsentAttempt> {
    let fresh = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const nowMs = this.now();
      const read = this.store.read(key, fresh);
      const view = read instanceof Promise ? await read : read;
      let current = liveState(view, nowMs);
      let expected = view;
      const status = lockStatus(current, who, nowMs, this.rules);
      if (status.kind === 'locked') {
        if (view.cached === true) {
          fresh = true;
          continue;
        }
        return { kind: 'locked', scope: status.scope };
      }
      // When the name's entry may be forgotten (PostgreSQL's row deleted): its failures no longer count.
      const keep = nowMs + failureWindowMs(this.rules);
      if (status.kind === 'expired') {
        // Written on its own first, as a real user's expired lock-out is (the same two changes).
        const version = await this.store.write(key, view, status.next, nowMs, keep);
        if (version === null) continue;
        current = status.next;
        expected = { state: current, version, expiresAt: keep };
      }
      if ((await this.store.write(key, expected, afterFailure(current, who, nowMs, this.rules), nowMs, keep)) === null) continue;
      return { kind: 'failed' };
    }
    throw new AbsentContentionError(`the state of a name kept changing during ${MAX_ATTEMPTS} attempts (other verifications of it); try again`);
  }
}
