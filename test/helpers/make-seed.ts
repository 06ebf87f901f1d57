import { createHash } from 'node:crypto';
import type { OathSeed } from '../../src/model/export-data.js';
import { Secret } from '../../src/model/secret.js';

/** A seed for tests: TOTP SHA-1 6 digits 30 s unless overridden; secret derived from the serial. */
export function makeSeed(over: Partial<Omit<OathSeed, 'secret' | 'fingerprint'>> & { serial: string; secretBytes?: Buffer }): OathSeed {
  const { secretBytes, ...rest } = over;
  const secret = new Secret(secretBytes ?? createHash('sha256').update(`test-seed-${over.serial}`).digest().subarray(0, 20));
  return {
    type: 'totp',
    algorithm: 'sha1',
    digits: 6,
    period: 30,
    counter: null,
    source: 'seeds.pskc',
    line: 1,
    ...rest,
    secret,
    fingerprint: secret.fingerprint(),
  };
}
