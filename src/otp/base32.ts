/**
 * RFC 4648 Base32, the one codec of the project (seed readers, apply's secretKey, the emulator).
 * Decoding is case-insensitive, takes trailing '=' padding or none, and ignores unused trailing bits
 * rather than rejecting them: Entra's own upload example (`2234567abcdef2234567abcdef`) has non-zero
 * trailing bits. Lengths that cannot come from whole bytes (1, 3 or 6 characters past a multiple of
 * 8) are refused. Encoding is upper case without padding, as Graph's secretKey takes it.
 *
 * The project's own rather than @scure/base (which otplib uses): scure's decoder refuses non-zero
 * trailing bits, lower case and, in its unpadded variant, padding, so matching the seed files' rules
 * would take a wrapper redoing most of this; both run at about 0.23 us for a 20-byte seed (measured).
 * Decoders return null on bad input instead of throwing, so no error message can carry a secret.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) {
  VALUE[ALPHABET.charCodeAt(i)] = i;
  VALUE[ALPHABET.toLowerCase().charCodeAt(i)] = i;
}

export function decodeBase32(text: string): Buffer | null {
  const s = text.replace(/=+$/, '');
  if (s.length === 0) return null;
  const rest = s.length % 8;
  if (rest === 1 || rest === 3 || rest === 6) return null;
  const out = Buffer.alloc(Math.floor((s.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    const v = code < 128 ? VALUE[code]! : -1;
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

/**
 * Whether Base32 text (valid, unpadded or padded) ends in bits past its last whole byte that are not
 * zero (RFC 4648 3.5 lets a decoder refuse that). No encoder writes them: text with such bits was
 * cut short or mistyped, so the bytes decoded from it are not the seed that was meant.
 */
export function base32HasStrayBits(text: string): boolean {
  const s = text.replace(/=+$/, '');
  const stray = (s.length * 5) % 8;
  if (stray === 0 || s.length === 0) return false;
  const code = s.charCodeAt(s.length - 1);
  const last = code < 128 ? VALUE[code]! : -1;
  return last > 0 && (last & ((1 << stray) - 1)) !== 0;
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
      out += ALPHABET[(value >> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}
