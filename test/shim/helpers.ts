import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OathAlgorithm, OathSeed, OathType } from '../../src/model/export-data.js';
import { Secret } from '../../src/model/secret.js';
import type { ShimToken, ShimUser } from '../../src/shim/store-model.js';
import { userKey } from '../../src/shim/store-model.js';
import { MemoryState } from '../../src/shim/memory-state.js';
import type { JournalRecord } from '../../src/shim/state-journal.js';

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
  counter?: number | bigint | null;
  timeDrift?: number;
  checkDigit?: true;
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
  if (partial.checkDigit === true) s.checkDigit = true;
  return s;
}

export function token(partial: Parameters<typeof seed>[0]): ShimToken {
  const s = seed(partial);
  return {
    serial: s.serial,
    type: s.type,
    algorithm: s.algorithm,
    digits: s.digits,
    ...(s.checkDigit === true ? { checkDigit: true as const } : {}),
    period: s.period,
    secret: s.secret,
    fingerprint: s.fingerprint,
    counter: s.counter === null ? null : BigInt(s.counter),
    lastStep: null,
    drift: s.timeDrift ?? 0,
  };
}

/** The in-memory state, recording what would be journaled. */
export class MemorySink extends MemoryState {
  readonly writes: JournalRecord[] = [];

  addUser(username: string, tokens: ShimToken[]): ShimUser {
    const user: ShimUser = { username, key: userKey(username), tokens, fails: 0, lockedAt: null, sources: {}, version: 0 };
    this.users.set(user.key, user);
    for (const t of tokens) this.tokens.set(t.serial, t);
    return user;
  }

  protected override persist(record: JournalRecord): Promise<void> {
    this.writes.push(record);
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

/**
 * Makes a file immutable (`chattr +i`: every write to it fails, also through a descriptor already
 * open) or writable again; returns why it cannot (not root, a file system without the flag).
 */
export function setImmutable(path: string, on: boolean): string | undefined {
  try {
    execFileSync('chattr', [on ? '+i' : '-i', path], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

/** Whether openssl (for test certificates) is installed. */
export const haveOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** `shim serve` in this process on a test store: loopback, any port, no rate limit, the test's clock. */
export async function startTestService(store: string, clock: TestClock, extra: Partial<import('../../src/shim/shim-service.js').ShimServiceOptions> = {}) {
  const { startShimService } = await import('../../src/shim/shim-service.js');
  const { DEFAULT_RULES } = await import('../../src/shim/rules.js');
  return startShimService({ store, key: TEST_KEY, host: '127.0.0.1', port: 0, rules: DEFAULT_RULES, rateLimit: { perSecond: 0, burst: 1 }, now: clock.now, ...extra });
}

/** A test store holding ivan's HOTP token (RFC 4226's seed, serial 20010003), and `others` with no token. */
export async function importIvanStore(store: string, others: readonly string[] = []): Promise<void> {
  const { runImportStore } = await import('../../src/shim/shim-operations.js');
  await runImportStore({
    store,
    key: TEST_KEY,
    input: {
      users: ['ivan@contoso.com', ...others].map((username) => ({ username, enabled: true })),
      tokens: [{ seed: seed({ serial: '20010003', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'ivan@contoso.com' }],
    },
  });
}
