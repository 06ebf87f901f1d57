import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { OathAlgorithm, OathSeed, OathType } from '../model/export-data.js';
import { ProblemList, type Problem } from '../model/problem.js';
import { Secret, secretFingerprint } from '../model/secret.js';
import type { SeedReadOptions } from './seeds/read-seed-files.js';
import { afterCurrentKeys, SeedDeduplicator } from './seeds/seed-duplicates.js';

/** Seed files larger than this (in total) are parsed in a worker thread, beside the CSV reading. */
const WORKER_THRESHOLD_BYTES = 2 * 1024 * 1024;

/**
 * `MFA_MIGRATE_SEED_WORKER=always|never` overrides the size rule (tests prove both paths give the
 * same result; an admin may turn the worker off).
 */
const WORKER_ENV = 'MFA_MIGRATE_SEED_WORKER';

export interface SeedLoadResult {
  /** The seeds, each serial once (later copies reported). */
  seeds: OathSeed[];
  problems: Problem[];
  /** serialKey(serial) -> position in `seeds`. */
  bySerial: ReadonlyMap<string, number>;
}

/**
 * What crosses the thread boundary: seeds column by column (numbers in typed arrays, NaN for none),
 * secrets packed in one buffer. The typed arrays are transferred, not copied; cloning seed objects
 * one by one would cost far more (each object's property names are written and read back), and so
 * would cloning a repeated string once per seed: types and algorithms travel as codes, and sources,
 * manufacturers and models as indexes into the batch's table of distinct values.
 */
export interface WireSeeds {
  /** The serials one after another: seed i's is serials.slice(serialEnds[i - 1] ?? 0, serialEnds[i]). */
  serials: string;
  serialEnds: Uint32Array;
  /** Index into TYPES. */
  types: Uint8Array;
  /** Index into ALGORITHMS. */
  algorithms: Uint8Array;
  digits: Uint8Array;
  /** 1 where the device appends a Luhn check digit (OathSeed.checkDigit). */
  checkDigits: Uint8Array;
  periods: Float64Array;
  /** HOTP counters, exact to 2^64 - 1; `hasCounter[i]` is 0 for none (TOTP). */
  counters: BigUint64Array;
  hasCounter: Uint8Array;
  drifts: Float64Array;
  lines: Float64Array;
  /** The batch's distinct source, manufacturer, model and field-name values. */
  values: string[];
  /** Index into `values`; -1 for none. */
  sources: Int32Array;
  manufacturers: Int32Array;
  models: Int32Array;
  users: (string | null)[];
  /** PSKC Key Ids; null for none. */
  keyIds: (string | null)[];
  /** OathSeed.expiredOn; null for none (nearly all). */
  expiries: (string | null)[];
  /** Index into `values` of the serial's and the secret's column or element; -1 for none. */
  serialFields: Int32Array;
  secretFields: Int32Array;
  /**
   * The seeds' fingerprints one after another (16 hex characters each), computed on the worker's
   * side: the main thread, busy with users.csv's phones, finishes after the worker, not before.
   */
  fingerprints: string;
  secrets: Uint8Array;
  /** secrets[offsets[i]..offsets[i+1]] is seed i's secret. */
  offsets: Uint32Array;
}

const TYPES: readonly OathType[] = ['totp', 'hotp'];
const ALGORITHMS: readonly OathAlgorithm[] = ['sha1', 'sha256', 'sha512'];

/** Messages from the seed worker, in order: batches of a file's seeds, then the file's end, then done. */
export type SeedWorkerMessage =
  | { kind: 'seeds'; file: number; seeds: WireSeeds }
  /** The file was refused after some of its seeds were sent: drop (and wipe) them. */
  | { kind: 'discard'; file: number }
  /** The file is read; these are its problems, in the reader's order. */
  | { kind: 'file-done'; file: number; problems: Problem[] }
  | { kind: 'done' };

export interface SeedWorkerData {
  paths: string[];
  display: string[];
  opts: SeedReadOptions;
}

/** The seeds kept so far while a worker reads: appended to as batches arrive. */
export interface SeedsSoFar {
  seeds: readonly OathSeed[];
  bySerial: ReadonlyMap<string, number>;
  /** Files refused after some of their seeds arrived: when this changes, seeds were taken back out. */
  discards: number;
}

/** Seed files being read: the result once all are read, and what is kept so far meanwhile. */
export interface SeedLoading {
  result: Promise<SeedLoadResult>;
  /** Undefined when the files are read in this thread (nothing arrives before the end). */
  soFar(): SeedsSoFar | undefined;
}

/**
 * Reads the seed files, in a worker thread when they are large so that XML parsing and the
 * users.csv pass use both cores. Results and problems are the same either way.
 */
export function readSeedsConcurrently(paths: string[], display: string[], opts: SeedReadOptions): SeedLoading {
  const none = (): undefined => undefined;
  if (paths.length === 0) return { result: Promise.resolve({ seeds: [], problems: [], bySerial: new Map() }), soFar: none };
  // Synchronously, so that the worker is started before the caller goes on to load its own modules.
  const total = paths.reduce((sum, p) => sum + fileSize(p), 0);
  const worker = new URL('./seed-worker.js', import.meta.url);
  const mode = process.env[WORKER_ENV];
  const wanted = mode === 'always' || (mode !== 'never' && total >= WORKER_THRESHOLD_BYTES);
  // From TypeScript sources (tests) there is no compiled worker: read in this thread.
  if (!wanted || !existsSync(fileURLToPath(worker))) return { result: readSeedsHere(paths, display, opts), soFar: none };
  return readSeedsInWorker(worker, { paths, display, opts });
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0; // reported by the reader
  }
}

/** Reads the files in this thread (readSeedFiles: repeated serials reported across all of them). */
async function readSeedsHere(paths: string[], display: string[], opts: SeedReadOptions): Promise<SeedLoadResult> {
  const problems = new ProblemList();
  // Loaded here: with the worker, this thread never needs the readers (XML parser and all).
  const { readSeedFilesIndexed } = await import('./seeds/read-seed-files.js');
  const { seeds, bySerial } = await readSeedFilesIndexed(paths, opts, problems, display);
  return { seeds, problems: problems.items, bySerial };
}

/**
 * The worker streams each file's seeds in batches as it parses them, so it never holds a large file's
 * seeds whole; this side rebuilds them and then drops repeated serials exactly as readSeedFiles does
 * (same seeds, same problems, same order).
 */
function readSeedsInWorker(url: URL, data: SeedWorkerData): SeedLoading {
  // Repeated serials are dropped as the seeds arrive (this thread would otherwise wait for the
  // worker with nothing to do), with their problems reported after all files', as readSeedFiles
  // does; a file refused after some of its seeds arrived takes its seeds and problems back out.
  const kept = new SeedDeduplicator();
  let discards = 0;
  const result = new Promise<SeedLoadResult>((resolve, reject) => {
    // A bounded young generation: the worker's garbage (parser strings, element trees) dies young
    // and its seeds leave in batches, so little survives a scavenge, and each scavenge costs about
    // the same (~1 ms) whatever its size. 24 MB: 121 scavenges for 100k seeds (~190 ms) where 12 MB
    // took 227 (~275 ms), for some 17 MB more at the peak; V8's default (up to 3 x 16 MB per isolate)
    // only adds to the peak memory of the whole process.
    const worker = new Worker(url, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 24 } });
    const problems = new ProblemList();
    const strings = new Map<string, string>();
    const duplicates = new ProblemList();
    let fileSeeds = 0;
    let fileDuplicates = 0;
    let current: OathSeed[] = [];
    // Seeds read past their ExpiryDate (--pskc-expired take) wait for the end, as dedupeSeeds has them.
    const expired: OathSeed[] = [];
    let fileExpired = 0;
    let done = false;
    worker.on('message', (msg: SeedWorkerMessage) => {
      switch (msg.kind) {
        case 'seeds':
          for (const seed of fromWire(msg.seeds, strings)) {
            current.push(seed);
            if (seed.expiredOn === undefined) kept.add(seed, duplicates);
            else expired.push(seed);
          }
          break;
        case 'discard':
          for (const seed of current) seed.secret.reveal().fill(0);
          current = [];
          kept.truncate(fileSeeds);
          expired.length = fileExpired;
          discards++;
          duplicates.items.length = fileDuplicates;
          break;
        case 'file-done':
          for (const p of msg.problems) problems.items.push(p);
          current = [];
          fileSeeds = kept.seeds.length;
          fileDuplicates = duplicates.items.length;
          fileExpired = expired.length;
          break;
        case 'done':
          done = true;
          for (const seed of afterCurrentKeys(expired)) kept.add(seed, duplicates);
          for (const p of duplicates.items) problems.items.push(p);
          resolve({ seeds: kept.seeds, problems: problems.items, bySerial: kept.bySerial });
          void worker.terminate();
          break;
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`seed reader worker stopped with exit code ${code}`));
    });
  });
  // Awaited by the caller only after its own reading: marked handled so that a failure meanwhile is
  // reported there, not as an unhandled rejection.
  result.catch(() => undefined);
  return { result, soFar: () => ({ seeds: kept.seeds, bySerial: kept.bySerial, discards }) };
}

/** A seed on its way to the wire: its fields and its secret bytes (wiped by the caller once packed). */
export interface WireEntry {
  fields: Omit<OathSeed, 'secret' | 'fingerprint'>;
  bytes: Uint8Array;
}

/** Packs seeds for postMessage; the caller transfers wireTransfer(wire). */
export function toWire(entries: readonly WireEntry[]): WireSeeds {
  const n = entries.length;
  const offsets = new Uint32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = total;
    total += entries[i]!.bytes.length;
  }
  offsets[n] = total;
  const serials = new Array<string>(n);
  const fingerprints = new Array<string>(n);
  const serialEnds = new Uint32Array(n);
  let serialLength = 0;
  const w: WireSeeds = {
    serials: '',
    serialEnds,
    types: new Uint8Array(n),
    algorithms: new Uint8Array(n),
    digits: new Uint8Array(n),
    checkDigits: new Uint8Array(n),
    periods: new Float64Array(n),
    counters: new BigUint64Array(n),
    hasCounter: new Uint8Array(n),
    drifts: new Float64Array(n),
    lines: new Float64Array(n),
    values: [],
    sources: new Int32Array(n),
    manufacturers: new Int32Array(n),
    models: new Int32Array(n),
    users: new Array<string | null>(n),
    keyIds: new Array<string | null>(n),
    expiries: new Array<string | null>(n),
    serialFields: new Int32Array(n),
    secretFields: new Int32Array(n),
    fingerprints: '',
    secrets: new Uint8Array(total),
    offsets,
  };
  const valueIndex = new Map<string, number>();
  const indexOf = (v: string | undefined): number => {
    if (!v) return -1;
    let i = valueIndex.get(v);
    if (i === undefined) {
      i = w.values.push(v) - 1;
      valueIndex.set(v, i);
    }
    return i;
  };
  for (let i = 0; i < n; i++) {
    const { fields: s, bytes } = entries[i]!;
    serials[i] = s.serial;
    serialLength += s.serial.length;
    serialEnds[i] = serialLength;
    w.types[i] = TYPES.indexOf(s.type);
    w.algorithms[i] = ALGORITHMS.indexOf(s.algorithm);
    w.digits[i] = s.digits;
    if (s.checkDigit === true) w.checkDigits[i] = 1;
    w.periods[i] = s.period ?? NaN;
    if (s.counter !== null) {
      w.counters[i] = s.counter;
      w.hasCounter[i] = 1;
    }
    w.drifts[i] = s.timeDrift ?? NaN;
    w.lines[i] = s.line ?? NaN;
    w.sources[i] = indexOf(s.source);
    w.manufacturers[i] = indexOf(s.manufacturer);
    w.models[i] = indexOf(s.model);
    w.users[i] = s.user || null;
    w.keyIds[i] = s.keyId ?? null;
    w.expiries[i] = s.expiredOn ?? null;
    w.serialFields[i] = indexOf(s.serialField);
    w.secretFields[i] = indexOf(s.secretField);
    w.secrets.set(bytes, offsets[i]!);
    fingerprints[i] = secretFingerprint(bytes);
  }
  w.serials = serials.join('');
  w.fingerprints = fingerprints.join('');
  return w;
}

/** The buffers of a WireSeeds to transfer with it. */
export function wireTransfer(w: WireSeeds): ArrayBuffer[] {
  return [w.serialEnds, w.types, w.algorithms, w.digits, w.checkDigits, w.periods, w.counters, w.hasCounter, w.drifts, w.lines, w.sources, w.manufacturers, w.models, w.serialFields, w.secretFields, w.secrets, w.offsets].map((a) => a.buffer as ArrayBuffer);
}

/**
 * Rebuilds the seeds (the same objects buildOathSeed builds), their secrets left where they arrived.
 * `strings` keeps one copy of each source, manufacturer and model across batches.
 */
function fromWire(w: WireSeeds, strings: Map<string, string>): OathSeed[] {
  const n = w.serialEnds.length;
  const out: OathSeed[] = new Array(n);
  const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x);
  const values = w.values.map((v) => {
    const known = strings.get(v);
    if (known !== undefined) return known;
    strings.set(v, v);
    return v;
  });
  const fingerprintChars = n === 0 ? 0 : w.fingerprints.length / n;
  for (let i = 0; i < n; i++) {
    // Each secret is a view into the transferred buffer (no copy left behind to wipe).
    const secret = Secret.adopt(w.secrets, w.offsets[i]!, w.offsets[i + 1]!);
    const seed: OathSeed = {
      serial: w.serials.slice(i === 0 ? 0 : w.serialEnds[i - 1]!, w.serialEnds[i]!),
      type: TYPES[w.types[i]!]!,
      algorithm: ALGORITHMS[w.algorithms[i]!]!,
      digits: w.digits[i]!,
      period: orNull(w.periods[i]!),
      counter: w.hasCounter[i] === 1 ? w.counters[i]! : null,
      secret,
      fingerprint: w.fingerprints.slice(i * fingerprintChars, (i + 1) * fingerprintChars),
      source: values[w.sources[i]!]!,
    };
    if (!Number.isNaN(w.lines[i]!)) seed.line = w.lines[i]!;
    if (!Number.isNaN(w.drifts[i]!)) seed.timeDrift = w.drifts[i]!;
    if (w.checkDigits[i] === 1) seed.checkDigit = true;
    if (w.manufacturers[i] !== -1) seed.manufacturer = values[w.manufacturers[i]!]!;
    if (w.models[i] !== -1) seed.model = values[w.models[i]!]!;
    if (w.users[i] !== null) seed.user = w.users[i]!;
    if (w.keyIds[i] !== null) seed.keyId = w.keyIds[i]!;
    if (w.expiries[i] !== null) seed.expiredOn = w.expiries[i]!;
    if (w.serialFields[i] !== -1) seed.serialField = values[w.serialFields[i]!]!;
    if (w.secretFields[i] !== -1) seed.secretField = values[w.secretFields[i]!]!;
    out[i] = seed;
  }
  return out;
}
