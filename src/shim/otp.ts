import { createHmac, timingSafeEqual } from 'node:crypto';
import type { OathAlgorithm } from '../model/export-data.js';

/**
 * RFC 4226 HOTP on node:crypto, used on the verification hot path. TOTP (RFC 6238) is HOTP with the
 * time step as the counter.
 *
 * Why not otplib's generate/verify here: otplib 13 re-validates and re-normalises its options on every
 * call (about twice the cost of the HMAC itself, measured), its guardrails reject Microsoft's 10-byte
 * seeds unless overridden, and its verify() cannot tell a replayed code from a wrong one (afterTimeStep
 * simply excludes old steps). test/shim/otp.test.ts proves this function equal to otplib 13 with
 * @otplib/plugin-crypto-node over the RFC vectors and randomised inputs.
 */
export function hotpValue(key: Buffer, algorithm: OathAlgorithm, counter: number, digits: number): number {
  const message = Buffer.allocUnsafe(8);
  // Counters are safe integers (< 2^53); write them as two 32-bit halves, big-endian.
  message.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), 0);
  message.writeUInt32BE(counter >>> 0, 4);
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fff_ffff;
  return binary % POWERS_OF_TEN[digits]!;
}

/** The code as the user types it: `digits` decimal digits with leading zeros. */
export function hotpCode(key: Buffer, algorithm: OathAlgorithm, counter: number, digits: number): string {
  return String(hotpValue(key, algorithm, counter, digits)).padStart(digits, '0');
}

const POWERS_OF_TEN = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/** Smallest and largest code length the shim accepts (RFC 4226 allows 6 to 9 digits; vendors use 6 to 8). */
export const MIN_DIGITS = 6;
export const MAX_DIGITS = 9;

/**
 * A submitted code prepared for comparison: its ASCII bytes, kept so every candidate is compared in
 * constant time against the same buffer. `digitsOnly` is false when anything but 0-9 was sent.
 */
export class SubmittedCode {
  readonly bytes: Buffer;
  readonly digitsOnly: boolean;
  readonly #candidate: Buffer;

  constructor(code: string) {
    this.bytes = Buffer.from(code, 'latin1');
    this.digitsOnly = /^[0-9]+$/.test(code);
    this.#candidate = Buffer.alloc(this.bytes.length);
  }

  get length(): number {
    return this.bytes.length;
  }

  /**
   * True when the code equals `value` written with `digits` digits. Constant time in the code's
   * content: the candidate is written into a same-length buffer and compared with timingSafeEqual.
   */
  matches(value: number, digits: number): boolean {
    if (digits !== this.bytes.length) return false;
    const candidate = this.#candidate;
    let v = value;
    for (let i = digits - 1; i >= 0; i--) {
      candidate[i] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
    return timingSafeEqual(candidate, this.bytes);
  }
}
