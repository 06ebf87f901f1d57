import { parentPort, workerData } from 'node:worker_threads';
import type { SeedReadOptions } from './seeds/read-seed-files.js';
import { readSeedsHere, toWire } from './seed-loader.js';

// Worker side of readSeedsConcurrently: parse the seed files and post the seeds back.
const { paths, display, opts } = workerData as { paths: string[]; display: string[]; opts: SeedReadOptions };
// Buffers arrive as plain Uint8Arrays after structured cloning.
if (opts.pskcKey) opts.pskcKey = Buffer.from(opts.pskcKey);
const result = await readSeedsHere(paths, display, opts);
const wire = toWire(result.seeds);
parentPort!.postMessage({ seeds: wire, problems: result.problems }, [wire.secrets.buffer as ArrayBuffer, wire.offsets.buffer as ArrayBuffer]);
