import { CONTROL_BUT_NEWLINE, escapedCharacter, INVISIBLE, REORDERING } from './hidden-characters.js';

/**
 * Control characters (C0 but the newline when it is kept, DEL, C1), the Unicode marks that reorder
 * displayed text (bidirectional overrides and isolates, as in "Trojan Source") and the format
 * characters that display as nothing (zero-width space, soft hyphen, ...).
 */
const UNPRINTABLE = new RegExp(`[${CONTROL_BUT_NEWLINE}${REORDERING}${INVISIBLE}]`, 'g');
const UNPRINTABLE_OR_NEWLINE = new RegExp(`[${CONTROL_BUT_NEWLINE}\\n${REORDERING}${INVISIBLE}]`, 'g');

/**
 * Text from the admin's files, vendors' seed files or Graph, made safe to print on a terminal:
 * each such character is shown as `\u001b`-style text, so that a cell holding an escape sequence
 * cannot recolour, move or clear the terminal, and displayed text is the text (a username with a
 * zero-width space in it shows it: `alice@contoso.com\u200b`). Newlines are kept only when asked (a
 * message of several lines); a one-line message shows them as `\u000a`.
 */
export function printable(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? UNPRINTABLE : UNPRINTABLE_OR_NEWLINE, escapedCharacter);
}

/**
 * Text that must read the same to every eye, such as a user name the shim matches as ASCII only:
 * everything outside printable ASCII is shown as `\u212a`-style text, so that a look-alike (the
 * Kelvin sign for K, a Cyrillic a) cannot pass for the name it imitates in a log an auditor reads.
 */
export function printableAscii(text: string): string {
  return text.replace(/[^\u0020-\u007e]/g, escapedCharacter);
}
