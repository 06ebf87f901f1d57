import { headerKey, type CsvHeader } from './csv-table.js';
import type { ProblemList } from '../model/problem.js';
import { cellText, quotedCell } from './quoted-cell.js';

/** A CSV column we understand: its canonical name and the header spellings admins use for it. */
export interface ColumnSpec<K extends string> {
  name: K;
  aliases: readonly string[];
  required?: boolean;
}

/** Column name -> index in the row, for the columns present. */
export type ColumnIndex<K extends string> = Partial<Record<K, number>>;

/**
 * Matches a header row against the column specs (case-insensitively, ignoring spaces, underscores
 * and hyphens). Missing required columns are errors; duplicate columns are errors; unknown
 * columns are warnings (they are ignored, which the admin should know).
 * Returns undefined when a required column is missing: the rows cannot be read.
 */
export function indexColumns<K extends string>(
  table: CsvHeader,
  specs: readonly ColumnSpec<K>[],
  problems: ProblemList,
): ColumnIndex<K> | undefined {
  const byKey = new Map<string, K>();
  for (const spec of specs) {
    byKey.set(headerKey(spec.name), spec.name);
    for (const alias of spec.aliases) byKey.set(headerKey(alias), spec.name);
  }
  const index: ColumnIndex<K> = {};
  table.header.forEach((raw, i) => {
    const name = byKey.get(headerKey(raw));
    if (name === undefined) {
      if (raw.trim() !== '') {
        // A column that may say a user is disabled, ignored, would migrate users MFA Server keeps out.
        const status = /disabl|status|lock|block|suspend|state|active/i.test(raw) ? ': if it says which users are disabled, name it "enabled" (true/false), or they are migrated as enabled' : '';
        // A file without its header line has a row of values here: a seed or a phone is not shown as a name.
        problems.warning('column-unknown', { file: table.file, line: 1, field: cellText(raw) ?? `column ${i + 1}` }, `unknown column ${quotedCell(raw)} is ignored${status}`);
      }
      return;
    }
    if (index[name] !== undefined) {
      problems.error('column-duplicate', { file: table.file, line: 1, field: raw }, `column "${raw}" duplicates column ${name}; keep one`);
      return;
    }
    index[name] = i;
  });
  let ok = true;
  for (const spec of specs) {
    if (spec.required && index[spec.name] === undefined) {
      ok = false;
      const also = spec.aliases.length ? ` (also accepted: ${spec.aliases.join(', ')})` : '';
      problems.error('column-missing', { file: table.file, line: 1, field: spec.name }, `required column "${spec.name}" is missing${also}`);
    }
  }
  return ok ? index : undefined;
}

/**
 * Columns with no name in the header (`a,b,` ends with one): ignored, like unknown columns, so a
 * value under one is warned about, once per column, at the first row that has one. Empty cells
 * there (a trailing comma on every line, as spreadsheets write) are not.
 */
export class UnnamedColumns {
  #left: number[];

  constructor(
    private readonly table: CsvHeader,
    private readonly problems: ProblemList,
  ) {
    this.#left = table.header.flatMap((name, i) => (name.trim() === '' ? [i] : []));
  }

  check(cells: readonly string[], line: number): void {
    if (this.#left.length === 0) return;
    this.#left = this.#left.filter((i) => {
      if (!cells[i]?.trim()) return true;
      this.problems.warning('column-unknown', { file: this.table.file, line, field: `column ${i + 1}` }, `column ${i + 1} has no name in the header: its values are ignored (name it, or remove them)`);
      return false;
    });
  }
}

/**
 * A row's cells against the header's count. More cells than the header names are an error unless the
 * extra ones are empty (a spreadsheet's trailing commas); fewer are an error and the row is not read
 * (false): its cells cannot be told apart.
 */
export function rowFits(cells: readonly string[], width: number, file: string, line: number, problems: ProblemList): boolean {
  if (cells.length === width) return true;
  if (cells.length > width && cells.every((c, i) => i < width || c.trim() === '')) return true;
  problems.error('csv-malformed', { file, line }, `row has ${cells.length} cells but the header has ${width}`);
  return cells.length > width;
}

/**
 * Every column's position (-1 when absent), as an object of one fixed shape: reading
 * `positions.email` is a plain property load, where `index[name]` with a varying name is not
 * (it counts on a 100,000-row file).
 */
export function columnPositions<K extends string>(index: ColumnIndex<K>, specs: readonly ColumnSpec<K>[]): Record<K, number> {
  const positions = {} as Record<K, number>;
  for (const spec of specs) positions[spec.name] = index[spec.name] ?? -1;
  return positions;
}

/** The trimmed cell at a position, or undefined when the column is absent (-1) or the cell is empty. */
export function cellAt(cells: readonly string[], position: number): string | undefined {
  if (position < 0) return undefined;
  const v = cells[position]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The trimmed cell of a column, or undefined when the column is absent or the cell is empty. */
export function cell<K extends string>(cells: string[], index: ColumnIndex<K>, name: K): string | undefined {
  return cellAt(cells, index[name] ?? -1);
}

/** A CSV consumer that turns rows into records, with the result once the file is read. */
export interface RowReader<T> {
  header(h: CsvHeader): void;
  row(r: { line: number; cells: string[] }): void;
  /** The records, or undefined when the header made the rows unreadable. */
  result(): T[] | undefined | Promise<T[] | undefined>;
}

/** Feeds an in-memory table to a row reader (small files, tests). */
export async function readTable<T>(table: CsvHeader & { rows: { line: number; cells: string[] }[] }, reader: RowReader<T>): Promise<T[] | undefined> {
  reader.header(table);
  for (const r of table.rows) reader.row(r);
  return reader.result();
}
