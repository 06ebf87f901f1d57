import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { MfaUser, MobileDevice, OathSeed } from '../model/export-data.js';
import { ProblemList, SourceError } from '../model/problem.js';
import type { CsvLimits } from './csv-limits.js';
import type { TokenAssignment } from './export-checks.js';
import { readSeedsConcurrently } from './seed-loader.js';
import { distinctSeedFiles } from './seeds/distinct-seed-files.js';
import type { SeedReadOptions } from './seeds/read-seed-files.js';
import type { ServerSettings } from './settings-schema.js';

export interface ExportOptions {
  /** The export folder (users.csv, devices.csv, settings.json). */
  source: string;
  /** Seed files (--tokens), in the order given. */
  tokens: string[];
  seeds: SeedReadOptions;
  /** Caps on users.csv and devices.csv (DEFAULT_CSV_LIMITS unless given); seed CSVs take theirs from `seeds`. */
  csvLimits?: Partial<CsvLimits>;
  /** How far users.csv has been read, in bytes (for progress on a large export). */
  onProgress?: (read: number, total: number) => void;
}

/** Everything read from an export, joined, with every problem found on the way. */
export interface ExportBundle {
  sourceDir: string;
  users: MfaUser[];
  devices: MobileDevice[];
  settings?: ServerSettings;
  seeds: OathSeed[];
  tokens: TokenAssignment[];
  /** Which optional files were present. */
  files: { users: string; devices?: string; settings?: string; seeds: string[] };
  problems: ProblemList;
}

export const USERS_FILE = 'users.csv';
export const DEVICES_FILE = 'devices.csv';
export const SETTINGS_FILE = 'settings.json';

/**
 * Reads an export folder and its seed files. Never touches the network. Problems are collected,
 * not thrown, so a single run reports everything wrong with the export; only a missing or
 * unreadable source folder throws.
 */
export async function readExport(opts: ExportOptions): Promise<ExportBundle> {
  const problems = new ProblemList();
  const dir = opts.source;
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat?.isDirectory()) {
    throw new SourceError({ severity: 'error', code: 'file-missing', file: dir, message: 'the source folder does not exist or is not a folder' });
  }
  // Seed files are read concurrently (in a worker thread when large) with the CSVs, each once.
  const seedFiles = distinctSeedFiles(opts.tokens);
  const seedDisplay = seedFiles.files.map((t) => displayName(t, dir));
  const seedLoading = readSeedsConcurrently(seedFiles.files, seedDisplay, opts.seeds);
  for (const { first, names } of seedFiles.repeated) {
    const shown = [...new Set(names.map((t) => displayName(t, dir)))];
    const times = names.length === 2 ? 'twice' : `${names.length} times`;
    problems.warning('seed-file-repeated', { file: displayName(first, dir) }, `--tokens gives this seed file ${times}${shown.length > 1 ? ` (as ${shown.join(', ')})` : ''}: it is read once`);
  }
  // The CSV and settings readers (phone metadata, the schema library: some 0.2 s to load) are
  // loaded once the seed worker is on its way, so that it starts that much earlier.
  const [{ forEachCsvRow }, { usersReader }, { devicesReader }, { readSettings }, { TokenJoin }] = await Promise.all([
    import('./csv-table.js'),
    import('./users-reader.js'),
    import('./devices-reader.js'),
    import('./settings-reader.js'),
    import('./export-checks.js'),
  ]);

  await misnamedFiles(dir, problems);
  const files: ExportBundle['files'] = { users: USERS_FILE, seeds: seedDisplay };
  let users: MfaUser[] = [];
  let usersByName: ReadonlyMap<string, number> | undefined;
  // Refused as a whole (missing, unreadable, UTF-16, no username column, not CSV): its users are unknown, not absent.
  let usersRead = false;
  try {
    const reader = usersReader(problems);
    await forEachCsvRow(join(dir, USERS_FILE), USERS_FILE, reader, opts.csvLimits, opts.onProgress);
    const read = await reader.result();
    usersRead = read !== undefined;
    users = read ?? [];
    usersByName = reader.byName();
    // A header and nothing else reads as valid: said, so an export cut short is not taken for an empty migration.
    if (users.length === 0 && !problems.items.some((p) => p.file === USERS_FILE)) {
      problems.warning('export-empty', { file: USERS_FILE, line: 1 }, 'users.csv holds no users: nothing to migrate (an export cut short, or its header alone?)');
    }
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    problems.items.push(err.problem);
  }

  let devices: MobileDevice[] = [];
  if (await exists(join(dir, DEVICES_FILE))) {
    files.devices = DEVICES_FILE;
    try {
      const reader = devicesReader(problems);
      await forEachCsvRow(join(dir, DEVICES_FILE), DEVICES_FILE, reader, opts.csvLimits);
      devices = (await reader.result()) ?? [];
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      problems.items.push(err.problem);
    }
  }

  let settings: ServerSettings | undefined;
  if (await exists(join(dir, SETTINGS_FILE))) {
    files.settings = SETTINGS_FILE;
    settings = await readSettings(join(dir, SETTINGS_FILE), SETTINGS_FILE, problems);
  }

  // Join users to the seeds that have arrived while the worker reads on (this thread would only
  // wait); the rest is joined once all are read. Undone if a file was refused meanwhile.
  const joinInput = { users, usersFile: USERS_FILE, devicesFile: DEVICES_FILE, seedFilesGiven: opts.tokens.length > 0, usersUnread: !usersRead, ...(usersByName ? { usersByName } : {}) };
  let tokenJoin = new TokenJoin(joinInput);
  const early = seedLoading.soFar();
  if (early !== undefined) tokenJoin.advance(early.seeds, early.bySerial);
  const seedResult = await seedLoading.result;
  if (early !== undefined && seedLoading.soFar()?.discards !== early.discards) tokenJoin = new TokenJoin(joinInput);
  for (const p of seedResult.problems) problems.items.push(p);
  const seeds = seedResult.seeds;
  const tokens = tokenJoin.finish(seeds, seedResult.bySerial, devices, problems);
  sortProblems(problems, [USERS_FILE, DEVICES_FILE, SETTINGS_FILE, ...seedDisplay]);
  return { sourceDir: dir, users, devices, ...(settings ? { settings } : {}), seeds, tokens, files, problems };
}

/**
 * An export file named in other letter case (`Devices.csv`, `Settings.JSON`, as a copy from a Windows
 * server may name them) is not read on a file system that tells case apart: said, not left out in
 * silence (its users' devices, the server's settings). Renaming it is the admin's call, and keeps
 * the plan's record of its files the same on every machine.
 */
async function misnamedFiles(dir: string, problems: ProblemList): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const wanted of [USERS_FILE, DEVICES_FILE, SETTINGS_FILE]) {
    // Found by its own name on a file system that ignores case (macOS, Windows): read, so no error (a review).
    if (names.includes(wanted) || (await exists(join(dir, wanted)))) continue;
    for (const name of names.filter((n) => n.toLowerCase() === wanted)) {
      problems.error('file-missing', { file: name }, `${name} is not read: export file names are read as written; rename it ${wanted}`);
    }
  }
}

/** Problems in file order (as listed), then line order: the same export always reports the same way. */
function sortProblems(problems: ProblemList, fileOrder: string[]): void {
  const rank = new Map(fileOrder.map((f, i) => [f, i]));
  const indexed = problems.items.map((p, i) => ({ p, i }));
  indexed.sort((a, b) => (rank.get(a.p.file) ?? 99) - (rank.get(b.p.file) ?? 99) || (a.p.line ?? 0) - (b.p.line ?? 0) || a.i - b.i);
  problems.items.length = 0;
  for (const x of indexed) problems.items.push(x.p);
}

/** Whether the export holds something by that name: only a name that is not there counts as absent (a folder or an unreadable file is read, and refused saying why). */
async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** A seed file inside the source folder is named relative to it; others as given. */
/**
 * A seed file's name in the sources' fingerprint: relative to the export folder when inside it,
 * else absolute, whatever working folder the path was given from (a plan made with `--tokens
 * seeds.csv` is checked again from its absolute path).
 */
export function seedFingerprintName(path: string, dir: string): string {
  return displayName(resolve(path), resolve(dir));
}

function displayName(path: string, dir: string): string {
  const rel = relative(dir, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
