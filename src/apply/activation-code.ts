import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { createGuardrails, generateSync } from 'otplib';
import type { Secret } from '../model/secret.js';

const crypto = new NodeCryptoPlugin();
// Microsoft's seeds are 10 bytes and Entra takes up to 80: below and above otplib's defaults.
const guardrails = createGuardrails({ MIN_SECRET_BYTES: 1, MAX_SECRET_BYTES: 128 });

/** A code must not expire on its way to Graph: this much of the time step must remain when sent. */
export const ACTIVATION_MARGIN_SECONDS = 5;

export type ActivationTiming = { code: string } | { waitMs: number };

/**
 * The current TOTP of a token's seed for Graph's activate call, computed with otplib (node
 * crypto). Near the end of a time step it asks the caller to wait for the next step instead, so a
 * code is never sent that expires in flight.
 */
export function activationCode(secret: Secret, period: 30 | 60, hashFunction: 'hmacsha1' | 'hmacsha256', nowMs = Date.now()): ActivationTiming {
  const intoStep = (nowMs / 1000) % period;
  const left = period - intoStep;
  if (left < ACTIVATION_MARGIN_SECONDS) return { waitMs: Math.ceil(left * 1000) + 50 };
  const code = generateSync({
    secret: secret.reveal(),
    algorithm: hashFunction === 'hmacsha256' ? 'sha256' : 'sha1',
    digits: 6,
    period,
    epoch: Math.floor(nowMs / 1000),
    crypto,
    guardrails,
  });
  return { code };
}
