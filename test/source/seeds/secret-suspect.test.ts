import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base32InBase64, encodedTwice, hexInBase64 } from '../../../src/source/seeds/secret-suspect.js';
import { encodeBase32 } from '../../../src/source/seeds/secret-encoding.js';
import { writePskc, derived } from '../../../fixtures/pskc-writer.js';
import { codes, read, tempDir } from './seed-test-helpers.js';

// A black-box test: mis-encoded PSKC secrets were read silently as 28-40 bytes of text.
const SEED = Buffer.from('df9fb7eb5de4ce5861023f6910f6ffdfe78b70a1', 'hex');
const NS = 'urn:ietf:params:xml:ns:keyprov:pskc';
const tmp = tempDir();

/** A PSKC file of one TOTP key whose Secret PlainValue is `plainValue` as written. */
function plainPskc(name: string, plainValue: string, serial = 'T-1'): string {
  return tmp.file(
    name,
    `<?xml version="1.0" encoding="UTF-8"?>\n<KeyContainer Version="1.0" xmlns="${NS}">\n<KeyPackage><DeviceInfo><SerialNo>${serial}</SerialNo></DeviceInfo>\n<Key Id="1" Algorithm="${NS}:totp"><Data><Secret><PlainValue>${plainValue}</PlainValue></Secret></Data></Key></KeyPackage>\n</KeyContainer>\n`,
  );
}

describe('encodedTwice: seed bytes that are the text of an encoded seed', () => {
  it('tells hex, Base32 and Base64 text of a seed', () => {
    const refused = (looks: string) => ({ looks, refused: true });
    expect(encodedTwice(Buffer.from(SEED.toString('hex')))).toEqual(refused('the text of a hex string'));
    expect(encodedTwice(Buffer.from(SEED.toString('hex').toUpperCase()))).toEqual(refused('the text of a hex string'));
    expect(encodedTwice(Buffer.from(encodeBase32(SEED)))).toEqual(refused('the text of a Base32 string'));
    expect(encodedTwice(Buffer.from(encodeBase32(SEED).toLowerCase()))).toEqual(refused('the text of a Base32 string'));
    // Base64's alphabet is every mixed-case word too: warned of, not refused.
    const warned = { looks: 'the text of a Base64 string, or a word', refused: false };
    expect(encodedTwice(Buffer.from(SEED.toString('base64')))).toEqual(warned);
    expect(encodedTwice(Buffer.from(SEED.toString('base64url')))).toEqual(warned);
    expect(encodedTwice(Buffer.from('HelloWorldHelloWorld'))).toEqual(warned);
  });

  it("lets real seeds through: random bytes, RFC 4226's and RFC 6238's ASCII digit seeds, letters alone, text under 16 bytes", () => {
    for (let i = 0; i < 2000; i++) expect(encodedTwice(randomBytes(16 + (i % 49)))).toBeNull();
    for (const test of ['12345678901234567890', '12345678901234567890123456789012', '1234567890'.repeat(6) + '1234', 'abcdefghijklmnopqrst', 'ABCDEFGHIJKLMNOPQRST']) expect(encodedTwice(Buffer.from(test)), test).toBeNull();
    expect(encodedTwice(Buffer.from(SEED.toString('hex').slice(0, 15)))).toBeNull();
    // Text with other characters is not an encoded string (whatever else is wrong with it as a seed).
    expect(encodedTwice(Buffer.from('Correct horse battery staple!'))).toBeNull();
  });

  it('hexInBase64: a PlainValue of 32 hex digits or more', () => {
    expect(hexInBase64(SEED.toString('hex'))).toBe(true);
    expect(hexInBase64(`  ${SEED.toString('hex').slice(0, 20)}\n  ${SEED.toString('hex').slice(20)}`)).toBe(true);
    expect(hexInBase64(SEED.toString('base64'))).toBe(false);
    expect(hexInBase64(randomBytes(10).toString('hex'))).toBe(false);
    for (let i = 0; i < 2000; i++) expect(hexInBase64(randomBytes(16 + (i % 49)).toString('base64'))).toBe(false);
  });

  it('base32InBase64: a PlainValue that is the Base32 of 16 bytes or more, either case, padded or not', () => {
    for (const n of [16, 17, 19, 20, 24, 32, 64]) {
      const b32 = encodeBase32(randomBytes(n));
      expect(base32InBase64(b32), `${n} bytes`).toBe(true);
      expect(base32InBase64(b32.toLowerCase()), `${n} bytes, lower case`).toBe(true);
      expect(base32InBase64(b32 + '='.repeat((8 - (b32.length % 8)) % 8)), `${n} bytes, padded`).toBe(true);
    }
    expect(base32InBase64(`  ${encodeBase32(SEED).slice(0, 16)}\n  ${encodeBase32(SEED).slice(16)}  `)).toBe(true);
    // Too short to tell from chance (10 bytes: 16 characters), or mixed case (Base64's).
    expect(base32InBase64(encodeBase32(randomBytes(10)))).toBe(false);
    expect(base32InBase64('JBSWY3DPEHPK3PXPjbswy3dpehpk3pxp')).toBe(false);
  });

  it('base32InBase64 lets real Base64 through: seeds of 16, 20, 32 and 64 bytes never match, others by odds of 2^-25 at most', () => {
    for (let i = 0; i < 4000; i++) expect(base32InBase64(randomBytes(16 + (i % 49)).toString('base64'))).toBe(false);
    // Upper-case letters and 2-7 only, in lengths the Base64 of common seed sizes has: not Base32's lengths.
    const onlyBase32Alphabet = (chars: number): string => Array.from({ length: chars }, (_, i) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[(i * 7) % 32]).join('');
    for (const [bytes, chars, pad] of [[20, 27, '='], [32, 43, '='], [64, 86, '==']] as const) expect(base32InBase64(onlyBase32Alphabet(chars) + pad), `${bytes} bytes`).toBe(false);
  });
});

describe('PSKC: a secret encoded twice is a secret-suspect error, and the key is skipped', () => {
  it.each([
    ['raw hex in the PlainValue', SEED.toString('hex'), /the Secret PlainValue of token T-1 is 40 hex digits: a seed written in hex where PSKC puts Base64/],
    ['Base64 of the hex string', Buffer.from(SEED.toString('hex')).toString('base64'), /the secret of token T-1 is 40 bytes that are the text of a hex string, not seed bytes: the file holds the seed encoded twice/],
    ['Base64 of the Base32 string', Buffer.from(encodeBase32(SEED)).toString('base64'), /32 bytes that are the text of a Base32 string/],
    // A black-box test: Base32 there was read as Base64, silently, into a wrong seed.
    ['raw Base32 in the PlainValue', encodeBase32(SEED), /^the Secret PlainValue of token T-1 is 32 Base32 characters: a seed written in Base32 where PSKC puts Base64, which read as Base64 is a wrong seed/],
    ['raw Base32 in lower case', encodeBase32(SEED).toLowerCase(), /is 32 Base32 characters: a seed written in Base32 where PSKC puts Base64/],
    ['raw Base32 of a 16-byte seed', encodeBase32(SEED.subarray(0, 16)), /is 26 Base32 characters: a seed written in Base32/],
    // Padded, it is not even Base64 (six '='): the same error rather than "not valid Base64".
    ['padded Base32 of a 16-byte seed', `${encodeBase32(SEED.subarray(0, 16))}======`, /is 26 Base32 characters: a seed written in Base32/],
  ])('%s', async (name, plainValue, message) => {
    const { seeds, problems, text } = await read(plainPskc(`${name}.pskc`, plainValue));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:secret-suspect']);
    expect(problems[0]).toMatchObject({ file: expect.stringContaining('.pskc'), line: 4, path: 'KeyPackage[1]/Key/Data/Secret/PlainValue', field: 'Secret' });
    expect(problems[0]!.message).toMatch(message);
    expect(problems[0]!.message).toMatch(/the key is skipped: ask the vendor for a file with the seed encoded once$/);
    for (const form of [SEED.toString('hex'), SEED.toString('base64'), encodeBase32(SEED), plainValue]) expect(text).not.toContain(form);
  });

  it('the same seed encoded once is read, and so is RFC 6030 Figure 2\'s ASCII digit test seed', async () => {
    const once = await read(plainPskc('once.pskc', SEED.toString('base64')));
    expect(once.problems).toEqual([]);
    expect(once.seeds[0]!.secret.reveal().equals(SEED)).toBe(true);
    const rfc = await read(plainPskc('rfc.pskc', 'MTIzNDU2Nzg5MDEyMzQ1Njc4OTA='));
    expect(rfc.problems).toEqual([]);
    expect(rfc.seeds).toHaveLength(1);
  });

  /** A review: mixed-case text seeds (a token given HelloWorldHelloWorld as its seed) were refused, with no way on. */
  it('bytes that are Base64 text, or a word (python-pskc issue #5\'s Base64 of Base64 among them), are warned of and kept', async () => {
    for (const [name, value] of [
      ['b64-of-b64', Buffer.from(SEED.toString('base64')).toString('base64')],
      ['word', Buffer.from('HelloWorldHelloWorld').toString('base64')],
    ] as const) {
      const { seeds, problems, text } = await read(plainPskc(`${name}.pskc`, value));
      expect(seeds.map((s) => s.serial), name).toEqual(['T-1']);
      expect(codes(problems), name).toEqual(['warning:secret-suspect']);
      expect(problems[0]!.message).toMatch(/^the secret of token T-1 is (28|20) bytes that are the text of a Base64 string, or a word, not random seed bytes: kept; if the vendor did not give the token this text as its seed, the file holds the seed encoded twice/);
      expect(text).not.toContain(value);
    }
  });

  it('a decrypted secret too (the vendor encrypted the hex text)', async () => {
    const key = derived('suspect-psk', 16);
    const xml = writePskc({
      keys: [
        { serial: 'E-1', type: 'totp', secret: Buffer.from(SEED.toString('hex')) },
        { serial: 'E-2', type: 'totp', secret: SEED },
      ],
      encryption: { cipher: 'aes128-cbc', key, mac: { hash: 'sha256', key: derived('suspect-mac', 20) } },
    });
    const { seeds, problems, text } = await read(tmp.file('encrypted.pskc', xml), { pskcKey: key });
    expect(seeds.map((s) => s.serial)).toEqual(['E-2']);
    expect(codes(problems)).toEqual(['error:secret-suspect']);
    expect(problems[0]).toMatchObject({ path: 'KeyPackage[1]/Key/Data/Secret/EncryptedValue', field: 'Secret' });
    expect(problems[0]!.message).toMatch(/^the decrypted secret of token E-1 is 40 bytes that are the text of a hex string/);
    expect(text).not.toContain(SEED.toString('hex'));
  });
});

describe('seed CSVs: a secret that decodes to the text of an encoded seed', () => {
  it('the generic CSV (hex of the hex string), the Entra CSV (Base32 of it) and the OATH CSV refuse the row', async () => {
    const hexOfHex = Buffer.from(SEED.toString('hex')).toString('hex');
    const generic = await read(tmp.file('generic.csv', `serial,secret\nG-1,${hexOfHex}\nG-2,${SEED.toString('hex')}\n`));
    expect(generic.seeds.map((s) => s.serial)).toEqual(['G-2']);
    expect(codes(generic.problems)).toEqual(['error:secret-suspect']);
    expect(generic.problems[0]).toMatchObject({ line: 2, field: 'secret' });
    expect(generic.problems[0]!.message).toBe('the secret of token G-1 decodes to 40 bytes that are the text of a hex string, not seed bytes: the seed was encoded twice, and read as it is no code would match; the row is skipped');

    const entra = await read(tmp.file('entra.csv', `upn,serial number,secret key,time interval\na@contoso.com,N-1,${encodeBase32(Buffer.from(SEED.toString('hex')))},30\n`));
    expect(entra.seeds).toEqual([]);
    expect(codes(entra.problems)).toEqual(['error:secret-suspect']);

    const oath = await read(tmp.file('oath.csv', `O-1, ${hexOfHex}, totp, 6, 30\n`));
    expect(oath.seeds).toEqual([]);
    expect(codes(oath.problems)).toEqual(['error:secret-suspect']);
    expect(oath.problems[0]!.message).toMatch(/the line is skipped$/);
    for (const r of [generic, entra, oath]) expect(r.text).not.toContain(SEED.toString('hex'));
  });

  it('a seed that is a mixed-case word, given in hex, is kept with a warning', async () => {
    const word = await read(tmp.file('word.csv', `serial,secret\nX-2,${Buffer.from('HelloWorldHelloWorld').toString('hex')}\n`));
    expect(word.seeds.map((s) => s.serial)).toEqual(['X-2']);
    expect(codes(word.problems)).toEqual(['warning:secret-suspect']);
    expect(word.problems[0]).toMatchObject({ line: 2, field: 'secret' });
  });
});
