import { parentPort, workerData } from 'node:worker_threads';
import type { OathSeed } from '../model/export-data.js';
import { ProblemList } from '../model/problem.js';
import { toWire, wireTransfer, type SeedWorkerData, type SeedWorkerMessage, type WireEntry } from './seed-loader.js';
import type { SeedFields } from './seeds/oath-seed.js';
import { readSeedFileInto } from './seeds/read-seed-files.js';
import type { SeedSink } from './seeds/seed-sink.js';

// Worker side of readSeedsConcurrently: parse the seed files and stream the seeds back in batches.
const { paths, display, opts } = workerData as SeedWorkerData;
// Buffers arrive as plain Uint8Arrays after structured cloning.
if (opts.pskcKey) opts.pskcKey = Buffer.from(opts.pskcKey);
if (opts.pskcKeys) opts.pskcKeys = opts.pskcKeys.map((k) => ({ ...k, key: Buffer.from(k.key) }));

/** Seeds per message: small enough that this thread holds little, large enough to cost few messages. */
const BATCH = 4096;

const post = (msg: SeedWorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(msg, transfer);

/** Sends a file's seeds on in batches, wiping this thread's copies of the secrets once packed. */
class PostingSink implements SeedSink {
  #batch: WireEntry[] = [];
  #sent = false;

  constructor(private readonly file: number) {}

  add(seed: OathSeed): void {
    this.#push({ fields: seed, bytes: seed.secret.reveal() });
  }

  addRead(fields: SeedFields, bytes: Buffer): void {
    this.#push({ fields, bytes });
  }

  #push(entry: WireEntry): void {
    this.#batch.push(entry);
    if (this.#batch.length >= BATCH) this.flush();
  }

  discard(): void {
    for (const entry of this.#batch) entry.bytes.fill(0);
    this.#batch = [];
    if (this.#sent) post({ kind: 'discard', file: this.file });
    this.#sent = false;
  }

  flush(): void {
    if (this.#batch.length === 0) return;
    const wire = toWire(this.#batch);
    for (const entry of this.#batch) entry.bytes.fill(0);
    this.#batch = [];
    this.#sent = true;
    post({ kind: 'seeds', file: this.file, seeds: wire }, wireTransfer(wire));
  }
}

for (let i = 0; i < paths.length; i++) {
  const problems = new ProblemList();
  const sink = new PostingSink(i);
  await readSeedFileInto(paths[i]!, opts, problems, display[i]!, sink);
  sink.flush();
  post({ kind: 'file-done', file: i, problems: problems.items });
}
post({ kind: 'done' });
