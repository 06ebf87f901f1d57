import type { OathAlgorithm, OathType } from '../../model/export-data.js';

/**
 * Parsers for the OATH parameters seed files spell in many ways. Each returns null when the text is
 * not a valid value, so callers can report the file, line and field.
 */

/** "sha256", "SHA-256", "HMAC-SHA256", "hmacsha256", "SHA256" -> sha256. Other hashes -> null. */
export function parseOathAlgorithm(text: string): OathAlgorithm | null {
  const s = text.trim().toLowerCase().replace(/[^a-z0-9]/g, '').replace(/^hmac/, '');
  if (s === 'sha1') return 'sha1';
  if (s === 'sha256') return 'sha256';
  if (s === 'sha512') return 'sha512';
  return null;
}

/** "totp", "TOTP", "oath-totp" -> totp; likewise hotp. */
export function parseOathType(text: string): OathType | null {
  const s = text.trim().toLowerCase().replace(/^oath[-_ ]?/, '');
  if (s === 'totp') return 'totp';
  if (s === 'hotp') return 'hotp';
  return null;
}

const INTEGER = /^[+-]?\d+$/;

/** A whole number written in decimal, within [min, max]; null otherwise. */
export function parseInteger(text: string, min: number, max: number): number | null {
  const s = text.trim();
  if (!INTEGER.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

/** RFC 4226's counter is 8 bytes: 0 to 2^64 - 1 (RFC 6030 types `Counter` as xs:unsignedLong). */
export const COUNTER_MAX = (1n << 64n) - 1n;

/** A HOTP counter written in decimal, 0 to 2^64 - 1, exact; null otherwise. */
export function parseCounter(text: string): bigint | null {
  const s = text.trim();
  if (!/^\+?\d{1,20}$/.test(s)) return null;
  const n = BigInt(s);
  return n <= COUNTER_MAX ? n : null;
}

/** OTP lengths a device can show. RFC 4226 requires at least 6; 10 is the longest any profile allows. */
export const DIGITS_MIN = 6;
export const DIGITS_MAX = 10;
/**
 * Why a code length is refused: the range, and the value when it is a short number (a longer cell
 * is not shown, since it may be a secret in the wrong column).
 */
export function digitsMessage(what: string, text: string): string {
  const value = text.trim();
  if (!/^[+-]?\d{1,3}$/.test(value)) return `${what} must be a whole number from ${DIGITS_MIN} to ${DIGITS_MAX}`;
  const short = Number(value) < DIGITS_MIN ? ' (RFC 4226 asks for 6 or more)' : '';
  return `${what} must be a whole number from ${DIGITS_MIN} to ${DIGITS_MAX}, not ${value}${short}`;
}

/** Longest accepted TOTP time step. Vendor PSKC samples carry steps up to 48 h; beyond a week is taken as a broken value. */
export const PERIOD_MAX = 7 * 24 * 3600;
