import type { OathSeed } from '../../model/export-data.js';
import { buildOathSeed, type SeedFields } from './oath-seed.js';

/**
 * Where a seed reader puts the seeds it reads, as it reads them: an array for the usual case, or a
 * sink that ships them to another thread in batches so that a large seed file is never held whole by
 * the thread that parses it.
 */
export interface SeedSink {
  add(seed: OathSeed): void;
  /**
   * A seed as read, not yet wrapped: the sink builds the seed (buildOathSeed) or packs the bytes to
   * ship them, so that a worker thread spends nothing on Secret objects and fingerprints. The bytes
   * are the sink's to wipe.
   */
  addRead(fields: SeedFields, bytes: Buffer): void;
  /** The file is refused after all (a bad ValueMAC, say): forget and wipe every seed added so far. */
  discard(): void;
}

/** Keeps the seeds in memory. */
export class SeedArray implements SeedSink {
  readonly seeds: OathSeed[] = [];

  add(seed: OathSeed): void {
    this.seeds.push(seed);
  }

  addRead(fields: SeedFields, bytes: Buffer): void {
    this.seeds.push(buildOathSeed(fields, bytes));
  }

  discard(): void {
    for (const seed of this.seeds) seed.secret.reveal().fill(0);
    this.seeds.length = 0;
  }
}
