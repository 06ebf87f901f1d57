import { Secret } from '../model/secret.js';
import { decodeBase32 } from '../otp/base32.js';
import { totpMatches } from '../otp/totp.js';

export { encodeBase32 } from '../otp/base32.js';

/** Graph's rule for hardware token secrets: Base32 (a-z, A-Z, 2-7), at most 128 characters. */
export const SECRET_KEY_MAX_CHARS = 128;
const BASE32_RE = /^[A-Za-z2-7]+$/;

export type HashFunction = 'hmacsha1' | 'hmacsha256';

/** Decodes a Base32 secret key; returns a reason instead when Graph would refuse it. */
export function parseSecretKey(text: unknown): { secret: Secret } | { reason: string } {
  if (typeof text !== 'string' || text.length === 0) return { reason: 'secretKey is required and must be a Base32 string' };
  if (text.length > SECRET_KEY_MAX_CHARS) return { reason: `secretKey must be at most ${SECRET_KEY_MAX_CHARS} characters` };
  if (!BASE32_RE.test(text)) return { reason: 'secretKey must be Base32 (characters a-z, A-Z and 2-7)' };
  const bytes = decodeBase32(text);
  return bytes ? { secret: new Secret(bytes) } : { reason: 'secretKey is not valid Base32 (its length cannot encode whole bytes)' };
}

/**
 * True when `code` is the 6-digit TOTP of the seed now, or one time step either side (clock drift Entra
 * tolerates at activation).
 */
export function verifyTotp(secret: Secret, code: string, period: number, hash: HashFunction, nowMs = Date.now()): boolean {
  return totpMatches(secret.reveal(), hash === 'hmacsha256' ? 'sha256' : 'sha1', code, 6, period, nowMs, 1);
}
