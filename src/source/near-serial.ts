import type { OathSeed } from '../model/export-data.js';
import { serialKey } from '../model/serial.js';

/**
 * A serial as a person or a spreadsheet may have rewritten it: without separators (`2600-2157-04919`
 * as a label prints it, `T-1`) and without leading zeros (Excel drops them from `0508327`). Used only
 * to name a likely seed in a seed-missing error, never to join one: two tokens may read the same so.
 */
export function looseSerialKey(serial: string): string {
  const s = serialKey(serial).replace(/[\s\-._:/]+/g, '');
  return s.replace(/^0+(?=.)/, '');
}

/** Unassigned seeds by loose serial (each key once: a key two seeds share names neither). */
export function nearSerials(unassigned: Iterable<OathSeed>): Map<string, OathSeed | null> {
  const byKey = new Map<string, OathSeed | null>();
  for (const seed of unassigned) {
    const key = looseSerialKey(seed.serial);
    byKey.set(key, byKey.has(key) ? null : seed);
  }
  return byKey;
}

/** The clause a seed-missing error gets when an unassigned seed's serial is this one but for separators or leading zeros. */
export function nearSerialHint(serial: string, near: ReadonlyMap<string, OathSeed | null>): string {
  const seed = near.get(looseSerialKey(serial));
  if (!seed) return '';
  return `; ${seed.source} line ${seed.line} has token serial ${seed.serial}, the same but for separators or leading zeros (which a spreadsheet drops): if that is this token, correct the serial where it is wrong`;
}
