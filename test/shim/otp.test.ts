import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createGuardrails, generateSync } from 'otplib';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { hotpCode, SubmittedCode } from '../../src/shim/otp.js';
import type { OathAlgorithm } from '../../src/model/export-data.js';
import { RFC_SEED_SHA1, RFC_SEED_SHA256, RFC_SEED_SHA512 } from './helpers.js';

const crypto = new NodeCryptoPlugin();
// Microsoft's 10-byte seeds are below otplib's MIN_SECRET_BYTES (16): lower it, as otplib #850 advises.
// otplib 13.5 also caps seeds at 64 bytes (MAX_SECRET_BYTES); HMAC takes any key length, so lift that too.
const guardrails = createGuardrails({ MIN_SECRET_BYTES: 1, MAX_SECRET_BYTES: 1024 });

// RFC 4226 Appendix D.
const HOTP_VECTORS = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];

// RFC 6238 Appendix B (8 digits, T0 = 0, X = 30), per-algorithm seeds.
const TOTP_TABLE: [number, string, string, string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];
const SEEDS: Record<OathAlgorithm, Buffer> = { sha1: RFC_SEED_SHA1, sha256: RFC_SEED_SHA256, sha512: RFC_SEED_SHA512 };

describe('HOTP (RFC 4226 Appendix D)', () => {
  it.each(HOTP_VECTORS.map((code, counter) => [counter, code] as const))('counter %i gives %s, as otplib does', (counter, code) => {
    expect(hotpCode(RFC_SEED_SHA1, 'sha1', counter, 6)).toBe(code);
    expect(generateSync({ strategy: 'hotp', secret: new Uint8Array(RFC_SEED_SHA1), counter, digits: 6, crypto, guardrails })).toBe(code);
  });
});

describe('TOTP (RFC 6238 Appendix B)', () => {
  for (const [time, sha1, sha256, sha512] of TOTP_TABLE) {
    const expected: Record<OathAlgorithm, string> = { sha1, sha256, sha512 };
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      it(`${algorithm} at ${time} s gives ${expected[algorithm]}, as otplib's TOTP does`, () => {
        const step = Math.floor(time / 30);
        expect(hotpCode(SEEDS[algorithm], algorithm, step, 8)).toBe(expected[algorithm]);
        const viaOtplib = generateSync({ strategy: 'totp', secret: new Uint8Array(SEEDS[algorithm]), algorithm, digits: 8, period: 30, epoch: time, crypto, guardrails });
        expect(viaOtplib).toBe(expected[algorithm]);
      });
    }
  }

  it('the 20-byte seed with SHA-256 gives the known wrong value (the errata trap), proving the seed matters', () => {
    expect(hotpCode(RFC_SEED_SHA1, 'sha256', 1, 8)).toBe('32247374');
    expect(hotpCode(RFC_SEED_SHA256, 'sha256', 1, 8)).not.toBe('32247374');
  });
});

describe('equality with otplib 13 (plugin-crypto-node) over random inputs', () => {
  it('matches for every algorithm, 6-8 digits, 10- to 100-byte seeds and counters beyond 2^32', () => {
    let compared = 0;
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      for (const digits of [6, 7, 8] as const) {
        for (const length of [10, 16, 20, 32, 64, 100]) {
          const secret = randomBytes(length);
          for (const counter of [0, 1, 2 ** 31 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 40 + 3, Math.floor(Math.random() * 2 ** 50)]) {
            const ours = hotpCode(secret, algorithm, counter, digits);
            const theirs = generateSync({ strategy: 'hotp', secret: new Uint8Array(secret), counter, algorithm, digits, crypto, guardrails });
            expect(ours, `${algorithm}/${digits}/${length}/${counter}`).toBe(theirs);
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(3 * 3 * 6 * 7);
  });

  it('otplib refuses 10-byte and 100-byte seeds with its default guardrails (why they are overridden)', () => {
    expect(() => generateSync({ strategy: 'hotp', secret: new Uint8Array(10), counter: 0, crypto })).toThrow(/at least 16/i);
    expect(() => generateSync({ strategy: 'hotp', secret: new Uint8Array(100), counter: 0, crypto })).toThrow(/exceed 64/i);
    expect(hotpCode(Buffer.alloc(10), 'sha1', 0, 6)).toMatch(/^\d{6}$/);
  });
});

describe('SubmittedCode', () => {
  it('compares digit strings exactly, with leading zeros', () => {
    const code = new SubmittedCode('007081');
    expect(code.digitsOnly).toBe(true);
    expect(code.matches(7081, 6)).toBe(true);
    expect(code.matches(7081, 8)).toBe(false);
    expect(code.matches(7082, 6)).toBe(false);
    expect(new SubmittedCode('07081').matches(7081, 6)).toBe(false);
  });

  it('flags anything but ASCII digits', () => {
    for (const bad of ['12345a', ' 123456', '123 456', '１２３４５６', '-12345', '1e5']) expect(new SubmittedCode(bad).digitsOnly, bad).toBe(false);
  });
});

describe('OtpCache', () => {
  it('returns the same values as hotpValue, across slot reuse and counters beyond 2^32, and never prints them', async () => {
    const { OtpCache } = await import('../../src/shim/otp-cache.js');
    const { hotpValue } = await import('../../src/shim/otp.js');
    const { token } = await import('./helpers.js');
    const t = token({ serial: 'C', secret: RFC_SEED_SHA256, algorithm: 'sha256', digits: 8, type: 'hotp' });
    const cache = new OtpCache(21);
    for (const base of [0, 5, 31, 2 ** 32 - 3, 2 ** 40]) {
      for (let c = base; c < base + 40; c++) {
        expect(cache.value(t, c), String(c)).toBe(hotpValue(RFC_SEED_SHA256, 'sha256', c, 8));
        expect(cache.value(t, c)).toBe(hotpValue(RFC_SEED_SHA256, 'sha256', c, 8));
      }
    }
    expect(JSON.stringify({ cache })).not.toMatch(/\d{6}/);
    expect((await import('node:util')).inspect(cache)).toBe('[otp values redacted]');
  });
});
