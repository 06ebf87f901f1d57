import type { OathAlgorithm } from '../model/export-data.js';
import { hotpCode, hotpValue } from './hotp.js';
import { SubmittedCode } from './submitted-code.js';

/** RFC 6238: the time step of an instant is floor((Unix seconds - T0) / period), T0 = 0; HOTP of that step is the code. */
export function totpStep(nowMs: number, period: number): number {
  return Math.floor(Math.floor(nowMs / 1000) / period);
}

/** The TOTP code of `key` at `nowMs`. */
export function totpCode(key: Uint8Array, algorithm: OathAlgorithm, digits: number, period: number, nowMs: number): string {
  return hotpCode(key, algorithm, totpStep(nowMs, period), digits);
}

/**
 * True when `code` is the TOTP of `key` at the step of `nowMs` or up to `window` steps either side.
 * Each candidate is compared in constant time (SubmittedCode).
 */
export function totpMatches(key: Uint8Array, algorithm: OathAlgorithm, code: string, digits: number, period: number, nowMs: number, window: number): boolean {
  const submitted = new SubmittedCode(code);
  if (!submitted.digitsOnly || submitted.length !== digits) return false;
  const step = totpStep(nowMs, period);
  let matched = false;
  for (let s = Math.max(0, step - window); s <= step + window; s++) {
    // No early exit: every candidate of the window costs the same.
    if (submitted.matches(hotpValue(key, algorithm, s, digits), digits)) matched = true;
  }
  return matched;
}
