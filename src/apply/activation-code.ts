import type { Secret } from '../model/secret.js';
import { totpCode } from '../otp/totp.js';

/** A code must not expire on its way to Graph: this much of the time step must remain when sent. */
export const ACTIVATION_MARGIN_SECONDS = 5;

export type ActivationTiming = { code: string } | { waitMs: number };

/**
 * The current TOTP of a token's seed for Graph's activate call (src/otp). Near the end of a time
 * step it asks the caller to wait for the next step instead, so a code is never sent that expires
 * in flight.
 */
export function activationCode(secret: Secret, period: 30 | 60, hashFunction: 'hmacsha1' | 'hmacsha256', nowMs = Date.now()): ActivationTiming {
  const intoStep = (nowMs / 1000) % period;
  const left = period - intoStep;
  if (left < ACTIVATION_MARGIN_SECONDS) return { waitMs: Math.ceil(left * 1000) + 50 };
  return { code: totpCode(secret.reveal(), hashFunction === 'hmacsha256' ? 'sha256' : 'sha1', 6, period, nowMs) };
}
