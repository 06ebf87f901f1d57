/**
 * Text encodings of OATH seeds (Base32, hex). Decoders return null on bad input instead of throwing,
 * so that no error message can ever carry the seed: callers report the file, line and field only.
 */

export type SecretEncoding = 'base32' | 'hex';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE32_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE32_ALPHABET.length; i++) {
  BASE32_VALUE[BASE32_ALPHABET.charCodeAt(i)] = i;
  BASE32_VALUE[BASE32_ALPHABET.toLowerCase().charCodeAt(i)] = i;
}

// Whitespace and '-' are grouping characters some vendors print seeds with ("JBSW Y3DP ...").
const GROUPING = /[\s-]+/g;
const HEX = /^[0-9a-fA-F]*$/;

/**
 * RFC 4648 Base32, case-insensitive, padding optional. Unused trailing bits are ignored rather than
 * rejected: Entra's own upload example (`2234567abcdef2234567abcdef`) has non-zero trailing bits.
 * Lengths that cannot come from whole bytes (1, 3 or 6 characters past a multiple of 8) are refused.
 */
export function decodeBase32(text: string): Buffer | null {
  const s = text.replace(GROUPING, '').replace(/=+$/, '');
  if (s.length === 0) return null;
  const rest = s.length % 8;
  if (rest === 1 || rest === 3 || rest === 6) return null;
  const out = Buffer.alloc(Math.floor((s.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    const v = code < 128 ? BASE32_VALUE[code]! : -1;
    if (v < 0) return null;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

export function encodeBase32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(value >> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Hex, case-insensitive, optional `0x` prefix and grouping whitespace; odd length is refused. */
export function decodeHex(text: string): Buffer | null {
  let s = text.replace(GROUPING, '');
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
  let s = text.replace(GROUPING, '');
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
