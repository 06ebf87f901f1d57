/**
 * `shim import` into PostgreSQL state: wall time of importing N users (one HOTP token each) into a
 * store with --state, beside the same import into a store with its local journal (same run: the
 * difference is what the database's bulk upserts, deletes and version bump cost), then the same
 * import again (the second generation: every row already there). PostgreSQL is the distribution's,
 * started here as the tests start it.
 *
 *   npm run build && node dist/bench/shim-pg-import.js [--users 100000]
 *
 * Why it matters: an import locks the state tables, so every node's verifications wait for it.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImportStore } from '../src/shim/shim-operations.js';
import { benchSeed, makeUsers, num } from './shim-bench-kit.js';

const { startPostgres, unavailable } = await import('../test/shim/postgres-server.js');
if (unavailable) throw new Error(`cannot run: ${unavailable}`);
const count = num('users', 100_000);
const key = randomBytes(32);
const users = makeUsers(count).map((u) => ({ ...u, type: 'hotp' as const }));
const input = { users: users.map((u) => ({ username: u.name, enabled: true })), tokens: users.map((u, i) => ({ seed: benchSeed(`B${i}`, u), user: u.name })) };
const work = mkdtempSync(join(tmpdir(), 'shim-pg-import-'));
console.log(`shim import of ${count.toLocaleString('en-US')} users (one HOTP token each): local journal beside PostgreSQL state`);
console.log(`Machine: ${cpus()[0]?.model ?? 'unknown CPU'} x ${cpus().length}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const pg = await startPostgres();
process.env.PGPASSFILE = pg.env.PGPASSFILE;
try {
  const { parseStateUrl } = await import('../src/shim/postgres/state-url.js');
  const state = parseStateUrl(pg.url);
  const time = async (label: string, store: string, withState: boolean): Promise<void> => {
    const t = performance.now();
    await runImportStore({ store, key, input, ...(withState ? { state } : {}) });
    console.log(`  ${label.padEnd(44)} ${((performance.now() - t) / 1000).toFixed(2).padStart(6)} s`);
  };
  await time('local journal, first generation', join(work, 'local.store'), false);
  await time('PostgreSQL, first generation', join(work, 'pg.store'), true);
  await time('local journal, second generation', join(work, 'local.store'), false);
  await time('PostgreSQL, second generation (rows there)', join(work, 'pg.store'), true);
} finally {
  await pg.stop();
  rmSync(work, { recursive: true, force: true });
}
