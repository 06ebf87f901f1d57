import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fatalProblems } from '../../../src/plan/build-plan.js';
import { readExport } from '../../../src/source/export-bundle.js';
import { codes, policyKeyPackage, pskcContainer, read, tempDir } from './seed-test-helpers.js';

/** RFC 4226's test seed, and another for a second device. */
const SEED_A = Buffer.from('12345678901234567890').toString('base64');
const SEED_B = Buffer.from('abcdefghijklmnopqrst').toString('base64');

const keyPackage = (serial: string, id: string, policy: string, seed = SEED_A) => policyKeyPackage(serial, id, policy, seed);
const container = pskcContainer;

const NOW = new Date('2024-06-15T12:00:00Z');

describe('PSKC key Policy (RFC 6030 section 5)', () => {
  const tmp = tempDir();

  async function readPolicy(policy: string, now = NOW) {
    return read(tmp.file('policy.pskc', container(keyPackage('P-1', 'key-1', policy))), { now });
  }

  it.each([
    ['an ExpiryDate in the past', '<Policy><StartDate>2006-05-01T00:00:00Z</StartDate><ExpiryDate>2006-05-31T00:00:00Z</ExpiryDate></Policy>', 'Policy/ExpiryDate', 'ExpiryDate', /expired on 2006-05-31T00:00:00Z/],
    ['a StartDate in the future', '<Policy><StartDate>2030-01-01T00:00:00Z</StartDate></Policy>', 'Policy/StartDate', 'StartDate', /valid only from 2030-01-01T00:00:00Z/],
    ['a KeyUsage without OTP', '<Policy><KeyUsage>CR</KeyUsage></Policy>', 'Policy/KeyUsage', 'KeyUsage', /KeyUsage \(CR\) does not include OTP/],
    ['PINUsageMode Prepend', '<Policy><PINPolicy PINUsageMode="Prepend" MinLength="4"/><KeyUsage>OTP</KeyUsage></Policy>', 'Policy/PINPolicy', 'PINUsageMode', /PIN before the code/],
    ['PINUsageMode Append', '<Policy><PINPolicy PINUsageMode="Append"/></Policy>', 'Policy/PINPolicy', 'PINUsageMode', /PIN after the code/],
    ['PINUsageMode Algorithmic', '<Policy><PINPolicy PINUsageMode="Algorithmic"/></Policy>', 'Policy/PINPolicy', 'PINUsageMode', /computation of the code/],
    ['a Policy child from another namespace', '<Policy><KeyUsage>OTP</KeyUsage><FooPolicy xmlns="urn:example">1</FooPolicy></Policy>', 'Policy/FooPolicy', 'FooPolicy', /does not understand/],
    ['an unknown Policy child in PSKC\'s namespace', '<Policy><OnWeekdaysOnly>true</OnWeekdaysOnly></Policy>', 'Policy/OnWeekdaysOnly', 'OnWeekdaysOnly', /does not understand/],
    ['an unknown PINPolicy attribute', '<Policy><PINPolicy PINUsageMode="Local" OnWeekDaysOnly="TRUE"/></Policy>', 'Policy/PINPolicy', 'OnWeekDaysOnly', /does not understand/],
    ['a PINPolicy without PINUsageMode', '<Policy><PINPolicy MinLength="4"/></Policy>', 'Policy/PINPolicy', 'PINUsageMode', /no PINUsageMode/],
    ['an unregistered KeyUsage', '<Policy><KeyUsage>OTP</KeyUsage><KeyUsage>Teleport</KeyUsage></Policy>', 'Policy/KeyUsage', 'KeyUsage', /not one RFC 6030 registers/],
    ['an ExpiryDate that is not a date', '<Policy><ExpiryDate>next year</ExpiryDate></Policy>', 'Policy/ExpiryDate', 'ExpiryDate', /not a date and time/],
    ['NumberOfTransactions 0', '<Policy><NumberOfTransactions>0</NumberOfTransactions></Policy>', 'Policy/NumberOfTransactions', 'NumberOfTransactions', /may not be used at all/],
  ])('%s: the key is left out with a pskc-policy warning naming file, line, element, serial and Key Id', async (_case, policy, path, field, reason) => {
    const { seeds, problems, text } = await readPolicy(policy);
    expect(seeds).toEqual([]);
    expect(problems).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'pskc-policy', line: 5, path: `KeyPackage[1]/Key/${path}`, field, serial: 'P-1', message: expect.stringMatching(/^token P-1 \(Key Id "key-1"\) is left out: /) }),
    ]);
    expect(problems[0]!.message).toMatch(reason);
    expect(text).not.toContain(SEED_A);
  });

  it.each([
    ['a validity period around now', '<Policy><StartDate>2024-01-01T00:00:00Z</StartDate><ExpiryDate>2024-12-31T23:59:59Z</ExpiryDate></Policy>'],
    ['an ExpiryDate equal to now (the dates are inclusive)', '<Policy><ExpiryDate>2024-06-15T12:00:00Z</ExpiryDate></Policy>'],
    ['a date without a zone, read as UTC', '<Policy><StartDate>2024-06-15T12:00:00</StartDate></Policy>'],
    ['KeyUsage OTP among others', '<Policy><KeyUsage>CR</KeyUsage><KeyUsage>OTP</KeyUsage></Policy>'],
    ['PINUsageMode Local (the device checks the PIN)', '<Policy><PINPolicy MinLength="4" MaxLength="4" PINKeyId="pin1" PINEncoding="DECIMAL" PINUsageMode="Local" MaxFailedAttempts="3"/><KeyUsage>OTP</KeyUsage></Policy>'],
    ['an empty Policy', '<Policy/>'],
  ])('%s: the key is read, with no finding', async (_case, policy) => {
    const { seeds, problems } = await readPolicy(policy);
    expect(seeds.map((s) => s.serial)).toEqual(['P-1']);
    expect(problems).toEqual([]);
  });

  it('a NumberOfTransactions above 0 is read, with a warning that nothing counts the uses', async () => {
    const { seeds, problems } = await readPolicy('<Policy><NumberOfTransactions>4321</NumberOfTransactions></Policy>');
    expect(seeds.map((s) => s.serial)).toEqual(['P-1']);
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'pskc-policy', field: 'NumberOfTransactions', message: expect.stringMatching(/4321 time\(s\).*neither Entra nor the shim counts uses/) })]);
  });

  it("the drafts' StartDate / ExpiryDate on the Key itself count too", async () => {
    const xml = container(keyPackage('P-2', 'k', '<ExpiryDate>2010-01-01T00:00:00Z</ExpiryDate>'));
    const { seeds, problems } = await read(tmp.file('draft-dates.pskc', xml), { now: NOW });
    expect(seeds).toEqual([]);
    expect(problems).toMatchObject([{ code: 'pskc-policy', path: 'KeyPackage[1]/Key/ExpiryDate', field: 'ExpiryDate' }]);
  });

  /** RFC 6030 Figure 10 (bulk provisioning): serial 9999999 holds a key for March 2006 and one for April 2006. */
  function figure10(): string {
    const policy = (from: string, to: string) => `<Policy><StartDate>${from}T00:00:00Z</StartDate><ExpiryDate>${to}T00:00:00Z</ExpiryDate></Policy>`;
    return container(
      keyPackage('654321', '1', policy('2006-05-01', '2006-05-31')),
      keyPackage('123456', '2', policy('2006-05-01', '2006-05-31'), SEED_B),
      keyPackage('9999999', '3', policy('2006-03-01', '2006-03-31')),
      keyPackage('9999999', '4', policy('2006-04-01', '2006-04-30')),
    );
  }

  it('Figure 10 in April 2006: the device 9999999 migrates its April key; the others are left out by their dates, no duplicate', async () => {
    const { seeds, problems } = await read(tmp.file('figure10.pskc', figure10()), { now: new Date('2006-04-15T00:00:00Z') });
    expect(seeds.map((s) => s.serial)).toEqual(['9999999']);
    expect(seeds[0]!.line).toBe(12);
    expect(codes(problems)).toEqual(['warning:pskc-policy', 'warning:pskc-policy', 'warning:pskc-policy']);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^token 654321 \(Key Id "1"\) is left out: the key is valid only from 2006-05-01/),
      expect.stringMatching(/^token 123456 \(Key Id "2"\) is left out: the key is valid only from 2006-05-01/),
      expect.stringMatching(/^token 9999999 \(Key Id "3"\) is left out: the key expired on 2006-03-31/),
    ]);
  });

  it('Figure 10 today: every key has expired, so nothing is migrated and each key says why', async () => {
    const { seeds, problems } = await read(tmp.file('figure10-now.pskc', figure10()), { now: NOW });
    expect(seeds).toEqual([]);
    expect(problems.map((p) => [p.code, p.serial, p.field])).toEqual([
      ['pskc-policy', '654321', 'ExpiryDate'],
      ['pskc-policy', '123456', 'ExpiryDate'],
      ['pskc-policy', '9999999', 'ExpiryDate'],
      ['pskc-policy', '9999999', 'ExpiryDate'],
    ]);
  });

  it('validate, plan and shim import see the same thing: the user whose key is left out gets a seed-missing error that says why', async () => {
    const source = join(tmp.file('export-placeholder', ''), '..', 'export');
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'users.csv'), 'username,oath_token_serial\nalice@contoso.com,P-1\nbob@contoso.com,P-3\n');
    const tokens = tmp.file('tokens.pskc', container(keyPackage('P-1', 'key-1', '<Policy><KeyUsage>CR</KeyUsage></Policy>'), keyPackage('P-3', 'key-3', '', SEED_B)));
    const bundle = await readExport({ source, tokens: [tokens], seeds: { now: NOW } });
    expect(bundle.tokens.map((t) => [t.seed.serial, t.user])).toEqual([['P-3', 'bob@contoso.com']]);
    const missing = bundle.problems.items.filter((p) => p.code === 'seed-missing');
    expect(missing).toEqual([expect.objectContaining({ severity: 'error', file: 'users.csv', line: 2, field: 'oath_token_serial' })]);
    expect(missing[0]!.message).toMatch(/token serial P-1 is in .*tokens\.pskc line 5, but its seed was not taken: token P-1 \(Key Id "key-1"\) is left out: its KeyUsage \(CR\) does not include OTP: the key is not for one-time passwords \[pskc-policy\]/);
    expect(bundle.problems.items.filter((p) => p.code === 'pskc-policy')).toHaveLength(1);
    // Not a fault of the file: plan stops on the seed-missing error (as shim import on any error), not on the Policy.
    expect(fatalProblems(bundle.problems.items)).toEqual([]);
  });
});
