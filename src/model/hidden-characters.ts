/**
 * Characters that do not show as themselves, as regular-expression class contents (for `[...]`):
 * text from the admin's files, vendors' seed files or Graph holding one prints as other text.
 */

/** C0 control characters but the newline, DEL and C1: they drive a terminal (colours, cursor, clearing). */
export const CONTROL_BUT_NEWLINE = '\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f';

/** The bidirectional marks, overrides and isolates, which reorder displayed text ("Trojan Source"). */
export const REORDERING = '\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';

/**
 * Format characters that display as nothing: soft hyphen, Mongolian vowel separator, zero-width
 * space, non-joiner and joiner, word joiner, the invisible operators, and U+FEFF inside text (a
 * byte-order mark where it belongs, at a file's start, is taken off by the readers). A name holding
 * one looks like the name without it and matches no one (`alice@contoso.com` + U+200B, from a copy
 * out of a web page or a document).
 */
export const INVISIBLE = '\\u00ad\\u180e\\u200b-\\u200d\\u2060-\\u2064\\ufeff';

const INVISIBLE_CHARACTER = new RegExp(`[${INVISIBLE}]`);

/** The first invisible format character of a text, or undefined. */
export function firstInvisible(text: string): string | undefined {
  return INVISIBLE_CHARACTER.exec(text)?.[0];
}

/** A character (a UTF-16 code unit) as `\u001b`-style text. */
export const escapedCharacter = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
