import { describe, expect, it } from 'vitest';
import type { MfaUser, MobileDevice } from '../../src/model/export-data.js';
import { ProblemList } from '../../src/model/problem.js';
import { crossCheck, TokenJoin } from '../../src/source/export-checks.js';
import { makeSeed } from '../helpers/make-seed.js';

const user = (username: string, line: number, serial?: string): MfaUser => ({ username, line, enabled: true, ...(serial ? { oathTokenSerial: serial } : {}) });
const device = (username: string, line: number): MobileDevice => ({ username, line, deviceName: `d${line}` });

function check(users: MfaUser[], seeds = [makeSeed({ serial: '1' })], devices: MobileDevice[] = []) {
  const problems = new ProblemList();
  const tokens = crossCheck({ users, devices, seeds, usersFile: 'users.csv', devicesFile: 'devices.csv', seedFilesGiven: true }, problems);
  return { tokens, problems: problems.items };
}

describe('crossCheck', () => {
  it('joins a user to the seed of their token serial', () => {
    const { tokens, problems } = check([user('a@b.com', 2, '1')]);
    expect(problems).toEqual([]);
    expect(tokens).toEqual([expect.objectContaining({ user: 'a@b.com', via: 'users.csv' })]);
  });

  it('matches serials ignoring case and surrounding space', () => {
    const { tokens } = check([user('a@b.com', 2, ' ab12 ')], [makeSeed({ serial: 'AB12' })]);
    expect(tokens[0]?.user).toBe('a@b.com');
  });

  it('reports seed-missing on the user row', () => {
    const { problems } = check([user('a@b.com', 7, '999')]);
    expect(problems).toContainEqual(expect.objectContaining({ severity: 'error', code: 'seed-missing', file: 'users.csv', line: 7, field: 'oath_token_serial' }));
  });

  it("a disabled user's missing seed is a warning, not an error that stops the plan: nothing is migrated for them (a black-box test)", () => {
    const { problems } = check([{ ...user('a@b.com', 7, '999'), enabled: false }], []);
    expect(problems.map((p) => [p.severity, p.code, p.message])).toEqual([
      ['warning', 'seed-missing', 'a@b.com: token serial 999 is in none of the seed files given (the user is disabled in MFA Server: nothing is migrated for them; the seed is needed if they are enabled again)'],
    ]);
  });

  it('a serial no seed has but an unassigned seed matches except for separators or leading zeros (an Excel re-save, a label copied by hand) is named in the seed-missing error, never joined', () => {
    const seeds = [makeSeed({ serial: '0508327', source: 'tokens/yubico.csv', line: 4 }), makeSeed({ serial: '2600215704919', source: 'tokens/feitian.pskc', line: 9 }), makeSeed({ serial: 'T-1', line: 3 })];
    const { tokens, problems } = check([user('a@b.com', 2, '508327'), user('c@b.com', 3, '2600-2157-04919'), user('d@b.com', 4, 'T1'), user('e@b.com', 5, '999')], seeds);
    expect(tokens.every((t) => t.user === undefined)).toBe(true);
    const missing = problems.filter((p) => p.code === 'seed-missing').map((p) => p.message);
    expect(missing).toEqual([
      'a@b.com: token serial 508327 is in none of the seed files given; tokens/yubico.csv line 4 has token serial 0508327, the same but for separators or leading zeros (which a spreadsheet drops): if that is this token, correct the serial where it is wrong',
      'c@b.com: token serial 2600-2157-04919 is in none of the seed files given; tokens/feitian.pskc line 9 has token serial 2600215704919, the same but for separators or leading zeros (which a spreadsheet drops): if that is this token, correct the serial where it is wrong',
      'd@b.com: token serial T1 is in none of the seed files given; seeds.pskc line 3 has token serial T-1, the same but for separators or leading zeros (which a spreadsheet drops): if that is this token, correct the serial where it is wrong',
      'e@b.com: token serial 999 is in none of the seed files given',
    ]);
  });

  it('a near serial already another user\'s token is not offered', () => {
    const { problems } = check([user('a@b.com', 2, '0508327'), user('b@b.com', 3, '508327')], [makeSeed({ serial: '0508327' })]);
    expect(problems.filter((p) => p.code === 'seed-missing').map((p) => p.message)).toEqual(['b@b.com: token serial 508327 is in none of the seed files given']);
  });

  it('warns seed-unassigned on the seed file line', () => {
    const { tokens, problems } = check([], [makeSeed({ serial: '5', source: 'tokens/x.csv', line: 4 })]);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]?.user).toBeUndefined();
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'seed-unassigned', file: 'tokens/x.csv', line: 4 })]);
  });

  it('assigns a seed to the user its seed file names when users.csv has no serial for it', () => {
    const { tokens, problems } = check([user('Diana@contoso.com', 2)], [makeSeed({ serial: '7', user: 'diana@contoso.com' })]);
    expect(problems).toEqual([]);
    expect(tokens[0]).toMatchObject({ user: 'Diana@contoso.com', via: 'seed-file' });
  });

  it('lets users.csv win over the seed file user, with a warning', () => {
    const { tokens, problems } = check([user('a@b.com', 2, '7'), user('c@b.com', 3)], [makeSeed({ serial: '7', user: 'c@b.com' })]);
    expect(tokens[0]?.user).toBe('a@b.com');
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'token-user-mismatch' })]);
  });

  it('refuses one token for two users', () => {
    const { problems } = check([user('a@b.com', 2, '1'), user('c@b.com', 3, '1')]);
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'token-shared', line: 3 })]);
  });

  it.each([
    [{ type: 'hotp' as const, period: null, counter: 0n }, /HOTP/],
    [{ digits: 8 }, /8 digits/],
    [{ period: 45 }, /45 s period/],
    [{ algorithm: 'sha512' as const }, /SHA512/],
    // One problem code for every token Entra cannot take, a HOTP one with a check digit included (docs/export-format.md); entraTokenFit's hotp-unsupported only picks plan's rule.
    [{ type: 'hotp' as const, period: null, counter: 0n, checkDigit: true as const }, /^token 1: HOTP \(counter-based\) tokens are not supported by Entra; this one also adds a Luhn check digit/],
  ])('warns token-unsupported for %o', (over, reason) => {
    const { problems } = check([user('a@b.com', 2, '1')], [makeSeed({ serial: '1', ...over })]);
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'token-unsupported', message: expect.stringMatching(reason) })]);
  });

  it.each([
    [{}, 'TOTP SHA-1 30 s'],
    [{ algorithm: 'sha256' as const, period: 60 }, 'TOTP SHA-256 60 s'],
  ])('accepts %j (%s) silently', (over, _label) => {
    expect(check([user('a@b.com', 2, '1')], [makeSeed({ serial: '1', ...over })]).problems).toEqual([]);
  });

  it('warns device-limit when devices plus tokens exceed five', () => {
    const devices = [2, 3, 4, 5, 6].map((l) => device('a@b.com', l));
    expect(check([user('a@b.com', 2)], [], devices).problems).toEqual([]);
    expect(check([user('a@b.com', 2, '1')], [makeSeed({ serial: '1' })], devices).problems).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'device-limit', file: 'devices.csv', line: 2 }),
    ]);
  });

  it('says what falls short over the limit: no app registration migrates, so the tokens migrate and fewer apps can be registered again (an auditor read "1 will not migrate" for six apps and no token)', () => {
    const six = [2, 3, 4, 5, 6, 7].map((l) => device('a@b.com', l));
    const [apps] = check([user('a@b.com', 2)], [], six).problems;
    expect(apps?.message).toBe('a@b.com has 6 mobile app device(s) and 0 OATH token(s); Entra allows 5 in all: the user can register Authenticator again on 5 of the 6 mobile app devices at most (mobile app registrations do not migrate)');
    const fiveOfThem = ['1', '2', '3', '4', '5'].map((serial) => makeSeed({ serial, user: 'a@b.com' }));
    const [full] = check([user('a@b.com', 2)], fiveOfThem, [device('a@b.com', 2)]).problems;
    expect(full?.message).toBe('a@b.com has 1 mobile app device(s) and 5 OATH token(s); Entra allows 5 in all: the 5 tokens take every place, and Authenticator cannot be registered again on any of the 1 mobile app devices beside them (mobile app registrations do not migrate)');
    const serials = ['1', '2', '3', '4', '5', '6'];
    const [tokens] = check([user('a@b.com', 2)], serials.map((serial) => makeSeed({ serial, user: 'a@b.com' })), [device('a@b.com', 2)]).problems;
    expect(tokens?.message).toMatch(/has 1 mobile app device\(s\) and 6 OATH token\(s\); Entra allows 5 in all: at most 5 of the tokens migrate \(the plan names the rest\), and Authenticator cannot be registered again/);
  });

  it('warns about a device whose user is not in the export', () => {
    expect(check([], [], [device('ghost@b.com', 9)]).problems).toEqual([expect.objectContaining({ code: 'device-unknown-user', line: 9 })]);
  });
});

describe('TokenJoin: crossCheck in steps, as seeds arrive', () => {
  it('gives the tokens and problems (in order) of one pass however the seeds are split', () => {
    let seed = 21;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    for (let trial = 0; trial < 200; trial++) {
      const serials = Array.from({ length: 12 }, (_, i) => `S${i}`);
      const names = Array.from({ length: 10 }, (_, i) => `u${i}@x.com`);
      // Users sharing serials, missing seeds, seeds naming users (known or not), unsupported tokens,
      // several seeds on one line, devices over the limit.
      const users = names.map((n, i) => user(rnd() < 0.2 ? n.toUpperCase() : n, i + 2, rnd() < 0.8 ? ` ${pick(serials)}`.toLowerCase() : undefined));
      const seeds = serials
        .filter(() => rnd() < 0.75)
        .map((serial) =>
          makeSeed({
            serial,
            line: 1 + Math.floor(rnd() * 4),
            ...(rnd() < 0.3 ? { user: rnd() < 0.7 ? pick(names) : 'nobody@x.com' } : {}),
            ...(rnd() < 0.2 ? { type: 'hotp' as const, period: null, counter: 0n } : {}),
            ...(rnd() < 0.2 ? { digits: 8 } : {}),
          }),
        );
      const devices = Array.from({ length: Math.floor(rnd() * 12) }, (_, i) => device(pick(names), i + 2));
      const input = { users, devices, seeds, usersFile: 'users.csv', devicesFile: 'devices.csv', seedFilesGiven: true };
      const once = new ProblemList();
      const expected = crossCheck(input, once);

      const cuts = [Math.floor(rnd() * (seeds.length + 1)), Math.floor(rnd() * (seeds.length + 1))].sort((a, b) => a - b);
      const join = new TokenJoin(input);
      const index = new Map<string, number>();
      for (const cut of cuts) {
        const arrived = seeds.slice(0, cut);
        arrived.forEach((s, i) => index.set(s.serial.toLowerCase(), i));
        join.advance(arrived, new Map(index));
      }
      const stepped = new ProblemList();
      const tokens = join.finish(seeds, new Map(seeds.map((s, i) => [s.serial.toLowerCase(), i])), devices, stepped);
      expect(tokens, `trial ${trial} cut at ${cuts}`).toEqual(expected);
      expect(stepped.items, `trial ${trial} cut at ${cuts}`).toEqual(once.items);
    }
  });
});
