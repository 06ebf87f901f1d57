import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hotpCode } from '../../src/otp/hotp.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { startShimService, type ShimService } from '../../src/shim/shim-service.js';
import { readStoreFile, type StoredToken } from '../../src/shim/store-file.js';
import { verify } from './http-client.js';
import { runCli } from './cli-process.js';
import { TEST_KEY, TEST_KEY_B64, TestClock, tempDir } from './helpers.js';

/**
 * End to end on the Contoso sample: `shim import` from users.csv + tokens/*, then the server accepts
 * codes computed independently from the seeds as fixtures/contoso/CASES.md defines them:
 * seed(S) = first L bytes of sha256("contoso-demo-seed-" + S) (L = 20 SHA-1, 32 SHA-256, 10 for chen),
 * or of sha512(...) (L = 64, SHA-512).
 */
const CONTOSO = fileURLToPath(new URL('../../fixtures/contoso/', import.meta.url));
const TOKENS = `${CONTOSO}tokens/`;
const SEED_FILES = ['seeds.pskc', 'seeds-psk.pskc', 'seeds-password.pskc', 'entra-upload.csv', 'generic-seeds.csv'];
const haveSeeds = SEED_FILES.every((f) => existsSync(TOKENS + f));

function contosoSeed(serial: string, hash: 'sha256' | 'sha512', length: number): Buffer {
  return createHash(hash).update(`contoso-demo-seed-${serial}`).digest().subarray(0, length);
}

const EXPECTED: { user: string; serial: string; type: 'totp' | 'hotp'; algorithm: 'sha1' | 'sha256' | 'sha512'; seed: Buffer; period?: number; digits?: number }[] = [
  { user: 'grace@contoso.com', serial: '20010001', type: 'totp', algorithm: 'sha1', seed: contosoSeed('20010001', 'sha256', 20), period: 30, digits: 6 },
  { user: 'heidi@contoso.com', serial: '20010002', type: 'totp', algorithm: 'sha256', seed: contosoSeed('20010002', 'sha256', 32), period: 60 },
  { user: 'ivan@contoso.com', serial: '20010003', type: 'hotp', algorithm: 'sha1', seed: contosoSeed('20010003', 'sha256', 20) },
  { user: 'judy@contoso.com', serial: '20010004', type: 'totp', algorithm: 'sha1', seed: contosoSeed('20010004', 'sha256', 20), digits: 8 },
  { user: 'mallory@contoso.com', serial: '20010005', type: 'totp', algorithm: 'sha512', seed: contosoSeed('20010005', 'sha512', 64) },
  { user: 'chen@contoso.com', serial: '20010006', type: 'totp', algorithm: 'sha1', seed: contosoSeed('20010006', 'sha256', 10) },
  { user: 'edgar@contoso.com', serial: '20010008', type: 'totp', algorithm: 'sha256', seed: contosoSeed('20010008', 'sha256', 32) },
  { user: 'fatima@contoso.com', serial: '20010009', type: 'totp', algorithm: 'sha1', seed: contosoSeed('20010009', 'sha256', 20) },
  { user: 'george@contoso.com', serial: '20010010', type: 'totp', algorithm: 'sha1', seed: contosoSeed('20010010', 'sha256', 20) },
];

describe.skipIf(!haveSeeds)('shim import on fixtures/contoso (users.csv + tokens/*)', () => {
  const tmp = tempDir();
  const store = tmp.path('contoso.store');
  const clock = new TestClock(1_767_225_600_000); // 2026-01-01
  const env = { MFA_SHIM_KEY: TEST_KEY_B64 };
  const importArgs = [
    'shim', 'import', '--source', CONTOSO,
    ...SEED_FILES.flatMap((f) => ['--tokens', TOKENS + f]),
    '--pskc-key-file', `${TOKENS}psk.hex`, '--pskc-password-file', `${TOKENS}pskc-password.txt`,
    '--store', store,
  ];
  let service: ShimService;
  let tokens: Map<string, StoredToken>;
  let importOutput: string;

  beforeAll(async () => {
    const r = runCli(importArgs, { env });
    importOutput = r.stdout + r.stderr;
    expect(r.status, importOutput).toBe(0);
    tokens = new Map((await readStoreFile(store, TEST_KEY)).tokens.map((t) => [t.serial, t]));
    service = await startShimService({ store, key: TEST_KEY, host: '127.0.0.1', port: 0, rules: DEFAULT_RULES, rateLimit: { perSecond: 0, burst: 1 }, now: clock.now });
  });
  afterAll(async () => {
    await service?.close();
    tmp.cleanup();
  });

  it('writes the store 0600 and prints a summary without any secret', async () => {
    expect(statSync(store).mode & 0o777).toBe(0o600);
    expect(importOutput).toMatch(/Token store .* \d+ users, \d+ tokens/);
    expect(importOutput).toMatch(/20019998 .*no user in the export has this token/);
    // HOTP (ivan), 8 digits (judy) and SHA-512 (mallory) cannot move to Entra.
    expect(importOutput).toMatch(/ivan@contoso\.com +20010003 \(HOTP SHA1 6, shim only\)/);
    expect(importOutput).toMatch(/judy@contoso\.com +20010004 \(TOTP SHA1 8\/30s, shim only\)/);
    expect(importOutput).toMatch(/mallory@contoso\.com +20010005 \(TOTP SHA512 6\/30s, shim only\)/);
    expect(importOutput).toMatch(/grace@contoso\.com +20010001 \(TOTP SHA1 6\/30s\)/);
    for (const e of EXPECTED) {
      for (const enc of ['hex', 'base64'] as const) expect(importOutput).not.toContain(e.seed.toString(enc));
    }
  });

  it.each(EXPECTED)('imports $serial for $user with the seed and parameters of the seed file', async (e) => {
    const t = tokens.get(e.serial);
    expect(t, e.serial).toBeDefined();
    expect(Buffer.from(t!.secret, 'base64')).toEqual(e.seed);
    expect(t).toMatchObject({ type: e.type, algorithm: e.algorithm, ...(e.period ? { period: e.period } : {}), ...(e.digits ? { digits: e.digits } : {}) });
  });

  it('accepts codes computed from the seeds, once, for every kind of token', async () => {
    for (const e of EXPECTED) {
      const t = tokens.get(e.serial)!;
      const counter = e.type === 'hotp' ? (t.counter ?? 0) : Math.floor(clock.ms / 1000 / t.period!) + t.drift;
      const code = hotpCode(e.seed, e.algorithm, counter, t.digits);
      expect((await verify(service.url, e.user.toUpperCase(), code)).json, e.user).toEqual({ result: 'accept', reason: 'ok' });
      expect((await verify(service.url, e.user, code)).json, e.user).toEqual({ result: 'reject', reason: 'replayed' });
    }
    expect((await verify(service.url, 'alice@contoso.com', '123456')).json).toEqual({ result: 'reject', reason: 'no_token' });
    expect((await verify(service.url, 'mallet@contoso.com', '123456')).json).toEqual({ result: 'reject', reason: 'unknown_user' });
  });

  it('re-import keeps the replay state of unchanged tokens', async () => {
    await service.close();
    const r = runCli(importArgs, { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/0 new, \d+ unchanged \(state kept\), 0 with a changed seed/);
    service = await startShimService({ store, key: TEST_KEY, host: '127.0.0.1', port: 0, rules: DEFAULT_RULES, rateLimit: { perSecond: 0, burst: 1 }, now: clock.now });
    const grace = EXPECTED[0]!;
    const code = hotpCode(grace.seed, 'sha1', Math.floor(clock.ms / 30_000), 6);
    expect((await verify(service.url, grace.user, code)).json).toEqual({ result: 'reject', reason: 'replayed' });
  });
});
