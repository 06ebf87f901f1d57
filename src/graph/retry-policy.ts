import { errorText, isWriteCall, retryAfterMs, type GraphCall, type GraphResponse } from './graph-call.js';
import { ForeignNextLinkError, isUnreachable, ReadOnlyViolation, SignInError, TokenRefusedError } from './graph-errors.js';

/** What came of one send of a request: Graph's answer, or what stopped it (network, timeout). */
export interface AttemptResult {
  call: Pick<GraphCall, 'method' | 'safe'>;
  /** Sends made so far, this one included (1 for the first). */
  attempt: number;
  response?: GraphResponse;
  error?: unknown;
  /**
   * This send carried a new access token: fetched after an earlier send of this request was refused
   * its token (401), or after another request's was and not yet taken by Graph since.
   */
  renewedToken?: boolean;
}

/** What to do with an attempt's result. */
export type RetryDecision =
  /** Hand the answer back as it is: a success, or an error that is final for this request. */
  | { action: 'accept' }
  /**
   * Send it again after a wait (`throttled` when Graph asked for the wait). `renewToken`: Graph
   * refused the access token it was sent with: that token is dropped and a new one fetched first.
   */
  | { action: 'retry'; afterMs: number; throttled: boolean; renewToken?: true }
  /**
   * A write that may or may not have been applied: read it back before sending it again.
   * `exists`: Graph said the object is there already (a conflict), not a lost answer.
   */
  | { action: 'unknown'; reason: string; exists?: true }
  /** Give up and throw: retrying cannot help. */
  | { action: 'throw'; error: unknown };

/** One concern of the policy; undefined when the result is not its business (the next strategy decides). */
export interface RetryStrategy {
  readonly name: string;
  decide(result: AttemptResult): RetryDecision | undefined;
}

export type Backoff = (attempt: number) => number;

/** Capped exponential backoff with full jitter: a random wait up to min(cap, base * 2^attempt). */
export function exponentialBackoff(opts: { baseMs?: number; capMs?: number; random?: () => number } = {}): Backoff {
  const base = opts.baseMs ?? 250;
  const cap = opts.capMs ?? DEFAULT_CAP_MS;
  const random = opts.random ?? Math.random;
  return (attempt) => random() * Math.min(cap, base * 2 ** attempt);
}

/** A refused write, no sign-in, nothing listening at the address: retrying cannot help. */
export const fatalErrorStrategy: RetryStrategy = {
  name: 'fatal-error',
  decide: (r) =>
    r.error !== undefined && (r.error instanceof ReadOnlyViolation || r.error instanceof SignInError || r.error instanceof ForeignNextLinkError || isUnreachable(r.error)) ? { action: 'throw', error: r.error } : undefined,
};

/**
 * 401: Graph refused the access token (revoked, or expired before its time), before doing anything
 * with the request, so it is sent again at once with a new token, read or write; its token is
 * dropped (once however many requests were refused with it). Refused again, with the new token, it
 * stops: every request would be, and a credential that prompts (device code) would prompt for each.
 */
export const unauthorizedStrategy: RetryStrategy = {
  name: 'unauthorized',
  decide: (r) => {
    if (r.response?.status !== 401) return undefined;
    return r.renewedToken ? { action: 'throw', error: new TokenRefusedError(r.response) } : { action: 'retry', afterMs: 0, throttled: false, renewToken: true };
  },
};

/**
 * 429: Graph did not take the request, so it is safe to send again, read or write, after the wait
 * Graph asks for (each item of a batch has its own). A 503 with Retry-After is waited out the same
 * way for a read; for a write it is a 5xx like any other (transientStrategy: read back first), since
 * nothing says the service did not apply it before answering.
 */
export function throttlingStrategy(backoff: Backoff): RetryStrategy {
  return {
    name: 'throttling',
    decide: (r) => {
      const res = r.response;
      if (!res || !(res.status === 429 || (res.status === 503 && res.headers['retry-after'] !== undefined && !isWriteCall(r.call)))) return undefined;
      return { action: 'retry', afterMs: retryAfterMs(res.headers['retry-after']) ?? backoff(r.attempt), throttled: true };
    },
  };
}

/**
 * A 5xx, a timeout, a reset connection, a batch item with no answer: a read is sent again after a
 * backoff; a write's outcome is unknown (it may have been applied) and must be read back first.
 */
export function transientStrategy(backoff: Backoff): RetryStrategy {
  return {
    name: 'transient',
    decide: (r) => {
      const transient = r.error !== undefined || (r.response !== undefined && (r.response.status >= 500 || r.response.status === 408 || r.response.status === 0));
      if (!transient) return undefined;
      if (isWriteCall(r.call)) return { action: 'unknown', reason: r.response ? `answered ${r.response.status}` : `no answer: ${(r.error as Error)?.message ?? String(r.error)}` };
      return { action: 'retry', afterMs: backoff(r.attempt), throttled: false };
    },
  };
}

/**
 * 409, or a 400 saying the object exists (Graph's "One or more added object references already exist";
 * already assigned, a member, registered, in use): an earlier attempt whose answer was lost may have
 * applied the write. Other words with "already" in them are not that ("The group ... already has 50000
 * members, the most it supports").
 */
export const conflictStrategy: RetryStrategy = {
  name: 'conflict',
  decide: (r) => {
    const res = r.response;
    if (!res || !isWriteCall(r.call)) return undefined;
    const e = (res.body as { error?: { code?: string; message?: string } } | null)?.error;
    const saysExists = res.status === 400 && /already (exist|assigned|a member|registered|in use)|exists already|conflict/i.test(`${e?.code ?? ''} ${e?.message ?? ''}`);
    if (res.status === 409 || saysExists) return { action: 'unknown', reason: `answered ${errorText(res)} (it may exist already)`, exists: true };
    return undefined;
  },
};

export interface RetryPolicy {
  decide(result: AttemptResult): RetryDecision;
  readonly maxAttempts: number;
}

/**
 * One policy for reads, batches and writes: the first strategy with an opinion decides; a result
 * none has an opinion on is accepted. After `maxAttempts` sends a retry becomes the last answer
 * (or the error thrown), except the one send with a new token after a 401 (there is one at most).
 */
export function composeRetryPolicy(strategies: readonly RetryStrategy[], maxAttempts: number): RetryPolicy {
  return {
    maxAttempts,
    decide(result) {
      for (const s of strategies) {
        const d = s.decide(result);
        if (!d) continue;
        if (d.action === 'retry' && !d.renewToken && result.attempt >= maxAttempts) return result.response ? { action: 'accept' } : { action: 'throw', error: result.error };
        return d;
      }
      return result.error !== undefined ? { action: 'throw', error: result.error } : { action: 'accept' };
    },
  };
}

export interface RetryPolicyOptions {
  maxAttempts?: number;
  baseMs?: number;
  capMs?: number;
  random?: () => number;
  /**
   * How long Graph may not find an object it has just created (Entra is eventually consistent):
   * a 404 for it, or its absence from a read-back, is not trusted sooner. Default: `capMs`.
   */
  consistencyMs?: number;
}

/** The longest wait between tries (and, by default, the consistency window): 30 s. */
export const DEFAULT_CAP_MS = 30_000;

/** The tool's policy: fatal errors, a refused token, throttling, transient failures, conflicts; 8 attempts, backoff from 250 ms capped at 30 s. */
export function defaultRetryPolicy(opts: RetryPolicyOptions = {}, backoff: Backoff = exponentialBackoff(opts)): RetryPolicy {
  return composeRetryPolicy([fatalErrorStrategy, unauthorizedStrategy, throttlingStrategy(backoff), transientStrategy(backoff), conflictStrategy], opts.maxAttempts ?? 8);
}
