import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkShimCode } from '../../src/app/shim-check.js';
import { importShimStore } from '../../src/app/shim-import.js';
import { startShimServe } from '../../src/app/shim-serve.js';
import { unlockShimUser } from '../../src/app/shim-unlock.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { CONTOSO } from '../helpers/migration.js';
import { runImportStore, runUnlock } from '../../src/shim/shim-operations.js';
import { importIvanStore, startTestService, TEST_KEY, TEST_KEY_B64, TestClock, tempDir } from '../shim/helpers.js';
import { unavailable } from '../shim/postgres-server.js';
import { usePostgres } from '../shim/use-postgres.js';

/**
 * A command refused for its audit log has changed nothing (a black-box test: `shim import` and
 * `shim unlock` made their change, then refused a 0644 audit log: exit 1, the store or database
 * changed, no audit line; `shim serve` wrote a new store generation first).
 */

let tmp: ReturnType<typeof tempDir>;
let store: string;
let keyFile: string;

/** Audit logs every command must refuse before it writes, and the refusal each gets. */
function badLogs(): [string, RegExp][] {
  const open = tmp.path('open.log');
  writeFileSync(open, '', { mode: 0o644 });
  execFileSync('chmod', ['644', open]);
  const dir = tmp.path('a-dir');
  mkdirSync(dir);
  const link = tmp.path('link.log');
  symlinkSync(tmp.path('elsewhere.log'), link);
  const fifo = tmp.path('fifo.log');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  return [
    [open, /audit log .*open\.log has mode 0644; chmod 600 it/],
    [dir, /audit log .*a-dir is not a regular file \(a directory\)/],
    [link, /audit log .*link\.log is a symbolic link; refusing to write through it/],
    [tmp.path('no-such-dir/audit.log'), /cannot open audit log .*no-such-dir\/audit\.log \(ENOENT\)/],
    [fifo, /audit log .*fifo\.log is not a regular file \(a pipe\)/],
  ];
}

/** The bytes of every file in the store's folder but the bad logs, to compare before and after. */
function snapshot(): Map<string, string> {
  const files = readdirSync(tmp.dir).filter((f) => f.startsWith('shim.store') && !f.endsWith('.lock'));
  return new Map(files.map((f) => [f, readFileSync(join(tmp.dir, f)).toString('base64')]));
}

const seeds = () => {
  const file = tmp.path('seeds.csv');
  copyFileSync(join(CONTOSO, 'tokens', 'generic-seeds.csv'), file);
  return file;
};

describe('a bad audit log stops a shim command before it writes anything (local state)', () => {
  beforeEach(async () => {
    tmp = tempDir('shim-audit-first-');
    store = tmp.path('shim.store');
    keyFile = tmp.path('store.key');
    writeFileSync(keyFile, TEST_KEY_B64, { mode: 0o600 });
    await importIvanStore(store);
    // Failures counted for ivan: an unlock has something to clear.
    for (let i = 0; i < 3; i++) await checkShimCode({ store, keyFile, rules: DEFAULT_RULES, user: 'ivan@contoso.com', code: '000000' });
  });
  afterEach(() => tmp.cleanup());

  it('import, unlock, serve and check', async () => {
    const before = snapshot();
    const tokens = [seeds()];
    for (const [auditLog, refusal] of badLogs()) {
      await expect(importShimStore({ store, keyFile, auditLog, source: CONTOSO, tokens, seeds: { pskcMac: 'fail' }, includeDisabled: false, force: true }), auditLog).rejects.toThrow(refusal);
      await expect(unlockShimUser({ store, keyFile, auditLog, rules: DEFAULT_RULES, user: 'ivan@contoso.com' }), auditLog).rejects.toThrow(refusal);
      await expect(startShimServe({ store, keyFile, auditLog, host: '127.0.0.1', port: 0, rules: DEFAULT_RULES, rateLimit: { perSecond: 0, burst: 1 }, insecure: false, maxBodyBytes: 4096 }), auditLog).rejects.toThrow(refusal);
      await expect(checkShimCode({ store, keyFile, auditLog, rules: DEFAULT_RULES, user: 'ivan@contoso.com', code: '000000' }), auditLog).rejects.toThrow(refusal);
      expect(snapshot(), auditLog).toEqual(before);
    }
    expect(existsSync(tmp.path('elsewhere.log'))).toBe(false);
    expect(existsSync(`${store}.lock`)).toBe(false);
    // A good log: the same unlock is made, and audited.
    const good = tmp.path('good.log');
    expect((await unlockShimUser({ store, keyFile, auditLog: good, rules: DEFAULT_RULES, user: 'ivan@contoso.com' })).status).toBe('unlocked');
    expect(readFileSync(good, 'utf8')).toContain('"event":"unlock"');
  });

  it('the operations themselves open the log before they write (a log that changed since the check)', async () => {
    const before = snapshot();
    const [[auditLog, refusal]] = badLogs() as [[string, RegExp]];
    const input = { users: [{ username: 'ivan@contoso.com', enabled: true }], tokens: [] };
    await expect(runImportStore({ store, key: TEST_KEY, auditLog, input })).rejects.toThrow(refusal);
    expect(snapshot(), 'import').toEqual(before);
    await expect(runUnlock({ store, key: TEST_KEY, auditLog, rules: DEFAULT_RULES, user: 'ivan@contoso.com' })).rejects.toThrow(refusal);
    expect(snapshot(), 'unlock').toEqual(before);
    await expect(startTestService(store, new TestClock(Date.now()), { auditLog })).rejects.toThrow(refusal);
    expect(snapshot()).toEqual(before);
  });
});

if (unavailable) process.stderr.write(`PostgreSQL audit-log tests skipped: ${unavailable}\n`);

describe.skipIf(unavailable !== undefined)('a bad audit log stops a shim command before it writes anything (PostgreSQL state)', () => {
  const pg = usePostgres();
  afterEach(() => tmp?.cleanup());

  it('import --force and unlock leave the database (and the store file) as they were', async () => {
    tmp = tempDir('shim-audit-first-pg-');
    store = tmp.path('shim.store');
    keyFile = tmp.path('store.key');
    writeFileSync(keyFile, TEST_KEY_B64, { mode: 0o600 });
    pg.sql('CREATE DATABASE audit_first');
    const state = pg.url.replace(/\/mfa_shim$/, '/audit_first');
    const pskc = tmp.path('seeds.pskc');
    copyFileSync(join(CONTOSO, 'tokens', 'seeds.pskc'), pskc);
    const csv = seeds();
    const request = { store, keyFile, state, source: CONTOSO, seeds: { pskcMac: 'fail' as const }, includeDisabled: false, force: true };
    await importShimStore({ ...request, tokens: [pskc, csv] });
    const user = 'ivan@contoso.com';
    await checkShimCode({ store, keyFile, state, rules: DEFAULT_RULES, user, code: '000000' });
    const rows = () => pg.sql("SELECT generation FROM mfa_shim_stores; SELECT count(*) FROM mfa_shim_tokens; SELECT user_key, fails FROM mfa_shim_users WHERE fails > 0", 'audit_first');
    const before = rows();
    expect(before).toMatch(/^1\n\d+\nivan@contoso\.com\|1\n$/);
    const file = readFileSync(store);
    for (const [auditLog, refusal] of badLogs()) {
      // Without the CSV's tokens: this import would remove them, and move the generation on.
      await expect(importShimStore({ ...request, auditLog, tokens: [pskc] }), auditLog).rejects.toThrow(refusal);
      await expect(unlockShimUser({ store, keyFile, state, auditLog, rules: DEFAULT_RULES, user }), auditLog).rejects.toThrow(refusal);
      expect(rows(), auditLog).toBe(before);
      expect(readFileSync(store), auditLog).toEqual(file);
    }
  });
});
