import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hotpCode } from '../../src/otp/hotp.js';
import { parseStateUrl } from '../../src/shim/postgres/state-url.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { runCheck, runImportStore } from '../../src/shim/shim-operations.js';
import { RFC_SEED_SHA1, TEST_KEY, seed, tempDir } from './helpers.js';
import { startPostgres, unavailable, type TestPostgres } from './postgres-server.js';

/**
 * A database that answers but refuses the node's statements (a privilege revoked, a column renamed,
 * read-only, a password changed behind a restart), as an SRE's black-box round found them: said
 * once, unhealthy until writes are taken again, and one line for the commands, never a stack trace.
 */

if (unavailable) process.stderr.write(`PostgreSQL outage tests skipped: ${unavailable}\n`);

const H = (c: number): string => hotpCode(RFC_SEED_SHA1, 'sha1', c, 6);
const USERS = Array.from({ length: 4 }, (_, i) => `user${i}@contoso.com`);
const NODE_ROLE = 'shim_node';
const NODE_PASSWORD = 'node-password-1';
const input = (secret0 = RFC_SEED_SHA1) => ({
  users: USERS.map((username) => ({ username, enabled: true })),
  tokens: USERS.map((user, i) => ({ seed: seed({ serial: `H${i}`, secret: i === 0 ? secret0 : RFC_SEED_SHA1, type: 'hotp' }), user })),
});
let pg: TestPostgres;
let savedPassfile: string | undefined;
let passfile: string;

describe.skipIf(unavailable !== undefined)('the shared state refused, not lost: health, lines and commands', () => {
  let tmp: ReturnType<typeof tempDir>;
  let n = 0;

  beforeAll(async () => {
    pg = await startPostgres();
    // A role that is no superuser (a superuser passes every privilege check), with its own password beside the admin's.
    pg.sql(`CREATE ROLE ${NODE_ROLE} LOGIN PASSWORD '${NODE_PASSWORD}'`);
    passfile = `${pg.env.PGPASSFILE!}.both`;
    const port = new URL(pg.url).port;
    writeFileSync(passfile, `${readFileSync(pg.env.PGPASSFILE!, 'utf8')}127.0.0.1:${port}:*:${NODE_ROLE}:${NODE_PASSWORD}\n`, { mode: 0o600 });
    savedPassfile = process.env.PGPASSFILE;
    process.env.PGPASSFILE = passfile;
  }, 60_000);
  afterAll(async () => {
    if (savedPassfile === undefined) delete process.env.PGPASSFILE;
    else process.env.PGPASSFILE = savedPassfile;
    await pg?.stop();
  }, 60_000);
  afterEach(() => {
    tmp?.cleanup();
  });

  /** A fresh database imported by the admin; `node` is the URL a node uses (the rows' privileges only). */
  async function freshImport(): Promise<{ store: string; db: string; admin: URL; node: URL }> {
    tmp = tempDir();
    const store = tmp.path('shim.store');
    const db = `outage_${++n}`;
    pg.sql(`CREATE DATABASE ${db}`);
    const admin = parseStateUrl(pg.url.replace(/\/mfa_shim$/, `/${db}`));
    await runImportStore({ store, key: TEST_KEY, state: admin, input: input() });
    pg.sql(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${NODE_ROLE}`, db);
    return { store, db, admin, node: parseStateUrl(`postgres://${NODE_ROLE}@${admin.host}${admin.pathname}`) };
  }

  it('an import the database refuses leaves the store file as it was: no newer file, no import line (a black-box test: generation 4 beside the database\'s 3)', async () => {
    const { store, db, admin } = await freshImport();
    const before = readFileSync(store);
    pg.sql(`ALTER DATABASE ${db} SET default_transaction_read_only = on`);
    try {
      await expect(runImportStore({ store, key: TEST_KEY, state: admin, input: input(Buffer.from('another-seed-20bytes')) })).rejects.toThrow(
        /: the database did not take the import: PostgreSQL refused a statement \(SQLSTATE 25006: .*\): the database takes no writes .*; \S+shim\.store is left as it was \(generation 1\), and so is the database: fix the cause and run the import again$/,
      );
    } finally {
      pg.sql(`ALTER DATABASE ${db} RESET default_transaction_read_only`);
    }
    expect(readFileSync(store).equals(before)).toBe(true);
    expect(readFileSync(`${store}.audit.jsonl`, 'utf8').match(/"event":"import"/g)).toHaveLength(1);
    // The file still serves (it was refused as "newer" when the import had rewritten it), and the import runs again.
    expect((await runCheck({ store, key: TEST_KEY, state: admin, rules: DEFAULT_RULES, user: USERS[1]!, code: H(0) })).reason).toBe('ok');
    expect((await runImportStore({ store, key: TEST_KEY, state: admin, input: input() })).generation).toBe(2);

    // A COMMIT whose answer is lost (the connection cut while it runs): the database is asked, and
    // holds the generation before: the file goes back too.
    const gen2 = readFileSync(store);
    pg.sql(
      `CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$;
       CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON mfa_shim_stores DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()`,
      db,
    );
    const cut = setInterval(() => {
      if (pg.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}' AND query = 'COMMIT' AND state = 'active'`).includes('t')) clearInterval(cut);
    }, 100);
    try {
      await expect(runImportStore({ store, key: TEST_KEY, state: admin, input: input() })).rejects.toThrow(
        /: the database did not take the import: its COMMIT got no answer \(terminating connection due to administrator command\); \S+ is left as it was \(generation 2\), and so is the database/,
      );
    } finally {
      clearInterval(cut);
    }
    expect(readFileSync(store).equals(gen2)).toBe(true);
  }, 30_000);
});
