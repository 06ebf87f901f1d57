import type { OathSeed } from '../../model/export-data.js';
import type { ProblemList, Where } from '../../model/problem.js';
import { Secret } from '../../model/secret.js';

/** RFC 4226 §4 R6: the shared secret must be at least 128 bits. */
export const MIN_SECRET_BYTES = 16;

/** Everything of a seed but its secret (and the fingerprint derived from it); read seeds always have a line. */
export type SeedFields = Omit<OathSeed, 'secret' | 'fingerprint' | 'line'> & { line: number };

/**
 * Wraps the decoded seed bytes in a Secret (wiping the caller's copy) and warns when the seed is
 * shorter than RFC 4226 allows (`where` may be a function, so hot paths build it only then).
 */
export function makeOathSeed(fields: SeedFields, bytes: Buffer, problems: ProblemList, where: Where | (() => Where)): OathSeed {
  warnIfShortSecret(fields.serial, bytes.length, problems, where);
  return buildOathSeed(fields, bytes);
}

/** The secret-short warning (RFC 4226 R6), for readers that hand seeds on as fields and bytes. */
export function warnIfShortSecret(serial: string, length: number, problems: ProblemList, where: Where | (() => Where)): void {
  if (length >= MIN_SECRET_BYTES) return;
  problems.warning(
    'secret-short',
    typeof where === 'function' ? where() : where,
    `the seed of token ${serial} is ${length} bytes (${length * 8} bits); RFC 4226 asks for at least ${MIN_SECRET_BYTES} bytes (128 bits)`,
  );
}

/**
 * The seed object (the secret copied into a Secret and the caller's bytes wiped). Optional fields
 * are left out rather than set to undefined, so the objects compare and serialise cleanly.
 */
export function buildOathSeed(fields: SeedFields, bytes: Uint8Array): OathSeed {
  const secret = new Secret(bytes);
  bytes.fill(0);
  const seed: OathSeed = {
    serial: fields.serial,
    type: fields.type,
    algorithm: fields.algorithm,
    digits: fields.digits,
    period: fields.period,
    counter: fields.counter,
    secret,
    fingerprint: secret.fingerprint(),
    source: fields.source,
    line: fields.line,
  };
  if (fields.timeDrift !== undefined) seed.timeDrift = fields.timeDrift;
  if (fields.checkDigit === true) seed.checkDigit = true;
  if (fields.manufacturer) seed.manufacturer = fields.manufacturer;
  if (fields.model) seed.model = fields.model;
  if (fields.user) seed.user = fields.user;
  if (fields.keyId !== undefined) seed.keyId = fields.keyId;
  if (fields.expiredOn !== undefined) seed.expiredOn = fields.expiredOn;
  if (fields.serialField !== undefined) seed.serialField = fields.serialField;
  if (fields.secretField !== undefined) seed.secretField = fields.secretField;
  return seed;
}

/** A refused file's seeds: each secret wiped, none handed on. */
export function wipeSeeds(seeds: OathSeed[]): OathSeed[] {
  for (const seed of seeds) seed.secret.reveal().fill(0);
  return [];
}
