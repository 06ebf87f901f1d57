import { describe, expect, it } from 'vitest';
import { hotpCode } from '../../src/otp/hotp.js';
import { luhnCheckDigit } from '../../src/otp/luhn.js';
import { DEFAULT_RULES, validateRules, type ShimRules } from '../../src/shim/rules.js';
import type { ShimToken, ShimUser } from '../../src/shim/store-model.js';
import { Verifier } from '../../src/shim/verifier.js';
import { MemorySink, RFC_SEED_SHA1, RFC_SEED_SHA256, RFC_SEED_SHA512, TestClock, token } from './helpers.js';

const T0 = 1_700_000_000_000; // a fixed "now" (ms)
const step30 = (ms: number): number => Math.floor(ms / 30_000);
const totpAt = (t: ShimToken, step: number): string => hotpCode(t.secret.reveal(), t.algorithm, step, t.digits);

function setup(tokens: ShimToken[], rules: ShimRules = DEFAULT_RULES, clock = new TestClock(T0)) {
  const sink = new MemorySink();
  const user = sink.addUser('Ivan@Contoso.com', tokens);
  return { sink, user, clock, verifier: new Verifier(sink, sink, rules, clock.now) };
}

describe('TOTP', () => {
  const table: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  it.each(table)('accepts the RFC 6238 codes at %i s for SHA-1/256/512 (8 digits), once each', async (time, sha1, sha256, sha512) => {
    const tokens = [
      token({ serial: 'S1', secret: RFC_SEED_SHA1, algorithm: 'sha1', digits: 8 }),
      token({ serial: 'S256', secret: RFC_SEED_SHA256, algorithm: 'sha256', digits: 8 }),
      token({ serial: 'S512', secret: RFC_SEED_SHA512, algorithm: 'sha512', digits: 8 }),
    ];
    for (const [i, code] of [sha1, sha256, sha512].entries()) {
      const { verifier } = setup([tokens[i]!], DEFAULT_RULES, new TestClock(time * 1000));
      const first = (await verifier.verify('ivan@contoso.com', code));
      expect(first).toMatchObject({ result: 'accept', reason: 'ok', serial: tokens[i]!.serial });
      expect((await verifier.verify('ivan@contoso.com', code))).toMatchObject({ result: 'reject', reason: 'replayed', serial: tokens[i]!.serial });
    }
  });

  it('accepts one step either side and nothing further', async () => {
    const t = token({ serial: 'T', secret: RFC_SEED_SHA1 });
    const s = step30(T0);
    for (const offset of [-2, 2, 3, -5]) {
      const { verifier } = setup([structuredCloneToken(t)]);
      expect((await verifier.verify('ivan@contoso.com', totpAt(t, s + offset))).reason, `offset ${offset}`).toBe('wrong_code');
    }
    for (const offset of [-1, 0, 1]) {
      const { verifier } = setup([structuredCloneToken(t)]);
      expect((await verifier.verify('ivan@contoso.com', totpAt(t, s + offset))).reason, `offset ${offset}`).toBe('ok');
    }
  });

  it('treats any step at or before the last accepted one as replayed, even a never-used code', async () => {
    const t = token({ serial: 'T', secret: RFC_SEED_SHA1 });
    const { verifier } = setup([t]);
    const s = step30(T0);
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, s + 1))).reason).toBe('ok');
    expect(t.lastStep).toBe(s + 1);
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, s))).reason).toBe('replayed');
    // The accept also taught a drift of +1, so the window is now s .. s+2 and s-1 is simply outside it.
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, s - 1))).reason).toBe('wrong_code');
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, s + 1))).reason).toBe('replayed');
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, s + 2))).reason).toBe('ok');
  });

  it('learns drift from accepted codes and follows a clock that runs ahead', async () => {
    const t = token({ serial: 'T', secret: RFC_SEED_SHA1 });
    const { verifier, clock } = setup([t]);
    let s = step30(T0);
    // The token is two steps ahead: out of the window at first.
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, s + 2))).reason).toBe('wrong_code');
    // One step ahead is in the window: accepted, and the drift becomes +1.
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, s + 1))).reason).toBe('ok');
    expect(t.drift).toBe(1);
    clock.advance(30);
    s++;
    // Now +2 is inside the window around (server step + drift): accepted, drift +2.
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, s + 2))).reason).toBe('ok');
    expect(t.drift).toBe(2);
    clock.advance(30);
    s++;
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, s + 2))).reason).toBe('ok');
    // The window is centred on the drift: the server's own step is now too far behind.
    clock.advance(60);
    s += 2;
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, s - 1))).reason).toBe('wrong_code');
  });

  it('starts from the PSKC TimeDrift', async () => {
    const t = token({ serial: 'T', secret: RFC_SEED_SHA1, timeDrift: -3 });
    const { verifier } = setup([t]);
    const s = step30(T0);
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, s))).reason).toBe('wrong_code');
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, s - 3))).reason).toBe('ok');
  });

  it('handles 60-second tokens and 8 digits with SHA-256', async () => {
    const t = token({ serial: 'T60', secret: RFC_SEED_SHA256, algorithm: 'sha256', digits: 8, period: 60 });
    const { verifier } = setup([t]);
    const s = Math.floor(T0 / 60_000);
    expect((await verifier.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA256, 'sha256', s, 8))).reason).toBe('ok');
    expect(t.lastStep).toBe(s);
    // The 30-second code of the same moment is a different value.
    expect((await verifier.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA256, 'sha256', step30(T0) + 2, 8))).reason).toBe('wrong_code');
  });

  it('accepts a Microsoft-style 10-byte seed', async () => {
    const t = token({ serial: 'MS', secret: Buffer.from('0123456789') });
    const { verifier } = setup([t]);
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, step30(T0)))).reason).toBe('ok');
  });
});

describe('HOTP', () => {
  const VECTORS = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];

  it('accepts the RFC 4226 sequence, and no code twice', async () => {
    const t = token({ serial: 'H', secret: RFC_SEED_SHA1, type: 'hotp' });
    const { verifier } = setup([t]);
    for (const [i, code] of VECTORS.entries()) {
      expect((await verifier.verify('ivan@contoso.com', code)).reason, `counter ${i}`).toBe('ok');
      expect(t.counter).toBe(BigInt(i + 1));
      expect((await verifier.verify('ivan@contoso.com', code)).reason).toBe('replayed');
      // A success resets the fail counter the replay just raised.
    }
  });

  it('looks ahead 10 values (counter .. counter+9) and moves past the match', async () => {
    const t = token({ serial: 'H', secret: RFC_SEED_SHA1, type: 'hotp' });
    const { verifier } = setup([t]);
    expect((await verifier.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 10, 6))).reason).toBe('wrong_code');
    expect((await verifier.verify('ivan@contoso.com', VECTORS[9]!)).reason).toBe('ok');
    expect(t.counter).toBe(10n);
    // Skipped codes below the counter are used up too (they are replays now).
    expect((await verifier.verify('ivan@contoso.com', VECTORS[4]!)).reason).toBe('replayed');
    expect((await verifier.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 10, 6))).reason).toBe('ok');
  });

  it('reports codes beyond the look-behind as wrong, not replayed', async () => {
    const t = token({ serial: 'H', secret: RFC_SEED_SHA1, type: 'hotp', counter: 25 });
    const { verifier } = setup([t]);
    expect((await verifier.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 15, 6))).reason).toBe('replayed');
    expect((await verifier.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 14, 6))).reason).toBe('wrong_code');
    expect((await verifier.verify('ivan@contoso.com', VECTORS[0]!)).reason).toBe('wrong_code');
  });

  it('never takes the code of the last counter, 2^64 - 1: the counter after it would pass what RFC 4226 and the store hold (a black-box test: accepting it left a store no command could read)', async () => {
    const last = 2n ** 64n - 1n;
    const t = token({ serial: 'H', secret: RFC_SEED_SHA1, type: 'hotp', counter: last - 2n });
    const { verifier } = setup([t]);
    expect((await verifier.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', last - 2n, 6))).reason).toBe('ok');
    expect((await verifier.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', last - 1n, 6))).reason).toBe('ok');
    expect(t.counter).toBe(last);
    expect((await verifier.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', last, 6))).reason).toBe('wrong_code');
    expect(t.counter).toBe(last);
  });

  it('honours configured windows', async () => {
    const t = token({ serial: 'H', secret: RFC_SEED_SHA1, type: 'hotp' });
    const { verifier } = setup([t], { ...DEFAULT_RULES, hotpLookAhead: 3, hotpLookBehind: 0 });
    expect((await verifier.verify('ivan@contoso.com', VECTORS[3]!)).reason).toBe('wrong_code');
    expect((await verifier.verify('ivan@contoso.com', VECTORS[2]!)).reason).toBe('ok');
    expect((await verifier.verify('ivan@contoso.com', VECTORS[2]!)).reason).toBe('wrong_code');
  });
});

describe('users and codes', () => {
  it('matches users case-insensitively and accepts any of their tokens', async () => {
    const totp = token({ serial: 'T', secret: RFC_SEED_SHA1 });
    const hotp = token({ serial: 'H', secret: RFC_SEED_SHA256, type: 'hotp', algorithm: 'sha256', digits: 8 });
    const { verifier } = setup([totp, hotp]);
    expect((await verifier.verify('  IVAN@contoso.COM ', totpAt(totp, step30(T0))))).toMatchObject({ result: 'accept', serial: 'T' });
    expect((await verifier.verify('ivan@CONTOSO.com', hotpCode(RFC_SEED_SHA256, 'sha256', 0, 8)))).toMatchObject({ result: 'accept', serial: 'H' });
  });

  it('tells unknown users and users without tokens apart', async () => {
    const { verifier, sink } = setup([token({ serial: 'T', secret: RFC_SEED_SHA1 })]);
    sink.addUser('zoe@contoso.com', []);
    expect((await verifier.verify('nobody@contoso.com', '123456'))).toMatchObject({ result: 'reject', reason: 'unknown_user' });
    expect((await verifier.verify('ZOE@contoso.com', '123456'))).toMatchObject({ result: 'reject', reason: 'no_token' });
    expect(sink.writes).toEqual([]);
  });

  it('asked to conceal (RADIUS), counts an unknown user and one without a token as failures, and locks them out as it would a known user tried as often (a black-box test: names were listed for free)', async () => {
    const { verifier, sink, clock } = setup([token({ serial: 'T', secret: RFC_SEED_SHA1 })]);
    sink.addUser('zoe@contoso.com', []);
    const vpn = (source: string) => ({ source, authenticated: true });
    /** What a caller sees of each attempt: locked out or not (the reason aside), and whether it counted. */
    const seen = async (user: string, who: { source: string; authenticated: boolean }) => {
      const v = await verifier.verify(user, '000000', who, { conceal: true });
      return `${v.reason === 'locked_out' || v.concealedLock !== undefined ? `locked:${v.lockScope ?? v.concealedLock}` : 'rejected'}${v.failure ? '+counted' : ''}`;
    };
    // One vouched source, 11 tries; then two more sources spreading guesses (the user-wide lock-out).
    const plan = [...Array<string>(11).fill('198.51.100.1'), ...Array<string>(5).fill('198.51.100.2'), ...Array<string>(5).fill('198.51.100.3'), '203.0.113.9'];
    const of = async (user: string) => {
      const out: string[] = [];
      for (const source of plan) out.push(await seen(user, vpn(source)));
      return out;
    };
    const known = await of('ivan@contoso.com');
    expect(known.slice(9, 12)).toEqual(['rejected+counted', 'locked:source', 'rejected+counted']);
    expect(known.at(-1)).toBe('locked:user');
    expect(await of('nobody@contoso.com')).toEqual(known);
    expect(await of('ZOE@contoso.com')).toEqual(known);
    // The reason stays the real one (for the audit log); the lock-out ends as a known user's does.
    expect(await verifier.verify('nobody@contoso.com', '000000', vpn('203.0.113.9'), { conceal: true })).toMatchObject({ reason: 'unknown_user', failure: false, concealedLock: 'user' });
    clock.advance(15 * 60);
    expect(await verifier.verify('nobody@contoso.com', '000000', vpn('203.0.113.9'), { conceal: true })).toMatchObject({ reason: 'unknown_user', failure: true });
    expect(await verifier.verify('ZOE@contoso.com', '000000', vpn('203.0.113.9'), { conceal: true })).toMatchObject({ reason: 'no_token', failure: true });
    // Without it (HTTP), as before: not counted, never locked, nothing written.
    expect(await verifier.verify('nobody@contoso.com', '000000', vpn('198.51.100.1'))).toEqual({ result: 'reject', reason: 'unknown_user', failure: false });
    expect(await verifier.verify('other@contoso.com', '000000', vpn('198.51.100.1'))).toEqual({ result: 'reject', reason: 'unknown_user', failure: false });
  });

  it('rejects wrong-length and non-digit codes as wrong_code, counting them as failures', async () => {
    const t = token({ serial: 'T', secret: RFC_SEED_SHA1 });
    const { verifier, user } = setup([t]);
    const right = totpAt(t, step30(T0));
    for (const bad of [right.slice(0, 5), `${right}0`, 'abcdef', `${right.slice(0, 3)} ${right.slice(3)}`, '１２３４５６']) {
      expect((await verifier.verify('ivan@contoso.com', bad)).reason, bad).toBe('wrong_code');
    }
    expect(user.fails).toBe(5);
    expect((await verifier.verify('ivan@contoso.com', right)).reason).toBe('ok');
    expect(user.fails).toBe(0);
  });
});

describe('tokens that append a Luhn check digit (PSKC CheckDigits)', () => {
  // RFC 4226's HOTP values with the check digit RFC 4226's reference implementation appends (calcChecksum).
  const WITH_CHECK = ['7552243', '2870822', '3591526'];

  it('accept the code followed by its check digit, and nothing else: the code alone and a wrong check digit are wrong codes, counted as failures', async () => {
    const t = token({ serial: 'L', secret: RFC_SEED_SHA1, type: 'hotp', checkDigit: true });
    const { verifier, user } = setup([t]);
    expect(await verifier.verify('ivan@contoso.com', '755224')).toMatchObject({ result: 'reject', reason: 'wrong_code', failure: true });
    for (let d = 0; d < 10; d++) {
      if (d === 3) continue;
      expect(await verifier.verify('ivan@contoso.com', `755224${d}`), `check digit ${d}`).toMatchObject({ result: 'reject', reason: 'wrong_code', failure: true });
    }
    expect(user.fails).toBe(10);
    expect(t.counter).toBe(0n);
    // Locked after 10 failures, as for any wrong code: unlock and go on.
    await verifier.unlock('ivan@contoso.com');
    for (const [i, code] of WITH_CHECK.entries()) {
      expect((await verifier.verify('ivan@contoso.com', code)).reason, code).toBe('ok');
      expect(t.counter).toBe(BigInt(i + 1));
      expect((await verifier.verify('ivan@contoso.com', code)).reason).toBe('replayed');
    }
  });

  it('TOTP: a 6-digit token shows 7 digits, the last its check digit', async () => {
    const t = token({ serial: 'LT', secret: RFC_SEED_SHA1, checkDigit: true });
    const { verifier } = setup([t]);
    const code = totpAt(t, step30(T0));
    const check = luhnCheckDigit(Number(code), 6);
    expect((await verifier.verify('ivan@contoso.com', code)).reason).toBe('wrong_code');
    expect((await verifier.verify('ivan@contoso.com', `${code}${(check + 5) % 10}`)).reason).toBe('wrong_code');
    expect((await verifier.verify('ivan@contoso.com', `${code}${check}`)).reason).toBe('ok');
    expect((await verifier.verify('ivan@contoso.com', `${code}${check}`)).reason).toBe('replayed');
  });
});

describe('lock-out', () => {
  it('locks after 10 consecutive failures, also against the right code, and clears after 15 minutes', async () => {
    const t = token({ serial: 'T', secret: RFC_SEED_SHA1 });
    const { verifier, user, clock } = setup([t]);
    for (let i = 1; i <= 10; i++) {
      // The tenth failure is still answered wrong_code; it sets the lock-out for what follows.
      expect((await verifier.verify('ivan@contoso.com', '000000')).reason, `failure ${i}`).toBe('wrong_code');
    }
    expect(user.fails).toBe(10);
    expect(user.lockedAt).toBe(T0);
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, step30(clock.ms)))).reason).toBe('locked_out');
    clock.advance(14 * 60 + 59);
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, step30(clock.ms)))).reason).toBe('locked_out');
    // Attempts while locked neither extend the lock-out nor count.
    expect(user.fails).toBe(10);
    clock.advance(1);
    expect((await verifier.verify('ivan@contoso.com', totpAt(t, step30(clock.ms)))).reason).toBe('ok');
    expect(user).toMatchObject({ fails: 0, lockedAt: null });
  });

  it('issue 17 item 8: an exact replay of the accepted code is no failure; an older code is; a success resets the count', async () => {
    const t = token({ serial: 'H', secret: RFC_SEED_SHA1, type: 'hotp' });
    const { verifier, user } = setup([t]);
    expect((await verifier.verify('ivan@contoso.com', '755224')).reason).toBe('ok');
    expect((await verifier.verify('ivan@contoso.com', '287082')).reason).toBe('ok');
    // Ten parallel replays of the code just accepted (a client retrying): rejected, none counted.
    const replays = await Promise.all(Array.from({ length: 10 }, () => verifier.verify('ivan@contoso.com', '287082')));
    expect(replays.map((r) => [r.reason, r.failure])).toEqual(Array.from({ length: 10 }, () => ['replayed', false]));
    expect(user.fails).toBe(0);
    // The code before it is a replay too, but not of the last accept: counted.
    for (let i = 0; i < 9; i++) expect(await verifier.verify('ivan@contoso.com', '755224')).toMatchObject({ reason: 'replayed', failure: true });
    expect(user.fails).toBe(9);
    expect(user.lockedAt).toBeNull();
    expect((await verifier.verify('ivan@contoso.com', '359152')).reason).toBe('ok');
    expect(user.fails).toBe(0);
  });

  it('with lockoutMinutes 0 stays locked until unlock()', async () => {
    const t = token({ serial: 'H', secret: RFC_SEED_SHA1, type: 'hotp' });
    const { verifier, clock, user } = setup([t], { ...DEFAULT_RULES, maxFails: 3, lockoutMinutes: 0 });
    for (let i = 0; i < 3; i++) (await verifier.verify('ivan@contoso.com', '000000'));
    clock.advance(7 * 24 * 3600);
    expect((await verifier.verify('ivan@contoso.com', '755224')).reason).toBe('locked_out');
    expect(t.counter).toBe(0n); // a locked-out attempt does not use the code up
    const unlocked = (await verifier.unlock('IVAN@contoso.com'));
    expect(unlocked?.wasLocked).toBe(true);
    expect(user).toMatchObject({ fails: 0, lockedAt: null });
    expect((await verifier.verify('ivan@contoso.com', '755224')).reason).toBe('ok');
    expect((await verifier.unlock('nobody@contoso.com'))).toBeUndefined();
  });

  /** Ivan with one HOTP token, and unlock requests kept in memory: when each was made, by user; what was applied, in order. */
  function withUnlockRequests(maxFails: number, now: () => number = () => T0) {
    const sink = new MemorySink();
    const user = sink.addUser('ivan@contoso.com', [token({ serial: 'H', secret: RFC_SEED_SHA1, type: 'hotp' })]);
    const requests = new Map<string, number>();
    const applied: [string, boolean][] = [];
    const box = {
      take: (u: ShimUser) => {
        const at = requests.get(u.key);
        requests.delete(u.key);
        return at;
      },
      applied: (u: ShimUser, wasLocked: boolean) => void applied.push([u.key, wasLocked]),
    };
    return { sink, user, requests, applied, verifier: new Verifier(sink, sink, { ...DEFAULT_RULES, maxFails }, now, box) };
  }

  it('honours an out-of-band unlock request at the next attempt', async () => {
    const { requests, applied, verifier } = withUnlockRequests(2);
    (await verifier.verify('ivan@contoso.com', '000000'));
    (await verifier.verify('ivan@contoso.com', '000000'));
    expect((await verifier.verify('ivan@contoso.com', '755224')).reason).toBe('locked_out');
    requests.set('ivan@contoso.com', T0);
    expect((await verifier.verify('ivan@contoso.com', '755224')).reason).toBe('ok');
    expect(applied).toEqual([['ivan@contoso.com', true]]);
  });

  it('an unlock request taken holds through a retried state write (it is consumed when found), and is audited once, when its change is made', async () => {
    const { sink, requests, applied, verifier } = withUnlockRequests(2);
    await verifier.verify('ivan@contoso.com', '000000');
    await verifier.verify('ivan@contoso.com', '000000');
    requests.set('ivan@contoso.com', T0);
    // Another node changed the user's state in between: the first write of this verification loses the race.
    const write = sink.updateUser.bind(sink);
    let lose = true;
    sink.updateUser = (...args: Parameters<typeof write>) => {
      if (lose) {
        lose = false;
        expect(applied).toEqual([]);
        return Promise.resolve(false);
      }
      return write(...args);
    };
    expect((await verifier.verify('ivan@contoso.com', '755224')).reason).toBe('ok');
    expect(applied).toEqual([['ivan@contoso.com', true]]);
  });

  it('a request taken before a lock-out that other attempts cause meanwhile does not release it (a review: it held through the retries whatever the state)', async () => {
    let now = T0;
    const { sink, requests, applied, verifier } = withUnlockRequests(2, () => now);
    await verifier.verify('ivan@contoso.com', '000000');
    requests.set('ivan@contoso.com', T0);
    now = T0 + 1000;
    // This attempt takes the request (one failure to clear); its write loses to another node's, which locks the user out.
    const write = sink.updateUser.bind(sink);
    let lose = true;
    sink.updateUser = async (user, seen, next) => {
      if (lose) {
        lose = false;
        await write(user, seen, { fails: 2, lockedAt: now, sources: {} });
        return false;
      }
      return write(user, seen, next);
    };
    expect((await verifier.verify('ivan@contoso.com', '755224')).reason).toBe('locked_out');
    expect(applied).toEqual([]);
  });

  it("a request made before a source's lock-out began, found after it, does not release it (a review: only the user's lock-out time was compared)", async () => {
    let now = T0 + 1000;
    const { requests, applied, verifier } = withUnlockRequests(3, () => now);
    const vpn = { source: '198.51.100.7', authenticated: true };
    for (let i = 0; i < 3; i++) await verifier.verify('ivan@contoso.com', '000000', vpn);
    requests.set('ivan@contoso.com', T0);
    now += 10;
    expect((await verifier.verify('ivan@contoso.com', '755224', vpn)).reason).toBe('locked_out');
    expect(applied).toEqual([]);
  });

  it('a request for a user with failures but no lock-out resets them, audited as such', async () => {
    const { user, requests, applied, verifier } = withUnlockRequests(3);
    await verifier.verify('ivan@contoso.com', '000000');
    await verifier.verify('ivan@contoso.com', '000000');
    requests.set('ivan@contoso.com', T0);
    expect((await verifier.verify('ivan@contoso.com', '000000')).reason).toBe('wrong_code');
    // Cleared first, then this failure counted: one, not three (a lock-out).
    expect(user.fails).toBe(1);
    expect(applied).toEqual([['ivan@contoso.com', false]]);
  });
});

describe('rules', () => {
  it('validates bounds', async () => {
    expect(validateRules(DEFAULT_RULES)).toEqual([]);
    expect(validateRules({ ...DEFAULT_RULES, totpWindow: 11, maxFails: 0 })).toHaveLength(2);
  });
});

function structuredCloneToken(t: ShimToken): ShimToken {
  return { ...t };
}
