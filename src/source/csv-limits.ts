/**
 * Caps on the CSV files read (users.csv, devices.csv, seed CSVs). A file or a row beyond them is
 * refused with a problem naming the file (and line), instead of growing a string until V8 gives up
 * ("Invalid string length", an unexpected error). Settable, so tests use small files.
 */
export interface CsvLimits {
  /** Files larger than this are not read (bytes). */
  maxFileBytes: number;
  /** One row longer than this ends the reading (characters; csv-parse's max_record_size). */
  maxRecordSize: number;
}

/** 1 GiB holds some 7 million users.csv rows; no row of any of these files comes near 1 MiB. */
export const DEFAULT_CSV_LIMITS: CsvLimits = { maxFileBytes: 1 << 30, maxRecordSize: 1 << 20 };

export function csvLimits(given: Partial<CsvLimits> | undefined): CsvLimits {
  return given === undefined ? DEFAULT_CSV_LIMITS : { ...DEFAULT_CSV_LIMITS, ...given };
}

export function fileTooLargeMessage(size: number, limits: CsvLimits): string {
  return `the file is ${size} bytes, more than the ${limits.maxFileBytes}-byte limit for CSV files; it is not read`;
}

export function recordTooLongMessage(limits: CsvLimits): string {
  return `a row is longer than the ${limits.maxRecordSize}-character limit (no row of this file should come near it)`;
}
