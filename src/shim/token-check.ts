import type { SubmittedCode } from '../otp/submitted-code.js';
import { totpStep } from '../otp/totp.js';
import { OtpCache } from './otp-cache.js';
import type { ShimRules } from './rules.js';
import { MAX_COUNTER, MAX_EXACT_COUNTER } from '../otp/hotp.js';
import type { ShimToken, TokenState } from './store-model.js';

/**
 * What one token says about one code. `state` is the token's new state when the code is accepted;
 * `exact` marks a replay of the very code last accepted (not a failure: a client retrying, or the
 * same code sent twice at once).
 */
export type TokenCheck =
  | { outcome: 'accept'; state: TokenState }
  | { outcome: 'replayed'; exact: boolean }
  | { outcome: 'wrong' };

/** The length of the code the token shows: its digits, and the Luhn check digit it appends, if it does. */
function codeLength(token: ShimToken): number {
  return token.checkDigit === true ? token.digits + 1 : token.digits;
}

/**
 * Checks a code against one token in `state` without changing anything. The caller must have checked
 * that the code is all digits; a code of another length than the token's never matches (and costs no HMAC).
 */
export function checkToken(token: ShimToken, state: TokenState, code: SubmittedCode, nowMs: number, rules: ShimRules): TokenCheck {
  if (code.length !== codeLength(token)) return { outcome: 'wrong' };
  return token.type === 'hotp' ? checkHotp(token, state, code, rules) : checkTotp(token, state, code, nowMs, rules);
}

/**
 * HOTP (privacyIDEA semantics): try counter .. counter + lookAhead - 1; on a match at m the counter
 * becomes m + 1, so a used code can never match again. A code that matches one of the lookBehind
 * values just below the counter is reported as `replayed` (privacyIDEA's "previous otp used again"),
 * `exact` when it is the value just below (the last accepted one). Counters are bigints: RFC 4226's
 * counter runs to 2^64 - 1 (the last one's code is never taken). Each comparison is constant-time. The search stops at a match, as
 * privacyIDEA's and otplib's do: the time then tells only how far ahead a correct code was; a wrong
 * code always costs the whole window.
 */
function checkHotp(token: ShimToken, state: TokenState, code: SubmittedCode, rules: ShimRules): TokenCheck {
  // The table spans the look-behind, the look-ahead and one window of progress.
  const cache = (token.otpCache ??= new OtpCache(rules.hotpLookBehind + 2 * rules.hotpLookAhead));
  const counter = state.counter ?? 0n;
  // Numbers while the whole window is exact (a sum past 2^53 - 1 rounds to 2^53 or more, never below).
  if (counter <= MAX_EXACT_COUNTER && Number(counter) + rules.hotpLookAhead <= Number.MAX_SAFE_INTEGER) return checkHotpNumbers(token, Number(counter), cache, code, rules);
  const end = counter + BigInt(rules.hotpLookAhead);
  for (let c = counter; c < end; c++) {
    // The code of the last counter is never taken: the counter after it (what the state keeps) would
    // pass 2^64 - 1, which no store holds. The token is then used up.
    if (c >= MAX_COUNTER) break;
    if (code.matches(cache.value(token, c), token.digits, token.checkDigit === true)) {
      return { outcome: 'accept', state: { counter: c + 1n, lastStep: null, drift: 0 } };
    }
  }
  let replayed: bigint | undefined;
  const behind = counter - BigInt(rules.hotpLookBehind);
  for (let c = behind < 0n ? 0n : behind; c < counter; c++) {
    if (code.matches(cache.value(token, c), token.digits, token.checkDigit === true)) replayed = c;
  }
  return replayed !== undefined ? { outcome: 'replayed', exact: replayed === counter - 1n } : { outcome: 'wrong' };
}


/**
 * checkHotp for a window of counters that are all safe integers (every token short of 2^53 uses):
 * the same search in numbers, with no bigint made or compared per counter tried (each is an
 * allocation), and far from MAX_COUNTER.
 */
function checkHotpNumbers(token: ShimToken, counter: number, cache: OtpCache, code: SubmittedCode, rules: ShimRules): TokenCheck {
  const checkDigit = token.checkDigit === true;
  const end = counter + rules.hotpLookAhead;
  for (let c = counter; c < end; c++) {
    if (code.matches(cache.value(token, c), token.digits, checkDigit)) {
      return { outcome: 'accept', state: { counter: BigInt(c + 1), lastStep: null, drift: 0 } };
    }
  }
  let replayed = -1;
  for (let c = Math.max(0, counter - rules.hotpLookBehind); c < counter; c++) {
    if (code.matches(cache.value(token, c), token.digits, checkDigit)) replayed = c;
  }
  return replayed >= 0 ? { outcome: 'replayed', exact: replayed === counter - 1 } : { outcome: 'wrong' };
}

/**
 * TOTP (RFC 6238, T0 = 0): the expected step is the server's step plus the token's learned drift;
 * steps within `totpWindow` of it on either side are tried. A match at a step at or before the last
 * accepted step is `replayed` (`exact` at the last accepted step itself). On accept the matched step
 * becomes the last step and the drift becomes (matched step - server step), so a token whose clock
 * wanders is followed (privacyIDEA's timeShift).
 */
function checkTotp(token: ShimToken, state: TokenState, code: SubmittedCode, nowMs: number, rules: ShimRules): TokenCheck {
  const cache = (token.otpCache ??= new OtpCache(2 * (2 * rules.totpWindow + 1)));
  const period = token.period ?? 30;
  const serverStep = totpStep(nowMs, period);
  const center = serverStep + state.drift;
  let accepted = -1;
  let replayed: number | undefined;
  for (let step = center - rules.totpWindow; step <= center + rules.totpWindow; step++) {
    if (step < 0) continue;
    if (!code.matches(cache.value(token, step), token.digits, token.checkDigit === true)) continue;
    if (state.lastStep !== null && step <= state.lastStep) replayed = step;
    else {
      accepted = step;
      break;
    }
  }
  if (accepted >= 0) {
    return { outcome: 'accept', state: { counter: null, lastStep: accepted, drift: accepted - serverStep } };
  }
  return replayed !== undefined ? { outcome: 'replayed', exact: replayed === state.lastStep } : { outcome: 'wrong' };
}
