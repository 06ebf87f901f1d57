import { parse, CsvError, type Options as CsvParseOptions } from 'csv-parse';
import { createReadStream } from 'node:fs';
import { countNewlines, failingRecord } from '../csv-failing-record.js';
import { DEFAULT_CSV_LIMITS, recordTooLongMessage, type CsvLimits } from '../csv-limits.js';
import type { ProblemList, Where } from '../../model/problem.js';
import type { CsvDelimiter } from './seed-csv-header.js';

export interface CsvRow {
  /** 1-based line the row starts on (a quoted cell may span lines), as users.csv names its rows. */
  line: number;
  cells: string[];
}

/**
 * A CSV syntax error. The message is ours: csv-parse's own messages can quote cell values, and a
 * cell of a seed file can be a secret.
 */
export class SeedCsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number | undefined,
    readonly code: 'csv-malformed' | 'file-unreadable' = 'csv-malformed',
    /** The header name (or `cell N`) of the cell where the record goes wrong, when known. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'SeedCsvSyntaxError';
  }
}

const SYNTAX_MESSAGES: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted cell that starts in this row is never closed (the file ends inside it)',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by something other than a delimiter',
  CSV_INVALID_OPENING_QUOTE: 'a quote opens inside a cell',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'text follows a closing quote',
};

/**
 * Streams the rows of a seed CSV (header included), UTF-8 with or without BOM, CRLF or LF. Blank
 * rows are skipped; cells are trimmed; `comments` skips lines starting with '#'. `columns` names the
 * cells of a file with no header row (a syntax error names the cell it is in).
 */
export async function* readCsvRows(path: string, delimiter: CsvDelimiter, limits: CsvLimits = DEFAULT_CSV_LIMITS, opts: { comments?: boolean; columns?: readonly string[] } = {}): AsyncGenerator<CsvRow> {
  const options: CsvParseOptions = {
    delimiter,
    // Every line ending, not the first line's alone (a header saved by one tool, rows by another).
    record_delimiter: ['\r\n', '\n', '\r'],
    bom: true,
    trim: true,
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: limits.maxRecordSize,
    // Lines whose first non-blank character is '#' (a '#' inside a cell is kept).
    ...(opts.comments ? { comment: '#', comment_no_infix: true } : {}),
  };
  const source = createReadStream(path);
  // `raw`: csv-parse's own line count (`info.lines`) is the record's last line, and counts a CRLF
  // inside quotes as two. Lines are counted here instead, as users.csv does: a record's raw text
  // holds the comment and blank lines skipped before it, and its line breaks.
  const parser = parse({ ...options, raw: true, skip_empty_lines: true });
  // pipe() does not forward source errors; without this a read error would leave the loop waiting.
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);
  try {
    let before = 0; // lines wholly read before the current record's raw text
    for await (const item of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const breaks = countNewlines([item.raw]);
      const end = item.raw.charCodeAt(item.raw.length - 1);
      // The last line of the file may have no line break after it.
      const ended = end === 10 || end === 13 ? 1 : 0;
      // Most records are one line with nothing skipped before them: no need to look at their cells.
      const line = breaks === ended ? before + 1 : before + breaks + 1 - ended - countNewlines(item.record);
      before += breaks;
      if (item.record.every((c) => c === '')) continue;
      // Bytes that are not UTF-8 come out as U+FFFD: a serial or user name changed without a word
      // (a file saved by Excel as Windows-1252, say). Refused at the line, as users.csv is.
      if (item.record.some((c) => c.includes('\uFFFD'))) throw new SeedCsvSyntaxError('the file is not UTF-8 (save it as UTF-8, with or without BOM)', line, 'file-unreadable');
      yield { line, cells: item.record };
    }
  } catch (err) {
    if (err instanceof CsvError) {
      // csv-parse's line is where it stopped (for a quote never closed, the end of the file): name the
      // line the bad record starts on, as users.csv does, from a second pass (its cells are never shown).
      const at = await failingRecord(() => createReadStream(path), options, 1);
      const column = (err as CsvError & { column?: number }).column;
      // A headerless file's first row is data (a secret, perhaps): its cells are named by place.
      const names = opts.columns ?? at.header?.map((h) => h.trim());
      const field = typeof column === 'number' ? names?.[column] || `cell ${column + 1}` : undefined;
      const message = err.code === 'CSV_MAX_RECORD_SIZE' ? recordTooLongMessage(limits) : (SYNTAX_MESSAGES[err.code] ?? `CSV syntax error (${err.code})`);
      throw new SeedCsvSyntaxError(message, at.line, 'csv-malformed', field);
    }
    throw err;
  } finally {
    source.destroy();
    parser.destroy();
  }
}

/**
 * Reports a failure that ended the reading of a seed CSV (a syntax error, a read error) and says
 * whether it was one; anything else is a fault of ours, for the caller to rethrow.
 */
export function reportCsvReadFailure(err: unknown, display: string, problems: ProblemList): boolean {
  if (err instanceof SeedCsvSyntaxError) {
    const where: Where = { file: display };
    if (err.line !== undefined) where.line = err.line;
    if (err.field !== undefined) where.field = err.field;
    // As users.csv: a file that is not read to its end is not read at all (the caller drops its seeds).
    problems.error(err.code, where, `${err.message}; the file is refused: no seeds are read from it`);
    return true;
  }
  const errno = err as NodeJS.ErrnoException;
  if (err instanceof Error && typeof errno.code === 'string' && errno.syscall) {
    problems.error('file-unreadable', { file: display }, `cannot read the seed file (${errno.code})`);
    return true;
  }
  return false;
}
