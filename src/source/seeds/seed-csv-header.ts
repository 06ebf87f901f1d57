import { parse } from 'csv-parse/sync';

/**
 * Header handling shared by the two seed CSV formats: delimiter detection, header-name matching
 * (case-insensitive, ignoring spaces, underscores and hyphens) and the column aliases.
 */

export { detectDelimiter, type CsvDelimiter } from '../csv-delimiter.js';
import type { CsvDelimiter } from '../csv-delimiter.js';

/** Compares header names the way admins write them: "Serial Number", "serial_number", "serialnumber". */
export function normalizeHeader(name: string): string {
  return name.replace(/^\uFEFF/, '').toLowerCase().replace(/[\s_-]+/g, '');
}


/** Splits one line (a header, or a line a format sniff looks at) into trimmed, unquoted cells; null when it is not parseable CSV. */
export function parseHeaderLine(line: string, delimiter: CsvDelimiter): string[] | null {
  try {
    const rows = parse(line, { delimiter, bom: true, trim: true, relax_quotes: true }) as string[][];
    return rows[0] ?? null;
  } catch {
    return null;
  }
}

/** Entra admin center's upload format: `upn,serial number,secret key,time interval,manufacturer,model`. */
export const ENTRA_COLUMNS = {
  upn: ['upn'],
  serial: ['serialnumber'],
  secret: ['secretkey'],
  period: ['timeinterval'],
  manufacturer: ['manufacturer'],
  model: ['model'],
} as const;

/** The generic seed CSV: `serial,secret` plus optional columns, each under several common names. */
export const GENERIC_COLUMNS = {
  serial: ['serial', 'serialnumber', 'serialno', 'sn', 'tokenserial', 'tokenserialnumber'],
  secret: ['secret', 'secretkey', 'seed', 'key', 'otpkey', 'tokenseed'],
  encoding: ['encoding', 'secretencoding', 'seedencoding', 'keyencoding'],
  type: ['type', 'tokentype', 'otptype'],
  digits: ['digits', 'otplength', 'otplen', 'length', 'responselength'],
  period: ['period', 'interval', 'timeinterval', 'timestep', 'step'],
  algorithm: ['algorithm', 'hash', 'hashalgorithm', 'hashfunction', 'hashlib', 'algo'],
  counter: ['counter', 'count'],
  manufacturer: ['manufacturer', 'vendor'],
  model: ['model'],
  user: ['user', 'upn', 'username', 'userprincipalname'],
} as const;

export type ColumnSpec = Readonly<Record<string, readonly string[]>>;

export interface ColumnMap<K extends string> {
  /** Column index of each recognised role. */
  index: Partial<Record<K, number>>;
  /** The header cell as written, per role (for problem `field`s). */
  label: Partial<Record<K, string>>;
  /** Header cells that match no role. */
  unknown: string[];
  /** Roles given by more than one column. */
  duplicate: K[];
}

export function mapColumns<S extends ColumnSpec>(header: string[], spec: S): ColumnMap<Extract<keyof S, string>> {
  type K = Extract<keyof S, string>;
  const byName = new Map<string, K>();
  for (const role of Object.keys(spec) as K[]) for (const alias of spec[role]!) byName.set(alias, role);
  const map: ColumnMap<K> = { index: {}, label: {}, unknown: [], duplicate: [] };
  header.forEach((cell, i) => {
    const role = byName.get(normalizeHeader(cell));
    if (role === undefined) {
      if (cell.trim() !== '') map.unknown.push(cell);
    } else if (map.index[role] !== undefined) {
      map.duplicate.push(role);
    } else {
      map.index[role] = i;
      map.label[role] = cell;
    }
  });
  return map;
}

export type SeedCsvKind = 'entra' | 'generic';

/**
 * The OATH parameters a generic seed CSV reads that Entra's upload format has no column for. Read as
 * Entra's, a file that adds them to Entra's columns (an 8-digit SHA-256 token's `digits,algorithm`)
 * would have them ignored and each token taken as 6-digit SHA-1, whose codes never match.
 */
const PARAMETERS_ENTRA_LACKS: readonly string[] = [
  ...GENERIC_COLUMNS.encoding,
  ...GENERIC_COLUMNS.type,
  ...GENERIC_COLUMNS.digits,
  ...GENERIC_COLUMNS.algorithm,
  ...GENERIC_COLUMNS.counter,
  ...GENERIC_COLUMNS.period.filter((a) => a !== 'timeinterval'),
];

/** Whether header names (normalized) hold Entra's upload columns, whose secret key is Base32 whichever reader reads them. */
export function hasEntraColumns(names: ReadonlySet<string>): boolean {
  return names.has('upn') && names.has('serialnumber') && names.has('secretkey');
}

/** Which seed CSV a header line belongs to, if any. */
export function seedCsvKind(header: string[]): SeedCsvKind | null {
  const names = new Set(header.map(normalizeHeader));
  const has = (aliases: readonly string[]): boolean => aliases.some((a) => names.has(a));
  // With a parameter Entra's format lacks, the generic reader (which knows Entra's column names) reads them all.
  if (hasEntraColumns(names) && !has(PARAMETERS_ENTRA_LACKS)) return 'entra';
  if (has(GENERIC_COLUMNS.serial) && has(GENERIC_COLUMNS.secret)) return 'generic';
  return null;
}
