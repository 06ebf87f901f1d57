const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) {
  VALUES[ALPHABET.charCodeAt(i)] = i;
  VALUES[ALPHABET.toLowerCase().charCodeAt(i)] = i;
}

/**
 * Decodes RFC 4648 Base32 as seed files write it: case-insensitive, spaces and dashes between
 * groups allowed, `=` padding optional. Returns undefined for anything else (never throws, never
 * echoes the input: it is a secret).
 */
export function decodeBase32(text: string): Buffer | undefined {
  const clean = text.replace(/[\s-]+/g, '').replace(/=+$/, '');
  if (clean.length === 0) return undefined;
  // Lengths 1, 3 and 6 (mod 8) cannot come from whole bytes.
  const rem = clean.length % 8;
  if (rem === 1 || rem === 3 || rem === 6) return undefined;
  const out = Buffer.allocUnsafe(Math.floor((clean.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const code = clean.charCodeAt(i);
    const v = code < 128 ? VALUES[code]! : -1;
    if (v < 0) return undefined;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >>> bits) & 0xff;
    }
  }
  return out;
}

export function encodeBase32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >>> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}
