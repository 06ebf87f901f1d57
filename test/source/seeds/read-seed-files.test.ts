import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { contosoSecret, renderSeedFixtures } from '../../../fixtures/make-contoso-seeds.js';
import { ProblemList } from '../../../src/model/problem.js';
import { secretFingerprint } from '../../../src/model/secret.js';
import { loadPskcKeyFile, loadPskcPasswordFile, readSeedFiles } from '../../../src/source/seeds/read-seed-files.js';
import { codes, contosoToken, FIXTURES, read, secretForms, seedsFixture, tempDir } from './seed-test-helpers.js';

const CONTOSO_FILES = ['seeds.pskc', 'seeds-psk.pskc', 'seeds-password.pskc', 'entra-upload.csv', 'generic-seeds.csv'].map(contosoToken);

async function readContoso() {
  const problems = new ProblemList();
  const opts = { pskcKey: loadPskcKeyFile(contosoToken('psk.hex')), pskcPassword: loadPskcPasswordFile(contosoToken('pskc-password.txt')) };
  const seeds = await readSeedFiles(CONTOSO_FILES, opts, problems);
  return { seeds, problems };
}

describe('readSeedFiles on the Contoso seed files', () => {
  it('reads every token described in CASES.md with its parameters', async () => {
    const { seeds, problems } = await readContoso();
    const got = Object.fromEntries(seeds.map((s) => [s.serial, [s.type, s.algorithm, s.digits, s.period ?? Number(s.counter), s.secret.length, s.user ?? null]]));
    expect(got).toEqual({
      '20010001': ['totp', 'sha1', 6, 30, 20, null],
      '20010002': ['totp', 'sha256', 6, 60, 32, 'heidi@contoso.com'],
      '20010003': ['hotp', 'sha1', 6, 42, 20, 'ivan@contoso.com'],
      '20010004': ['totp', 'sha1', 8, 30, 20, 'judy@contoso.com'],
      '20010005': ['totp', 'sha512', 6, 30, 64, null],
      '20010006': ['totp', 'sha1', 6, 30, 10, null],
      '20010007': ['totp', 'sha1', 6, 60, 20, 'diana@contoso.com'],
      '20010008': ['totp', 'sha256', 6, 30, 32, null],
      '20010009': ['totp', 'sha1', 6, 30, 20, 'fatima@contoso.com'],
      '20010010': ['totp', 'sha1', 6, 30, 20, 'george@contoso.com'],
      '20010011': ['totp', 'sha1', 6, 30, 20, 'hana@contoso.com'],
      '20010012': ['totp', 'sha1', 6, 30, 20, 'julia@contoso.com'],
      '20010014': ['totp', 'sha1', 6, 30, 20, 'priya@contoso.com'],
      '20019998': ['totp', 'sha1', 6, 30, 20, null],
      '20019999': ['totp', 'sha1', 6, 30, 20, null],
    });
    // Only chen's 10-byte seed is remarked on.
    expect(problems.items).toMatchObject([{ severity: 'warning', code: 'secret-short', file: contosoToken('generic-seeds.csv'), line: 3 }]);
  });

  it('secrets follow the documented derivation, and fingerprints match them', async () => {
    const { seeds } = await readContoso();
    for (const seed of seeds) {
      const length = seed.secret.length;
      const expected = length === 64 ? contosoSecret(seed.serial, 64, 'sha512') : contosoSecret(seed.serial, length);
      expect(seed.secret.reveal().equals(expected), seed.serial).toBe(true);
      expect(seed.fingerprint).toBe(secretFingerprint(expected));
      expect(seed.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('no secret is visible in JSON.stringify or util.inspect of the seeds', async () => {
    const { seeds } = await readContoso();
    // Counters are bigints, which JSON.stringify leaves to a replacer.
    const json = JSON.stringify(seeds, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const shown = inspect(seeds, { depth: 10 });
    for (const seed of seeds) {
      for (const form of secretForms(seed.secret.reveal())) {
        expect(json).not.toContain(form);
        expect(shown).not.toContain(form);
      }
    }
    expect(json).toContain('[secret redacted]');
  });

  it('the committed fixture files are what fixtures/make-contoso-seeds.ts generates', () => {
    for (const [rel, content] of renderSeedFixtures()) {
      expect(readFileSync(join(FIXTURES, rel), 'utf8'), rel).toBe(content);
    }
  });
});

describe('duplicates across and within files', () => {
  const tmp = tempDir();
  const line = (serial: string, hex: string): string => `${serial},${hex},hex\n`;
  const A = contosoSecret('dup-a', 20).toString('hex');
  const B = contosoSecret('dup-b', 20).toString('hex');

  it('the same serial with the same secret in two files: warning, one seed kept', async () => {
    const f1 = tmp.file('one.csv', `serial,secret,encoding\n${line('D-1', A)}`);
    const f2 = tmp.file('two.csv', `serial,secret,encoding\n${line('d-1', A)}`);
    const problems = new ProblemList();
    const seeds = await readSeedFiles([f1, f2], {}, problems);
    expect(seeds.map((s) => [s.serial, s.source])).toEqual([['D-1', f1]]);
    expect(problems.items).toMatchObject([{ severity: 'warning', code: 'seed-duplicate', file: f2, line: 2 }]);
    expect(problems.items[0]!.message).toContain(`${f1} line 2`);
  });

  it('the same serial with a different secret: error naming both places, without the secrets', async () => {
    const f = tmp.file('conflict.csv', `serial,secret,encoding\n${line('D-2', A)}${line('D-2', B)}`);
    const { seeds, problems, text } = await read(f);
    expect(seeds).toHaveLength(1);
    expect(problems).toMatchObject([{ severity: 'error', code: 'seed-duplicate', line: 3 }]);
    expect(problems[0]!.message).toContain('line 2');
    expect(text).not.toContain(A);
    expect(text).not.toContain(B);
  });

  it('the same PSKC file given twice: every seed is a same-secret duplicate warning', async () => {
    const problems = new ProblemList();
    const seeds = await readSeedFiles([contosoToken('seeds.pskc'), contosoToken('seeds.pskc')], {}, problems);
    expect(seeds).toHaveLength(8);
    expect(codes(problems.items)).toEqual(Array(8).fill('warning:seed-duplicate'));
  });
});

describe('files that are not seed files', () => {
  const tmp = tempDir();

  it.each([
    ['missing', () => join(FIXTURES, 'seeds', 'no-such-file.pskc'), 'file-missing'],
    ['a directory', () => join(FIXTURES, 'seeds'), 'file-unreadable'],
    ['empty', () => tmp.file('empty.csv', ''), 'seed-format-unknown'],
    ['UTF-16', () => tmp.file('utf16.csv', Buffer.from('\ufeffserial,secret\n', 'utf16le')), 'seed-format-unknown'],
    ['UTF-16 without its byte-order mark', () => tmp.file('utf16-nobom.csv', Buffer.from('serial,secret\n1,JBSWY3DPEHPK3PXP\n', 'utf16le')), 'seed-format-unknown'],
    ['binary', () => tmp.file('seeds.gpg', Buffer.from([0x85, 0x01, 0x0c, 0x03, 0x00, 0x00, 0xff])), 'seed-format-unknown'],
    ['text without a seed header', () => tmp.file('notes.txt', 'These are the tokens we bought in 2019.\n'), 'seed-format-unknown'],
  ])('%s -> %s error naming the file', async (_name, make, code) => {
    const path = make();
    const { seeds, problems } = await read(path);
    expect(seeds).toEqual([]);
    expect(problems).toMatchObject([{ severity: 'error', code, file: path }]);
    if (_name.startsWith('UTF-16')) expect(problems[0]!.message).toMatch(/UTF-16 text; save it as UTF-8/);
  });

  it('a PGP-encrypted file in ASCII armour (how Token2 and other vendors send seeds, as .asc) is refused saying so and how to decrypt it, not as an unknown format', async () => {
    const armoured = '-----BEGIN PGP MESSAGE-----\nVersion: GnuPG v1\n\nhQEMA0QjYdGUfr6MAQf/bQ3Nh4B1QR8M8GCtyiY8CJqjD1YHVk0qcwJx\n=Zc9L\n-----END PGP MESSAGE-----\n';
    for (const [name, text, line] of [['seeds.csv.asc', armoured, 1], ['blank-first.asc', `\r\n${armoured}`, 2]] as const) {
      const { seeds, problems } = await read(tmp.file(name, text));
      expect(seeds).toEqual([]);
      expect(problems.map((p) => [p.severity, p.code, p.line ?? null])).toEqual([['error', 'seed-format-unknown', line]]);
      expect(problems[0]!.message).toMatch(/PGP-encrypted.*gpg --decrypt/);
    }
    const signed = await read(tmp.file('signed.asc', '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nserial,secret\n'));
    expect(signed.problems[0]!.message).toMatch(/PGP-signed.*gpg --decrypt/);
  });

  it('the display name is used in problems and as the seed source', async () => {
    const problems = new ProblemList();
    const { readSeedFile } = await import('../../../src/source/seeds/read-seed-files.js');
    const seeds = await readSeedFile(seedsFixture('rfc6030-figure2.pskc'), {}, problems, 'tokens/figure2.pskc');
    expect(seeds[0]!.source).toBe('tokens/figure2.pskc');
    expect(problems.items.every((p) => p.file === 'tokens/figure2.pskc')).toBe(true);
  });
});
