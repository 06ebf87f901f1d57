import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fatalProblems } from '../../../src/plan/build-plan.js';
import { readExport } from '../../../src/source/export-bundle.js';
import { ProblemList } from '../../../src/model/problem.js';
import { readSeedFiles } from '../../../src/source/seeds/read-seed-files.js';
import { buildValidationReport } from '../../../src/source/validation-report.js';
import { renderValidationText } from '../../../src/cli/validate-command.js';
import { codes, policyKeyPackage, pskcContainer, read, tempDir } from './seed-test-helpers.js';

// --pskc-expired take: a key past its ExpiryDate (a vendor's warranty date, often) is read on
// purpose, said per key; nothing else of the Policy changes, and a device's key valid now still wins.

const SEED_A = Buffer.from('12345678901234567890').toString('base64');
const SEED_B = Buffer.from('abcdefghijklmnopqrst').toString('base64');
const SEED_C = Buffer.from('ABCDEFGHIJKLMNOPQRST').toString('base64');
const SEED_D = Buffer.from('09876543210987654321').toString('base64');

const keyPackage = (serial: string, id: string, policy: string, seed = SEED_A) => policyKeyPackage(serial, id, policy, seed, 'Feitian');
const container = pskcContainer;

const NOW = new Date('2024-06-15T12:00:00Z');
const expiry = (date: string) => `<Policy><ExpiryDate>${date}T00:00:00Z</ExpiryDate></Policy>`;
const TAKE = { now: NOW, pskcExpired: 'take' } as const;

/** RFC 6030 Figure 10: serial 9999999 holds a key for March 2006 (written first) and one for April 2006. */
function figure10(): string {
  const policy = (from: string, to: string) => `<Policy><StartDate>${from}T00:00:00Z</StartDate><ExpiryDate>${to}T00:00:00Z</ExpiryDate></Policy>`;
  return container(
    keyPackage('654321', '1', policy('2006-05-01', '2006-05-31')),
    keyPackage('123456', '2', policy('2006-05-01', '2006-05-31'), SEED_B),
    keyPackage('9999999', '3', policy('2006-03-01', '2006-03-31'), SEED_C),
    keyPackage('9999999', '4', policy('2006-04-01', '2006-04-30'), SEED_D),
  );
}

describe('--pskc-expired: PSKC keys past their ExpiryDate', () => {
  const tmp = tempDir();

  it('leave (the default): the key is left out as RFC 6030 asks, and the warning names the option that takes it', async () => {
    const file = tmp.file('leave.pskc', container(keyPackage('F-1', 'k1', expiry('2019-03-01'))));
    for (const opts of [{ now: NOW }, { now: NOW, pskcExpired: 'leave' as const }]) {
      const { seeds, problems } = await read(file, opts);
      expect(seeds).toEqual([]);
      expect(problems).toEqual([expect.objectContaining({ code: 'pskc-policy', serial: 'F-1', message: expect.stringMatching(/left out: the key expired on 2019-03-01T00:00:00Z \(its ExpiryDate\); --pskc-expired take reads it/) })]);
    }
  });

  it('take: the key is read, with one warning naming file, line, element, serial, Key Id and the date', async () => {
    const file = tmp.file('take.pskc', container(keyPackage('F-1', 'k1', expiry('2019-03-01')), keyPackage('F-2', 'k2', expiry('2030-01-01'), SEED_B)));
    const { seeds, problems, text } = await read(file, TAKE);
    // Keys read past their ExpiryDate come after the others (a serial's key valid now is kept first).
    expect(seeds.map((s) => [s.serial, s.expiredOn])).toEqual([
      ['F-2', undefined],
      ['F-1', '2019-03-01T00:00:00Z'],
    ]);
    expect(problems).toEqual([
      {
        severity: 'warning',
        code: 'pskc-policy',
        file,
        line: 5,
        path: 'KeyPackage[1]/Key/Policy/ExpiryDate',
        field: 'ExpiryDate',
        message: 'token F-1 (Key Id "k1") expired on 2019-03-01T00:00:00Z (its ExpiryDate) and is read anyway (--pskc-expired take)',
      },
    ]);
    expect(text).not.toContain(SEED_A);
  });

  it("take: the drafts' ExpiryDate on the Key itself counts the same", async () => {
    const { seeds, problems } = await read(tmp.file('draft.pskc', container(keyPackage('D-1', 'k', '<ExpiryDate>2010-01-01T00:00:00Z</ExpiryDate>'))), TAKE);
    expect(seeds.map((s) => s.expiredOn)).toEqual(['2010-01-01T00:00:00Z']);
    expect(problems).toMatchObject([{ code: 'pskc-policy', path: 'KeyPackage[1]/Key/ExpiryDate', field: 'ExpiryDate' }]);
  });

  it.each([
    ['a StartDate still to come', '<Policy><StartDate>2030-01-01T00:00:00Z</StartDate></Policy>', 'StartDate', /valid only from 2030-01-01/],
    ['an expired key whose KeyUsage is not OTP', '<Policy><ExpiryDate>2019-01-01T00:00:00Z</ExpiryDate><KeyUsage>CR</KeyUsage></Policy>', 'KeyUsage', /does not include OTP/],
    ['an expired key with NumberOfTransactions 0', '<Policy><ExpiryDate>2019-01-01T00:00:00Z</ExpiryDate><NumberOfTransactions>0</NumberOfTransactions></Policy>', 'NumberOfTransactions', /may not be used at all/],
    ['an expired key with a PIN prepended', '<Policy><ExpiryDate>2019-01-01T00:00:00Z</ExpiryDate><PINPolicy PINUsageMode="Prepend"/></Policy>', 'PINUsageMode', /PIN before the code/],
    ['an ExpiryDate that is not a date', '<Policy><ExpiryDate>long ago</ExpiryDate></Policy>', 'ExpiryDate', /not a date and time/],
  ])('take: %s is still left out, beside a key that is only expired, which is read', async (_case, policy, field, reason) => {
    const { seeds, problems } = await read(tmp.file('still.pskc', container(keyPackage('S-1', 'k', policy), keyPackage('S-2', 'k2', expiry('2019-01-01'), SEED_B))), TAKE);
    expect(seeds.map((s) => s.serial)).toEqual(['S-2']);
    expect(problems).toEqual([
      expect.objectContaining({ code: 'pskc-policy', field, serial: 'S-1', message: expect.stringMatching(reason) }),
      expect.objectContaining({ code: 'pskc-policy', field: 'ExpiryDate', message: expect.stringMatching(/^token S-2 .* is read anyway/) }),
    ]);
  });

  it('take: an expired key with NumberOfTransactions above 0 is read with both warnings', async () => {
    const { seeds, problems } = await read(tmp.file('count.pskc', container(keyPackage('N-1', 'k', '<Policy><ExpiryDate>2019-01-01T00:00:00Z</ExpiryDate><NumberOfTransactions>9</NumberOfTransactions></Policy>'))), TAKE);
    expect(seeds.map((s) => s.serial)).toEqual(['N-1']);
    expect(problems.map((p) => p.field)).toEqual(['NumberOfTransactions', 'ExpiryDate']);
  });

  it('take, Figure 10 in April 2006: the device keeps its April key; its expired March key is still left out, saying why, and no seed-duplicate', async () => {
    const { seeds, problems } = await read(tmp.file('figure10-april.pskc', figure10()), { now: new Date('2006-04-15T00:00:00Z'), pskcExpired: 'take' });
    expect(seeds.map((s) => [s.serial, s.keyId, s.expiredOn])).toEqual([['9999999', '4', undefined]]);
    expect(codes(problems)).not.toContain('error:seed-duplicate');
    // The first at its ExpiryDate's line (11), the second at its KeyPackage's (9), where the duplicate check finds the key.
    const march = problems.filter((p) => p.message.startsWith('token 9999999 (Key Id "3")'));
    expect(march.map((p) => p.line)).toEqual([11, 9]);
    expect(march.map((p) => p.message)).toEqual([
      'token 9999999 (Key Id "3") expired on 2006-03-31T00:00:00Z (its ExpiryDate) and is read anyway (--pskc-expired take)',
      expect.stringMatching(/^token 9999999 \(Key Id "3"\) expired on 2006-03-31T00:00:00Z \(its ExpiryDate\) and is left out although --pskc-expired take: .*figure10-april\.pskc line 12 gives the token a key valid now \(Key Id "4"\), which is read$/),
    ]);
    expect(march.every((p) => p.severity === 'warning' && p.code === 'pskc-policy')).toBe(true);
  });

  it('take, Figure 10 today (every key expired): each serial is read once; the device takes the key that expired last, not a seed-duplicate', async () => {
    const { seeds, problems } = await read(tmp.file('figure10-now.pskc', figure10()), TAKE);
    expect(seeds.map((s) => [s.serial, s.keyId]).sort()).toEqual([
      ['123456', '2'],
      ['654321', '1'],
      ['9999999', '4'],
    ]);
    expect(problems.every((p) => p.severity === 'warning' && p.code === 'pskc-policy')).toBe(true);
    expect(problems.at(-1)!.message).toMatch(/^token 9999999 \(Key Id "3"\) expired on 2006-03-31T00:00:00Z .* left out although --pskc-expired take: .* line 12 gives the token a key that expired later, on 2006-04-30T00:00:00Z \(Key Id "4"\)/);
  });

  it('take: two keys of one device expired on the same day are still the several-keys error (nothing tells which)', async () => {
    const file = tmp.file('tie.pskc', container(keyPackage('T-1', 'a', expiry('2019-03-01')), keyPackage('T-1', 'b', expiry('2019-03-01'), SEED_B)));
    const { problems } = await read(file, TAKE);
    const dup = problems.filter((p) => p.code === 'seed-duplicate');
    expect(dup).toEqual([expect.objectContaining({ severity: 'error', message: expect.stringMatching(/one device with several keys .* both expired on 2019-03-01T00:00:00Z and read under --pskc-expired take/) })]);
  });

  it('take, across files: a key valid now in another file wins, whichever file comes first; two files with expired keys for one serial are still the different-seed error', async () => {
    const current = tmp.file('current.pskc', container(keyPackage('X-1', 'new', expiry('2030-01-01'))));
    const old = tmp.file('old.pskc', container(keyPackage('X-1', 'old', expiry('2019-03-01'), SEED_B)));
    for (const files of [[current, old], [old, current]]) {
      const list = new ProblemList();
      const seeds = await readSeedFiles(files, TAKE, list);
      expect(seeds.map((s) => [s.source, s.keyId])).toEqual([[current, 'new']]);
      expect(fatalProblems(list.items)).toEqual([]);
      expect(list.items.at(-1)!.message).toMatch(/^token X-1 \(Key Id "old"\) expired on 2019-03-01T00:00:00Z .* left out although --pskc-expired take: .*current\.pskc line 3 gives the token a key valid now/);
    }
    const older = tmp.file('older.pskc', container(keyPackage('X-1', 'older', expiry('2018-03-01'), SEED_C)));
    const list = new ProblemList();
    await readSeedFiles([older, old], TAKE, list);
    expect(codes(list.items)).toContain('error:seed-duplicate');
  });

  it('validate: the user gets the expired key with take (seed-missing without); the JSON shows the date per token, the text a count', async () => {
    const source = join(tmp.file('placeholder', ''), '..', 'export');
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'users.csv'), 'username,oath_token_serial\nalice@contoso.com,F-1\nbob@contoso.com,F-2\n');
    const tokens = tmp.file('export-tokens.pskc', container(keyPackage('F-1', 'k1', expiry('2019-03-01')), keyPackage('F-2', 'k2', '', SEED_B)));
    const left = await readExport({ source, tokens: [tokens], seeds: { now: NOW } });
    expect(left.problems.items.filter((p) => p.code === 'seed-missing').map((p) => p.message)).toEqual([expect.stringMatching(/token serial F-1 .* --pskc-expired take reads it/)]);
    const taken = await readExport({ source, tokens: [tokens], seeds: TAKE });
    expect(taken.problems.errors).toEqual([]);
    const report = buildValidationReport(taken);
    expect(report.tokens.map((t) => [t.serial, t.user, t.expired_on])).toEqual([
      ['F-2', 'bob@contoso.com', null],
      ['F-1', 'alice@contoso.com', '2019-03-01T00:00:00Z'],
    ]);
    expect(report.warnings).toEqual([expect.objectContaining({ code: 'pskc-policy', line: 5, path: 'KeyPackage[1]/Key/Policy/ExpiryDate', message: expect.stringContaining('token F-1 (Key Id "k1") expired on 2019-03-01T00:00:00Z') })]);
    expect(renderValidationText(report, false)).toContain('\n                 1 read past their PSKC ExpiryDate (--pskc-expired take; a warning each)\n');
    expect(renderValidationText(buildValidationReport(left), false)).not.toContain('ExpiryDate (--pskc-expired take; a warning each)');
  });
});
