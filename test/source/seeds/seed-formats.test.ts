import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIG_COUNTERS, OTHER_SECRET, RFC4226_SECRET, RFC6238_SHA256_SECRET, VENDOR_KEYS, VENDOR_PASSWORD } from '../../../fixtures/make-vendor-seeds.js';
import type { OathSeed } from '../../../src/model/export-data.js';
import { secretFingerprint } from '../../../src/model/secret.js';
import type { SeedReadOptions } from '../../../src/source/seeds/read-seed-files.js';
import { bySerial, codes, FIXTURES, read, secretForms, tempDir } from './seed-test-helpers.js';
import { expectRfc4226Codes, expectRfc6238Codes, hotpAt, RFC4226_DECIMAL } from './otp-vectors.js';

/**
 * Issue 18: seed files as vendors and OTP servers ship them. Every file here is made from the
 * specifications by fixtures/make-vendor-seeds.ts with the RFCs' own test seeds, so each seed read is
 * checked by its fingerprint and by the codes RFC 4226 Appendix D / RFC 6238 Appendix B give for it.
 */

const formats = (name: string): string => join(FIXTURES, 'seeds', 'formats', name);

interface Expected {
  type: 'hotp' | 'totp';
  algorithm: 'sha1' | 'sha256' | 'sha512';
  digits: number;
  period?: number;
  counter?: bigint;
  /** The vector the seed is (checked by codes), or another known seed (checked by fingerprint). */
  seed: 'rfc4226' | 'rfc6238' | Buffer;
}

async function expectTokens(seeds: OathSeed[], expected: Record<string, Expected>): Promise<void> {
  expect(seeds.map((s) => s.serial).sort()).toEqual(Object.keys(expected).sort());
  for (const s of seeds) {
    const e = expected[s.serial]!;
    expect({ type: s.type, algorithm: s.algorithm, digits: s.digits, period: s.period, counter: s.counter }, s.serial).toEqual({
      type: e.type,
      algorithm: e.algorithm,
      digits: e.digits,
      period: e.type === 'totp' ? (e.period ?? 30) : null,
      counter: e.type === 'hotp' ? (e.counter ?? 0n) : null,
    });
    if (e.seed === 'rfc6238') await expectRfc6238Codes(s);
    else if (e.seed === 'rfc4226') await expectRfc4226Codes(s);
    else expect(s.fingerprint, s.serial).toBe(secretFingerprint(e.seed));
  }
}

describe("RFC 6030 §6.1's other encryption algorithms", () => {
  const cases: [string, SeedReadOptions, Record<string, Expected>][] = [
    [
      'rfc6030-tripledes-cbc.pskc',
      { pskcKey: VENDOR_KEYS.tripleDes },
      {
        'TDES-1': { type: 'hotp', algorithm: 'sha1', digits: 6, seed: 'rfc4226' },
        'TDES-2': { type: 'totp', algorithm: 'sha256', digits: 8, seed: 'rfc6238' },
      },
    ],
    ['rfc6030-tripledes-cbc-2key.pskc', { pskcKey: VENDOR_KEYS.tripleDes2 }, { 'TDES2-1': { type: 'totp', algorithm: 'sha1', digits: 8, seed: 'rfc6238' } }],
    [
      'rfc6030-kw-aes128.pskc',
      { pskcKey: VENDOR_KEYS.aes128 },
      {
        'KW128-1': { type: 'totp', algorithm: 'sha1', digits: 8, seed: 'rfc6238' },
        'KW128-2': { type: 'totp', algorithm: 'sha256', digits: 8, seed: 'rfc6238' },
      },
    ],
    ['rfc6030-kw-aes192.pskc', { pskcKey: VENDOR_KEYS.aes192 }, { 'KW192-1': { type: 'totp', algorithm: 'sha512', digits: 8, seed: 'rfc6238' } }],
    ['rfc6030-kw-aes256.pskc', { pskcKey: VENDOR_KEYS.aes256 }, { 'KW256-1': { type: 'hotp', algorithm: 'sha1', digits: 6, counter: 5n, seed: 'rfc4226' } }],
    ['rfc6030-kw-tripledes.pskc', { pskcKey: VENDOR_KEYS.tripleDes }, { 'KW3DES-1': { type: 'totp', algorithm: 'sha256', digits: 8, seed: 'rfc6238' } }],
  ];
  it.each(cases)('%s: every seed read, right by fingerprint and RFC vector codes, no problem', async (file, opts, expected) => {
    const { seeds, problems } = await read(formats(file), opts);
    expect(problems).toEqual([]);
    await expectTokens(seeds, expected);
  });

  it.each(cases)('%s with a wrong key of the right length: one pskc-decrypt, nothing read, no secret in the message', async (file, opts) => {
    const wrong = Buffer.from(opts.pskcKey!.map((b) => b ^ 0x5a));
    const { seeds, problems, text } = await read(formats(file), { pskcKey: wrong });
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-decrypt']);
    expect(problems[0]!.message).toMatch(/wrong key/);
    for (const form of secretForms(RFC4226_SECRET)) expect(text).not.toContain(form);
  });

  it('a key of the wrong length for the cipher is named, not tried', async () => {
    const { problems } = await read(formats('rfc6030-kw-aes192.pskc'), { pskcKey: VENDOR_KEYS.aes128 });
    expect(codes(problems)).toEqual(['error:pskc-decrypt']);
    expect(problems[0]!.message).toMatch(/16 bytes but the file's cipher \(AES-192 key wrap\) needs a 24-byte key/);
  });

  it('a key-wrapped value altered after another decrypted: the wrap integrity check refuses that value', async () => {
    const tmp = tempDir();
    const xml = readFileSync(formats('rfc6030-kw-aes128.pskc'), 'utf8');
    const values = [...xml.matchAll(/<xenc:CipherValue>([^<]+)<\/xenc:CipherValue>/g)].map((m) => m[1]!);
    const altered = Buffer.from(values[1]!, 'base64');
    altered[10]! ^= 0x01;
    const { seeds, problems } = await read(tmp.file('kw-altered.pskc', xml.replace(values[1]!, altered.toString('base64'))), { pskcKey: VENDOR_KEYS.aes128 });
    expect(seeds.map((s) => s.serial)).toEqual(['KW128-1']);
    expect(codes(problems)).toEqual(['error:pskc-decrypt']);
    expect(problems[0]!.message).toMatch(/Secret of token KW128-2 does not decrypt \(the key wrap integrity check fails\)/);
  });

  it('key-wrapped values need no ValueMAC: not "unprotected" under the default --pskc-mac fail', async () => {
    const { seeds, problems } = await read(formats('rfc6030-kw-tripledes.pskc'), { pskcKey: VENDOR_KEYS.tripleDes, pskcMac: 'fail' });
    expect(seeds).toHaveLength(1);
    expect(problems).toEqual([]);
  });
});

describe('HOTP counters exact to 2^64 - 1', () => {
  it('RFC 4226 §5.3 with a 64-bit counter (the helper below) gives Appendix D', () => {
    expect(RFC4226_DECIMAL.map((_, c) => hotpAt(RFC4226_SECRET, BigInt(c), 6))).toEqual(RFC4226_DECIMAL.map((d) => String(d % 1e6).padStart(6, '0')));
  });

  it('a plain counter of 2^53 + 1 and an encrypted one of 2^64 - 1 are read exactly', async () => {
    const { seeds, problems } = await read(formats('rfc6030-hotp-big-counters.pskc'), { pskcKey: VENDOR_KEYS.aes128 });
    // Read, and said to leave no code (counter-headroom.test.ts).
    expect(problems).toMatchObject([{ severity: 'warning', code: 'value-invalid', field: 'Counter', message: expect.stringMatching(/^HOTP token BIG-2 has counter 18446744073709551615: no code of it can ever verify/) }]);
    const s = bySerial(seeds);
    expect(s.get('BIG-1')!.counter).toBe(9007199254740993n);
    expect(s.get('BIG-2')!.counter).toBe(18446744073709551615n);
    expect(s.get('BIG-1')!.fingerprint).toBe(secretFingerprint(RFC4226_SECRET));
    expect(s.get('BIG-2')!.fingerprint).toBe(secretFingerprint(OTHER_SECRET));
    // The exact counter matters: a double would be 2^53, whose code is another.
    expect(hotpAt(s.get('BIG-1')!.secret.reveal(), BIG_COUNTERS[0], 6)).not.toBe(hotpAt(RFC4226_SECRET, 1n << 53n, 6));
  });

  it('counters past 2^64 - 1 are value-invalid, in PSKC and in CSV', async () => {
    const tmp = tempDir();
    const xml = readFileSync(formats('rfc6030-hotp-big-counters.pskc'), 'utf8').replace('<PlainValue>9007199254740993<', '<PlainValue>18446744073709551616<');
    const pskc = await read(tmp.file('over.pskc', xml), { pskcKey: VENDOR_KEYS.aes128 });
    // BIG-2's counter of 2^64 - 1 is read, with its warning (counter-headroom.test.ts).
    expect(codes(pskc.problems)).toEqual(['error:value-invalid', 'warning:value-invalid']);
    expect(pskc.problems[0]!.message).toMatch(/Counter of token BIG-1 must be a whole number from 0 to 18446744073709551615/);
    const csv = await read(tmp.file('counters.csv', `serial,secret,type,counter\nC-1,${RFC4226_SECRET.toString('hex')},hotp,18446744073709551615\nC-2,${OTHER_SECRET.toString('hex')},hotp,18446744073709551616\n`));
    expect(csv.seeds.map((x) => [x.serial, x.counter])).toEqual([['C-1', 18446744073709551615n]]);
    expect(csv.problems).toMatchObject([
      { severity: 'warning', code: 'value-invalid', line: 2, field: 'counter' },
      { severity: 'error', code: 'value-invalid', line: 3, field: 'counter' },
    ]);
  });
});

describe('keys without an Algorithm attribute, and the KeyContainer Version', () => {
  it('TOTP inferred from a TimeInterval, HOTP otherwise, each with a warning on that key', async () => {
    const { seeds, problems } = await read(formats('rfc6030-no-algorithm.pskc'));
    await expectTokens(seeds, {
      'NOALG-1': { type: 'totp', algorithm: 'sha256', digits: 8, seed: 'rfc6238' },
      'NOALG-2': { type: 'hotp', algorithm: 'sha1', digits: 6, counter: 3n, seed: 'rfc4226' },
    });
    expect(problems).toMatchObject([
      { severity: 'warning', code: 'pskc-invalid', field: 'Algorithm', path: 'KeyPackage[1]/Key', message: expect.stringMatching(/NOALG-1.*read as TOTP/) },
      { severity: 'warning', code: 'pskc-invalid', field: 'Algorithm', path: 'KeyPackage[2]/Key', message: expect.stringMatching(/NOALG-2.*read as HOTP/) },
    ]);
  });

  it('RFC 6030 files say Version 1.0 (written 1 or 1.00 too): 1.1 or 2.0 is refused', async () => {
    const tmp = tempDir();
    const { seeds, problems } = await read(formats('rfc6030-version-1.1.pskc'));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-invalid']);
    expect(problems[0]!.message).toMatch(/Version "1.1" is not supported/);
    const as = async (version: string) => read(tmp.file(`v${version.trim()}.pskc`, readFileSync(formats('rfc6030-version-1.1.pskc'), 'utf8').replace('Version="1.1"', `Version="${version}"`)));
    const one = await as('1.0');
    expect(one.problems).toEqual([]);
    expect(one.seeds.length).toBeGreaterThan(0);
    for (const same of ['1', '1.00', ' 1 ']) {
      const r = await as(same);
      expect(r.problems, same).toEqual([]);
      expect(r.seeds.map((s) => [s.serial, s.fingerprint]), same).toEqual(one.seeds.map((s) => [s.serial, s.fingerprint]));
    }
    for (const other of ['2.0', '1.01', '10', '01.0']) expect(codes((await as(other)).problems), other).toEqual(['error:pskc-invalid']);
  });
});

describe('the pre-RFC drafts', () => {
  it('draft-hoyer container as ActivIdentity writes it: AES-128-CBC with a container IV, ValueDigest, Base64 COUNTER', async () => {
    const { seeds, problems } = await read(formats('draft-hoyer-actividentity-aes128.pskc'), { pskcKey: VENDOR_KEYS.activIdentity });
    expect(problems).toEqual([]);
    await expectTokens(seeds, {
      '0950380001': { type: 'hotp', algorithm: 'sha1', digits: 8, seed: 'rfc4226' },
      '0950380002': { type: 'hotp', algorithm: 'sha1', digits: 6, counter: 837830147n, seed: OTHER_SECRET },
    });
    expect(seeds[0]).toMatchObject({ manufacturer: 'ActivIdentity', line: 8 });
  });

  it('draft-hoyer -01 with PBE-3DES112-CBC: the password derives the key; the counter was encrypted as digits', async () => {
    const { seeds, problems } = await read(formats('draft-hoyer-pbe-3des.pskc'), { pskcPassword: VENDOR_PASSWORD });
    expect(problems).toEqual([]);
    await expectTokens(seeds, { '77654321870': { type: 'hotp', algorithm: 'sha1', digits: 6, counter: 7n, seed: 'rfc4226' } });
    const wrong = await read(formats('draft-hoyer-pbe-3des.pskc'), { pskcPassword: 'not it' });
    expect(codes(wrong.problems)).toEqual(['error:pskc-decrypt']);
    const none = await read(formats('draft-hoyer-pbe-3des.pskc'));
    expect(none.problems[0]!.message).toMatch(/--pskc-password-file/);
  });

  it('a ValueDigest that does not match refuses the file (the drafts MAC with the encryption key)', async () => {
    const tmp = tempDir();
    const xml = readFileSync(formats('draft-hoyer-actividentity-aes128.pskc'), 'utf8');
    const digest = /<ValueDigest>([^<]+)</.exec(xml)![1]!;
    const { seeds, problems } = await read(tmp.file('bad-digest.pskc', xml.replace(digest, Buffer.alloc(20, 1).toString('base64'))), { pskcKey: VENDOR_KEYS.activIdentity });
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-mac', 'error:pskc-mac']);
  });

  it('draft-hoyer -00: SecretContainer, Secret@SecretAlgorithm, lower-case ResponseFormat; plain values (their digests ignored)', async () => {
    const { seeds, problems } = await read(formats('draft-hoyer-00-secretcontainer.pskc'));
    expect(problems).toEqual([]);
    await expectTokens(seeds, { '98765432187': { type: 'hotp', algorithm: 'sha1', digits: 6, counter: 12n, seed: 'rfc4226' } });
  });

  it('draft-ietf-keyprov-pskc-02: Device, KeyAlgorithm, Usage/ResponseFormat, TimeDrift', async () => {
    const { seeds, problems } = await read(formats('draft-ietf-keyprov-pskc-02.pskc'));
    expect(problems).toEqual([]);
    await expectTokens(seeds, {
      '987654323': { type: 'totp', algorithm: 'sha1', digits: 8, seed: 'rfc6238' },
      '987654321': { type: 'hotp', algorithm: 'sha1', digits: 6, counter: 9n, seed: OTHER_SECRET },
    });
    expect(bySerial(seeds).get('987654323')!.timeDrift).toBe(4);
  });

  it('draft-ietf-keyprov-pskc-02 in RFC 6030\'s namespace, Version "1", MACAlgorithm: read as the draft it is', async () => {
    const { seeds, problems } = await read(formats('draft-ietf-keyprov-pskc-02-encrypted.pskc'), { pskcKey: VENDOR_KEYS.aes128 });
    expect(problems).toEqual([]);
    await expectTokens(seeds, { '987654324': { type: 'totp', algorithm: 'sha1', digits: 8, seed: 'rfc6238' } });
  });

  it("draft-02's Figure 5 layout: the ValueMAC inside the EncryptedValue and no MACAlgorithm (HMAC-SHA1 with the encryption key)", async () => {
    const tmp = tempDir();
    const xml = readFileSync(formats('draft-ietf-keyprov-pskc-02-encrypted.pskc'), 'utf8');
    const mac = /\s*<ValueMAC>[^<]+<\/ValueMAC>/.exec(xml)![0];
    const moved = xml.replace(/\s*<MACAlgorithm>[^<]+<\/MACAlgorithm>/, '').replace(mac, '').replace('</xenc:CipherData>', `</xenc:CipherData>${mac}`);
    expect(moved).not.toContain('<MACAlgorithm');
    const good = await read(tmp.file('figure5-style.pskc', moved), { pskcKey: VENDOR_KEYS.aes128 });
    expect(good.problems).toEqual([]);
    expect(good.seeds).toHaveLength(1);
    const altered = moved.replace(/<ValueMAC>[^<]+</, `<ValueMAC>${Buffer.alloc(20, 2).toString('base64')}<`);
    expect((await read(tmp.file('figure5-bad.pskc', altered), { pskcKey: VENDOR_KEYS.aes128 })).seeds).toEqual([]);
  });

  it('a draft file with encrypted values and no MAC at all is unprotected: refused under fail, read under allow-unprotected', async () => {
    const tmp = tempDir();
    const xml = readFileSync(formats('draft-ietf-keyprov-pskc-02-encrypted.pskc'), 'utf8').replace(/\s*<MACAlgorithm>[^<]+<\/MACAlgorithm>/, '').replace(/\s*<ValueMAC>[^<]+<\/ValueMAC>/, '');
    const path = tmp.file('draft-no-mac.pskc', xml);
    expect(codes((await read(path, { pskcKey: VENDOR_KEYS.aes128 })).problems)).toEqual(['error:pskc-mac']);
    const lenient = await read(path, { pskcKey: VENDOR_KEYS.aes128, pskcMac: 'allow-unprotected' });
    expect(lenient.seeds).toHaveLength(1);
    expect(codes(lenient.problems)).toEqual(['warning:pskc-mac']);
  });

  it('the drafts\' own Version values are accepted (they are not RFC 6030 files)', async () => {
    const tmp = tempDir();
    const xml = readFileSync(formats('draft-ietf-keyprov-pskc-02.pskc'), 'utf8').replace('Version="1.0"', 'Version="1.1"');
    expect((await read(tmp.file('draft-v11.pskc', xml))).seeds).toHaveLength(2);
  });

  it('non-OATH keys of the drafts (OCRA, ActivIdentity-3DES, SecurID) are left out with a warning', async () => {
    const tmp = tempDir();
    const xml = readFileSync(formats('draft-ietf-keyprov-pskc-02.pskc'), 'utf8').replace('urn:ietf:params:xml:ns:keyprov:pskc#hotp', 'urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA512-8:C-QN08');
    const { seeds, problems } = await read(tmp.file('draft-ocra.pskc', xml));
    expect(seeds.map((s) => s.serial)).toEqual(['987654323']);
    expect(codes(problems)).toEqual(['warning:value-invalid']);
  });
});

describe("privacyIDEA's PSKC export", () => {
  it('the hash from <Suite hashalgo>, an HOTP key\'s TimeInterval of 0 ignored, its timeShift (seconds) as whole steps of drift', async () => {
    const { seeds, problems } = await read(formats('privacyidea-export.pskc'), { pskcKey: VENDOR_KEYS.aes128 });
    expect(problems).toEqual([]);
    await expectTokens(seeds, {
      TOTP0001A2B3: { type: 'totp', algorithm: 'sha256', digits: 8, seed: 'rfc6238' },
      OATH0001C4D5: { type: 'hotp', algorithm: 'sha1', digits: 6, counter: 3n, seed: 'rfc4226' },
    });
    expect(bySerial(seeds).get('TOTP0001A2B3')!.timeDrift).toBe(-2);
  });

  it('a TimeDrift that is not whole steps, from another issuer, is left out with a warning (not the key)', async () => {
    const tmp = tempDir();
    const xml = readFileSync(formats('privacyidea-export.pskc'), 'utf8').replace('<Issuer>privacyIDEA</Issuer>', '<Issuer>Other</Issuer>');
    const { seeds, problems } = await read(tmp.file('drift.pskc', xml), { pskcKey: VENDOR_KEYS.aes128 });
    expect(seeds).toHaveLength(2);
    expect(bySerial(seeds).get('TOTP0001A2B3')!.timeDrift).toBeUndefined();
    expect(problems).toMatchObject([{ severity: 'warning', code: 'value-invalid', field: 'TimeDrift' }]);
  });
});

describe("LinOTP's and privacyIDEA's headerless OATH CSV", () => {
  it('serial, hex key, hotp|totp, digits, period or counter: the hash follows the key length, comments skipped', async () => {
    const { seeds, problems } = await read(formats('oath-linotp.csv'));
    expect(problems).toEqual([]);
    await expectTokens(seeds, {
      'oath-h1': { type: 'hotp', algorithm: 'sha1', digits: 6, counter: 3n, seed: 'rfc4226' },
      'oath-t256': { type: 'totp', algorithm: 'sha256', digits: 8, seed: 'rfc6238' },
      'oath-t512': { type: 'totp', algorithm: 'sha512', digits: 8, seed: 'rfc6238' },
      'oath-h2': { type: 'hotp', algorithm: 'sha1', digits: 6, seed: OTHER_SECRET },
    });
    expect(seeds.map((s) => s.line)).toEqual([2, 3, 4, 5]);
  });

  it('privacyIDEA version 2: user, resolver and realm first; non-OATH types and empty serials left out with warnings', async () => {
    const { seeds, problems } = await read(formats('oath-privacyidea-v2.csv'));
    await expectTokens(seeds, {
      'pi-t1': { type: 'totp', algorithm: 'sha256', digits: 8, period: 60, seed: RFC6238_SHA256_SECRET },
      'pi-h1': { type: 'hotp', algorithm: 'sha1', digits: 6, counter: 1n, seed: 'rfc4226' },
    });
    expect(bySerial(seeds).get('pi-t1')!.user).toBe('alice@contoso.com');
    expect(bySerial(seeds).get('pi-h1')!.user).toBeUndefined();
    expect(problems).toMatchObject([{ severity: 'warning', code: 'value-invalid', line: 3, field: 'type' }]);
  });

  it('bad cells: problems with file, line and field, never a key; other lines still read', async () => {
    const tmp = tempDir();
    const key = RFC4226_SECRET.toString('hex');
    const path = tmp.file(
      'oath-bad.csv',
      [`ok, ${key}, hotp, 6`, `odd, ${key}0, totp`, `digits, ${OTHER_SECRET.toString('hex')}, totp, 5`, `sha224, ${'ab'.repeat(28)}, totp`, 'nokey', ''].join('\n'),
    );
    const { seeds, problems, text } = await read(path);
    expect(seeds.map((s) => s.serial)).toEqual(['ok']);
    expect(problems.map((p) => [p.code, p.line, p.field])).toEqual([
      ['secret-invalid', 2, 'key'],
      ['value-invalid', 3, 'digits'],
      ['value-invalid', 4, 'key'],
      ['secret-invalid', 5, 'key'],
    ]);
    for (const form of secretForms(RFC4226_SECRET)) expect(text).not.toContain(form);
  });

  it('is told from content: no header and hotp/totp as a type; other headerless CSVs stay refused', async () => {
    const tmp = tempDir();
    const twoColumnsFirst = await read(tmp.file('two-first.csv', `tok1, ${OTHER_SECRET.toString('hex')}\ntok2, ${RFC4226_SECRET.toString('hex')}, totp, 8\n`));
    expect(twoColumnsFirst.seeds.map((s) => [s.serial, s.type])).toEqual([['tok1', 'hotp'], ['tok2', 'totp']]);
    const other = await read(tmp.file('other.csv', `tok1, ${RFC4226_SECRET.toString('hex')}, yubikey, 6\n`));
    expect(codes(other.problems)).toEqual(['error:seed-format-unknown']);
    expect(other.text).not.toContain(RFC4226_SECRET.toString('hex'));
  });

  it('a quoted type cell is read as the other quoted cells are (a black-box review: the file was refused as seed-format-unknown)', async () => {
    const tmp = tempDir();
    const hex = RFC4226_SECRET.toString('hex');
    const quoted = await read(tmp.file('quoted.csv', `"L11","${hex}","totp","6","30"\n`));
    expect(quoted.problems).toEqual([]);
    expect(quoted.seeds.map((s) => [s.serial, s.type, s.digits, s.period])).toEqual([['L11', 'totp', 6, 30]]);
    // Only the type quoted, with spaces around it; a quoted serial holding a comma; privacyIDEA's version 2.
    const mixed = await read(tmp.file('mixed.csv', `L12, ${hex}, "hotp" , 6, 7\n"L,13", ${OTHER_SECRET.toString('hex')}, "TOTP", 8\n`));
    expect(mixed.problems).toEqual([]);
    expect(mixed.seeds.map((s) => [s.serial, s.type, s.digits])).toEqual([['L12', 'hotp', 6], ['L,13', 'totp', 8]]);
    const v2 = await read(tmp.file('quoted-v2.csv', `# version: 2\n"alice","ldap","corp","L14","${hex}","totp"\n`));
    expect(v2.seeds.map((s) => [s.serial, s.user, s.type])).toEqual([['L14', 'alice', 'totp']]);
    const keysOnly = await read(tmp.file('quoted-keys.csv', `"L15","${hex}"\n`));
    expect(keysOnly.seeds.map((s) => [s.serial, s.type])).toEqual([['L15', 'hotp']]);
    // A quoted type the format does not know is still refused as not this format.
    expect(codes((await read(tmp.file('quoted-other.csv', `"L16","${hex}","yubikey","6"\n`))).problems)).toEqual(['error:seed-format-unknown']);
  });

  it('a file of serial, key lines only (HOTP by default) is one too; two cells that are not a hex key are not', async () => {
    const tmp = tempDir();
    const keysOnly = await read(tmp.file('keys-only.csv', `# exported\ntok1, ${OTHER_SECRET.toString('hex')}\ntok2,${RFC4226_SECRET.toString('hex')}\n`));
    expect(keysOnly.problems).toEqual([]);
    expect(keysOnly.seeds.map((s) => [s.serial, s.type, s.counter])).toEqual([['tok1', 'hotp', 0n], ['tok2', 'hotp', 0n]]);
    const v2 = await read(tmp.file('keys-only-v2.csv', `# version: 2\nalice, ldap, corp, tok3, ${OTHER_SECRET.toString('hex')}\n`));
    expect(v2.seeds.map((s) => [s.serial, s.user])).toEqual([['tok3', 'alice']]);
    for (const text of [`name, value\ntok1, ${OTHER_SECRET.toString('hex')}\n`, 'tok1, abcdef\n', `tok1, ${OTHER_SECRET.toString('base64')}\n`]) {
      expect(codes((await read(tmp.file('not-oath.csv', text))).problems)).toEqual(['error:seed-format-unknown']);
    }
  });
});
