import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HmacKey, type HmacAlgorithm } from '../../src/model/hmac-key.js';
import { hotpKey, hotpValue, hotpValueOf } from '../../src/otp/hotp.js';

describe('HmacKey', () => {
  it('gives the bytes createHmac gives, for every algorithm, keys shorter than, as long as and longer than the block, and messages of any length', () => {
    for (const algorithm of ['md5', 'sha1', 'sha256', 'sha512'] as HmacAlgorithm[]) {
      for (const keyLength of [0, 1, 16, 20, 63, 64, 65, 127, 128, 129, 300]) {
        const secret = randomBytes(keyLength);
        const key = new HmacKey(algorithm, secret, 300);
        for (const length of [0, 1, 8, 55, 56, 64, 100, 300]) {
          const message = randomBytes(length);
          const expected = createHmac(algorithm, secret).update(message).digest();
          expect(Buffer.from(key.of(message), 'latin1'), `${algorithm} key ${keyLength} message ${length}`).toEqual(expected);
          // Again, through the scratch space written in place (what was there before does not count).
          message.copy(key.message);
          expect(Buffer.from(key.digest(length), 'latin1')).toEqual(expected);
        }
        expect(() => key.digest(301)).toThrow(RangeError);
      }
    }
  });

  it('never prints its key material', () => {
    const key = new HmacKey('sha1', Buffer.from('12345678901234567890'), 8);
    expect(String(key)).toBe('[hmac key redacted]');
    expect(JSON.stringify({ key })).toBe('{"key":"[hmac key redacted]"}');
    expect(inspect(key)).toBe('[hmac key redacted]');
  });

  it('computes HOTP values as hotpValue does (RFC 4226 appendix D, and random seeds, algorithms and counters)', () => {
    const rfc = Buffer.from('12345678901234567890');
    const expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
    const key = hotpKey(rfc, 'sha1');
    expected.forEach((v, c) => expect(hotpValueOf(key, c, 6)).toBe(v));
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      for (const seedLength of [10, 20, 32, 64, 70, 130]) {
        const seed = randomBytes(seedLength);
        const k = hotpKey(seed, algorithm);
        for (const c of [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]) {
          for (const digits of [6, 8, 9]) expect(hotpValueOf(k, c, digits), `${algorithm} ${seedLength} ${c} ${digits}`).toBe(hotpValue(seed, algorithm, c, digits));
        }
      }
    }
    expect(() => hotpValueOf(key, -1, 6)).toThrow(RangeError);
    expect(() => hotpValueOf(key, 2 ** 53, 6)).toThrow(RangeError);
    expect(() => hotpValueOf(key, 1, 10)).toThrow(RangeError);
  });
});
