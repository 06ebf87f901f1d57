import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { OathSeed } from '../model/export-data.js';
import { ProblemList, type Problem } from '../model/problem.js';
import { Secret } from '../model/secret.js';
import { readSeedFileInto, type SeedReadOptions } from './seeds/read-seed-files.js';
import { dropDuplicateSeeds } from './seeds/seed-duplicates.js';
import { SeedArray } from './seeds/seed-sink.js';

/** Seed files larger than this (in total) are parsed in a worker thread, beside the CSV reading. */
const WORKER_THRESHOLD_BYTES = 2 * 1024 * 1024;

/**
 * `MFA_MIGRATE_SEED_WORKER=always|never` overrides the size rule (tests prove both paths give the
 * same result; an admin may turn the worker off).
 */
const WORKER_ENV = 'MFA_MIGRATE_SEED_WORKER';

export interface SeedLoadResult {
  seeds: OathSeed[];
  problems: Problem[];
}

/**
 * What crosses the thread boundary: seeds column by column, secrets packed in one buffer that is
 * transferred, not copied. Seed objects cloned one by one would cost far more memory.
 */
export interface WireSeeds {
  fields: Omit<OathSeed, 'secret' | 'fingerprint'>[];
  fingerprints: string[];
  secrets: Uint8Array;
  /** secrets[offsets[i]..offsets[i+1]] is seed i's secret. */
  offsets: Uint32Array;
}

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

/**
 * Reads the seed files, in a worker thread when they are large so that XML parsing and the
 * users.csv pass use both cores. Results and problems are the same either way.
 */
export async function readSeedsConcurrently(paths: string[], display: string[], opts: SeedReadOptions): Promise<SeedLoadResult> {
  if (paths.length === 0) return { seeds: [], problems: [] };
  const sizes = await Promise.all(paths.map((p) => stat(p).then((s) => s.size, () => 0)));
  const total = sizes.reduce((a, b) => a + b, 0);
  const worker = new URL('./seed-worker.js', import.meta.url);
  const mode = process.env[WORKER_ENV];
  const wanted = mode === 'always' || (mode !== 'never' && total >= WORKER_THRESHOLD_BYTES);
  // From TypeScript sources (tests) there is no compiled worker: read in this thread.
  if (!wanted || !existsSync(fileURLToPath(worker))) return readSeedsHere(paths, display, opts);
  return readSeedsInWorker(worker, { paths, display, opts });
}

/**
 * Reads the files in order, then keeps the first seed of each serial across all of them: a serial
 * in two files is reported (seed-duplicate: a warning for the same secret, an error for another).
 */
export async function readSeedsHere(paths: string[], display: string[], opts: SeedReadOptions): Promise<SeedLoadResult> {
  const problems = new ProblemList();
  const all: OathSeed[] = [];
  for (let i = 0; i < paths.length; i++) {
    // One sink per file: a refused file discards its own seeds only.
    const file = new SeedArray();
    await readSeedFileInto(paths[i]!, opts, problems, display[i] ?? paths[i]!, file);
    for (const seed of file.seeds) all.push(seed);
  }
  return { seeds: dropDuplicateSeeds(all, problems), problems: problems.items };
}

/**
 * The worker streams each file's seeds in batches as it parses them, so it never holds a large file's
 * seeds whole; this side rebuilds them and then drops repeated serials exactly as readSeedsHere does
 * (same seeds, same problems, same order).
 */
function readSeedsInWorker(url: URL, data: SeedWorkerData): Promise<SeedLoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData: data });
    const problems = new ProblemList();
    const seeds: OathSeed[] = [];
    let current: OathSeed[] = [];
    let done = false;
    worker.on('message', (msg: SeedWorkerMessage) => {
      switch (msg.kind) {
        case 'seeds':
          for (const seed of fromWire(msg.seeds)) current.push(seed);
          break;
        case 'discard':
          for (const seed of current) seed.secret.reveal().fill(0);
          current = [];
          break;
        case 'file-done':
          for (const p of msg.problems) problems.items.push(p);
          for (const seed of current) seeds.push(seed);
          current = [];
          break;
        case 'done':
          done = true;
          resolve({ seeds: dropDuplicateSeeds(seeds, problems), problems: problems.items });
          void worker.terminate();
          break;
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`seed reader worker stopped with exit code ${code}`));
    });
  });
}

/** Packs seeds for postMessage; the caller transfers `secrets.buffer` and `offsets.buffer`. */
export function toWire(seeds: readonly OathSeed[]): WireSeeds {
  const offsets = new Uint32Array(seeds.length + 1);
  let total = 0;
  seeds.forEach((s, i) => {
    offsets[i] = total;
    total += s.secret.length;
  });
  offsets[seeds.length] = total;
  const secrets = new Uint8Array(total);
  const fields: WireSeeds['fields'] = [];
  const fingerprints: string[] = [];
  seeds.forEach((s, i) => {
    secrets.set(s.secret.reveal(), offsets[i]!);
    const { secret: _secret, fingerprint, ...rest } = s;
    fields.push(rest);
    fingerprints.push(fingerprint);
  });
  return { fields, fingerprints, secrets, offsets };
}

function fromWire(w: WireSeeds): OathSeed[] {
  const out: OathSeed[] = new Array(w.fields.length);
  for (let i = 0; i < w.fields.length; i++) {
    const secret = new Secret(w.secrets.subarray(w.offsets[i]!, w.offsets[i + 1]!));
    out[i] = { ...w.fields[i]!, secret, fingerprint: w.fingerprints[i]! };
  }
  // The packed secrets were copied into each Secret: wipe the shared buffer.
  w.secrets.fill(0);
  return out;
}
