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

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const WHITESPACE = /\s+/g;

/** Base64 as XML Schema's base64Binary (whitespace allowed anywhere); null when malformed. */
export function decodeBase64(text: string): Buffer | null {
  const s = text.includes(' ') || text.includes('\n') || text.includes('\t') || text.includes('\r') ? text.replace(WHITESPACE, '') : text;
  if (s.length % 4 === 1 || !BASE64.test(s)) return null;
  return Buffer.from(s, 'base64');
}
