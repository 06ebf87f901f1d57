import type { OathSeed } from '../../model/export-data.js';
import type { ProblemList, Where } from '../../model/problem.js';
import { serialKey } from '../../model/serial.js';
import { shownValue } from '../../model/shown-value.js';

function describe(seed: OathSeed): string {
  return seed.line === undefined ? seed.source : `${seed.source} line ${seed.line}`;
}

/** The seed's line, and its column or element (`field`) when the reader said which. */
function whereIs(seed: OathSeed, field: string | undefined): Where {
  const where: Where = { file: seed.source };
  if (seed.line !== undefined) where.line = seed.line;
  if (field !== undefined) where.field = field;
  return where;
}

/**
 * Two keys a PSKC file gives one device (RFC 6030 Figure 10, draft-ietf-keyprov-pskc's Device with
 * several Keys): same file, different Key Ids. Not a sign of tampering, as two seeds for one serial
 * from different places are, but still not migratable: Entra keys tokens by serial.
 */
function severalKeysOfOneDevice(first: OathSeed, later: OathSeed): boolean {
  return first.source === later.source && first.keyId !== undefined && later.keyId !== undefined && first.keyId !== later.keyId;
}

/** `token X (Key Id K)`: a seed as problems name it. */
function named(seed: OathSeed): string {
  return `token ${seed.serial}${seed.keyId !== undefined ? ` (Key Id ${shownValue(seed.keyId)})` : ''}`;
}

/**
 * Whether `later`, read past its ExpiryDate (--pskc-expired take), gives way to `first`: a key of the
 * token valid now (from any file: without the option `later` would have been left out, so taking
 * expired keys never turns a good file into a seed-duplicate error), or a key of the same device
 * that expired later (RFC 6030 Figure 10's key per period: the device uses its latest). Seeds past
 * their ExpiryDate are added after all others, latest first (afterCurrentKeys), so `first` is the one to keep.
 */
function givesWayToCurrentKey(first: OathSeed, later: OathSeed): boolean {
  if (later.expiredOn === undefined) return false;
  if (first.expiredOn === undefined) return true;
  return severalKeysOfOneDevice(first, later) && Date.parse(first.expiredOn) > Date.parse(later.expiredOn);
}

/**
 * Keeps the first seed of each serial, seed by seed as they are read. A later copy with the same
 * secret is a warning (harmless, e.g. the same seed file given twice); a different secret is an
 * error, since only one of them can be the token's, and the first is kept only so that later checks
 * can still run; a dropped copy's secret is wiped.
 *
 * Two different serials with the same secret are an error too (secret-duplicate): no vendor ships
 * two tokens with one seed, and a PSKC ValueMAC does not bind the serial, so a CipherValue copied
 * from one KeyPackage into another passes every other check and would let one user's codes verify
 * for another. Both seeds are kept (so reports list both serials); the error stops plan, apply and
 * shim import. The indexes it builds are handed on to the cross-file checks, which need the same ones.
 */
export class SeedDeduplicator {
  /** The seeds kept, in the order read. */
  readonly seeds: OathSeed[] = [];
  /** serialKey(serial) -> position in `seeds`. */
  readonly bySerial = new Map<string, number>();
  /** Secret fingerprint -> position in `seeds` of the first seed with that secret. */
  readonly #byFingerprint = new Map<string, number>();

  /** Keeps `seed`, or reports it as a copy; true when kept. */
  add(seed: OathSeed, problems: ProblemList): boolean {
    const key = serialKey(seed.serial);
    const earlier = this.bySerial.get(key);
    if (earlier === undefined) {
      this.#checkSecretUnique(seed, problems);
      this.bySerial.set(key, this.seeds.length);
      this.seeds.push(seed);
      return true;
    }
    const first = this.seeds[earlier]!;
    const where = whereIs(seed, seed.serialField);
    if (first.secret.equals(seed.secret)) {
      problems.warning('seed-duplicate', where, `token ${seed.serial} is also in ${describe(first)} with the same seed; this copy is ignored`);
    } else if (givesWayToCurrentKey(first, seed)) {
      const kept = first.expiredOn === undefined ? 'a key valid now' : `a key that expired later, on ${first.expiredOn}`;
      problems.warning(
        'pskc-policy',
        whereIs(seed, 'ExpiryDate'),
        `${named(seed)} expired on ${seed.expiredOn} (its ExpiryDate) and is left out although --pskc-expired take: ${describe(first)} gives the token ${kept}${first.keyId !== undefined ? ` (Key Id ${shownValue(first.keyId)})` : ''}, which is read`,
      );
    } else if (severalKeysOfOneDevice(first, seed)) {
      problems.error(
        'seed-duplicate',
        where,
        `token ${seed.serial} is one device with several keys in ${seed.source}: Key Id ${shownValue(first.keyId!)} (line ${first.line ?? '?'}, fingerprint ${first.fingerprint}) and Key Id ${shownValue(seed.keyId!)} (line ${seed.line ?? '?'}, fingerprint ${seed.fingerprint}), ${seed.expiredOn !== undefined && first.expiredOn !== undefined ? `both expired on ${seed.expiredOn} and read under --pskc-expired take` : 'both usable now'}. Entra holds one key per token serial, so the token cannot be migrated until one is chosen: keep only the key the device uses (a file that gives one key per validity period, as RFC 6030 Figure 10 does, needs Policy StartDate and ExpiryDate on each key so that one is valid now)`,
      );
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
    for (let i = length; i < this.seeds.length; i++) {
      const seed = this.seeds[i]!;
      this.bySerial.delete(serialKey(seed.serial));
      if (this.#byFingerprint.get(seed.fingerprint) === i) this.#byFingerprint.delete(seed.fingerprint);
    }
    this.seeds.length = Math.min(length, this.seeds.length);
  }

  /** secret-duplicate: `seed` (a new serial) has the secret of a seed kept earlier. */
  #checkSecretUnique(seed: OathSeed, problems: ProblemList): void {
    const earlier = this.#byFingerprint.get(seed.fingerprint);
    if (earlier === undefined) {
      this.#byFingerprint.set(seed.fingerprint, this.seeds.length);
      return;
    }
    const first = this.seeds[earlier]!;
    // The fingerprint is 64 bits of SHA-256: compare the secrets themselves before calling it a copy.
    if (!first.secret.equals(seed.secret)) return;
    problems.error(
      'secret-duplicate',
      whereIs(seed, seed.secretField),
      `token ${seed.serial} has the same secret as token ${first.serial} in ${describe(first)} (fingerprint ${seed.fingerprint}); no two tokens share a seed, so the file may have been altered (a secret copied from one token to another): find out which token the seed belongs to before migrating`,
    );
  }
}

/** Keeps the first seed of each serial and reports the others (see SeedDeduplicator). */
export function dropDuplicateSeeds(seeds: readonly OathSeed[], problems: ProblemList): OathSeed[] {
  return dedupeSeeds(seeds, problems).seeds;
}

export function dedupeSeeds(seeds: readonly OathSeed[], problems: ProblemList): SeedDeduplicator {
  const kept = new SeedDeduplicator();
  const expired: OathSeed[] = [];
  for (const seed of seeds) {
    if (seed.expiredOn === undefined) kept.add(seed, problems);
    else expired.push(seed);
  }
  for (const seed of afterCurrentKeys(expired)) kept.add(seed, problems);
  return kept;
}

/**
 * Seeds read past their ExpiryDate (--pskc-expired take), in the order to add them once every other
 * seed is added: the latest ExpiryDate first (a stable sort: equal dates keep the order read), so
 * that a serial keeps its key valid now, else the key that expired last (givesWayToCurrentKey).
 */
export function afterCurrentKeys(expired: readonly OathSeed[]): OathSeed[] {
  return [...expired].sort((a, b) => Date.parse(b.expiredOn!) - Date.parse(a.expiredOn!));
}
