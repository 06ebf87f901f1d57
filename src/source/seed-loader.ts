import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { OathSeed } from '../model/export-data.js';
import { ProblemList, type Problem } from '../model/problem.js';
import { Secret } from '../model/secret.js';
import { readSeedFile, type SeedReadOptions } from './seeds/read-seed-files.js';

/** Seed files larger than this (in total) are parsed in a worker thread, beside the CSV reading. */
const WORKER_THRESHOLD_BYTES = 2 * 1024 * 1024;

export interface SeedLoadResult {
  seeds: OathSeed[];
  problems: Problem[];
}

/**
 * What crosses the thread boundary: seeds column by column, secrets packed in one buffer that is
 * transferred, not copied. 100,000 seed objects cloned one by one would double the peak memory.
 */
export interface WireSeeds {
  fields: Omit<OathSeed, 'secret' | 'fingerprint'>[];
  fingerprints: string[];
  secrets: Uint8Array;
  /** secrets[offsets[i]..offsets[i+1]] is seed i's secret. */
  offsets: Uint32Array;
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
  // From TypeScript sources (tests) there is no compiled worker: read in this thread.
  if (total < WORKER_THRESHOLD_BYTES || !existsSync(fileURLToPath(worker))) return readSeedsHere(paths, display, opts);
  return readSeedsInWorker(worker, paths, display, opts);
}

export async function readSeedsHere(paths: string[], display: string[], opts: SeedReadOptions): Promise<SeedLoadResult> {
  const problems = new ProblemList();
  const seeds: OathSeed[] = [];
  for (let i = 0; i < paths.length; i++) seeds.push(...(await readSeedFile(paths[i]!, opts, problems, display[i])));
  return { seeds, problems: problems.items };
}

function readSeedsInWorker(url: URL, paths: string[], display: string[], opts: SeedReadOptions): Promise<SeedLoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData: { paths, display, opts } });
    worker.once('message', (msg: { seeds: WireSeeds; problems: Problem[] }) => {
      resolve({ seeds: fromWire(msg.seeds), problems: msg.problems });
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`seed reader worker stopped with exit code ${code}`));
    });
  });
}

export function toWire(seeds: OathSeed[]): WireSeeds {
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
