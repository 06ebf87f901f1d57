import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createGuardrails, generateSync, verifySync } from 'otplib';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { activationCode } from '../../src/apply/activation-code.js';
import { verifyTotp } from '../../src/emulator/oath-secret.js';
import type { OathAlgorithm } from '../../src/model/export-data.js';
import { Secret } from '../../src/model/secret.js';
import { hotpCode, hotpValue, MAX_COUNTER } from '../../src/otp/hotp.js';
import { SubmittedCode } from '../../src/otp/submitted-code.js';
import { totpCode, totpMatches, totpStep } from '../../src/otp/totp.js';
import { RFC_SEED_SHA1, RFC_SEED_SHA256, RFC_SEED_SHA512 } from '../shim/helpers.js';

// otplib 13 with node:crypto is the independent oracle.
const crypto = new NodeCryptoPlugin();
// Microsoft's 10-byte seeds are below otplib's MIN_SECRET_BYTES (16): lower it, as otplib #850 advises.
// otplib 13.5 also caps seeds at 64 bytes (MAX_SECRET_BYTES); HMAC takes any key length, so lift that too.
const guardrails = createGuardrails({ MIN_SECRET_BYTES: 1, MAX_SECRET_BYTES: 1024 });
const ALGORITHMS = ['sha1', 'sha256', 'sha512'] as const;

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

/**
 * RFC 4226 written out independently of src/otp: the counter as 16 hex digits, the truncation
 * with byte arithmetic and BigInt, so it holds for any counter up to 2^64 - 1.
 */
function referenceHotp(key: Uint8Array, algorithm: OathAlgorithm, counter: bigint, digits: number): string {
  const mac = createHmac(algorithm, key).update(Buffer.from(counter.toString(16).padStart(16, '0'), 'hex')).digest();
  const offset = mac[mac.length - 1]! % 16;
  const binary = ((BigInt(mac[offset]! & 0x7f) << 24n) | (BigInt(mac[offset + 1]!) << 16n) | (BigInt(mac[offset + 2]!) << 8n) | BigInt(mac[offset + 3]!)) % 10n ** BigInt(digits);
  return binary.toString().padStart(digits, '0');
}

describe('HOTP (RFC 4226 Appendix D)', () => {
  it.each(HOTP_VECTORS.map((code, counter) => [counter, code] as const))('counter %i gives %s, as otplib does', (counter, code) => {
    expect(hotpCode(RFC_SEED_SHA1, 'sha1', counter, 6)).toBe(code);
    expect(hotpCode(RFC_SEED_SHA1, 'sha1', BigInt(counter), 6)).toBe(code);
    expect(generateSync({ strategy: 'hotp', secret: new Uint8Array(RFC_SEED_SHA1), counter, digits: 6, crypto, guardrails })).toBe(code);
  });
});

describe('TOTP (RFC 6238 Appendix B)', () => {
  for (const [time, sha1, sha256, sha512] of TOTP_TABLE) {
    const expected: Record<OathAlgorithm, string> = { sha1, sha256, sha512 };
    for (const algorithm of ALGORITHMS) {
      it(`${algorithm} at ${time} s gives ${expected[algorithm]}, as otplib's TOTP does`, () => {
        expect(totpCode(SEEDS[algorithm], algorithm, 8, 30, time * 1000)).toBe(expected[algorithm]);
        expect(hotpCode(SEEDS[algorithm], algorithm, Math.floor(time / 30), 8)).toBe(expected[algorithm]);
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
  it('HOTP: every algorithm, 6-8 digits, 10- to 100-byte seeds, counters up to 2^53 - 1, as numbers and bigints', () => {
    let compared = 0;
    for (const algorithm of ALGORITHMS) {
      for (const digits of [6, 7, 8] as const) {
        for (const length of [10, 16, 20, 32, 64, 100]) {
          const secret = randomBytes(length);
          for (const counter of [0, 1, 2 ** 31 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 40 + 3, Math.floor(Math.random() * 2 ** 50), Number.MAX_SAFE_INTEGER]) {
            const theirs = generateSync({ strategy: 'hotp', secret: new Uint8Array(secret), counter, algorithm, digits, crypto, guardrails });
            expect(hotpCode(secret, algorithm, counter, digits), `${algorithm}/${digits}/${length}/${counter}`).toBe(theirs);
            expect(hotpCode(secret, algorithm, BigInt(counter), digits)).toBe(theirs);
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(3 * 3 * 6 * 8);
  });

  it('TOTP: random instants (ms), 30 and 60 s periods', () => {
    for (let i = 0; i < 200; i++) {
      const algorithm = ALGORITHMS[i % 3]!;
      const period = i % 2 ? 60 : 30;
      const nowMs = randomInt(0, 2 ** 47);
      const secret = randomBytes(10 + (i % 40));
      const theirs = generateSync({ secret: new Uint8Array(secret), algorithm, digits: 6, period, epoch: Math.floor(nowMs / 1000), crypto, guardrails });
      expect(totpCode(secret, algorithm, 6, period, nowMs), `${algorithm}/${period}/${nowMs}`).toBe(theirs);
      expect(totpStep(nowMs, period)).toBe(Math.floor(nowMs / 1000 / period));
    }
  });

  it('otplib refuses 10-byte and 100-byte seeds with its default guardrails (why they are overridden)', () => {
    expect(() => generateSync({ strategy: 'hotp', secret: new Uint8Array(10), counter: 0, crypto })).toThrow(/at least 16/i);
    expect(() => generateSync({ strategy: 'hotp', secret: new Uint8Array(100), counter: 0, crypto })).toThrow(/exceed 64/i);
    expect(hotpCode(Buffer.alloc(10), 'sha1', 0, 6)).toMatch(/^\d{6}$/);
  });
});

describe('counters beyond 2^53 (RFC 4226: 8 bytes)', () => {
  it('agrees with an independent RFC 4226 computation near 2^53, 2^63 and 2^64 - 1', () => {
    const counters = [2n ** 53n - 2n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, MAX_COUNTER - 1n, MAX_COUNTER];
    for (let i = 0; i < 50; i++) counters.push(BigInt(`0x${randomBytes(8).toString('hex')}`));
    for (const algorithm of ALGORITHMS) {
      const secret = randomBytes(20);
      for (const counter of counters) {
        for (const digits of [6, 8, 9]) expect(hotpCode(secret, algorithm, counter, digits), `${algorithm}/${counter}/${digits}`).toBe(referenceHotp(secret, algorithm, counter, digits));
      }
    }
    // The reference is itself right: it reproduces RFC 4226's vectors.
    HOTP_VECTORS.forEach((code, c) => expect(referenceHotp(RFC_SEED_SHA1, 'sha1', BigInt(c), 6)).toBe(code));
  });

  it('2^53 - 1 as a number and as a bigint give the same code; 2^53 and 2^53 + 1 (which a number cannot tell apart) differ as bigints', () => {
    expect(hotpCode(RFC_SEED_SHA1, 'sha1', Number.MAX_SAFE_INTEGER, 8)).toBe(hotpCode(RFC_SEED_SHA1, 'sha1', 2n ** 53n - 1n, 8));
    expect(hotpCode(RFC_SEED_SHA1, 'sha1', 2n ** 53n, 8)).not.toBe(hotpCode(RFC_SEED_SHA1, 'sha1', 2n ** 53n + 1n, 8));
  });

  it('refuses counters it cannot represent exactly, and code lengths it has no modulus for, instead of rounding', () => {
    for (const bad of [2 ** 53, -1, 1.5, Number.NaN, Infinity]) expect(() => hotpValue(RFC_SEED_SHA1, 'sha1', bad, 6), String(bad)).toThrow(RangeError);
    for (const bad of [-1n, MAX_COUNTER + 1n]) expect(() => hotpValue(RFC_SEED_SHA1, 'sha1', bad, 6), String(bad)).toThrow(RangeError);
    for (const bad of [0, 10, 1.5]) expect(() => hotpValue(RFC_SEED_SHA1, 'sha1', 0, bad), String(bad)).toThrow(RangeError);
  });
});

describe('totpMatches (the emulator\'s activation check)', () => {
  it('accepts the code of the current step and one step either side, as otplib with a one-period tolerance does; nothing further', () => {
    const secret = randomBytes(20);
    const nowMs = 1_700_000_012_345;
    const step = totpStep(nowMs, 30);
    for (let delta = -3; delta <= 3; delta++) {
      const code = hotpCode(secret, 'sha256', step + delta, 6);
      const ours = totpMatches(secret, 'sha256', code, 6, 30, nowMs, 1);
      const theirs = verifySync({ secret: new Uint8Array(secret), token: code, algorithm: 'sha256', digits: 6, period: 30, epoch: Math.floor(nowMs / 1000), epochTolerance: 30, crypto, guardrails }).valid;
      expect(ours, `delta ${delta}`).toBe(Math.abs(delta) <= 1);
      expect(ours, `delta ${delta}`).toBe(theirs);
    }
    const code = hotpCode(secret, 'sha256', step, 6);
    for (const bad of [code.slice(1), `${code}0`, ` ${code.slice(1)}`, '１２３４５６']) expect(totpMatches(secret, 'sha256', bad, 6, 30, nowMs, 1), bad).toBe(false);
  });
});

describe('the callers give what otplib gave them before', () => {
  it('activation codes (apply) and verifyTotp (emulator), for random seeds, instants and both hash functions', () => {
    for (let i = 0; i < 100; i++) {
      const bytes = randomBytes(10 + (i % 30));
      const period = i % 2 ? 60 : 30;
      const hash = i % 3 ? 'hmacsha1' : 'hmacsha256';
      const algorithm = hash === 'hmacsha256' ? 'sha256' : 'sha1';
      const nowMs = 1_600_000_000_000 + randomInt(0, 2 ** 40);
      const expected = generateSync({ secret: new Uint8Array(bytes), algorithm, digits: 6, period, epoch: Math.floor(nowMs / 1000), crypto, guardrails });
      const timing = activationCode(new Secret(bytes), period, hash, nowMs);
      if ('code' in timing) expect(timing.code).toBe(expected);
      expect(verifyTotp(new Secret(bytes), expected, period, hash, nowMs)).toBe(true);
      const wrong = String((Number(expected) + 1) % 1_000_000).padStart(6, '0');
      const theirs = verifySync({ secret: new Uint8Array(bytes), token: wrong, algorithm, digits: 6, period, epoch: Math.floor(nowMs / 1000), epochTolerance: period, crypto, guardrails }).valid;
      expect(verifyTotp(new Secret(bytes), wrong, period, hash, nowMs)).toBe(theirs);
    }
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
