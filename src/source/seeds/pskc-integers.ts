import { decodeBase64Binary } from './secret-encoding.js';

/**
 * PSKC integers (Counter, Time, TimeInterval, TimeDrift) as files write them. RFC 6030's PlainValue
 * is decimal; the drafts and some vendors Base64-encode the number, either its decimal digits or
 * its big-endian bytes; an encrypted integer decrypts to digits or to big-endian bytes (python-pskc
 * and vendors write 8; negative drifts as two's complement). python-pskc reads them the same way.
 *
 * The Base64 must be whole (base64Binary, padded): text that is neither a number nor Base64 as an
 * encoder writes it ("n/a", "60s", "abc", "1e3", each valid unpadded Base64 of two bytes) is refused,
 * as python-pskc refuses it, rather than read as a made-up number (a black-box test saw "60s" become
 * a 60235 s period).
 */

const DECIMAL = /^[+-]?\d{1,20}$/;
const MAX_BIG_ENDIAN_BYTES = 8;

/** A PlainValue (or a draft's plain Value): decimal, else Base64 of digits or big-endian bytes; null if neither. */
export function plainInteger(text: string, signed: boolean): bigint | null {
  const s = text.trim();
  if (DECIMAL.test(s)) return BigInt(s);
  const bytes = decodeBase64Binary(s);
  return bytes === null ? null : binaryInteger(bytes, signed);
}

/** Bytes that hold an integer: ASCII digits, else big-endian (two's complement when signed); null if neither. */
export function binaryInteger(bytes: Uint8Array, signed: boolean): bigint | null {
  if (bytes.length === 0) return null;
  if (isDigits(bytes, signed)) return BigInt(Buffer.from(bytes).toString('latin1'));
  if (bytes.length > MAX_BIG_ENDIAN_BYTES) return null;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (signed && (bytes[0]! & 0x80) !== 0) v -= 1n << BigInt(bytes.length * 8);
  return v;
}

function isDigits(bytes: Uint8Array, signed: boolean): boolean {
  if (bytes.length > 20) return false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x30 && b <= 0x39) continue;
    if (signed && i === 0 && b === 0x2d && bytes.length > 1) continue; // '-'
    return false;
  }
  return true;
}
