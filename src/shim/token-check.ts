import type { SubmittedCode } from '../otp/submitted-code.js';
import { totpStep } from '../otp/totp.js';
import { OtpCache } from './otp-cache.js';
import type { ShimRules } from './rules.js';
import type { ShimToken, TokenStatePatch } from './store-model.js';

/** What one token says about one code. `state` is the token's new state when the code is accepted. */
export type TokenCheck =
  | { outcome: 'accept'; state: TokenStatePatch }
  | { outcome: 'replayed' }
  | { outcome: 'wrong' };

/**
 * Checks a code against one token without changing it. The caller must have checked that the code
 * is all digits; a code of another length than the token's never matches (and costs no HMAC).
 */
export function checkToken(token: ShimToken, code: SubmittedCode, nowMs: number, rules: ShimRules): TokenCheck {
  if (code.length !== token.digits) return { outcome: 'wrong' };
  return token.type === 'hotp' ? checkHotp(token, code, rules) : checkTotp(token, code, nowMs, rules);
}

/**
 * HOTP (privacyIDEA semantics): try counter .. counter + lookAhead - 1; on a match at m the counter
 * becomes m + 1, so a used code can never match again. A code that matches one of the lookBehind
 * values just below the counter is reported as `replayed` (privacyIDEA's "previous otp used again").
 * Each comparison is constant-time. The search stops at a match, as privacyIDEA's and otplib's do:
 * the time then tells only how far ahead a correct code was; a wrong code always costs the whole window.
 */
function checkHotp(token: ShimToken, code: SubmittedCode, rules: ShimRules): TokenCheck {
  // The table spans the look-behind, the look-ahead and one window of progress.
  const cache = (token.otpCache ??= new OtpCache(rules.hotpLookBehind + 2 * rules.hotpLookAhead));
  const counter = token.counter ?? 0;
  for (let c = counter; c < counter + rules.hotpLookAhead; c++) {
    if (code.matches(cache.value(token, c), token.digits)) {
      return { outcome: 'accept', state: { counter: c + 1, lastStep: null, drift: 0 } };
    }
  }
  let replayed = false;
  for (let c = Math.max(0, counter - rules.hotpLookBehind); c < counter; c++) {
    if (code.matches(cache.value(token, c), token.digits)) replayed = true;
  }
  return replayed ? { outcome: 'replayed' } : { outcome: 'wrong' };
}

/**
 * TOTP (RFC 6238, T0 = 0): the expected step is the server's step plus the token's learned drift;
 * steps within `totpWindow` of it on either side are tried. A match at a step at or before the last
 * accepted step is `replayed`. On accept the matched step becomes the last step and the drift becomes
 * (matched step - server step), so a token whose clock wanders is followed (privacyIDEA's timeShift).
 */
function checkTotp(token: ShimToken, code: SubmittedCode, nowMs: number, rules: ShimRules): TokenCheck {
  const cache = (token.otpCache ??= new OtpCache(2 * (2 * rules.totpWindow + 1)));
  const period = token.period ?? 30;
  const serverStep = totpStep(nowMs, period);
  const center = serverStep + token.drift;
  let accepted = -1;
  let replayed = false;
  for (let step = center - rules.totpWindow; step <= center + rules.totpWindow; step++) {
    if (step < 0) continue;
    if (!code.matches(cache.value(token, step), token.digits)) continue;
    if (token.lastStep !== null && step <= token.lastStep) replayed = true;
    else {
      accepted = step;
      break;
    }
  }
  if (accepted >= 0) {
    return { outcome: 'accept', state: { counter: null, lastStep: accepted, drift: accepted - serverStep } };
  }
  return replayed ? { outcome: 'replayed' } : { outcome: 'wrong' };
}
