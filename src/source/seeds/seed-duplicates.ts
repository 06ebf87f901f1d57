import type { OathSeed } from '../../model/export-data.js';
import type { ProblemList, Where } from '../../model/problem.js';
import { serialKey } from '../../model/serial.js';

function describe(seed: OathSeed): string {
  return seed.line === undefined ? seed.source : `${seed.source} line ${seed.line}`;
}

/**
 * Keeps the first seed of each serial. A later copy with the same secret is a warning (harmless,
 * e.g. the same seed file given twice); a different secret is an error, since only one of them can
 * be the token's, and the first is kept only so that later checks can still run.
 */
export function dropDuplicateSeeds(seeds: OathSeed[], problems: ProblemList): OathSeed[] {
  const first = new Map<string, OathSeed>();
  const kept: OathSeed[] = [];
  for (const seed of seeds) {
    const key = serialKey(seed.serial);
    const earlier = first.get(key);
    if (earlier === undefined) {
      first.set(key, seed);
      kept.push(seed);
      continue;
    }
    const where: Where = { file: seed.source };
    if (seed.line !== undefined) where.line = seed.line;
    if (earlier.secret.equals(seed.secret)) {
      problems.warning('seed-duplicate', where, `token ${seed.serial} is also in ${describe(earlier)} with the same seed; this copy is ignored`);
    } else {
      problems.error(
        'seed-duplicate',
        where,
        `token ${seed.serial} is also in ${describe(earlier)} with a different seed (fingerprints ${earlier.fingerprint} and ${seed.fingerprint}); only one can be right, so find out which before migrating`,
      );
    }
  }
  return kept;
}
