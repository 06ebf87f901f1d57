import type { OathSeed } from './export-data.js';

/**
 * What Entra's hardware OATH tokens accept: TOTP, 6 digits (no check digit), 30 or 60 seconds,
 * HMAC-SHA1 or HMAC-SHA256, a Base32 secret of at most 128 characters (80 bytes).
 */
export type EntraTokenFit =
  | { ok: true; hashFunction: 'hmacsha1' | 'hmacsha256'; timeIntervalInSeconds: 30 | 60 }
  | { ok: false; code: 'hotp-unsupported' | 'token-unsupported'; reason: string; checkDigit?: true };

export const ENTRA_MAX_SECRET_BYTES = 80;

export function entraTokenFit(seed: Pick<OathSeed, 'type' | 'digits' | 'period' | 'algorithm' | 'secret' | 'checkDigit'>): EntraTokenFit {
  // Entra computes the plain code: the digit the device adds would make every code wrong.
  const checkDigit = seed.checkDigit === true ? `a Luhn check digit after each code (the device shows ${seed.digits + 1} digits; Entra takes the code alone)` : undefined;
  if (seed.type === 'hotp') return { ok: false, code: 'hotp-unsupported', reason: `HOTP (counter-based) tokens are not supported by Entra${checkDigit ? `; this one also adds ${checkDigit}` : ''}` };
  const reasons: string[] = [];
  if (checkDigit) reasons.push(checkDigit);
  if (seed.digits !== 6) reasons.push(`${seed.digits} digits (Entra takes 6)`);
  if (seed.period !== 30 && seed.period !== 60) reasons.push(`a ${seed.period ?? '?'} s period (Entra takes 30 or 60)`);
  if (seed.algorithm !== 'sha1' && seed.algorithm !== 'sha256') reasons.push(`${seed.algorithm.toUpperCase()} (Entra takes SHA-1 or SHA-256)`);
  if (seed.secret.length > ENTRA_MAX_SECRET_BYTES) reasons.push(`a ${seed.secret.length}-byte secret (Entra takes at most 128 Base32 characters)`);
  if (reasons.length > 0) return { ok: false, code: 'token-unsupported', reason: `Entra cannot take this token: ${reasons.join(', ')}`, ...(seed.checkDigit === true ? { checkDigit: true as const } : {}) };
  return {
    ok: true,
    hashFunction: seed.algorithm === 'sha256' ? 'hmacsha256' : 'hmacsha1',
    timeIntervalInSeconds: seed.period as 30 | 60,
  };
}
