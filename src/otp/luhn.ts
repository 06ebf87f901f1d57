/**
 * The Luhn check digit (ISO/IEC 7812-1 annex B) of a code's `digits` decimal digits, leading zeros
 * included: what a token whose PSKC ResponseFormat says CheckDigits="true" appends to each code
 * (RFC 6030 section 4.3.4; RFC 4226's reference implementation, calcChecksum, computes the same).
 * Counting from the rightmost digit, every other digit is doubled, its digits summed.
 */
export function luhnCheckDigit(value: number, digits: number): number {
  let total = 0;
  let v = value;
  let double = true;
  for (let i = 0; i < digits; i++) {
    const d = v % 10;
    v = Math.floor(v / 10);
    total += double ? DOUBLED[d]! : d;
    double = !double;
  }
  return (10 - (total % 10)) % 10;
}

/** A digit doubled, its two digits summed (2 * 7 = 14 -> 5). */
const DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
