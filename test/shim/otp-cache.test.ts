import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hotpValue } from '../../src/otp/hotp.js';
import { OtpCache } from '../../src/shim/otp-cache.js';
import { RFC_SEED_SHA256, token } from './helpers.js';

describe('OtpCache', () => {
  it('returns the same values as hotpValue, across slot reuse and counters beyond 2^32, and never prints them', () => {
    const t = token({ serial: 'C', secret: RFC_SEED_SHA256, algorithm: 'sha256', digits: 8, type: 'hotp' });
    const cache = new OtpCache(21);
    for (const base of [0, 5, 31, 2 ** 32 - 3, 2 ** 40]) {
      for (let c = base; c < base + 40; c++) {
        expect(cache.value(t, c), String(c)).toBe(hotpValue(RFC_SEED_SHA256, 'sha256', c, 8));
        expect(cache.value(t, c)).toBe(hotpValue(RFC_SEED_SHA256, 'sha256', c, 8));
      }
    }
    expect(JSON.stringify({ cache })).not.toMatch(/\d{6}/);
    expect(inspect(cache)).toBe('[otp values redacted]');
  });
});
