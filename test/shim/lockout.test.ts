import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hotpCode } from '../../src/otp/hotp.js';
import { afterFailure, anyLockOut, lockStatus, unlockReaches, CLEARED } from '../../src/shim/lockout.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import type { ShimService, ShimServiceOptions } from '../../src/shim/shim-service.js';
import { runImportStore } from '../../src/shim/shim-operations.js';
import { SourceBudget, type BudgetPlace } from '../../src/shim/source-budget.js';
import type { UserState } from '../../src/shim/store-model.js';
import { call, verify } from './http-client.js';
import { RFC_SEED_SHA1, TEST_KEY, TestClock, seed, tempDir , startTestService } from './helpers.js';

const T0 = 1_700_000_000_000;
const H = (c: number): string => hotpCode(RFC_SEED_SHA1, 'sha1', c, 6);
const USERS = Array.from({ length: 13 }, (_, i) => `user${i}@contoso.com`);
const API_KEY = 'lockout-test-api-key-0123456789';

let tmp: ReturnType<typeof tempDir>;
let store: string;
let service: ShimService | undefined;
let clock: TestClock;

async function start(extra: Partial<ShimServiceOptions> = {}): Promise<ShimService> {
  service = await startTestService(store, clock, extra);
  return service;
}

beforeEach(async () => {
  tmp = tempDir();
  store = tmp.path('shim.store');
  clock = new TestClock(T0);
  await runImportStore({
    store,
    key: TEST_KEY,
    input: {
      users: USERS.map((username) => ({ username, enabled: true })),
      tokens: USERS.map((user, i) => ({ seed: seed({ serial: `H${i}`, secret: RFC_SEED_SHA1, type: 'hotp' }), user })),
    },
  });
});
afterEach(async () => {
  await service?.close();
  service = undefined;
  tmp.cleanup();
});

describe('issue 17 item 8: lock-out as a lever', () => {
  it('issue 17 item 8: 149 wrong codes from one address over 13 users lock nobody out; the address is slowed, then refused', async () => {
    const { url } = await start({ sourceMaxFails: 20 });
    const statuses: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 149; i++) statuses.push((await verify(url, USERS[i % USERS.length], '000000')).status);
    // 20 failures counted (10 of them slowed by 1 s), the other 129 refused unchecked with 429.
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(129);
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
    for (const user of USERS) {
      expect(service!.db.users.get(user)!.lockedAt, user).toBeNull();
      expect(service!.db.users.get(user)!.fails).toBeLessThanOrEqual(2);
    }
    expect((await call(`${url}/metrics`)).text).toMatch(/^mfa_shim_source_refused_total 129$/m);
  }, 30_000);

  it('60 wrong codes sent at once from one address get only the budget (30) verified, the rest 429 (a black-box test: all 60 were verified)', async () => {
    const { url } = await start();
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => verify(url, USERS[i % USERS.length], '000000')));
    expect(replies.filter((r) => r.status === 200).map((r) => r.json)).toEqual(Array.from({ length: 30 }, () => ({ result: 'reject', reason: 'wrong_code' })));
    expect(replies.filter((r) => r.status === 429)).toHaveLength(30);
    expect((await call(`${url}/metrics`)).text).toMatch(/^mfa_shim_verify_requests_total\{result="reject",reason="wrong_code"\} 30$/m);
  }, 20_000);

  it('issue 17 item 8: 10 parallel replays of a valid code do not lock the user out', async () => {
    const { url } = await start();
    expect((await verify(url, USERS[0], H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    const replies = await Promise.all(Array.from({ length: 10 }, () => verify(url, USERS[0], H(0))));
    expect(replies.map((r) => r.json)).toEqual(Array.from({ length: 10 }, () => ({ result: 'reject', reason: 'replayed' })));
    expect(service!.db.users.get(USERS[0]!)).toMatchObject({ fails: 0, lockedAt: null });
    expect((await verify(url, USERS[0], H(1))).json).toEqual({ result: 'accept', reason: 'ok' });
  });

  it('issue 17 item 8: an authenticated caller passes client_ip; one address failing blocks only itself, two addresses lock the user', async () => {
    const { url } = await start({ apiKey: API_KEY, sourceMaxFails: 0 });
    const headers = { authorization: `Bearer ${API_KEY}` };
    const from = (clientIp: string | undefined, code: string, user = USERS[0]) =>
      call(`${url}/v1/verify`, { headers, body: clientIp === undefined ? { user, code } : { user, code, client_ip: clientIp } });
    for (let i = 0; i < 10; i++) expect((await from('198.51.100.7', '000000')).json).toEqual({ result: 'reject', reason: 'wrong_code' });
    // That address is now blocked for this user, even with the right code; the user is not locked.
    expect((await from('198.51.100.7', H(0))).json).toEqual({ result: 'reject', reason: 'locked_out' });
    expect(service!.db.users.get(USERS[0]!)!.lockedAt).toBeNull();
    // The user, from their own address, signs in; that clears the failures.
    expect((await from('203.0.113.9', H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    expect(service!.db.users.get(USERS[0]!)).toMatchObject({ fails: 0, lockedAt: null, sources: {} });
    // Guessing from two addresses: locked at the tenth failure, for everyone.
    for (let i = 0; i < 10; i++) await from(i % 2 === 0 ? '198.51.100.7' : '198.51.100.8', '000000');
    expect(service!.db.users.get(USERS[0]!)!.lockedAt).toBe(T0);
    expect((await from('203.0.113.9', H(1))).json).toEqual({ result: 'reject', reason: 'locked_out' });
    // A malformed client_ip is a malformed request, counted for no one.
    expect((await from('not-an-ip', '000000', USERS[1])).status).toBe(400);
    expect(service!.db.users.get(USERS[1]!)!.fails).toBe(0);
  });

  it('one address is one source however client_ip writes it (case, leading zeros, zero groups, IPv4-mapped, a zone id)', async () => {
    const { url } = await start({ apiKey: API_KEY, sourceMaxFails: 0 });
    const headers = { authorization: `Bearer ${API_KEY}` };
    const spellings = ['2001:db8::1', '2001:DB8::1', '2001:0db8::1', '2001:db8:0:0:0:0:0:1', '2001:db8::1%anything', '2001:0DB8:0000::0001', '2001:db8::0:1', '2001:db8::1%eth0', '2001:db8:0::1', '2001:db8::1%25'];
    for (const clientIp of spellings) {
      expect((await call(`${url}/v1/verify`, { headers, body: { user: USERS[2], code: '000000', client_ip: clientIp } })).json).toEqual({ result: 'reject', reason: 'wrong_code' });
    }
    // Ten failures from one vouched-for address: that address is blocked for the user, the user is not locked.
    expect(Object.keys(service!.db.users.get(USERS[2]!)!.sources)).toEqual(['2001:db8::/64']);
    expect(service!.db.users.get(USERS[2]!)!.lockedAt).toBeNull();
    expect((await call(`${url}/v1/verify`, { headers, body: { user: USERS[2], code: H(0), client_ip: '2001:db8:0000:0000:0000:0000:0000:0001' } })).json).toEqual({ result: 'reject', reason: 'locked_out' });
    expect((await call(`${url}/v1/verify`, { headers, body: { user: USERS[2], code: H(0), client_ip: '203.0.113.9' } })).json).toEqual({ result: 'accept', reason: 'ok' });
    // IPv4 and its IPv4-mapped IPv6 forms are one source too.
    for (const clientIp of ['198.51.100.7', '::ffff:198.51.100.7', '::FFFF:c633:6407', '0:0:0:0:0:ffff:198.51.100.7']) {
      await call(`${url}/v1/verify`, { headers, body: { user: USERS[3], code: '000000', client_ip: clientIp } });
    }
    expect(service!.db.users.get(USERS[3]!)!.sources).toEqual({ '198.51.100.7': expect.objectContaining({ fails: 4 }) });
    // Not addresses: an empty zone id, a zone on IPv4, IPv4 with a leading zero.
    for (const clientIp of ['2001:db8::1%', '198.51.100.7%eth0', '198.51.100.07', '[2001:db8::1]']) {
      expect((await call(`${url}/v1/verify`, { headers, body: { user: USERS[4], code: '000000', client_ip: clientIp } })).status, clientIp).toBe(400);
    }
    expect(service!.db.users.get(USERS[4]!)!.fails).toBe(0);
  });

  it('without client_ip (or without the API key that vouches for it), the caller\'s own address is the source, an IPv6 one by its /64 too (a review)', async () => {
    const { sourceOf } = await import('../../src/shim/http-server.js');
    expect(sourceOf(false, undefined, '2001:db8::1')).toBe('2001:db8::/64');
    expect(sourceOf(false, undefined, '2001:db8::2')).toBe('2001:db8::/64');
    expect(sourceOf(false, '198.51.100.7', '2001:db8::2')).toBe('2001:db8::/64');
    expect(sourceOf(true, '198.51.100.7', '2001:db8::2')).toBe('198.51.100.7');
    expect(sourceOf(false, undefined, '203.0.113.9')).toBe('203.0.113.9');
    expect(sourceOf(false, undefined, 'unknown')).toBe('unknown');
  });

  it('parseVerifyRequest gives client_ip as the source it counts as: one text per address, an IPv6 one by its /64', async () => {
    const { parseVerifyRequest } = await import('../../src/shim/http-server.js');
    const ip = (clientIp: string) => parseVerifyRequest(Buffer.from(JSON.stringify({ user: 'u', code: '1', client_ip: clientIp })))?.clientIp;
    // A review: each address of one home /64 (privacy extensions pick new ones at will) had a budget of its own.
    expect(ip('2001:DB8:0:0:1:0:0:1')).toBe('2001:db8::/64');
    expect(ip('2001:db8:0:0:ffff:1234:5678:9abc')).toBe('2001:db8::/64');
    expect(ip('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(ip('FE80::0001%eth0')).toBe('fe80::/64');
    expect(ip('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(ip('::1.2.3.4')).toBe('::/64');
    expect(ip('0:0:0:0:0:0:0:0')).toBe('::/64');
    expect(ip('203.0.113.9')).toBe('203.0.113.9');
    expect(ip('fe80::1%')).toBeUndefined();
  });

  it('issue 17 item 8: without an API key, client_ip is not trusted: the TCP peer is the source', async () => {
    const { url } = await start({ sourceMaxFails: 0 });
    for (let i = 0; i < 10; i++) await call(`${url}/v1/verify`, { body: { user: USERS[0], code: '000000', client_ip: `192.0.2.${i}` } });
    expect(Object.keys(service!.db.users.get(USERS[0]!)!.sources)).toEqual(['127.0.0.1']);
    // One unauthenticated source beyond the user's budget: the user is locked (nothing vouches for the address).
    expect(service!.db.users.get(USERS[0]!)!.lockedAt).toBe(T0);
  });
});

describe('the lock-out rules (pure)', () => {
  const rules = { ...DEFAULT_RULES, maxFails: 3, lockoutMinutes: 15 };
  const vouched = { source: '198.51.100.7', authenticated: true };

  it("an unlock request reaches no lock-out that began after it, of the user or of a source, and says a source's lock-out is one (a review)", () => {
    let state: UserState = { ...CLEARED, sources: {} };
    for (let i = 0; i < 3; i++) state = afterFailure(state, vouched, T0 + 1000 + i, rules);
    expect(anyLockOut(state, rules)).toBe(true);
    expect(unlockReaches(state, T0)).toBe(false);
    expect(unlockReaches(state, T0 + 1002)).toBe(true);
    const userLocked: UserState = { fails: 10, lockedAt: T0 + 1000, sources: {} };
    expect([unlockReaches(userLocked, T0), unlockReaches(userLocked, T0 + 1000), anyLockOut(userLocked, rules)]).toEqual([false, true, true]);
  });

  it('an unlock request clears only failures counted before it: one kept and put back later cannot wipe a guesser\'s count (a security review: 450 guesses, never locked out)', () => {
    const failuresOnly = afterFailure({ ...CLEARED, sources: {} }, vouched, T0 + 1000, rules);
    expect([unlockReaches(failuresOnly, T0 + 1000), unlockReaches(failuresOnly, T0 + 2000), anyLockOut(failuresOnly, rules)]).toEqual([true, true, false]);
    // A failure after the request (the request put back for the third time): it no longer reaches.
    expect(unlockReaches(failuresOnly, T0)).toBe(false);
    let guessed: UserState = { ...CLEARED, sources: {} };
    for (let i = 0; i < 2; i++) guessed = afterFailure(guessed, { source: `198.51.100.${i}`, authenticated: true }, T0 + 5000 + i, rules);
    expect(unlockReaches(guessed, T0 + 5000)).toBe(false);
    expect(unlockReaches(guessed, T0 + 5001)).toBe(true);
  });

  it('blocks a lone vouched source for the user until the lock-out time has passed since its last failure', () => {
    let state: UserState = { ...CLEARED, sources: {} };
    for (let i = 0; i < 3; i++) state = afterFailure(state, vouched, T0 + i, rules);
    expect(state.lockedAt).toBeNull();
    expect(lockStatus(state, vouched, T0 + 10, rules)).toEqual({ kind: 'locked', scope: 'source' });
    expect(lockStatus(state, { source: '203.0.113.9', authenticated: true }, T0 + 10, rules)).toEqual({ kind: 'open' });
    expect(lockStatus(state, vouched, T0 + 2 + 15 * 60_000, rules)).toEqual({ kind: 'expired', next: { fails: 0, lockedAt: null, sources: {} } });
  });

  it('counts a source named __proto__ (a Calling-Station-Id is any text) like any other: blocked at the limit, and with another source the user is locked', () => {
    const proto = { source: '__proto__', authenticated: true };
    let state: UserState = { ...CLEARED, sources: {} };
    for (let i = 0; i < 3; i++) state = afterFailure(state, proto, T0 + i, rules);
    expect(Object.keys(state.sources)).toEqual(['__proto__']);
    expect(lockStatus(state, proto, T0 + 10, rules)).toEqual({ kind: 'locked', scope: 'source' });
    // Through the state's JSON (journal, store, PostgreSQL) it is still that source.
    const reread = JSON.parse(JSON.stringify(state)) as UserState;
    expect(lockStatus(reread, proto, T0 + 10, rules)).toEqual({ kind: 'locked', scope: 'source' });
    state = afterFailure(state, { source: '203.0.113.9', authenticated: true }, T0 + 20, rules);
    state = afterFailure(state, { source: '203.0.113.9', authenticated: true }, T0 + 21, rules);
    expect(state.lockedAt).toBe(T0 + 21);
  });

  it("one source's failures and a typo from elsewhere do not lock the user; guessing spread over sources does", () => {
    const ten = { ...rules, maxFails: 10 };
    let state: UserState = { ...CLEARED, sources: {} };
    for (let i = 0; i < 9; i++) state = afterFailure(state, vouched, T0 + i, ten);
    state = afterFailure(state, { source: '203.0.113.9', authenticated: true }, T0 + 20, ten);
    expect(state.lockedAt).toBeNull();
    expect(lockStatus(state, { source: '203.0.113.9', authenticated: true }, T0 + 21, ten)).toEqual({ kind: 'open' });
    let spread: UserState = { ...CLEARED, sources: {} };
    for (let i = 0; i < 10; i++) spread = afterFailure(spread, { source: `10.0.0.${i % 4}`, authenticated: true }, T0 + i, ten);
    expect(spread.lockedAt).toBe(T0 + 9);
  });

  it('remembers at most 16 sources per user, the newest', () => {
    let state: UserState = { ...CLEARED, sources: {} };
    for (let i = 0; i < 40; i++) state = afterFailure(state, { source: `10.0.0.${i}`, authenticated: true }, T0 + i, { ...rules, maxFails: 1000 });
    expect(Object.keys(state.sources)).toHaveLength(16);
    expect(state.sources['10.0.0.39']).toEqual({ fails: 1, at: T0 + 39 });
    expect(state.fails).toBe(40);
  });

  it('the source budget slows from half and refuses at the budget, until failures age out', () => {
    let now = T0;
    const budget = new SourceBudget({ maxFails: 4, windowMs: 60_000, slowDownMs: 1000 }, () => now);
    const fail = (): void => (budget.reserve('a') as BudgetPlace).settle(true);
    const first = budget.reserve('a') as BudgetPlace;
    expect(first).toMatchObject({ kind: 'ok', delayMs: 0 });
    first.settle(true);
    fail();
    const slowed = budget.reserve('a') as BudgetPlace;
    expect(slowed).toMatchObject({ kind: 'ok', delayMs: 1000 });
    slowed.settle(false);
    fail();
    now += 10_000;
    fail();
    expect(budget.reserve('a')).toEqual({ kind: 'refused', retryAfterSeconds: 50 });
    expect(budget.reserve('b')).toMatchObject({ kind: 'ok', delayMs: 0 });
    now += 50_000; // the three oldest age out
    expect(budget.reserve('a')).toMatchObject({ kind: 'ok', delayMs: 0 });
  });

  it('the source budget counts verifications in flight: beyond it a request waits, then is verified or refused as the budget stands', async () => {
    const budget = new SourceBudget({ maxFails: 4, windowMs: 60_000, slowDownMs: 1000 }, () => T0);
    const places = [0, 1, 2, 3].map(() => budget.reserve('a') as BudgetPlace);
    // Slowed as the third and fourth failure in a row would be.
    expect(places.map((p) => p.delayMs)).toEqual([0, 0, 1000, 1000]);
    const waiting = [budget.reserve('a'), budget.reserve('a'), budget.reserve('a')];
    for (const w of waiting) expect(w).toBeInstanceOf(Promise);
    // One in flight is no failure: the first waiting takes its place.
    places[0]!.settle(false);
    places[0]!.settle(true); // settled once only
    const next = await waiting[0]!;
    expect(next).toMatchObject({ kind: 'ok', delayMs: 1000 });
    // The rest fail: the budget is spent, and the requests still waiting are refused.
    for (const p of [places[1]!, places[2]!, places[3]!, next as BudgetPlace]) p.settle(true);
    expect(await waiting[1]).toEqual({ kind: 'refused', retryAfterSeconds: 60 });
    expect(await waiting[2]).toEqual({ kind: 'refused', retryAfterSeconds: 60 });
    expect(budget.reserve('a')).toEqual({ kind: 'refused', retryAfterSeconds: 60 });
  });
});
