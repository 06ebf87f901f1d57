import { describe, expect, it } from 'vitest';
import { luhnCheckDigit } from '../../src/otp/luhn.js';

/** The textbook definition: the digit that makes the whole number pass the Luhn check (ISO/IEC 7812-1). */
function passesLuhn(number: string): boolean {
  let total = 0;
  [...number].reverse().forEach((c, i) => {
    const d = Number(c) * (i % 2 === 1 ? 2 : 1);
    total += d > 9 ? d - 9 : d;
  });
  return total % 10 === 0;
}

describe('luhnCheckDigit', () => {
  it('gives the published check digits', () => {
    // Wikipedia's and ISO/IEC 7812's worked example: 7992739871 -> 3.
    expect(luhnCheckDigit(7992739871, 10)).toBe(3);
    // RFC 4226's first HOTP value of its test seed, with its check digit as calcChecksum computes it.
    expect(luhnCheckDigit(755224, 6)).toBe(3);
    expect(luhnCheckDigit(287082, 6)).toBe(2);
  });

  it('counts leading zeros as digits (they weigh nothing, but shift which digits are doubled)', () => {
    expect(luhnCheckDigit(0, 6)).toBe(0);
    expect(luhnCheckDigit(1, 6)).toBe(8);
    expect(luhnCheckDigit(1, 7)).toBe(8);
    expect(luhnCheckDigit(10, 6)).toBe(9);
  });

  it('always makes the code and its digit pass the Luhn check, and no other digit does', () => {
    for (let v = 0; v < 100_000; v += 97) {
      for (const digits of [6, 8]) {
        const code = String(v).padStart(digits, '0');
        const check = luhnCheckDigit(v, digits);
        expect(passesLuhn(`${code}${check}`), code).toBe(true);
        expect(passesLuhn(`${code}${(check + 1) % 10}`), code).toBe(false);
      }
    }
  });
});
