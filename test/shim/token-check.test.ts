import { describe, expect, it } from 'vitest';
import { hotpValue, MAX_COUNTER } from '../../src/otp/hotp.js';
import { SubmittedCode } from '../../src/otp/submitted-code.js';
import { DEFAULT_RULES, type ShimRules } from '../../src/shim/rules.js';
import { checkToken, type TokenCheck } from '../../src/shim/token-check.js';
import type { TokenState } from '../../src/shim/store-model.js';
import { RFC_SEED_SHA1, token } from './helpers.js';

/** HOTP's search as documented (privacyIDEA semantics), all in bigints: the oracle for both of checkToken's paths. */
function expected(counter: bigint, code: string, rules: ShimRules): TokenCheck {
  const codeAt = (c: bigint): string => String(hotpValue(RFC_SEED_SHA1, 'sha1', c, 6)).padStart(6, '0');
  for (let c = counter; c < counter + BigInt(rules.hotpLookAhead) && c < MAX_COUNTER; c++) {
    if (codeAt(c) === code) return { outcome: 'accept', state: { counter: c + 1n, lastStep: null, drift: 0 } };
  }
  let replayed: bigint | undefined;
  for (let c = counter - BigInt(rules.hotpLookBehind) < 0n ? 0n : counter - BigInt(rules.hotpLookBehind); c < counter; c++) if (codeAt(c) === code) replayed = c;
  return replayed !== undefined ? { outcome: 'replayed', exact: replayed === counter - 1n } : { outcome: 'wrong' };
}

describe('checkToken: HOTP', () => {
  const rules: ShimRules = { ...DEFAULT_RULES, hotpLookAhead: 4, hotpLookBehind: 3 };
  const safe = BigInt(Number.MAX_SAFE_INTEGER);
  // Counters checked in numbers (the window within 2^53 - 1), at its edge, and in bigints beyond; small ones near 0.
  const counters = [0n, 1n, 2n, 5n, 1000n, safe - 5n, safe - 4n, safe - 3n, safe, safe + 1n, MAX_COUNTER - 2n, MAX_COUNTER];

  it('finds the same accept, replay or wrong code whether the window is checked in numbers or bigints', () => {
    for (const counter of counters) {
      const t = token({ serial: 'H', secret: RFC_SEED_SHA1, type: 'hotp' });
      t.counter = counter;
      const state: TokenState = { counter, lastStep: null, drift: 0 };
      for (let offset = -5n; offset <= 6n; offset++) {
        const at = counter + offset;
        if (at < 0n || at > MAX_COUNTER) continue;
        const code = String(hotpValue(RFC_SEED_SHA1, 'sha1', at, 6)).padStart(6, '0');
        expect(checkToken(t, state, new SubmittedCode(code), 0, rules), `counter ${counter}, code of ${at}`).toEqual(expected(counter, code, rules));
      }
    }
  });

  it('accepts a code within the look-ahead with the counter after it as a bigint, and never the last counter', () => {
    const t = token({ serial: 'H', secret: RFC_SEED_SHA1, type: 'hotp' });
    const code = (c: bigint): SubmittedCode => new SubmittedCode(String(hotpValue(RFC_SEED_SHA1, 'sha1', c, 6)).padStart(6, '0'));
    expect(checkToken(t, { counter: 7n, lastStep: null, drift: 0 }, code(9n), 0, rules)).toEqual({ outcome: 'accept', state: { counter: 10n, lastStep: null, drift: 0 } });
    expect(checkToken(t, { counter: safe - 1n, lastStep: null, drift: 0 }, code(safe), 0, rules)).toEqual({ outcome: 'accept', state: { counter: safe + 1n, lastStep: null, drift: 0 } });
    expect(checkToken(t, { counter: MAX_COUNTER - 1n, lastStep: null, drift: 0 }, code(MAX_COUNTER), 0, rules).outcome).not.toBe('accept');
  });
});
