import type { OathSeed } from '../../model/export-data.js';
import type { ProblemList } from '../../model/problem.js';
import { readEntraUploadCsv } from './entra-upload-csv.js';
import { readGenericSeedCsv } from './generic-seed-csv.js';
import { readOathCsv } from './oath-csv.js';
import { readPskcFileInto } from './pskc-reader.js';
import { dedupeSeeds, dropDuplicateSeeds, type SeedDeduplicator } from './seed-duplicates.js';
import { sniffSeedFile } from './seed-file-format.js';
import { csvLimits, type CsvLimits } from '../csv-limits.js';
import type { PskcExpiredMode } from './pskc-expired-mode.js';
import type { PskcMacMode } from './pskc-mac-mode.js';
import type { PskcLimits } from './pskc-xml-stream.js';
import { SeedArray, type SeedSink } from './seed-sink.js';

export { loadPskcKeyFile, loadPskcPasswordFile, type PskcKeyOption, type PskcPasswordOption } from './pskc-credentials.js';
import type { PskcKeyOption, PskcPasswordOption } from './pskc-credentials.js';
export { PSKC_MAC_MODES, type PskcMacMode } from './pskc-mac-mode.js';
export { PSKC_EXPIRED_MODES, type PskcExpiredMode } from './pskc-expired-mode.js';
export { DEFAULT_MAX_XML_BYTES } from './pskc-reader.js';
export { DEFAULT_PSKC_LIMITS, type PskcLimits } from './pskc-xml-stream.js';

export interface SeedReadOptions {
  /** Pre-shared key bytes (from --pskc-key-file, hex): one key, as `pskcKeys` with one. */
  pskcKey?: Buffer;
  /** From --pskc-password-file (PBKDF2): one password, as `pskcPasswords` with one. */
  pskcPassword?: string;
  /**
   * Pre-shared keys (--pskc-key-file, repeatable: a vendor sends one per shipment), each with its
   * file. An encrypted file is decrypted with the one its MACs verify (see docs/seed-formats.md).
   */
  pskcKeys?: PskcKeyOption[];
  /** PBKDF2 passwords (--pskc-password-file, repeatable), as `pskcKeys`. */
  pskcPasswords?: PskcPasswordOption[];
  /** Default 'fail'; see PskcMacMode. */
  pskcMac?: PskcMacMode;
  /** Default 'leave'; see PskcExpiredMode. */
  pskcExpired?: PskcExpiredMode;
  /** Default DEFAULT_MAX_XML_BYTES (256 MiB); bigger PSKC files are refused. */
  maxXmlBytes?: number;
  /** Caps on a PSKC document's shape (DEFAULT_PSKC_LIMITS unless given); beyond them the file is refused (pskc-unsafe). */
  pskcLimits?: Partial<PskcLimits>;
  /** Caps on seed CSV files and rows (DEFAULT_CSV_LIMITS unless given); beyond them the file is not read. */
  csvLimits?: Partial<CsvLimits>;
  /** The time PSKC keys' Policy StartDate and ExpiryDate are checked against; the time of reading unless given (tests). */
  now?: Date;
}

/**
 * Reads one seed file (format detected from content). `display` is how the file is named in
 * problems/`source`. Never throws for bad content: reports to `problems` and returns what it could
 * read. Seeds repeated within the file are reported (seed-duplicate) and kept once.
 */
export async function readSeedFile(path: string, opts: SeedReadOptions, problems: ProblemList, display?: string): Promise<OathSeed[]> {
  return dropDuplicateSeeds(await readOneSeedFile(path, opts, problems, display ?? path), problems);
}

/**
 * Reads several seed files (`display[i]` names file i in problems and `source`; the path by default);
 * a serial given twice, in one file or across files, is reported once per extra copy.
 */
export async function readSeedFiles(paths: string[], opts: SeedReadOptions, problems: ProblemList, display: readonly string[] = paths): Promise<OathSeed[]> {
  return (await readSeedFilesIndexed(paths, opts, problems, display)).seeds;
}

/** readSeedFiles, with the index by serial that the cross-file checks reuse. */
export async function readSeedFilesIndexed(paths: string[], opts: SeedReadOptions, problems: ProblemList, display: readonly string[] = paths): Promise<SeedDeduplicator> {
  const all: OathSeed[] = [];
  for (let i = 0; i < paths.length; i++) {
    for (const seed of await readOneSeedFile(paths[i]!, opts, problems, display[i] ?? paths[i]!)) all.push(seed);
  }
  return dedupeSeeds(all, problems);
}

async function readOneSeedFile(path: string, opts: SeedReadOptions, problems: ProblemList, display: string): Promise<OathSeed[]> {
  const sink = new SeedArray();
  await readSeedFileInto(path, opts, problems, display, sink);
  return sink.seeds;
}

/**
 * Reads one seed file (format detected from content) into `sink`, seed by seed for PSKC, without
 * dropping repeated serials (the caller does, with dropDuplicateSeeds, once it has them all).
 */
export async function readSeedFileInto(path: string, opts: SeedReadOptions, problems: ProblemList, display: string, sink: SeedSink): Promise<void> {
  const csvCaps = csvLimits(opts.csvLimits);
  const sniffed = await sniffSeedFile(path, opts.maxXmlBytes, csvCaps);
  switch (sniffed.kind) {
    case 'problem':
      problems.error(sniffed.code, { file: display, ...(sniffed.line !== undefined ? { line: sniffed.line } : {}) }, sniffed.message);
      return;
    case 'pskc':
      return readPskcFileInto(path, display, opts, problems, sink);
    case 'entra':
      for (const seed of await readEntraUploadCsv(path, display, sniffed, problems, csvCaps)) sink.add(seed);
      return;
    case 'generic':
      for (const seed of await readGenericSeedCsv(path, display, sniffed, problems, csvCaps)) sink.add(seed);
      return;
    case 'oath-csv':
      for (const seed of await readOathCsv(path, display, sniffed.version, problems, csvCaps)) sink.add(seed);
      return;
  }
}
