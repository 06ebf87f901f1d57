import { copyFileSync, linkSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkShimCode } from '../../src/app/shim-check.js';
import { importShimStore } from '../../src/app/shim-import.js';
import { startShimServe } from '../../src/app/shim-serve.js';
import { unlockShimUser } from '../../src/app/shim-unlock.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { CONTOSO } from '../helpers/migration.js';
import { importIvanStore, TEST_KEY_B64, tempDir } from '../shim/helpers.js';

let tmp: ReturnType<typeof tempDir>;
let store: string;
let keyFile: string;
/** Every file the store is made of, as they were before the command. */
let before: Map<string, Buffer>;
const storeFiles = () => [store, `${store}.journal`, keyFile];
beforeEach(async () => {
  tmp = tempDir('shim-files-');
  store = tmp.path('shim.store');
  keyFile = tmp.path('store.key');
  writeFileSync(keyFile, TEST_KEY_B64, { mode: 0o600 });
  await importIvanStore(store);
  before = new Map(storeFiles().map((f) => [f, readFileSync(f)]));
});
afterEach(() => tmp.cleanup());

const unchanged = () => {
  for (const [f, bytes] of before) expect(readFileSync(f), f).toEqual(bytes);
};

describe("the shim's audit log is none of the files it reads or writes (a review: --audit-log over the key file left the store unreadable for good)", () => {
  const check = (auditLog: string) => checkShimCode({ store, keyFile, auditLog, rules: DEFAULT_RULES, user: 'ivan@contoso.com', code: '000000' });

  it('check and unlock refuse --audit-log naming the store, its journal or lock, or the key file, by any name, before anything is written', async () => {
    linkSync(keyFile, tmp.path('key-link'));
    const cases: [string, string][] = [
      [store, `the store ${store}`],
      [`${store}.journal`, `the store's state journal ${store}.journal`],
      [`${store}.journal.next`, `the store's next state journal ${store}.journal.next`],
      [`${store}.lock`, `the store's lock ${store}.lock`],
      [keyFile, `the store key file (--key-file) ${keyFile}`],
      [tmp.path('key-link'), `the store key file (--key-file) ${keyFile}`],
      [join(tmp.dir, '.', 'shim.store'), `the store ${store}`],
    ];
    for (const [auditLog, what] of cases) {
      await expect(check(auditLog)).rejects.toThrow(`--audit-log ${auditLog}: is the same file as ${what}, which this command reads or writes; name another file`);
      await expect(unlockShimUser({ store, keyFile, auditLog, rules: DEFAULT_RULES, user: 'ivan@contoso.com' })).rejects.toThrow(`--audit-log ${auditLog}: is the same file as ${what}`);
    }
    unchanged();
    // Another name: the check is answered, and the store can be read as ever.
    expect(await check(tmp.path('audit.jsonl'))).toEqual({ result: 'reject', reason: 'wrong_code' });
    expect(readFileSync(tmp.path('audit.jsonl'), 'utf8')).toContain('"wrong_code"');
    expect(readFileSync(keyFile, 'utf8')).toBe(TEST_KEY_B64);
  });

  it('serve refuses --audit-log naming the store or a file it reads (the RADIUS clients file, reloaded on SIGHUP)', async () => {
    const clients = tmp.path('clients');
    writeFileSync(clients, '127.0.0.1 s3cret-s3cret-s3cret\n', { mode: 0o600 });
    const base = { store, keyFile, host: '127.0.0.1', port: 0, rules: DEFAULT_RULES, rateLimit: { perSecond: 0, burst: 1 }, insecure: false, maxBodyBytes: 4096 };
    await expect(startShimServe({ ...base, auditLog: `${store}.lock` })).rejects.toThrow(`--audit-log ${store}.lock: is the same file as the store's lock ${store}.lock`);
    await expect(startShimServe({ ...base, auditLog: clients, radiusPort: 0, radiusClients: clients })).rejects.toThrow(`--audit-log ${clients}: is the same file as ${clients}, which this command reads or writes`);
    unchanged();
    expect(readFileSync(clients, 'utf8')).toBe('127.0.0.1 s3cret-s3cret-s3cret\n');
  });

  it("import refuses --audit-log or --store naming the export's or a seed file, and a key file the store would be written over", async () => {
    const seeds = tmp.path('seeds.csv');
    copyFileSync(join(CONTOSO, 'tokens', 'generic-seeds.csv'), seeds);
    const seedBytes = readFileSync(seeds);
    const request = { keyFile, source: CONTOSO, tokens: [seeds], seeds: { pskcMac: 'fail' as const }, includeDisabled: false, force: true };
    await expect(importShimStore({ ...request, store, auditLog: seeds })).rejects.toThrow(`--audit-log ${seeds}: is the same file as ${seeds}, which this command reads or writes; name another file`);
    await expect(importShimStore({ ...request, store, auditLog: join(CONTOSO, 'users.csv') })).rejects.toThrow(`is the same file as ${join(CONTOSO, 'users.csv')}`);
    await expect(importShimStore({ ...request, store: seeds })).rejects.toThrow(`--store ${seeds}: is the same file as ${seeds}, which this command reads; name another file`);
    // The store's journal beside it, named as the key file.
    await expect(importShimStore({ ...request, store, keyFile: `${store}.journal` })).rejects.toThrow(`--store ${store}: the store's state journal ${store}.journal is the same file as the store key file (--key-file) ${store}.journal, which this command reads`);
    expect(readFileSync(seeds)).toEqual(seedBytes);
    unchanged();
  });
});
