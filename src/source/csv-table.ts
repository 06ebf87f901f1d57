import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { SourceError } from '../model/problem.js';

/** A CSV file read into rows of cells, each row with the physical line it started on. */
export interface CsvTable {
  file: string;
  delimiter: ',' | ';';
  header: string[];
  rows: CsvRow[];
}

export interface CsvRow {
  line: number;
  cells: string[];
}

/**
 * Reads a CSV the way admins produce them: UTF-8 with or without BOM, CRLF or LF, `,` or `;`
 * (detected from the header line), quoted cells, blank lines ignored. Throws SourceError when the
 * file cannot be read or is not CSV at all; ragged rows are returned as they are for the caller to
 * report per line.
 */
export async function readCsvTable(path: string, display: string): Promise<CsvTable> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SourceError({
      severity: 'error',
      code: code === 'ENOENT' ? 'file-missing' : 'file-unreadable',
      file: display,
      message: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? 'error'})`,
    });
  }
  return parseCsvTable(buf, display);
}

export function parseCsvTable(buf: Buffer, display: string): CsvTable {
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.includes('\uFFFD') && !buf.toString('latin1').includes('\uFFFD')) {
    throw new SourceError({
      severity: 'error',
      code: 'file-unreadable',
      file: display,
      message: 'the file is not UTF-8 (save it as UTF-8, with or without BOM)',
    });
  }
  const delimiter = detectDelimiter(text);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const e = err as { lines?: number; message?: string };
    throw new SourceError({
      severity: 'error',
      code: 'csv-malformed',
      file: display,
      ...(e.lines !== undefined ? { line: e.lines } : {}),
      message: `not valid CSV: ${(e.message ?? String(err)).replace(/^Invalid Record Length: /, '')}`,
    });
  }
  const first = records[0];
  if (!first) {
    throw new SourceError({ severity: 'error', code: 'csv-malformed', file: display, message: 'the file is empty: a header row is required' });
  }
  // info.lines is the line a record ends on; a quoted cell may span lines, so the record
  // starts that many lines earlier.
  const rows: CsvRow[] = [];
  for (let i = 1; i < records.length; i++) {
    const r = records[i]!;
    rows.push({ line: r.info.lines - countNewlines(r.record), cells: r.record });
  }
  return { file: display, delimiter, header: first.record, rows };
}

function countNewlines(cells: string[]): number {
  let n = 0;
  for (const c of cells) {
    for (let i = c.indexOf('\n'); i !== -1; i = c.indexOf('\n', i + 1)) n++;
  }
  return n;
}

/** `;` when the header line has more semicolons than commas outside quotes, else `,`. */
export function detectDelimiter(text: string): ',' | ';' {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && ch === ',') commas++;
    else if (!quoted && ch === ';') semicolons++;
  }
  return semicolons > commas ? ';' : ',';
}

/** Header matching key: case-insensitive, ignoring spaces, underscores, hyphens and dots. */
export function headerKey(name: string): string {
  return name.toLowerCase().replace(/[\s_\-.]+/g, '');
}
