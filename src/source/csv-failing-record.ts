import type { Readable } from 'node:stream';
import { parse, type Options as CsvParseOptions } from 'csv-parse';

/**
 * Parses the file again up to its first error, each record as it is made (`on_record`, too slow for
 * the main pass, but it sees the records parsed with the failing one): the line the failing record
 * starts on, and the header. csv-parse's own line is where it stopped (for a quote never closed, the
 * end of the file). `options` must keep blank lines (each is a record of one empty cell, so counted);
 * comment lines, which make no record, are counted from the parser's own tally.
 */
export async function failingRecord(open: () => Readable, options: CsvParseOptions, firstLine: number): Promise<{ line: number; header?: string[] }> {
  let line = firstLine;
  let header: string[] | undefined;
  let commentLines = 0;
  const parser = parse({
    ...options,
    on_record: (cells: string[]) => {
      header ??= cells;
      line += 1 + countNewlines(cells);
      return null;
    },
  });
  const input = open();
  await new Promise<void>((resolve) => {
    input.once('error', () => resolve());
    parser.once('error', (err: Error & { comment_lines?: number }) => {
      commentLines = err.comment_lines ?? 0;
      resolve();
    });
    parser.once('end', () => resolve());
    parser.resume();
    input.pipe(parser);
  });
  input.destroy();
  return { line: line + commentLines, ...(header ? { header } : {}) };
}

/** Line breaks inside a record's quoted cells: CRLF, LF or a lone CR (a classic Mac file) each one. */
export function countNewlines(cells: string[]): number {
  let n = 0;
  for (const c of cells) {
    if (c.indexOf('\r') === -1) {
      for (let i = c.indexOf('\n'); i !== -1; i = c.indexOf('\n', i + 1)) n++;
      continue;
    }
    for (let i = 0; i < c.length; i++) {
      const ch = c.charCodeAt(i);
      if (ch === 10) n++;
      else if (ch === 13) {
        n++;
        if (c.charCodeAt(i + 1) === 10) i++;
      }
    }
  }
  return n;
}
