import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { Readable, Transform } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { SourceError } from '../model/problem.js';
import { looksLikeUtf16 } from '../io/utf16.js';
import { countNewlines, failingRecord } from './csv-failing-record.js';
import { csvPreamble, detectDelimiter, type CsvDelimiter } from './csv-delimiter.js';
import { csvLimits, DEFAULT_CSV_LIMITS, fileTooLargeMessage, recordTooLongMessage, type CsvLimits } from './csv-limits.js';

/** A CSV file's header as read, with how the file was written. */
export interface CsvHeader {
  file: string;
  delimiter: CsvDelimiter;
  header: string[];
}

export interface CsvRow {
  /** 1-based physical line the record starts on. */
  line: number;
  cells: string[];
}

/** A whole CSV in memory: for small files and tests. Large files are streamed with forEachCsvRow. */
export interface CsvTable extends CsvHeader {
  rows: CsvRow[];
}

/** Handles the rows of a CSV as they are parsed. */
export interface CsvConsumer {
  header(h: CsvHeader): void;
  row(r: CsvRow): void;
}

/**
 * Streams a CSV the way admins produce them: UTF-8 with or without BOM, CRLF or LF, `,` or `;`
 * (detected from the header line), quoted cells, blank lines ignored. Throws SourceError when the
 * file cannot be read, is not UTF-8, or is not CSV at all; ragged rows reach the consumer as they
 * are, to be reported per line.
 */
export async function forEachCsvRow(path: string, display: string, consumer: CsvConsumer, limits: Partial<CsvLimits> = DEFAULT_CSV_LIMITS, onBytes?: (read: number, total: number) => void): Promise<void> {
  const caps = csvLimits(limits);
  let head: Buffer;
  let total = 0;
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      total = size;
      if (size > caps.maxFileBytes) throw new SourceError({ severity: 'error', code: 'file-unreadable', file: display, message: fileTooLargeMessage(size, caps) });
      const { buffer, bytesRead } = await fh.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw unreadable(err, display);
  }
  await consume(() => createReadStream(path, { highWaterMark: 1 << 20 }), head, display, consumer, caps, onBytes && ((read) => onBytes(read, total)));
}

/** Parses a CSV held in memory (same rules as forEachCsvRow). */
export async function parseCsvTable(buf: Buffer, display: string, limits: Partial<CsvLimits> = DEFAULT_CSV_LIMITS): Promise<CsvTable> {
  const rows: CsvRow[] = [];
  let header: CsvHeader | undefined;
  await consume(() => Readable.from([buf]), buf, display, { header: (h) => (header = h), row: (r) => rows.push(r) }, csvLimits(limits));
  return { ...header!, rows };
}

/** Reads a whole CSV file into memory (small files). */
export async function readCsvTable(path: string, display: string, limits: Partial<CsvLimits> = DEFAULT_CSV_LIMITS): Promise<CsvTable> {
  const rows: CsvRow[] = [];
  let header: CsvHeader | undefined;
  await forEachCsvRow(path, display, { header: (h) => (header = h), row: (r) => rows.push(r) }, limits);
  return { ...header!, rows };
}

async function consume(open: () => Readable, head: Buffer, display: string, consumer: CsvConsumer, limits: CsvLimits, onBytes?: (read: number) => void): Promise<void> {
  if (looksLikeUtf16(head)) {
    throw new SourceError({ severity: 'error', code: 'file-unreadable', file: display, line: 1, message: 'the file is UTF-16 text, not UTF-8 (save it as UTF-8, with or without BOM)' });
  }
  const input = open();
  const headText = head.toString('utf8');
  // PowerShell's `#TYPE` line, Excel's `sep=;`: skipped, the header is the line after.
  const preamble = csvPreamble(headText);
  const delimiter = preamble.delimiter ?? detectDelimiter(preamble.header);
  // Two per-cell scans are needed only for some files, which the raw bytes tell: newlines inside
  // cells (only once a quote has appeared), and text that is not UTF-8 (decoded to U+FFFD; a chunk
  // cut inside a character also turns the check on, harmlessly). Each chunk is looked at before the
  // parser sees it, so no record is taken before the checks it needs are on.
  let quoted = false;
  let careful = false;
  let read = 0;
  const sniff = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      read += chunk.length;
      onBytes?.(read);
      if (!quoted && chunk.includes(QUOTE)) quoted = true;
      if (!careful && (!isUtf8(chunk) || chunk.includes(REPLACEMENT_CHARACTER))) careful = true;
      done(null, chunk);
    },
  });
  input.on('error', (err) => sniff.destroy(err));
  // Every line ending, not the first line's alone (csv-parse's default): a header saved by one tool and
  // rows appended by another (CRLF then LF) would otherwise merge rows. About a tenth more parse time.
  const options = { delimiter, record_delimiter: LINE_ENDINGS, bom: true, relax_column_count: true, relax_quotes: false, max_record_size: limits.maxRecordSize, ...(preamble.lines > 0 ? { from_line: preamble.lines + 1 } : {}) };
  const parser = input.pipe(sniff).pipe(parse(options));
  // Line numbers are counted here rather than with csv-parse's `info` (which costs a third of the
  // parse): each record ends one line after the newlines inside its quoted cells.
  let line = 1 + preamble.lines;
  let header: string[] | undefined;
  const take = (cells: string[]): void => {
    const start = line;
    line += quoted ? 1 + countNewlines(cells) : 1;
    // A blank line, one of spaces, or a spreadsheet's row of empty cells (`,,,`, left where rows were deleted).
    if (cells.every(blank)) return;
    if (careful) {
      for (const c of cells) {
        if (c.includes('\uFFFD')) {
          throw new SourceError({ severity: 'error', code: 'file-unreadable', file: display, line: start, message: 'the file is not UTF-8 (save it as UTF-8, with or without BOM)' });
        }
      }
    }
    if (!header) {
      header = cells.map((c) => c.trim());
      consumer.header({ file: display, delimiter, header });
    } else {
      consumer.row({ line: start, cells });
    }
  };
  try {
    // Records are drained synchronously on 'readable' (an async iterator would cost a promise each).
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown): void => {
        input.unpipe(sniff);
        sniff.unpipe(parser);
        input.destroy();
        sniff.destroy();
        parser.destroy();
        reject(err);
      };
      parser.on('readable', () => {
        try {
          let cells: string[] | null;
          while ((cells = parser.read() as string[] | null) !== null) take(cells);
        } catch (err) {
          fail(err);
        }
      });
      parser.once('end', resolve);
      parser.once('error', fail);
      sniff.once('error', fail);
    });
  } catch (err) {
    if (err instanceof SourceError) throw err;
    const e = err as { lines?: number; message?: string; code?: string; syscall?: string };
    if (e.syscall !== undefined || e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') throw unreadable(err, display);
    // Only csv-parse's own errors say the file is not CSV; anything else thrown by a row's reader is
    // a fault of ours and must not pass for the admin's (it would also drop every row).
    if (!(err instanceof CsvError)) throw err;
    // Where the failing record starts, and the header, from a second pass (csv-parse's own line is
    // where it stopped: for a quote never closed, the end of the file; and records parsed with the
    // failing one never reach 'readable'). Its message quotes the cell, which may be a seed: never passed on.
    const at = await failingRecord(open, options, 1 + preamble.lines);
    const where = { file: display, line: at.line, ...(typeof err.column === 'number' ? { field: at.header?.[err.column]?.trim() || `cell ${err.column + 1}` } : {}) };
    if (err.code === 'CSV_MAX_RECORD_SIZE') {
      throw new SourceError({ severity: 'error', code: 'csv-malformed', ...where, message: `${recordTooLongMessage(limits)}; the file is refused` });
    }
    throw new SourceError({ severity: 'error', code: 'csv-malformed', ...where, message: `not valid CSV: ${CSV_ERRORS[err.code] ?? err.code}` });
  }
  if (!header) {
    throw new SourceError({ severity: 'error', code: 'csv-malformed', file: display, message: 'the file is empty: a header row is required' });
  }
}

function unreadable(err: unknown, display: string): SourceError {
  const code = (err as NodeJS.ErrnoException).code;
  return new SourceError({
    severity: 'error',
    code: code === 'ENOENT' ? 'file-missing' : 'file-unreadable',
    file: display,
    message: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? 'error'})`,
  });
}

/** What each of csv-parse's errors means for the admin, without the cell's text. */
const CSV_ERRORS: Partial<Record<string, string>> = {
  INVALID_OPENING_QUOTE: 'a `"` inside a cell that does not start with one (quote the whole cell and double each `"` in it)',
  CSV_INVALID_CLOSING_QUOTE: 'text right after a quoted cell\'s closing `"` (double each `"` inside a quoted cell)',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'text right after a quoted cell\'s closing `"` (double each `"` inside a quoted cell)',
  CSV_QUOTE_NOT_CLOSED: 'a quoted cell that starts on this line is never closed (the file ends inside it)',
  CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: 'a row with another number of cells than the header',
  CSV_INVALID_ARGUMENT: 'the file cannot be read as CSV',
};

const QUOTE = 0x22;
const REPLACEMENT_CHARACTER = Buffer.from('\uFFFD', 'utf8');

/** CRLF first: csv-parse takes the first delimiter that matches. */
const LINE_ENDINGS = ['\r\n', '\n', '\r'];

const blank = (c: string): boolean => c.trim() === '';

export { detectDelimiter } from './csv-delimiter.js';

/** Header matching key: case-insensitive, ignoring spaces, underscores, hyphens and dots. */
export function headerKey(name: string): string {
  return name.toLowerCase().replace(/[\s_\-.]+/g, '');
}
