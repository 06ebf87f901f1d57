import { parse, CsvError } from 'csv-parse';
import { createReadStream } from 'node:fs';
import { DEFAULT_CSV_LIMITS, recordTooLongMessage, type CsvLimits } from '../csv-limits.js';
import type { ProblemList, Where } from '../../model/problem.js';
import type { CsvDelimiter } from './seed-csv-header.js';

export interface CsvRow {
  /** 1-based line of the row (its last line, should a quoted cell span lines). */
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
  ) {
    super(message);
    this.name = 'SeedCsvSyntaxError';
  }
}

const SYNTAX_MESSAGES: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted cell is not closed',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by something other than a delimiter',
  CSV_INVALID_OPENING_QUOTE: 'a quote opens inside a cell',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'text follows a closing quote',
};

/**
 * Streams the rows of a seed CSV (header included), UTF-8 with or without BOM, CRLF or LF. Blank
 * rows are skipped; cells are trimmed; `comments` skips lines starting with '#'.
 */
export async function* readCsvRows(path: string, delimiter: CsvDelimiter, limits: CsvLimits = DEFAULT_CSV_LIMITS, opts: { comments?: boolean } = {}): AsyncGenerator<CsvRow> {
  const source = createReadStream(path);
  const parser = parse({
    delimiter,
    // Every line ending, not the first line's alone (a header saved by one tool, rows by another).
    record_delimiter: ['\r\n', '\n', '\r'],
    bom: true,
    trim: true,
    info: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: limits.maxRecordSize,
    // Lines whose first non-blank character is '#' (a '#' inside a cell is kept).
    ...(opts.comments ? { comment: '#', comment_no_infix: true } : {}),
  });
  // pipe() does not forward source errors; without this a read error would leave the loop waiting.
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (item.record.every((c) => c === '')) continue;
      // Bytes that are not UTF-8 come out as U+FFFD: a serial or user name changed without a word
      // (a file saved by Excel as Windows-1252, say). Refused at the line, as users.csv is.
      if (item.record.some((c) => c.includes('\uFFFD'))) throw new SeedCsvSyntaxError('the file is not UTF-8 (save it as UTF-8, with or without BOM)', item.info.lines, 'file-unreadable');
      yield { line: item.info.lines, cells: item.record };
    }
  } catch (err) {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines;
      const message = err.code === 'CSV_MAX_RECORD_SIZE' ? recordTooLongMessage(limits) : (SYNTAX_MESSAGES[err.code] ?? `CSV syntax error (${err.code})`);
      throw new SeedCsvSyntaxError(message, line);
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
    problems.error(err.code, where, `${err.message}; reading stopped here`);
    return true;
  }
  const errno = err as NodeJS.ErrnoException;
  if (err instanceof Error && typeof errno.code === 'string' && errno.syscall) {
    problems.error('file-unreadable', { file: display }, `cannot read the seed file (${errno.code})`);
    return true;
  }
  return false;
}
