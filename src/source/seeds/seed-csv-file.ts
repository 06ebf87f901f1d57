import type { ProblemList, Where } from '../../model/problem.js';
import { DEFAULT_CSV_LIMITS, type CsvLimits } from '../csv-limits.js';
import { mapColumns, type ColumnMap, type ColumnSpec, type CsvDelimiter } from './seed-csv-header.js';
import { readCsvRows, reportCsvReadFailure } from './seed-csv-rows.js';
import { shownValue } from '../../model/shown-value.js';
import { parameterLikeColumn, parameterNames } from './parameter-like-column.js';

/** One data row with its cells looked up by role. */
export class SeedCsvRow<K extends string> {
  constructor(
    readonly line: number,
    private readonly cells: string[],
    private readonly columns: ColumnMap<K>,
    private readonly file: string,
  ) {}

  /** The trimmed cell of a role; '' when the column is absent or the cell empty. */
  get(role: K): string {
    const i = this.columns.index[role];
    return i === undefined ? '' : (this.cells[i] ?? '');
  }

  /** Where a problem about this row's `role` cell is: file, line and the header name as written. */
  where(role?: K): Where {
    const w: Where = { file: this.file, line: this.line };
    const label = role === undefined ? undefined : this.columns.label[role];
    if (label !== undefined) w.field = label;
    return w;
  }
}

/** The serial's and the secret's columns, as the header names them, for a seed read from `row`. */
export function fieldsOf<K extends string>(row: SeedCsvRow<K>, serial: K, secret: K): { serialField?: string; secretField?: string } {
  const serialField = row.where(serial).field;
  const secretField = row.where(secret).field;
  return { ...(serialField !== undefined ? { serialField } : {}), ...(secretField !== undefined ? { secretField } : {}) };
}

/** How a seed CSV is written, as its first lines tell: the delimiter, and the line its header is on (an Excel `sep=;` line may come before it). */
export interface SeedCsvShape {
  delimiter: CsvDelimiter;
  headerLine: number;
  /** A generic seed CSV whose header holds Entra's upload columns: their secret key is Base32, not guessed. */
  entraColumns?: boolean;
}

export interface SeedCsvLayout<S extends ColumnSpec> {
  spec: S;
  required: Extract<keyof S, string>[];
  /** What to call the format in problems. */
  formatName: string;
  /** How to name a missing column (defaults to its first alias). */
  columnNames?: Partial<Record<Extract<keyof S, string>, string>>;
}

/**
 * Reads a seed CSV: maps the header, checks each row's width, and calls `onRow` for rows that are
 * well formed. Problems name the file, line and column; no cell value is ever quoted (any cell could
 * be a secret shifted by a missing delimiter). False when the reading failed part way (a syntax
 * error): the file is refused, and the caller drops what its rows gave.
 */
export async function forEachSeedCsvRow<S extends ColumnSpec>(
  path: string,
  display: string,
  shape: SeedCsvShape,
  layout: SeedCsvLayout<S>,
  problems: ProblemList,
  onRow: (row: SeedCsvRow<Extract<keyof S, string>>) => void,
  limits: CsvLimits = DEFAULT_CSV_LIMITS,
): Promise<boolean> {
  type K = Extract<keyof S, string>;
  let columns: ColumnMap<K> | undefined;
  let width = 0;
  let rows = 0;
  try {
    for await (const { line, cells } of readCsvRows(path, shape.delimiter, limits)) {
      if (line < shape.headerLine) continue; // the `sep=` line
      if (columns === undefined) {
        columns = mapColumns(cells, layout.spec);
        width = cells.length;
        const header: Where = { file: display, line };
        const missing = layout.required.filter((r) => columns!.index[r] === undefined);
        if (missing.length > 0) {
          problems.error('column-missing', header, `${layout.formatName}: the header lacks column(s) ${missing.map((m) => `"${layout.columnNames?.[m] ?? layout.spec[m]![0]}"`).join(', ')}; nothing was read`);
          return true;
        }
        if (columns.duplicate.length > 0) {
          problems.error('csv-malformed', header, `${layout.formatName}: more than one column gives ${[...new Set(columns.duplicate)].join(', ')}; nothing was read`);
          return true;
        }
        // A column named as an OATH parameter but not known would leave each token with the default: refused, not ignored.
        // A name not shown (long, or written as key material: `time_step_seconds`) is checked too, and named by its position.
        const parameterLike = columns.unknown.filter((name) => parameterLikeColumn(name) !== null);
        for (const name of parameterLike) {
          const role = parameterLikeColumn(name)!;
          const shown = shownValue(name);
          const column = shown.startsWith('"') ? shown : `${cells.indexOf(name) + 1} ${shown}`;
          problems.error('column-unknown', { ...header, field: shown.startsWith('"') ? name : 'a column name not shown' }, `${layout.formatName}: column ${column} looks like an OATH parameter (the ${role}) but is not a name the reader knows, so each token would be read with the default ${role}; rename it to one of ${parameterNames(role)} (or remove it if it is not the tokens' ${role}); nothing was read`);
        }
        if (parameterLike.length > 0) return true;
        for (const name of columns.unknown) {
          // The location names the column only as the message may show it: a seed where a name belongs is not (a security review).
          const shown = shownValue(name);
          problems.warning('column-unknown', { ...header, field: shown.startsWith('"') ? name : 'a column name not shown' }, `${layout.formatName}: column ${shown} is not recognised and is ignored`);
        }
        continue;
      }
      if (cells.length < width || cells.slice(width).some((c) => c !== '')) {
        problems.error('csv-malformed', { file: display, line }, `the row has ${cells.length} cells but the header has ${width}; the row is skipped`);
        continue;
      }
      rows++;
      onRow(new SeedCsvRow(line, cells, columns, display));
    }
    if (columns !== undefined && rows === 0) {
      problems.warning('csv-malformed', { file: display }, `${layout.formatName}: the file has a header but no rows with seeds`);
    }
    return true;
  } catch (err) {
    if (!reportCsvReadFailure(err, display, problems)) throw err;
    return false;
  }
}
