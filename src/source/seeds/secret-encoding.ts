/**
 * Text encodings of OATH seeds (Base32, hex). Decoders return null on bad input instead of throwing,
 * so that no error message can ever carry the seed: callers report the file, line and field only.
 */

import { base32HasStrayBits, decodeBase32 as decodeBase32Text, encodeBase32 } from '../../otp/base32.js';

export type SecretEncoding = 'base32' | 'hex';

// Whitespace and '-' are grouping characters some vendors print seeds with ("JBSW Y3DP ...");
// hex is also printed in colon-separated bytes ("ab:cd:ef", as openssl and Wireshark write it).
const GROUPING = /[\s-]+/g;
const HEX_GROUPING = /[\s:-]+/g;
const HEX = /^[0-9a-fA-F]*$/;

/** RFC 4648 Base32 (src/otp/base32.ts), with the grouping characters vendors print seeds with removed first. */
export function decodeBase32(text: string): Buffer | null {
  return decodeBase32Text(text.replace(GROUPING, ''));
}

export { encodeBase32 };

/** A valid Base32 seed whose last character carries bits past the last byte that are not zero (base32HasStrayBits). */
export function base32StrayBits(text: string): boolean {
  return base32HasStrayBits(text.replace(GROUPING, ''));
}

/** The warning's words for such a seed (never the value). */
export const STRAY_BITS_MESSAGE = 'ends in bits past its last whole byte that are not zero, which no Base32 encoder writes: it may be cut short or mistyped, and the codes of a wrong seed never match; check it against the vendor\'s file';

/** Hex, case-insensitive, optional `0x` prefix and grouping (whitespace, `-`, `:`); odd length is refused. */
export function decodeHex(text: string): Buffer | null {
  let s = text.replace(HEX_GROUPING, '');
  if (s.startsWith('0x') || s.startsWith('0X')) s = s.slice(2);
  if (s.length === 0 || s.length % 2 !== 0 || !HEX.test(s)) return null;
  return Buffer.from(s, 'hex');
}

/**
 * The encoding of a seed whose file does not say: hex when it is made only of hex digits and has an
 * even length, Base32 otherwise. Hex seed files are the norm for vendor CSVs (privacyIDEA, LinOTP),
 * and a real Base32 seed almost always contains a letter beyond F, so the rule rarely misfires; an
 * `encoding` column removes the guess.
 */
export function guessSecretEncoding(text: string): SecretEncoding {
  let s = text.replace(HEX_GROUPING, '');
  if (s.startsWith('0x') || s.startsWith('0X')) s = s.slice(2);
  return s.length > 0 && s.length % 2 === 0 && HEX.test(s) ? 'hex' : 'base32';
}

export function decodeSecret(text: string, encoding: SecretEncoding): Buffer | null {
  return encoding === 'hex' ? decodeHex(text) : decodeBase32(text);
}

/** 1 for the 64 Base64 characters, 2 for whitespace, 0 otherwise (indexed by char code < 128). */
const BASE64_CLASS = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_CLASS[c.charCodeAt(0)] = 1;
for (const c of ' \t\r\n') BASE64_CLASS[c.charCodeAt(0)] = 2;

/**
 * Base64 as XML Schema's base64Binary (whitespace allowed anywhere, up to two '=' at the end);
 * null when malformed. A hand loop: this runs once per PSKC value, 100k+ times per file.
 */
export function decodeBase64(text: string): Buffer | null {
  let chars = 0;
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const cls = code < 128 ? BASE64_CLASS[code]! : 0;
    if (cls === 2) continue;
    if (code === 61 /* = */) {
      if (++padding > 2) return null;
    } else if (cls !== 1 || padding > 0) {
      return null;
    }
    chars++;
  }
  if (chars % 4 === 1) return null;
  return Buffer.from(text, 'base64');
}

/** Whole groups of four, the last maybe padded (whitespace removed). */
const BASE64_BINARY = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Base64 as XML Schema's base64Binary and Python's b64decode want it: whole groups of four characters
 * (whitespace anywhere), padding only to end the last. Used where lax Base64 would turn words into
 * numbers: "n/a", "60s" and "1e3" are each valid unpadded Base64 of two bytes (python-pskc refuses
 * them: its b64decode wants the padding). Bits past the last byte are not checked, as Python does not.
 */
export function decodeBase64Binary(text: string): Buffer | null {
  const s = text.replace(/\s+/g, '');
  if (s.length === 0 || !BASE64_BINARY.test(s)) return null;
  return Buffer.from(s, 'base64');
}
