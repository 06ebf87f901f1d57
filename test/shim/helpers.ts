import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OathAlgorithm, OathSeed, OathType } from '../../src/model/export-data.js';
import { Secret } from '../../src/model/secret.js';
import type { ShimToken, ShimUser, TokenStatePatch, UserStatePatch } from '../../src/shim/store-model.js';
import { userKey } from '../../src/shim/store-model.js';
import type { StateSink } from '../../src/shim/verifier.js';

/** RFC 4226 / RFC 6238 seeds (ASCII digits), per algorithm as in the RFC 6238 errata. */
export const RFC_SEED_SHA1 = Buffer.from('12345678901234567890');
export const RFC_SEED_SHA256 = Buffer.from('12345678901234567890123456789012');
export const RFC_SEED_SHA512 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234');

/** A test store key (fixed, so failures are reproducible). */
export const TEST_KEY = Buffer.alloc(32, 7);
export const TEST_KEY_B64 = TEST_KEY.toString('base64');

export function seed(partial: {
  serial: string;
  secret: Buffer;
  type?: OathType;
  algorithm?: OathAlgorithm;
  digits?: number;
  period?: number | null;
  counter?: number | null;
  timeDrift?: number;
}): OathSeed {
  const type = partial.type ?? 'totp';
  const secret = new Secret(partial.secret);
  const s: OathSeed = {
    serial: partial.serial,
    type,
    algorithm: partial.algorithm ?? 'sha1',
    digits: partial.digits ?? 6,
    period: type === 'totp' ? (partial.period === undefined ? 30 : partial.period) : null,
    counter: type === 'hotp' ? BigInt(partial.counter ?? 0) : null,
    secret,
    fingerprint: secret.fingerprint(),
    source: 'test-seeds.csv',
  };
  if (partial.timeDrift !== undefined) s.timeDrift = partial.timeDrift;
  return s;
}

export function token(partial: Parameters<typeof seed>[0]): ShimToken {
  const s = seed(partial);
  return {
    serial: s.serial,
    type: s.type,
    algorithm: s.algorithm,
    digits: s.digits,
    period: s.period,
    secret: s.secret,
    fingerprint: s.fingerprint,
    counter: s.counter === null ? null : Number(s.counter),
    lastStep: null,
    drift: s.timeDrift ?? 0,
  };
}

/** An in-memory StateSink that records what would be journaled. */
export class MemorySink implements StateSink {
  readonly users = new Map<string, ShimUser>();
  readonly writes: (TokenStatePatch | UserStatePatch)[] = [];

  addUser(username: string, tokens: ShimToken[]): ShimUser {
    const user: ShimUser = { username, key: userKey(username), tokens, fails: 0, lockedAt: null };
    this.users.set(user.key, user);
    return user;
  }

  findUser(key: string): ShimUser | undefined {
    return this.users.get(key);
  }

  setTokenState(t: ShimToken, state: TokenStatePatch): Promise<void> {
    Object.assign(t, state);
    this.writes.push(state);
    return Promise.resolve();
  }

  setUserState(user: ShimUser, state: UserStatePatch): Promise<void> {
    Object.assign(user, state);
    this.writes.push(state);
    return Promise.resolve();
  }
}

/** A clock the test moves. */
export class TestClock {
  constructor(public ms: number) {}
  now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

export function tempDir(prefix = 'shim-test-'): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
