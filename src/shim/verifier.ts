import { SubmittedCode } from '../otp/submitted-code.js';
import { MemoryAbsentNames, type AbsentNameStore } from './absent-names.js';
import { AbsentContentionError, AbsentUserLockout } from './absent-user-lockout.js';
import { KeyedQueue } from './keyed-queue.js';
import { afterFailure, anyLockOut, CLEARED, isCleared, lockStatus, unlockReaches, type Requester } from './lockout.js';
import type { ShimRules } from './rules.js';
import { userKey, type ShimToken, type ShimUser, type TokenState, type UserState } from './store-model.js';
import { checkToken } from './token-check.js';

export type VerifyResult = 'accept' | 'reject';
export type VerifyReason = 'ok' | 'wrong_code' | 'replayed' | 'locked_out' | 'unknown_user' | 'no_token' | 'malformed';
export const VERIFY_REASONS: readonly VerifyReason[] = [
  'ok',
  'wrong_code',
  'replayed',
  'locked_out',
  'unknown_user',
  'no_token',
  'malformed',
];

export interface Verdict {
  result: VerifyResult;
  reason: VerifyReason;
  /** The user as stored (absent for unknown users). */
  user?: ShimUser;
  /** The token that accepted the code, or that recognised it as a replay. */
  serial?: string;
  /** The answer counted as a failure (of the user, and of the source's budget). */
  failure: boolean;
  /** For locked_out: whether the user is locked, or only this source for this user. */
  lockScope?: 'user' | 'source';
  /**
   * For unknown_user and no_token asked with `conceal`: the lock-out a known user tried as often
   * would be under (absent-user-lockout.ts). The caller is answered locked_out; the audit log keeps the reason.
   */
  concealedLock?: 'user' | 'source';
}

export interface VerifyOptions {
  /**
   * The answer must not tell whether the user exists (RADIUS): an unknown user and a user without a
   * token count as a failure, of the source's budget and of a lock-out kept for the name, as a wrong code does.
   */
  conceal?: boolean;
  /**
   * With `conceal`: the state is in an outage (verify-gate.ts). A name whose state is never read (an
   * unknown user, a user without a token) is answered as a real user's would be, unavailable
   * (StateDoubtError): a review told real users from made-up ones by "unavailable".
   */
  stateInDoubt?: boolean;
}

/** The user's state and their tokens' (in the order of `user.tokens`), as the state holds them now. */
export interface StateView {
  user: UserState & { version: number };
  tokens: TokenState[];
  /** Read from a cache of this node's (PostgreSQL): confirm it before an answer that writes nothing. */
  cached?: boolean;
}

/**
 * Where verification state lives: the local journal (shim-database.ts) or PostgreSQL (pg-state.ts).
 * Both answer the same compare-and-set operations, so the verifier is one code path for both, and
 * any number of verifiers (requests in flight, nodes) never accept one code twice.
 */
export interface StateBackend {
  /** `fresh`: not from a cache. */
  read(user: ShimUser, fresh?: boolean): StateView | Promise<StateView>;
  /**
   * Accepts a code: the token's state becomes `next` only if the code is still unused, i.e. HOTP:
   * the stored counter is at most `next.counter - 1`; TOTP: the last step is null or before
   * `next.lastStep`, and only if the user's state is still the version read (so that the lock-out
   * decided on is still the user's); the accept bumps that version, so that every decision made
   * from the state before it fails its compare-and-set. `clearFailures`: the same change forgets
   * the user's failures and lock-out (an accepted code clears them; one compare-and-set, so no
   * failure counted in between is lost or cleared without an accept). Resolves true when it did,
   * once the change is durable; false when another verification got there first.
   */
  accept(user: ShimUser, expected: StateView['user'], token: ShimToken, next: TokenState, clearFailures: boolean): Promise<boolean>;
  /** Writes the user's state only if it is still the version read; true when it did (durable). */
  updateUser(user: ShimUser, expected: StateView['user'], next: UserState): Promise<boolean>;
  /**
   * Where made-up names' failures are kept (absent-names.ts), answered with `conceal`: beside the
   * users' state, so that they cost what a wrong code costs. Default: this process's memory, at once.
   */
  readonly absentNames?: AbsentNameStore;
}

/** The users and their tokens (seeds and parameters; never state). */
export interface UserDirectory {
  findUser(key: string): ShimUser | undefined;
}

/** An out-of-band unlock (from `shim unlock` while the server runs), consumed when found. */
export interface UnlockRequests {
  /** Consumes the user's pending authentic request, if any: when it was made. */
  take(user: ShimUser): number | undefined;
  /** A request taken has cleared the user's state (for the audit log; `wasLocked`: a lock-out, not only failures). */
  applied(user: ShimUser, wasLocked: boolean): void;
}

/**
 * The state kept changing under this verification: other nodes verifying the same user at once (a
 * node runs one user's verifications one at a time). Not an outage: answered as busy, try again.
 */
export class StateContentionError extends Error {}

/** A request's origin when none is given (`shim check` at the console: unauthenticated, so the classic lock-out applies). */
export const CONSOLE: Requester = { source: 'shim check', authenticated: false };

/** A name whose state is never read, asked with `conceal` while the state is in an outage: answered as the state's loss is. */
class StateDoubtError extends Error {}

const MAX_ATTEMPTS = 8;

/** Other verifications of the user kept winning the compare-and-set: nothing was decided. */
function contention(username: string): StateContentionError {
  return new StateContentionError(`the state of ${username} kept changing during ${MAX_ATTEMPTS} attempts (other verifications of the user); try again`);
}

/**
 * The verification engine: read the user's state, check the code, write the outcome with a
 * compare-and-set; when another verification changed the state in between, read again and decide
 * again (the code is then typically a replay). A verdict is returned only once every state change it
 * made is durable.
 */
export class Verifier {
  readonly #perUser = new KeyedQueue();
  readonly #absent: AbsentUserLockout;

  constructor(
    private readonly users: UserDirectory,
    private readonly state: StateBackend,
    private readonly rules: ShimRules,
    private readonly now: () => number = Date.now,
    private readonly unlockRequests?: UnlockRequests,
  ) {
    this.#absent = new AbsentUserLockout(state.absentNames ?? new MemoryAbsentNames(), rules, now);
  }

  /**
   * Not an async function: it hands back the user's queued verification itself, where an async
   * function would wrap that promise in another (two more microtask hops a request).
   */
  verify(username: string, code: string, who: Requester = CONSOLE, options: VerifyOptions = {}): Promise<Verdict> {
    try {
      const key = userKey(username);
      const user = this.users.findUser(key);
      if (!user || user.tokens.length === 0) return this.#withoutToken(key, user, who, options);
      const submitted = new SubmittedCode(code);
      // One user's verifications one at a time on this node: only another node's can make one read again.
      return this.#perUser.run(user.key, () => this.#decide(user, submitted, who));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** The verdict for an unknown user or one without a token (rejects with StateDoubtError while the state is in an outage). */
  #withoutToken(key: string, user: ShimUser | undefined, who: Requester, options: VerifyOptions): Promise<Verdict> {
    const verdict: Verdict = user ? { result: 'reject', reason: 'no_token', user, failure: false } : { result: 'reject', reason: 'unknown_user', failure: false };
    if (!options.conceal) return Promise.resolve(verdict);
    // Nothing counted, as nothing is for a real user whose state cannot be read.
    if (options.stateInDoubt) return Promise.reject(new StateDoubtError('the state is in an outage'));
    // One name's attempts one at a time on this node, as one user's verifications are.
    return this.#perUser.run(key, () => this.#absent.attempt(key, who)).then(
      (attempt) => (attempt.kind === 'locked' ? { ...verdict, concealedLock: attempt.scope } : { ...verdict, failure: true }),
      (err: unknown) => {
        throw err instanceof AbsentContentionError ? contention(user?.username ?? key) : err;
      },
    );
  }

  async #decide(user: ShimUser, submitted: SubmittedCode, who: Requester): Promise<Verdict> {
    let fresh = false;
    // An unlock request is consumed when found, and judged against the state of each attempt of this
    // verification (until it is applied): it clears only failures counted before it was made.
    let unlockLooked = false;
    let unlockAt: number | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const nowMs = this.now();
      const read = this.state.read(user, fresh);
      const view = read instanceof Promise ? await read : read;
      // An answer that writes nothing is given only from the state as it is now, not a cache's.
      const confirm = (): boolean => {
        if (view.cached !== true) return false;
        fresh = true;
        return true;
      };
      let current = view.user;

      const lock = lockStatus(current, who, nowMs, this.rules);
      // A pending `shim unlock` is applied at the user's next attempt whenever it has something to
      // clear, not only once they are locked out: taken then, the failures it cleared would have led
      // to a lock-out it predates, which it could no longer release.
      if (!unlockLooked && !isCleared(current)) {
        unlockLooked = true;
        unlockAt = this.unlockRequests?.take(user);
      }
      const unlocking = unlockAt !== undefined && !isCleared(current) && unlockReaches(current, unlockAt);
      if (lock.kind === 'locked' && !unlocking) {
        if (confirm()) continue;
        return { result: 'reject', reason: 'locked_out', user, failure: false, lockScope: lock.scope };
      }
      if (lock.kind !== 'open' || unlocking) {
        const next = lock.kind === 'expired' && !unlocking ? lock.next : { ...CLEARED, sources: {} };
        if (!(await this.state.updateUser(user, current, next))) continue;
        if (unlocking) {
          // Audited once the state change is made, as the sweep's unlocks are.
          this.unlockRequests!.applied(user, anyLockOut(current, this.rules));
          unlockAt = undefined;
        }
        current = { ...next, version: current.version + 1 };
      }

      let accepted: { token: ShimToken; state: TokenState } | undefined;
      let replayed: { token: ShimToken; exact: boolean } | undefined;
      if (submitted.digitsOnly) {
        // Every token is checked (no early exit), so timing does not tell which token matched.
        for (const [i, token] of user.tokens.entries()) {
          const check = checkToken(token, view.tokens[i]!, submitted, nowMs, this.rules);
          if (check.outcome === 'accept' && !accepted) accepted = { token, state: check.state };
          else if (check.outcome === 'replayed' && (!replayed || (check.exact && !replayed.exact))) replayed = { token, exact: check.exact };
        }
      }

      // A code one of the user's tokens has already used is refused even where another token would
      // take it (the same secret under two serials would otherwise take each code twice).
      if (accepted && !replayed) {
        if (!(await this.state.accept(user, current, accepted.token, accepted.state, !isCleared(current)))) continue;
        return { result: 'accept', reason: 'ok', user, serial: accepted.token.serial, failure: false };
      }
      if (replayed?.exact) {
        if (confirm()) continue;
        // The code just accepted, again: a retry or a duplicate, not a guess. Not counted.
        return { result: 'reject', reason: 'replayed', user, serial: replayed.token.serial, failure: false };
      }
      if (!(await this.state.updateUser(user, current, afterFailure(current, who, nowMs, this.rules)))) continue;
      const verdict: Verdict = { result: 'reject', reason: replayed ? 'replayed' : 'wrong_code', user, failure: true };
      if (replayed) verdict.serial = replayed.token.serial;
      return verdict;
    }
    throw contention(user.username);
  }

  /** Clears a user's failures and lock-out. Returns the user, or undefined when unknown. */
  async unlock(username: string): Promise<{ user: ShimUser; wasLocked: boolean; cleared: boolean } | undefined> {
    const user = this.users.findUser(userKey(username));
    if (!user) return undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const read = this.state.read(user, true);
      const current = (read instanceof Promise ? await read : read).user;
      const wasLocked = anyLockOut(current, this.rules);
      if (isCleared(current)) return { user, wasLocked, cleared: false };
      if (await this.state.updateUser(user, current, { ...CLEARED, sources: {} })) return { user, wasLocked, cleared: true };
    }
    throw contention(user.username);
  }
}
