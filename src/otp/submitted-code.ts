import { timingSafeEqual } from 'node:crypto';
import { luhnCheckDigit } from './luhn.js';

/**
 * A submitted code prepared for comparison: its ASCII bytes, kept so every candidate is compared in
 * constant time against the same buffer. `digitsOnly` is false when anything but 0-9 was sent.
 */
export class SubmittedCode {
  readonly bytes: Buffer;
  readonly digitsOnly: boolean;
  readonly #candidate: Buffer;

  constructor(code: string) {
    this.bytes = Buffer.from(code, 'latin1');
    this.digitsOnly = /^[0-9]+$/.test(code);
    this.#candidate = Buffer.alloc(this.bytes.length);
  }

  get length(): number {
    return this.bytes.length;
  }

  /**
   * True when the code equals `value` written with `digits` digits, followed by its Luhn check digit
   * when `checkDigit` (a token that appends one). Constant time in the code's content: the candidate
   * is written into a same-length buffer and compared with timingSafeEqual, so a wrong check digit
   * is told from a wrong code by nothing.
   */
  matches(value: number, digits: number, checkDigit = false): boolean {
    const length = checkDigit ? digits + 1 : digits;
    if (length !== this.bytes.length) return false;
    const candidate = this.#candidate;
    let v = value;
    for (let i = digits - 1; i >= 0; i--) {
      candidate[i] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
    if (checkDigit) candidate[digits] = 0x30 + luhnCheckDigit(value, digits);
    return timingSafeEqual(candidate, this.bytes);
  }
}
