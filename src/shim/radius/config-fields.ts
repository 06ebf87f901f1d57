import { UserError } from '../../model/user-error.js';

/** One field of a line; `quoted` when (some of) it was written in double quotes. */
export interface Field {
  text: string;
  quoted: boolean;
}

/** A line of a file that holds something, with where it is (`FILE: line N`) for errors. */
export interface FieldLine {
  line: number;
  where: string;
  fields: Field[];
}

/**
 * The lines of the shim's RADIUS files (clients, reply attributes), split into fields. Fields are
 * separated by white space; `#` at the start of a line or after white space starts a comment. A
 * field, or its rest after a prefix `quoteAfter` matches (`group:`, `Class=`), may be written in
 * double quotes to hold spaces or `#`; inside them `\"` is a quote and `\\` a backslash. A `"`
 * anywhere else is an ordinary character, so a file written before quotes existed reads the same
 * (a field that begins with `"` aside). Errors name the field by number, never its text: it may be
 * a secret.
 */
export function* fieldLines(text: string, path: string, quoteAfter?: RegExp): Generator<FieldLine> {
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const where = `${path}: line ${i + 1}`;
    // Bytes that are not UTF-8 were turned into U+FFFD: a secret or value would differ from what was written.
    if (raw.includes('\uFFFD')) throw new UserError(`${where}: not UTF-8 text (save the file as UTF-8)`);
    const fields = splitFields(raw, where, quoteAfter);
    if (fields.length > 0) yield { line: i + 1, where, fields };
  }
}

const SPACE = /\s/;

function splitFields(raw: string, where: string, quoteAfter: RegExp | undefined): Field[] {
  const fields: Field[] = [];
  let i = 0;
  while (i < raw.length) {
    if (SPACE.test(raw[i]!)) {
      i++;
      continue;
    }
    if (raw[i] === '#') break;
    const at = `${where}: field ${fields.length + 1}`;
    const field: Field = { text: '', quoted: false };
    while (i < raw.length && !SPACE.test(raw[i]!)) {
      if (raw[i] === '"' && (field.text === '' || quoteAfter?.test(field.text) === true)) {
        i = readQuoted(raw, i + 1, field, at);
        // `"a"b` is refused rather than guessed at: the field ends with its closing quote.
        if (i < raw.length && !SPACE.test(raw[i]!)) throw new UserError(`${at}: text after the closing quote (put all of it inside the quotes)`);
        break;
      }
      field.text += raw[i];
      i++;
    }
    fields.push(field);
  }
  return fields;
}

/** Reads a quoted part from just after its opening quote into `field`; returns the index after the closing one. */
function readQuoted(raw: string, start: number, field: Field, at: string): number {
  field.quoted = true;
  let i = start;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === '"') return i + 1;
    if (c === '\\') {
      const next = raw[i + 1];
      if (next !== '"' && next !== '\\') throw new UserError(`${at}: inside quotes a backslash goes only before " or \\ (write \\\\ for a backslash)`);
      field.text += next;
      i += 2;
      continue;
    }
    field.text += c;
    i++;
  }
  throw new UserError(`${at}: the quote is not closed (a " is missing at its end)`);
}

/** `text` as it would be written as a field, to show it in a message: in quotes (escaped) when it must be. */
export function asField(text: string): string {
  return text === '' || /\s|^["#]/.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : text;
}
