import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEST_PSK, TEST_SECRETS } from '../../../fixtures/make-contoso-seeds.js';
import { ProblemList } from '../../../src/model/problem.js';
import { FATAL_PROBLEMS } from '../../../src/plan/build-plan.js';
import { readSeedFiles } from '../../../src/source/seeds/read-seed-files.js';
import { codes, read, secretForms, seedsFixture, tempDir } from './seed-test-helpers.js';

/**
 * Issue 17 item 5: two serials with the same secret. A PSKC ValueMAC covers the value, not the
 * serial, so a CipherValue and ValueMAC copied from one KeyPackage into another pass every other
 * check; the readers' cross-file check (the one every consumer runs) must catch it.
 */
describe('issue 17 item 5: secret-duplicate (different serials, one secret)', () => {
  const tmp = tempDir();

  /** psk-two-keys.pskc with T-1's EncryptedValue and ValueMAC copied into T-2's Secret. */
  function swapped(): string {
    const xml = readFileSync(seedsFixture('psk-two-keys.pskc'), 'utf8');
    const secrets = [...xml.matchAll(/<Secret>[\s\S]*?<\/Secret>/g)].map((m) => m[0]);
    expect(secrets).toHaveLength(2);
    return xml.replace(secrets[1]!, secrets[0]!);
  }

  it('a CipherValue and ValueMAC copied into another KeyPackage: MACs pass, the copy is an error', async () => {
    const { seeds, problems, text } = await read(tmp.file('swapped.pskc', swapped()), { pskcKey: TEST_PSK });
    expect(codes(problems)).toEqual(['error:secret-duplicate']);
    const p = problems[0]!;
    expect(p.message).toMatch(/token T-2 has the same secret as token T-1/);
    expect(p.line).toBeGreaterThan(0);
    // Both stay listed, so the report names both serials; the error stops every consumer.
    expect(seeds.map((s) => s.serial)).toEqual(['T-1', 'T-2']);
    for (const form of secretForms(TEST_SECRETS.a)) expect(text).not.toContain(form);
  });

  it('across files: the same seed under another serial in a CSV', async () => {
    const csv = tmp.file('other.csv', `serial,secret,encoding\nX-9,${TEST_SECRETS.a.toString('hex')},hex\n`);
    const problems = new ProblemList();
    const seeds = await readSeedFiles([seedsFixture('psk-two-keys.pskc'), csv], { pskcKey: TEST_PSK }, problems);
    expect(codes(problems.items)).toEqual(['error:secret-duplicate']);
    expect(problems.items[0]).toMatchObject({ file: csv, line: 2 });
    expect(problems.items[0]!.message).toContain('token T-1');
    expect(seeds.map((s) => s.serial)).toEqual(['T-1', 'T-2', 'X-9']);
  });

  it('the same serial with the same seed (a file given twice) stays a seed-duplicate warning only', async () => {
    const problems = new ProblemList();
    await readSeedFiles([seedsFixture('psk-two-keys.pskc'), seedsFixture('psk-two-keys.pskc')], { pskcKey: TEST_PSK }, problems);
    expect(codes(problems.items)).toEqual(['warning:seed-duplicate', 'warning:seed-duplicate']);
  });

  it('stops plan (fatal), as it does validate', () => {
    expect(FATAL_PROBLEMS.has('secret-duplicate')).toBe(true);
  });
});
