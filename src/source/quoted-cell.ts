import { clipped } from '../model/clipped.js';
import { EXTENSION_AT_END, maskPhoneText } from '../model/mask.js';
import { secretLikeCell } from './seeds/secret-like-cell.js';

/**
 * A cell (or header name) quoted in a problem's message, for a column that holds neither a secret
 * nor a phone number, where one can still land when the columns are out of order or the file has no
 * header line: what looks like a seed is described, not shown, and what reads as a phone number is
 * masked as one is (phones are masked unless asked, and a message cannot be asked).
 */
export function quotedCell(value: string): string {
  const text = cellText(value);
  return text === null ? `a value that looks like a secret (${secretLikeCell(value, 'name')}, not shown)` : `"${text}"`;
}

/** The cell as a message may show it (a phone masked), or null when it looks like a seed and is not shown at all. */
export function cellText(value: string): string | null {
  if (secretLikeCell(value, 'name') !== null) return null;
  return clipped(phoneLike(value) ? maskPhoneText(value) : value);
}

/** Digits (five or more, any script) with a phone's punctuation alone, an extension at the end allowed: `+1 (425) 555-0101 x12`. */
function phoneLike(value: string): boolean {
  // A date is the value the admin must see to fix it (`2025-13-01` where `enabled` belongs: a review).
  if (/^\d{4}-\d{1,2}-\d{1,2}(?:[T ]|$)/.test(value.trim())) return false;
  const number = value.replace(EXTENSION_AT_END, '');
  return /^[+\p{Nd}\s()./-]+$/u.test(number) && (number.match(/\p{Nd}/gu) ?? []).length >= 5;
}
