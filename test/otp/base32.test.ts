import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ScureBase32Plugin } from 'otplib';
import { parseSecretKey } from '../../src/emulator/oath-secret.js';
import { base32HasStrayBits, decodeBase32, encodeBase32 } from '../../src/otp/base32.js';
import { decodeBase32 as decodeSeedBase32 } from '../../src/source/seeds/secret-encoding.js';

// @scure/base through otplib's plugin: an independent implementation of RFC 4648 to compare with.
const scure = new ScureBase32Plugin();

// RFC 4648 section 10.
const VECTORS: [string, string][] = [
  ['f', 'MY======'],
  ['fo', 'MZXQ===='],
  ['foo', 'MZXW6==='],
  ['foob', 'MZXW6YQ='],
  ['fooba', 'MZXW6YTB'],
  ['foobar', 'MZXW6YTBOI======'],
];

describe('Base32 (RFC 4648)', () => {
  it.each(VECTORS)('%j encodes to %s without the padding, and decodes back with or without it, in either case', (plain, encoded) => {
    const bytes = Buffer.from(plain, 'latin1');
    expect(encodeBase32(bytes)).toBe(encoded.replace(/=+$/, ''));
    for (const text of [encoded, encoded.replace(/=+$/, ''), encoded.toLowerCase()]) expect(decodeBase32(text)?.toString('latin1'), text).toBe(plain);
  });

  it('refuses lengths that cannot come from whole bytes, characters outside the alphabet, and nothing', () => {
    for (const bad of ['', '=', 'M', 'MZX', 'MZXW6Y', 'MZ=XW', 'MZXW6YT1', 'MZXW6YT8', 'MZXW 6YTB', 'MZXW6YTB!', 'MZXW6YTÄ']) expect(decodeBase32(bad), bad).toBeNull();
  });

  it('ignores non-zero unused trailing bits (Entra\'s upload example), where scure refuses them; says they are there', () => {
    expect(decodeBase32('2234567abcdef2234567abcdef')?.length).toBe(16);
    expect(() => scure.decode('2234567abcdef2234567abcdef')).toThrow();
    expect(base32HasStrayBits('2234567abcdef2234567abcdef')).toBe(true);
    for (const [, encoded] of VECTORS) expect(base32HasStrayBits(encoded), encoded).toBe(false);
    for (let n = 1; n <= 40; n++) expect(base32HasStrayBits(encodeBase32(randomBytes(n)))).toBe(false);
  });

  it('equals scure on random bytes of every length up to 80 (Graph\'s maximum)', () => {
    for (let n = 1; n <= 80; n++) {
      const bytes = randomBytes(n);
      const text = encodeBase32(bytes);
      expect(text).toBe(scure.encode(bytes, { padding: false }));
      expect(decodeBase32(text)!.equals(bytes)).toBe(true);
      expect(Buffer.from(scure.decode(text)).equals(bytes)).toBe(true);
    }
  });

  it('is the codec of both the seed readers and the emulator: they decode every secret alike', () => {
    for (const text of ['2234567abcdef2234567abcdef', 'JBSWY3DPEHPK3PXP', ...Array.from({ length: 20 }, (_, i) => encodeBase32(randomBytes(10 + i)))]) {
      const parsed = parseSecretKey(text);
      expect('secret' in parsed && parsed.secret.reveal().equals(decodeSeedBase32(text)!), text).toBe(true);
    }
    expect(parseSecretKey('MZX')).toEqual({ reason: 'secretKey is not valid Base32 (its length cannot encode whole bytes)' });
  });
});
