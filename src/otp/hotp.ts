import { createHmac } from 'node:crypto';
import type { OathAlgorithm } from '../model/export-data.js';
import { HmacKey } from '../model/hmac-key.js';

/**
 * RFC 4226 HOTP on node:crypto: the one OTP implementation of the project (the shim's verification
 * hot path, apply's activation codes and the emulator all use it; TOTP is in totp.ts).
 *
 * Why not otplib's generate/verify: otplib 13 re-validates and re-normalises its options on every
 * call (about twice the cost of the HMAC itself, measured), its guardrails reject Microsoft's 10-byte
 * seeds unless overridden, and its verify() cannot tell a replayed code from a wrong one. otplib stays
 * the independent oracle of the tests (test/otp/otp.test.ts).
 */

/** Code lengths of OATH tokens: RFC 4226 requires at least 6; 9 is the most whose codes are all equally likely (10^9 < 2^31). */
export const MIN_DIGITS = 6;
export const MAX_DIGITS = 9;

/** RFC 4226's counter is 8 bytes: 0 to 2^64 - 1. */
export const MAX_COUNTER = 2n ** 64n - 1n;

/** The largest counter a JavaScript number holds exactly (2^53 - 1): up to it a counter can be a number. */
export const MAX_EXACT_COUNTER = BigInt(Number.MAX_SAFE_INTEGER);

const POWERS_OF_TEN = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

// One message buffer: the HMAC consumes it within the call, which is synchronous.
const message = Buffer.alloc(8);

/**
 * The HOTP value (the code as a number) of `key` at `counter`, with `digits` digits. A counter is a
 * number (a safe integer: the shim's counters and time steps; no BigInt on the hot path) or a bigint
 * (up to 2^64 - 1); anything else is a RangeError, never a silently rounded counter.
 */
export function hotpValue(key: Uint8Array, algorithm: OathAlgorithm, counter: number | bigint, digits: number): number {
  if (typeof counter === 'number') {
    if (!(Number.isSafeInteger(counter) && counter >= 0)) throw new RangeError(`HOTP counter ${counter} is not a whole number from 0 to 2^53 - 1 (use a bigint beyond)`);
    // Big-endian, as two 32-bit halves (a number cannot be written as one 64-bit integer without BigInt).
    message.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), 0);
    message.writeUInt32BE(counter >>> 0, 4);
  } else {
    if (counter < 0n || counter > MAX_COUNTER) throw new RangeError(`HOTP counter ${counter} is outside 0 to 2^64 - 1`);
    message.writeBigUInt64BE(counter, 0);
  }
  const modulus = POWERS_OF_TEN[digits];
  if (modulus === undefined || digits < 1) throw new RangeError(`HOTP code length ${digits} is outside 1 to ${POWERS_OF_TEN.length - 1}`);
  const mac = createHmac(algorithm, key).update(message).digest();
  // Dynamic truncation (RFC 4226 5.3): 31 bits at the offset the last nibble names.
  const offset = mac[mac.length - 1]! & 0x0f;
  return (mac.readUInt32BE(offset) & 0x7fff_ffff) % modulus;
}

/** The code as the user types it: `digits` decimal digits with leading zeros. */
export function hotpCode(key: Uint8Array, algorithm: OathAlgorithm, counter: number | bigint, digits: number): string {
  return String(hotpValue(key, algorithm, counter, digits)).padStart(digits, '0');
}

/** An HMAC key for hotpValueOf: the seed's padded blocks computed once (model/hmac-key.ts). As secret as the seed. */
export function hotpKey(key: Uint8Array, algorithm: OathAlgorithm): HmacKey {
  return new HmacKey(algorithm, key, 8);
}

/**
 * hotpValue for a key from hotpKey and a counter that is a safe integer: the same value at about a
 * third of the cost (no Hmac object, no digest Buffer), for the shim's verification hot path.
 */
export function hotpValueOf(key: HmacKey, counter: number, digits: number): number {
  if (!(Number.isSafeInteger(counter) && counter >= 0)) throw new RangeError(`HOTP counter ${counter} is not a whole number from 0 to 2^53 - 1`);
  const modulus = POWERS_OF_TEN[digits];
  if (modulus === undefined || digits < 1) throw new RangeError(`HOTP code length ${digits} is outside 1 to ${POWERS_OF_TEN.length - 1}`);
  const m = key.message;
  m.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), 0);
  m.writeUInt32BE(counter >>> 0, 4);
  const mac = key.digest(8);
  // Dynamic truncation (RFC 4226 5.3) on the digest's latin1 string: one char a byte.
  const offset = mac.charCodeAt(mac.length - 1) & 0x0f;
  const bits = ((mac.charCodeAt(offset) & 0x7f) << 24) | (mac.charCodeAt(offset + 1) << 16) | (mac.charCodeAt(offset + 2) << 8) | mac.charCodeAt(offset + 3);
  return bits % modulus;
}
