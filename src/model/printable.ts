/**
 * Control characters (C0 but the newline when it is kept, DEL, C1) and the Unicode marks that
 * reorder displayed text (bidirectional overrides and isolates, as in "Trojan Source").
 */
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const UNPRINTABLE_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A character (a UTF-16 code unit) as `\u001b`-style text. */
const escaped = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Text from the admin's files, vendors' seed files or Graph, made safe to print on a terminal:
 * each such character is shown as `\u001b`-style text, so that a cell holding an escape sequence
 * cannot recolour, move or clear the terminal, and displayed text is the text. Newlines are kept
 * only when asked (a message of several lines); a one-line message shows them as `\u000a`.
 */
export function printable(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? UNPRINTABLE : UNPRINTABLE_OR_NEWLINE, escaped);
}

/**
 * Text that must read the same to every eye, such as a user name the shim matches as ASCII only:
 * everything outside printable ASCII is shown as `\u212a`-style text, so that a look-alike (the
 * Kelvin sign for K, a Cyrillic a) cannot pass for the name it imitates in a log an auditor reads.
 */
export function printableAscii(text: string): string {
  return text.replace(/[^\u0020-\u007e]/g, escaped);
}
