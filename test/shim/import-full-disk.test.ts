import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as fsync from '../../src/io/fsync.js';
import { runImportStore } from '../../src/shim/shim-operations.js';
import { StoreBusyError, StoreLock } from '../../src/shim/store-lock.js';
import { RFC_SEED_SHA1, TEST_KEY, seed, tempDir } from './helpers.js';

/** While set, a synced write of the store file (its temporary file, `.shim.store.PID.HEX.tmp`) fails as a full disk fails it. */
const gate = { full: false };
// Spied on, not mocked: the file shares a worker with others (vitest.config.ts), so the spy goes at its end.
const writeFileSynced = fsync.writeFileSynced;
beforeAll(() => {
  vi.spyOn(fsync, 'writeFileSynced').mockImplementation(async (path, data, options) => {
    if (gate.full && /^\.shim\.store\.\d+\.[0-9a-f]{12}\.tmp$/.test(basename(path))) {
      writeFileSync(path, 'part', { flag: 'wx', mode: 0o600 });
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    return writeFileSynced(path, data, options);
  });
});
afterAll(() => vi.mocked(fsync.writeFileSynced).mockRestore());

const input = (serial: string) => ({ users: [{ username: 'ivan@contoso.com', enabled: true }], tokens: [{ seed: seed({ serial, secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'ivan@contoso.com' }] });

/**
 * A black-box round: `shim import` on a full disk left an empty new `*.audit.jsonl` (a new store), or
 * `*.journal.next` behind. What the failed import made is removed; the store is as it was.
 */
describe('shim import on a full disk', () => {
  let tmp: ReturnType<typeof tempDir>;
  afterEach(() => {
    gate.full = false;
    tmp?.cleanup();
  });

  it('a new store: nothing is left (no empty audit log, no .journal.next, no temporary file)', async () => {
    tmp = tempDir();
    const store = tmp.path('shim.store');
    gate.full = true;
    await expect(runImportStore({ store, key: TEST_KEY, input: input('H1') })).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(readdirSync(tmp.dir)).toEqual([]);
  });

  // A review: an import that loses the new store's lock to another leaves the log it made, which that one may have opened since.
  it('a new store whose lock another holds: the audit log this import made is left, for the holder may have opened it', async () => {
    tmp = tempDir();
    const store = tmp.path('shim.store');
    const held = await StoreLock.acquire(store, 'shim import');
    try {
      await expect(runImportStore({ store, key: TEST_KEY, input: input('H1') })).rejects.toBeInstanceOf(StoreBusyError);
      expect(readdirSync(tmp.dir)).toContain('shim.store.audit.jsonl');
    } finally {
      await held.release();
    }
  });

  it('an existing store: it stays as it was with its journal and audit log; the .journal.next made for the new generation is removed', async () => {
    tmp = tempDir();
    const store = tmp.path('shim.store');
    await runImportStore({ store, key: TEST_KEY, input: input('H1') });
    const before = readdirSync(tmp.dir).sort();
    const bytes = readFileSync(store);
    const audit = readFileSync(tmp.path('shim.store.audit.jsonl'), 'utf8');
    gate.full = true;
    await expect(runImportStore({ store, key: TEST_KEY, input: input('H2') })).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(readdirSync(tmp.dir).sort()).toEqual(before);
    expect(readFileSync(store).equals(bytes)).toBe(true);
    expect(readFileSync(tmp.path('shim.store.audit.jsonl'), 'utf8')).toBe(audit);
    gate.full = false;
    // The store goes on: the next import follows it.
    await runImportStore({ store, key: TEST_KEY, input: input('H2') });
    expect(readdirSync(tmp.dir).sort()).toEqual(before);
  });

  it('an audit log that was there, even empty, is never removed (a server may hold it open)', async () => {
    tmp = tempDir();
    const store = tmp.path('shim.store');
    writeFileSync(tmp.path('shim.store.audit.jsonl'), '', { mode: 0o600 });
    const ino = statSync(tmp.path('shim.store.audit.jsonl')).ino;
    gate.full = true;
    await expect(runImportStore({ store, key: TEST_KEY, input: input('H1') })).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(readdirSync(tmp.dir)).toEqual(['shim.store.audit.jsonl']);
    expect(statSync(tmp.path('shim.store.audit.jsonl')).ino).toBe(ino);
  });
});
