import { SubmittedCode } from '../otp/submitted-code.js';
import type { ShimRules } from './rules.js';
import { userKey, type ShimToken, type ShimUser, type TokenStatePatch, type UserStatePatch } from './store-model.js';
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
  /** Settles when every state change this verdict made is durable; answer only after that. */
  durable: Promise<void>;
}

/** Where the verifier's state changes go: applied in memory at once, persisted asynchronously. */
export interface StateSink {
  findUser(key: string): ShimUser | undefined;
  setTokenState(token: ShimToken, state: TokenStatePatch): Promise<void>;
  setUserState(user: ShimUser, state: UserStatePatch): Promise<void>;
}

/** An out-of-band unlock (from `shim unlock` while the server runs), consumed when found. */
export interface UnlockRequests {
  take(user: ShimUser): boolean;
}

const DONE = Promise.resolve();

/**
 * The verification engine. verify() runs synchronously from lookup to state change, so in Node's
 * single thread two requests for the same user are serialised by construction: the second sees the
 * first one's new counter / last step, and a code is accepted at most once.
 */
export class Verifier {
  constructor(
    private readonly state: StateSink,
    private readonly rules: ShimRules,
    private readonly now: () => number = Date.now,
    private readonly unlockRequests?: UnlockRequests,
  ) {}

  verify(username: string, code: string): Verdict {
    const user = this.state.findUser(userKey(username));
    if (!user) return { result: 'reject', reason: 'unknown_user', durable: DONE };
    if (user.tokens.length === 0) return { result: 'reject', reason: 'no_token', user, durable: DONE };

    const nowMs = this.now();
    const pending: Promise<void>[] = [];
    if (this.isLockedOut(user, nowMs, pending)) {
      return { result: 'reject', reason: 'locked_out', user, durable: settle(pending) };
    }

    const submitted = new SubmittedCode(code);
    let accepted: { token: ShimToken; state: TokenStatePatch } | undefined;
    let replayedBy: ShimToken | undefined;
    if (submitted.digitsOnly) {
      // Every token is checked (no early exit), so timing does not tell which token matched.
      for (const token of user.tokens) {
        const check = checkToken(token, submitted, nowMs, this.rules);
        if (check.outcome === 'accept' && !accepted) accepted = { token, state: check.state };
        else if (check.outcome === 'replayed' && !replayedBy) replayedBy = token;
      }
    }

    if (accepted) {
      pending.push(this.state.setTokenState(accepted.token, accepted.state));
      if (user.fails !== 0 || user.lockedAt !== null) pending.push(this.state.setUserState(user, { fails: 0, lockedAt: null }));
      return { result: 'accept', reason: 'ok', user, serial: accepted.token.serial, durable: settle(pending) };
    }

    const fails = user.fails + 1;
    pending.push(this.state.setUserState(user, { fails, lockedAt: fails >= this.rules.maxFails ? nowMs : null }));
    const verdict: Verdict = { result: 'reject', reason: replayedBy ? 'replayed' : 'wrong_code', user, durable: settle(pending) };
    if (replayedBy) verdict.serial = replayedBy.serial;
    return verdict;
  }

  /** Clears a user's fail counter and lock-out. Returns the user, or undefined when unknown. */
  unlock(username: string): { user: ShimUser; wasLocked: boolean; durable: Promise<void> } | undefined {
    const user = this.state.findUser(userKey(username));
    if (!user) return undefined;
    const wasLocked = user.lockedAt !== null || user.fails >= this.rules.maxFails;
    const durable = user.fails !== 0 || user.lockedAt !== null ? this.state.setUserState(user, { fails: 0, lockedAt: null }) : DONE;
    return { user, wasLocked, durable };
  }

  /** True while the user is locked out; clears an expired or externally released lock-out on the way. */
  private isLockedOut(user: ShimUser, nowMs: number, pending: Promise<void>[]): boolean {
    if (user.lockedAt === null && user.fails < this.rules.maxFails) return false;
    if (user.lockedAt === null) {
      // maxFails was lowered since these failures were counted: the lock-out starts now.
      pending.push(this.state.setUserState(user, { fails: user.fails, lockedAt: nowMs }));
      return true;
    }
    const expired = this.rules.lockoutMinutes > 0 && nowMs - user.lockedAt >= this.rules.lockoutMinutes * 60_000;
    if (expired || this.unlockRequests?.take(user)) {
      pending.push(this.state.setUserState(user, { fails: 0, lockedAt: null }));
      return false;
    }
    return true;
  }
}

function settle(pending: Promise<void>[]): Promise<void> {
  if (pending.length === 0) return DONE;
  if (pending.length === 1) return pending[0]!;
  return Promise.all(pending).then(() => undefined);
}
