import type { OathSeed } from '../../model/export-data.js';
import type { ProblemList, Where } from '../../model/problem.js';
import { serialKey } from '../../model/serial.js';

function describe(seed: OathSeed): string {
  return seed.line === undefined ? seed.source : `${seed.source} line ${seed.line}`;
}

/**
 * Keeps the first seed of each serial, seed by seed as they are read. A later copy with the same
 * secret is a warning (harmless, e.g. the same seed file given twice); a different secret is an
 * error, since only one of them can be the token's, and the first is kept only so that later checks
 * can still run; a dropped copy's secret is wiped. The index it builds is handed on to the cross-file checks, which need the same one.
 */
export class SeedDeduplicator {
  /** The seeds kept, in the order read. */
  readonly seeds: OathSeed[] = [];
  /** serialKey(serial) -> position in `seeds`. */
  readonly bySerial = new Map<string, number>();

  /** Keeps `seed`, or reports it as a copy; true when kept. */
  add(seed: OathSeed, problems: ProblemList): boolean {
    const key = serialKey(seed.serial);
    const earlier = this.bySerial.get(key);
    if (earlier === undefined) {
      this.bySerial.set(key, this.seeds.length);
      this.seeds.push(seed);
      return true;
    }
    const first = this.seeds[earlier]!;
    const where: Where = { file: seed.source };
    if (seed.line !== undefined) where.line = seed.line;
    if (first.secret.equals(seed.secret)) {
      problems.warning('seed-duplicate', where, `token ${seed.serial} is also in ${describe(first)} with the same seed; this copy is ignored`);
    } else {
      problems.error(
        'seed-duplicate',
        where,
        `token ${seed.serial} is also in ${describe(first)} with a different seed (fingerprints ${first.fingerprint} and ${seed.fingerprint}); only one can be right, so find out which before migrating`,
      );
    }
    // The copy is dropped: its secret is of no further use.
    if (seed.secret !== first.secret) seed.secret.reveal().fill(0);
    return false;
  }

  /** Forgets the seeds kept from position `length` on (a file refused after they were read). */
  truncate(length: number): void {
    for (let i = length; i < this.seeds.length; i++) this.bySerial.delete(serialKey(this.seeds[i]!.serial));
    this.seeds.length = Math.min(length, this.seeds.length);
  }
}

/** Keeps the first seed of each serial and reports the others (see SeedDeduplicator). */
export function dropDuplicateSeeds(seeds: readonly OathSeed[], problems: ProblemList): OathSeed[] {
  return dedupeSeeds(seeds, problems).seeds;
}

export function dedupeSeeds(seeds: readonly OathSeed[], problems: ProblemList): SeedDeduplicator {
  const kept = new SeedDeduplicator();
  for (const seed of seeds) kept.add(seed, problems);
  return kept;
}
