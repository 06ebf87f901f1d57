import type { ProblemList, Where } from '../../model/problem.js';
import { leftOutAt } from '../seed-left-out.js';

/**
 * Seeds encoded twice. A vendor's tool that puts a seed's hex or Base32 text where the file wants its
 * bytes (Base64 of the hex string, python-pskc issue #5's Base64 of a Base64 string, Base64 of the
 * Base32 string) yields a "secret" of 28 to 40 bytes of printable text, which decodes and reads like
 * any other: every token would be activated with a wrong seed and no code would ever match. Random
 * seed bytes are practically never all of one text alphabet: 16 bytes all hex digits happen with odds
 * of (22/256)^16, about 10^-17. Test seeds of digits or letters alone (RFC 4226's and RFC 6238's
 * `12345678901234567890`, `abcdefghijklmnopqrst`) are let through: the hex, Base32 or Base64 string of
 * real seed bytes mixes letters and digits (Base64: both cases). Base64's alphabet is also every
 * mixed-case word and number (`HelloWorldHelloWorld`, a seed some token was given as text): that one
 * is only warned of, the seed kept (a review saw such seeds refused, and a burned-in seed cannot be
 * re-encoded).
 */

/** What a seed looks like the text of, and whether that is sure enough to refuse it (hex, Base32) or only to warn (Base64). */
export interface EncodedTwice {
  looks: string;
  refused: boolean;
}

/** Below this many bytes the alphabets are not told apart from chance well enough to refuse a seed. */
export const SUSPECT_MIN_BYTES = 16;

const HEX_DIGIT = /^[0-9a-fA-F]+$/;
const HEX_LETTER = /[a-fA-F]/;
const BASE32_UPPER = /^[A-Z2-7]+=*$/;
const BASE32_LOWER = /^[a-z2-7]+=*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * What a seed's bytes look like when they are the text of an encoded string ("the text of a hex
 * string"), or null when they look like seed bytes. Never the bytes themselves.
 */
export function encodedTwice(bytes: Uint8Array): EncodedTwice | null {
  if (bytes.length < SUSPECT_MIN_BYTES) return null;
  // Only printable ASCII can be text of an alphabet: most seeds stop at their first byte.
  for (const b of bytes) if (b < 0x2b || b > 0x7a) return null;
  const text = Buffer.from(bytes).toString('latin1');
  if (HEX_DIGIT.test(text)) return HEX_LETTER.test(text) ? { looks: 'the text of a hex string', refused: true } : null;
  // Base32 text of 16 random bytes or more has a digit (2-7) but by odds of about 1 in 200; letters
  // alone are a test string (`abcdefghijklmnopqrst`) or a word.
  if (BASE32_UPPER.test(text) || BASE32_LOWER.test(text)) return /[a-z]/i.test(text) && /[2-7]/.test(text) ? { looks: 'the text of a Base32 string', refused: true } : null;
  // Base64 text of 16 random bytes or more has both cases (the odds of one missing are about 10^-5);
  // a word or a number does not.
  if ((BASE64.test(text) || BASE64URL.test(text)) && /[A-Z]/.test(text) && /[a-z]/.test(text) && text.length % 4 !== 1) return { looks: 'the text of a Base64 string, or a word', refused: false };
  return null;
}

/**
 * A PSKC PlainValue made of hex digits alone: a seed written in hex where RFC 6030 puts Base64. Read
 * as Base64 it decodes (hex digits are Base64 characters) to a wrong seed three quarters as long. The
 * Base64 of 16 random bytes or more is 24 characters or more and holds other characters but by odds
 * of about 10^-11; a hex seed of 16 bytes is 32 digits.
 */
export function hexInBase64(text: string): boolean {
  const s = text.replace(/\s+/g, '');
  return s.length >= 2 * SUSPECT_MIN_BYTES && HEX_DIGIT.test(s);
}

/** Characters of the Base32 text of SUSPECT_MIN_BYTES bytes (unpadded). */
const BASE32_MIN_CHARS = Math.ceil((SUSPECT_MIN_BYTES * 8) / 5);
const BASE32_TEXT = /^(?:[A-Z2-7]+|[a-z2-7]+)=*$/;

/**
 * A PSKC PlainValue that is a seed's Base32 text (one case, 26 characters or more: 16 bytes'), where
 * RFC 6030 puts Base64: Base32's alphabet is inside Base64's, so it decodes to a wrong seed. Only
 * lengths Base32 can have count (not 1, 3 or 6 past a multiple of 8): the Base64 of 16, 20, 32 and 64
 * bytes (22, 27, 43 and 86 characters) is too short or of a length Base32 never has, and the Base64
 * of other lengths is all one case of Base32's alphabet (half of Base64's) by odds of 2^-25 or less.
 */
export function base32InBase64(text: string): boolean {
  const s = text.replace(/\s+/g, '');
  if (!BASE32_TEXT.test(s)) return false;
  const chars = s.replace(/=+$/, '').length;
  return chars >= BASE32_MIN_CHARS && ![1, 3, 6].includes(chars % 8);
}

/** The warning for a seed that may be text (encodedTwice's Base64 case): kept, but said. */
export function mayBeTextMessage(what: string, serial: string, length: number, looks: string): string {
  return `the ${what} of token ${serial} is ${length} bytes that are ${looks}, not random seed bytes: kept; if the vendor did not give the token this text as its seed, the file holds the seed encoded twice and no code will match (check one code with mfa-migrate shim check before migrating it)`;
}

/**
 * Refuses a seed CSV row whose decoded secret is the text of an encoded seed (encodedTwice), with an
 * error at `where` that names the token (and carries its serial, as a skipped row's problem does) but
 * never the value. True when the row was refused (its bytes
 * wiped); the caller skips it. One that may be a word is warned of and kept.
 */
export function refuseEncodedTwice(bytes: Buffer, what: string, serial: string, problems: ProblemList, where: Where, unit: 'row' | 'line'): boolean {
  const found = encodedTwice(bytes);
  if (found === null) return false;
  const { looks } = found;
  if (!found.refused) {
    problems.warning('secret-suspect', where, mayBeTextMessage(what, serial, bytes.length, looks));
    return false;
  }
  problems.error(
    'secret-suspect',
    leftOutAt(where, serial),
    `the ${what} of token ${serial} decodes to ${bytes.length} bytes that are ${looks}, not seed bytes: the seed was encoded twice, and read as it is no code would match; the ${unit} is skipped`,
  );
  bytes.fill(0);
  return true;
}
