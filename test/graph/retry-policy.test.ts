import { describe, expect, it } from 'vitest';
import { ReadOnlyViolation, SignInError, TokenRefusedError } from '../../src/graph/graph-errors.js';
import { conflictStrategy, defaultRetryPolicy, exponentialBackoff, fatalErrorStrategy, throttlingStrategy, transientStrategy, unauthorizedStrategy } from '../../src/graph/retry-policy.js';
import { retryAfterMs } from '../../src/graph/graph-call.js';

const res = (status: number, headers: Record<string, string> = {}, body: unknown = null) => ({ status, headers, body });
const GET = { method: 'GET' as const };
const POST = { method: 'POST' as const };
const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
const reset = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });

describe('retry strategies, each on its own', () => {
  const backoff = () => 777;

  it('throttling: a 429 (or, for a read, a 503 with Retry-After) is sent again after the wait Graph asks for', () => {
    const s = throttlingStrategy(backoff);
    expect(s.decide({ call: POST, attempt: 1, response: res(429, { 'retry-after': '2' }) })).toEqual({ action: 'retry', afterMs: 2000, throttled: true });
    expect(s.decide({ call: GET, attempt: 1, response: res(429) })).toEqual({ action: 'retry', afterMs: 777, throttled: true });
    expect(s.decide({ call: GET, attempt: 1, response: res(503, { 'retry-after': '0.5' }) })).toEqual({ action: 'retry', afterMs: 500, throttled: true });
    expect(s.decide({ call: GET, attempt: 1, response: res(503) })).toBeUndefined();
    expect(s.decide({ call: GET, attempt: 1, response: res(200) })).toBeUndefined();
    // A write answered 503 may have been applied all the same: its outcome is read back, never resent blind (found by a review).
    expect(s.decide({ call: POST, attempt: 1, response: res(503, { 'retry-after': '1' }) })).toBeUndefined();
    expect(defaultRetryPolicy({ maxAttempts: 3 }).decide({ call: POST, attempt: 1, response: res(503, { 'retry-after': '1' }) })).toMatchObject({ action: 'unknown' });
  });

  it('transient: a 5xx, a timeout or a reset retries a read, and makes a write\'s outcome unknown', () => {
    const s = transientStrategy(backoff);
    for (const r of [res(500), res(502), res(504), res(408), res(0)]) {
      expect(s.decide({ call: GET, attempt: 1, response: r })).toEqual({ action: 'retry', afterMs: 777, throttled: false });
      expect(s.decide({ call: POST, attempt: 1, response: r })).toMatchObject({ action: 'unknown' });
    }
    expect(s.decide({ call: GET, attempt: 2, error: reset })).toEqual({ action: 'retry', afterMs: 777, throttled: false });
    expect(s.decide({ call: { method: 'PATCH' }, attempt: 1, error: new DOMException('no answer', 'TimeoutError') })).toMatchObject({ action: 'unknown', reason: expect.stringContaining('no answer') });
    expect(s.decide({ call: GET, attempt: 1, response: res(404) })).toBeUndefined();
  });

  it('a POST that changes nothing (checkMemberGroups) is retried like a read, its 503 waited out as Graph asks', () => {
    const SAFE = { method: 'POST' as const, safe: true as const };
    const s = transientStrategy(backoff);
    for (const r of [res(500), res(504), res(0)]) expect(s.decide({ call: SAFE, attempt: 1, response: r })).toEqual({ action: 'retry', afterMs: 777, throttled: false });
    expect(throttlingStrategy(backoff).decide({ call: SAFE, attempt: 1, response: res(503, { 'retry-after': '2' }) })).toEqual({ action: 'retry', afterMs: 2000, throttled: true });
    expect(conflictStrategy.decide({ call: SAFE, attempt: 1, response: res(409) })).toBeUndefined();
  });

  it('conflict: a 409, or a 400 saying the object exists, makes a write\'s outcome unknown (read it back)', () => {
    expect(conflictStrategy.decide({ call: POST, attempt: 1, response: res(409) })).toMatchObject({ action: 'unknown' });
    expect(conflictStrategy.decide({ call: POST, attempt: 1, response: res(400, {}, { error: { message: 'The object already exists.' } }) })).toMatchObject({ action: 'unknown' });
    expect(conflictStrategy.decide({ call: POST, attempt: 1, response: res(400, {}, { error: { message: 'Invalid phone number.' } }) })).toBeUndefined();
    // Graph's words for a member or reference added twice; and its reason is kept for the run's evidence.
    expect(
      conflictStrategy.decide({ call: POST, attempt: 1, response: res(400, {}, { error: { code: 'Request_BadRequest', message: "One or more added object references already exist for the following modified properties: 'members'." } }) }),
    ).toMatchObject({ action: 'unknown', reason: "answered 400 Request_BadRequest: One or more added object references already exist for the following modified properties: 'members'. (it may exist already)" });
    for (const message of ['The token is already assigned to this user.', 'The user is already a member of the group.', 'This phone number is already registered.']) {
      expect(conflictStrategy.decide({ call: POST, attempt: 1, response: res(400, {}, { error: { code: 'badRequest', message } }) }), message).toMatchObject({ action: 'unknown' });
    }
    // "already" about something else is a refusal, not "it may exist" (found by a black-box test: a staged rollout group's limit was read back and sent again 16 times).
    expect(conflictStrategy.decide({ call: POST, attempt: 1, response: res(400, {}, { error: { code: 'Request_BadRequest', message: "The group 'G' is used by staged rollout and already has 2 members, the most it supports per group." } }) })).toBeUndefined();
    expect(conflictStrategy.decide({ call: GET, attempt: 1, response: res(409) })).toBeUndefined();
  });

  it('unauthorized: a 401 is sent again at once with a new token, read or write (Graph did nothing with it); with a new token already, it stops', () => {
    const refused = res(401, {}, { error: { code: 'InvalidAuthenticationToken', message: 'Lifetime validation failed, the token is expired.' } });
    for (const call of [GET, POST, { method: 'DELETE' as const }]) {
      expect(unauthorizedStrategy.decide({ call, attempt: 1, response: refused })).toEqual({ action: 'retry', afterMs: 0, throttled: false, renewToken: true });
      const stop = unauthorizedStrategy.decide({ call, attempt: 2, renewedToken: true, response: refused });
      expect(stop).toMatchObject({ action: 'throw' });
      expect((stop as { error: unknown }).error).toBeInstanceOf(TokenRefusedError);
      expect(((stop as { error: TokenRefusedError }).error).response).toBe(refused);
    }
    expect(unauthorizedStrategy.decide({ call: GET, attempt: 1, response: res(403) })).toBeUndefined();
    // In the composed policy: before throttling and the rest, and the renewal is sent even after the last attempt otherwise allowed.
    const policy = defaultRetryPolicy({ maxAttempts: 3 });
    expect(policy.decide({ call: POST, attempt: 3, response: refused })).toMatchObject({ action: 'retry', renewToken: true });
    expect(policy.decide({ call: POST, attempt: 4, renewedToken: true, response: refused })).toMatchObject({ action: 'throw' });
  });

  it('fatal errors are thrown at once: a refused write, no sign-in, nothing listening', () => {
    for (const error of [new ReadOnlyViolation('PATCH /x'), new SignInError(new Error('AADSTS1')), refused]) {
      expect(fatalErrorStrategy.decide({ call: GET, attempt: 1, error })).toEqual({ action: 'throw', error });
    }
    expect(fatalErrorStrategy.decide({ call: GET, attempt: 1, error: reset })).toBeUndefined();
  });

  it('backoff is capped exponential with full jitter', () => {
    const max = exponentialBackoff({ baseMs: 100, capMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 10].map((a) => Math.round(max(a)))).toEqual([200, 400, 800, 1000, 1000]);
    expect(exponentialBackoff({ random: () => 0 })(5)).toBe(0);
  });
});

describe('the composed policy', () => {
  const policy = defaultRetryPolicy({ maxAttempts: 3, random: () => 0.5 });

  it('the first strategy with an opinion decides; an answer none cares about is accepted', () => {
    expect(policy.decide({ call: GET, attempt: 1, response: res(200) })).toEqual({ action: 'accept' });
    expect(policy.decide({ call: GET, attempt: 1, response: res(404) })).toEqual({ action: 'accept' });
    expect(policy.decide({ call: POST, attempt: 1, response: res(400) })).toEqual({ action: 'accept' });
    expect(policy.decide({ call: GET, attempt: 1, error: refused })).toMatchObject({ action: 'throw' });
  });

  it('after maxAttempts a retry becomes the last answer, or the error thrown', () => {
    expect(policy.decide({ call: GET, attempt: 2, response: res(503) })).toMatchObject({ action: 'retry' });
    expect(policy.decide({ call: GET, attempt: 3, response: res(503) })).toEqual({ action: 'accept' });
    expect(policy.decide({ call: GET, attempt: 3, response: res(429) })).toEqual({ action: 'accept' });
    expect(policy.decide({ call: GET, attempt: 3, error: reset })).toEqual({ action: 'throw', error: reset });
    // An unknown write outcome is not a retry: the caller reads it back whatever the count.
    expect(policy.decide({ call: POST, attempt: 3, response: res(500) })).toMatchObject({ action: 'unknown' });
  });

  it('reads Retry-After as seconds (whole or fractional) or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('0.125')).toBe(125);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs('')).toBeUndefined();
    const date = retryAfterMs(new Date(Date.now() + 5000).toUTCString())!;
    expect(date).toBeGreaterThan(3000);
    expect(date).toBeLessThanOrEqual(5000);
  });
});
