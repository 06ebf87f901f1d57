import { describe, expect, it } from 'vitest';
import { decodeBase32, decodeBase64, decodeBase64Binary, decodeHex, encodeBase32, guessSecretEncoding } from '../../../src/source/seeds/secret-encoding.js';

describe('Base32 (RFC 4648)', () => {
  it.each([
    ['', null],
    ['MY======', 'f'],
    ['MZXQ====', 'fo'],
    ['MZXW6===', 'foo'],
    ['MZXW6YQ=', 'foob'],
    ['MZXW6YTB', 'fooba'],
    ['MZXW6YTBOI======', 'foobar'],
    ['mzxw6ytboi', 'foobar'],
    ['MZXW 6YTB OI', 'foobar'],
    ['GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', '12345678901234567890'],
  ])('decodes %j', (text, expected) => {
    const out = decodeBase32(text);
    expect(out === null ? null : out.toString('latin1')).toBe(expected);
  });

  it.each(['MZXW6YT1', 'MZXW6YT8', 'M', 'MZX', 'MZXW6Y', 'MZ=XW', 'MZXW6YTB!'])('refuses %j', (text) => {
    expect(decodeBase32(text)).toBeNull();
  });

  it('ignores non-zero unused trailing bits (Entra sample secret)', () => {
    expect(decodeBase32('2234567abcdef2234567abcdef')?.length).toBe(16);
  });

  it('round-trips any length', () => {
    for (let n = 1; n <= 70; n++) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
      expect(decodeBase32(encodeBase32(bytes))!.equals(bytes)).toBe(true);
    }
  });
});

describe('hex, Base64 and the encoding guess', () => {
  it('hex: case, 0x and spaces accepted; odd length and non-hex refused', () => {
    expect(decodeHex('0xDEAD beef')!.toString('hex')).toBe('deadbeef');
    expect(decodeHex('abc')).toBeNull();
    expect(decodeHex('zz')).toBeNull();
    expect(decodeHex('')).toBeNull();
  });

  it('hex grouped with colons, as with spaces and "-" (a black-box test saw ab:cd:... refused)', () => {
    expect(decodeHex('de:ad:be:ef')!.toString('hex')).toBe('deadbeef');
    expect(decodeHex('DE:AD-BE EF')!.toString('hex')).toBe('deadbeef');
    expect(guessSecretEncoding('31:32:33:34:35:36:37:38:39:30')).toBe('hex');
    // Base32 is never written with colons: not taken as grouping there.
    expect(decodeBase32('GEZD:GNBV')).toBeNull();
  });

  it('Base64: whitespace allowed, junk refused', () => {
    expect(decodeBase64(' MTIz\n NA== ')!.toString()).toBe('1234');
    expect(decodeBase64('MTIz!A==')).toBeNull();
    expect(decodeBase64('MTIzN')).toBeNull();
  });

  it('base64Binary (PSKC integers): whole groups only, so words are not read as two bytes', () => {
    expect(decodeBase64Binary(' MTIz\n NA== ')!.toString()).toBe('1234');
    expect(decodeBase64Binary('AAYxSg==')!.toString('hex')).toBe('0006314a');
    for (let n = 1; n <= 12; n++) expect(decodeBase64Binary(Buffer.alloc(n, n * 29).toString('base64'))!.length).toBe(n);
    // Lax Base64 takes each of these as two bytes (the padding left off).
    for (const word of ['n/a', '60s', 'abc', '1e3', 'NA=', 'MTIzNA', '']) expect(decodeBase64Binary(word), word).toBeNull();
    expect(decodeBase64Binary('MTIzN===')).toBeNull();
  });

  it('guess: only hex digits with even length -> hex, else base32', () => {
    expect(guessSecretEncoding('3132333435363738393031323334353637383930')).toBe('hex');
    expect(guessSecretEncoding('GEZDGNBVGY3TQOJQ')).toBe('base32');
    expect(guessSecretEncoding('ABC')).toBe('base32');
    expect(guessSecretEncoding('abcdef23')).toBe('hex');
  });
});
