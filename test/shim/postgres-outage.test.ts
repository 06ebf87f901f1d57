import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hotpCode } from '../../src/otp/hotp.js';
import { PgState } from '../../src/shim/postgres/pg-state.js';
import { parseStateUrl } from '../../src/shim/postgres/state-url.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { ShimDatabase } from '../../src/shim/shim-database.js';
import { runCheck, runImportStore, storeStateOf } from '../../src/shim/shim-operations.js';
import type { ShimService } from '../../src/shim/shim-service.js';
import { readStoreFile } from '../../src/shim/store-file.js';
import { parseClients } from '../../src/shim/radius/clients-file.js';
import { NO_REPLY_ATTRIBUTES } from '../../src/shim/radius/reply-attributes.js';
import { runMain } from './cli-process.js';
import { radclient, radclientMissing } from './radius/radclient.js';
import { call, verify } from './http-client.js';
import { RFC_SEED_SHA1, TEST_KEY, TEST_KEY_B64, TestClock, seed, startTestService, tempDir } from './helpers.js';
import { unavailable } from './postgres-server.js';
import { usePostgres } from './use-postgres.js';

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
const waitFor = async (what: string, done: () => boolean | Promise<boolean>, ms = 8000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

let passfile: string;

describe.skipIf(unavailable !== undefined)('the shared state refused, not lost: health, lines and commands', () => {
  let tmp: ReturnType<typeof tempDir>;
  let service: ShimService | undefined;
  let n = 0;

  const pg = usePostgres({
    passfile: (server) => {
      // A role that is no superuser (a superuser passes every privilege check), with its own password beside the admin's.
      server.sql(`CREATE ROLE ${NODE_ROLE} LOGIN PASSWORD '${NODE_PASSWORD}'`);
      passfile = `${server.env.PGPASSFILE!}.both`;
      const port = new URL(server.url).port;
      writeFileSync(passfile, `${readFileSync(server.env.PGPASSFILE!, 'utf8')}127.0.0.1:${port}:*:${NODE_ROLE}:${NODE_PASSWORD}\n`, { mode: 0o600 });
      return passfile;
    },
  });
  afterEach(async () => {
    await service?.close().catch(() => undefined);
    service = undefined;
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
  const auditStates = (store: string): { event: string; result?: string; reason?: string; detail?: string }[] =>
    readFileSync(`${store}.audit.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; result?: string; reason?: string; detail?: string })
      .filter((e) => e.event === 'state');

  it('a revoked privilege or a renamed column keeps the node unhealthy until writes are taken again: one line when lost, one when back with the count, and both audited (a black-box test: /healthz ok, a "reconnected" line per request)', async () => {
    const { store, db, node } = await freshImport();
    const notices: string[] = [];
    service = await startTestService(store, new TestClock(Date.now()), { state: node, sourceMaxFails: 0, onNotice: (m) => notices.push(m) });
    expect((await verify(service.url, USERS[0], H(0))).json).toEqual({ result: 'accept', reason: 'ok' });

    pg.sql(`REVOKE UPDATE ON mfa_shim_tokens, mfa_shim_users FROM ${NODE_ROLE}`, db);
    for (let i = 0; i < 20; i++) expect((await verify(service.url, USERS[1], H(0))).json).toEqual({ error: 'state_unavailable' });
    // The probe (every second) connects and reads as before: it must not say the state is back.
    await new Promise((r) => setTimeout(r, 1600));
    expect((await call(`${service.url}/healthz`)).json).toEqual({ status: 'failing', error: 'state_unavailable' });
    expect((await call(`${service.url}/metrics`)).text).toMatch(/^mfa_shim_up 0$/m);
    const lost = notices.filter((m) => m.includes('answering state_unavailable'));
    expect(lost).toEqual([expect.stringMatching(/: PostgreSQL refused a statement \(SQLSTATE 42501: permission denied for table mfa_shim_(users|tokens)\): the shim's role lacks a privilege .*; answering state_unavailable until it is back$/)]);
    expect(notices.filter((m) => /state is back|reconnected/.test(m))).toEqual([]);

    pg.sql(`GRANT UPDATE ON mfa_shim_tokens, mfa_shim_users TO ${NODE_ROLE}`, db);
    await waitFor('/healthz 200', async () => (await call(`${service!.url}/healthz`)).status === 200);
    expect(notices.filter((m) => m.includes('state is back'))).toEqual([
      expect.stringMatching(/: state is back after \d+ s \(the database takes writes again\); 20 request\(s\) were answered state_unavailable meanwhile$/),
    ]);
    expect((await verify(service.url, USERS[1], H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    expect(auditStates(store)).toEqual([
      { time: expect.any(String), event: 'state', result: 'reject', reason: 'state_unavailable', detail: expect.stringMatching(/^state lost: PostgreSQL refused a statement \(SQLSTATE 42501: permission denied/) },
      { time: expect.any(String), event: 'state', result: 'accept', detail: expect.stringMatching(/^state back after \d+ s \(the database takes writes again\); 20 request\(s\) answered state_unavailable meanwhile$/) },
    ]);

    // A column renamed by hand: the same.
    notices.length = 0;
    pg.sql('ALTER TABLE mfa_shim_users RENAME COLUMN fails TO fails_renamed', db);
    expect((await verify(service.url, USERS[2], H(0))).json).toEqual({ error: 'state_unavailable' });
    await new Promise((r) => setTimeout(r, 1600));
    expect((await call(`${service.url}/healthz`)).status).toBe(503);
    expect(notices).toEqual([expect.stringMatching(/SQLSTATE 42703: column .*fails.* does not exist\); answering state_unavailable until it is back$/)]);
    pg.sql('ALTER TABLE mfa_shim_users RENAME COLUMN fails_renamed TO fails', db);
    await waitFor('/healthz 200', async () => (await call(`${service!.url}/healthz`)).status === 200);
    expect((await verify(service.url, USERS[2], H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
  }, 30_000);

  it('a refusal the probe cannot meet (a full disk: the probe writes no row) keeps the node unhealthy, lets requests try it, and ends with the first change that commits: one line each', async () => {
    const { store, db, node } = await freshImport();
    const notices: string[] = [];
    service = await startTestService(store, new TestClock(Date.now()), { state: node, sourceMaxFails: 0, onNotice: (m) => notices.push(m) });
    // As a tablespace on a full disk refuses a changed row (and the probe's statement, which changes none, passes).
    pg.sql(
      `CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file "base/16384/16390": No space left on device' USING ERRCODE = 'disk_full'; END $$;
       CREATE TRIGGER full_disk BEFORE UPDATE ON mfa_shim_users FOR EACH ROW EXECUTE FUNCTION full_disk()`,
      db,
    );
    expect((await verify(service.url, USERS[1], '000000')).json).toEqual({ error: 'state_unavailable' });
    // The probe passed meanwhile: still unhealthy, but the next request tries (and fails the same way: no new line).
    await new Promise((r) => setTimeout(r, 1400));
    expect((await call(`${service.url}/healthz`)).status).toBe(503);
    expect((await verify(service.url, USERS[1], '000000')).json).toEqual({ error: 'state_unavailable' });
    expect(notices).toEqual([expect.stringMatching(/SQLSTATE 53100: could not extend file .*No space left on device\): the database's disk is full; answering state_unavailable until it is back$/)]);
    pg.sql('DROP TRIGGER full_disk ON mfa_shim_users', db);
    await new Promise((r) => setTimeout(r, 1400));
    expect((await verify(service.url, USERS[1], H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    expect((await call(`${service.url}/healthz`)).status).toBe(200);
    expect(notices.slice(1)).toEqual([expect.stringMatching(/: state is back after \d+ s \(a verification's change committed\); 2 request\(s\) were answered state_unavailable meanwhile$/)]);
  }, 30_000);

  it("says why it cannot reconnect when it first fails and when the reason changes, not every probe (a black-box test: a changed password, and only the restart's line)", async () => {
    const { store, node } = await freshImport();
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test', onNotice: () => undefined, seedsOnly: true, lock: false });
    const notices: string[] = [];
    const a = await PgState.open(node, db.storeId, { probeMs: 50, heartbeatMs: 5000, onNotice: (m) => notices.push(m) });
    try {
      await a.attach(storeStateOf(db), false);
      // A connection left idle in the pool: the server's termination of it is what the node sees first.
      await a.read(db.findUser(USERS[3]!)!, true);
      pg.sql(`ALTER ROLE ${NODE_ROLE} PASSWORD 'changed-by-the-dba'`);
      pg.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${NODE_ROLE}'`);
      await waitFor('the loss', () => !a.healthy);
      // About 20 probes, each refused the same way: said once.
      await new Promise((r) => setTimeout(r, 1000));
      expect(notices[0]).toMatch(/terminating connection due to administrator command; answering state_unavailable until it is back$/);
      expect(notices.filter((m) => m.includes('password authentication failed'))).toEqual([expect.stringMatching(/: still unavailable: password authentication failed for user "shim_node"$/)]);
      pg.sql(`ALTER ROLE ${NODE_ROLE} PASSWORD '${NODE_PASSWORD}'`);
      await waitFor('the return', () => a.healthy);
      expect(notices.filter((m) => m.includes('state is back'))).toEqual([expect.stringMatching(/state is back after \d+ s \(reconnected\); 0 request\(s\) were answered/)]);
    } finally {
      pg.sql(`ALTER ROLE ${NODE_ROLE} PASSWORD '${NODE_PASSWORD}'`);
      await a.close();
      await db.close();
    }
  }, 30_000);

  it('shim check and shim unlock against a read-only database or a renamed column end with one line, exit 1 (a black-box test: "unexpected error" and a stack trace); a node starting on it listens and says so at once', async () => {
    const { store, db, admin } = await freshImport();
    const env = { MFA_SHIM_KEY: TEST_KEY_B64, PGPASSFILE: passfile };
    const check = () => runMain(['shim', 'check', '--store', store, '--state', admin.href, '--user', USERS[0]!, '--code', H(0)], env);
    const unlock = () => runMain(['shim', 'unlock', USERS[0]!, '--store', store, '--state', admin.href], env);
    pg.sql(`ALTER DATABASE ${db} SET default_transaction_read_only = on`);
    try {
      for (const r of [await check(), await unlock()]) {
        expect(r.status, r.stderr).toBe(1);
        expect(r.stderr.trim().split('\n')).toEqual([
          expect.stringMatching(/^mfa-migrate: --state postgres:\/\/shim@127\.0\.0\.1:\d+\/outage_\d+: the state could not be read or written: PostgreSQL refused a statement \(SQLSTATE 25006: cannot execute SELECT FOR UPDATE in a read-only transaction\): the database takes no writes/),
        ]);
      }
      // serve: the store's state checked, it listens, unhealthy from the start, said once.
      const notices: string[] = [];
      service = await startTestService(store, new TestClock(Date.now()), { state: admin, onNotice: (m) => notices.push(m) });
      expect((await call(`${service.url}/healthz`)).status).toBe(503);
      expect(notices).toEqual([expect.stringMatching(/SQLSTATE 25006: .*; answering state_unavailable until it is back$/)]);
    } finally {
      pg.sql(`ALTER DATABASE ${db} RESET default_transaction_read_only`);
    }
    pg.sql('ALTER TABLE mfa_shim_users RENAME COLUMN fails TO fails_renamed', db);
    const renamed = await check();
    expect(renamed.status).toBe(1);
    expect(renamed.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^mfa-migrate: --state \S+: the state could not be read or written: PostgreSQL refused a statement \(SQLSTATE 42703: column .* does not exist\)$/)]);
  }, 30_000);

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
    // holds the generation before; but whether it took the import is unknown (it may show later): the
    // new file is kept, and running the import again follows on from it.
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
        /: the import's COMMIT got no answer \(terminating connection due to administrator command\): whether the database took it is unknown .*\S+shim\.store is kept at generation 3; the database holds generation 2 or generation 3\. Run the same import again with --state once the database answers: it is safe either way/,
      );
    } finally {
      clearInterval(cut);
    }
    expect((await readStoreFile(store, TEST_KEY)).gen).toBe(3);
    expect(pg.sql('SELECT generation FROM mfa_shim_stores', db).trim()).toBe('2');
    pg.sql('DROP TRIGGER slow_commit ON mfa_shim_stores', db);
    expect((await runImportStore({ store, key: TEST_KEY, state: admin, input: input() })).generation).toBe(4);
    expect((await runCheck({ store, key: TEST_KEY, state: admin, rules: DEFAULT_RULES, user: USERS[1]!, code: H(1) })).reason).toBe('ok');
  }, 30_000);

  it('an import whose COMMIT waits on a synchronous standby when its connection is cut keeps the new store file: the COMMIT shows later, and the import runs again (a review: the old file put back, the database then at a generation no store file held)', async () => {
    const { store, db } = await freshImport();
    // A proxy whose connections can be cut: the server sees nothing until the standby's wait ends.
    const socks = new Set<Socket>();
    const proxy = createServer((c) => {
      const up = createConnection(Number(new URL(pg.url).port), '127.0.0.1');
      socks.add(c).add(up);
      c.pipe(up).pipe(c);
      const end = (): void => void (c.destroy(), up.destroy());
      for (const s of [c, up]) s.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const port = (proxy.address() as AddressInfo).port;
    appendFileSync(passfile, `127.0.0.1:${port}:*:shim:${readFileSync(pg.env.PGPASSFILE!, 'utf8').trim().split(':').pop()}\n`);
    const direct = parseStateUrl(pg.url.replace(/\/mfa_shim$/, `/${db}`));
    pg.sql("ALTER SYSTEM SET synchronous_standby_names = 'ghost'");
    pg.sql('SELECT pg_reload_conf()');
    try {
      const result = runImportStore({ store, key: TEST_KEY, state: parseStateUrl(`postgres://shim@127.0.0.1:${port}/${db}`), input: input(Buffer.from('another-seed-20bytes')) });
      const settled = result.then(() => undefined, () => undefined);
      await waitFor('the COMMIT waiting on the standby', () => pg.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'").trim() !== '0', 15_000);
      for (const s of socks) s.destroy();
      await settled;
      await expect(result).rejects.toThrow(/: the import's COMMIT got no answer .*: whether the database took it is unknown .*\S+shim\.store is kept at generation 2; the database holds generation 1 or generation 2\. Run the same import again/);
      expect((await readStoreFile(store, TEST_KEY)).gen).toBe(2);
      expect(pg.sql('SELECT generation FROM mfa_shim_stores', db).trim()).toBe('1');
    } finally {
      pg.sql('ALTER SYSTEM RESET synchronous_standby_names');
      pg.sql('SELECT pg_reload_conf()');
      proxy.close();
    }
    // The standby's wait over, the COMMIT shows: the database holds generation 2, the file the import kept.
    await waitFor('the COMMIT', () => pg.sql('SELECT generation FROM mfa_shim_stores', db).trim() === '2');
    expect((await runCheck({ store, key: TEST_KEY, state: direct, rules: DEFAULT_RULES, user: USERS[1]!, code: H(0) })).reason).toBe('ok');
    expect((await runImportStore({ store, key: TEST_KEY, state: direct, input: input(Buffer.from('another-seed-20bytes')) })).generation).toBe(3);
  }, 40_000);

  it.skipIf(radclientMissing !== undefined)('over RADIUS, while an outage is on trial, a made-up name is answered "unavailable" as a real user is (a review: "Wrong code or unknown user" told them apart)', async () => {
    const { store, db, admin } = await freshImport();
    const SECRET = 'vpn-shared-secret-0123456789';
    service = await startTestService(store, new TestClock(Date.now()), {
      state: admin,
      onNotice: () => undefined,
      radius: { port: 0, clients: parseClients(`127.0.0.1 ${SECRET} vpn\n`, 'clients'), replyAttributes: NO_REPLY_ATTRIBUTES },
    });
    const ask = async (user: string) =>
      (await radclient(service!.radiusAddress!.port, SECRET, { 'User-Name': user, 'User-Password': '000000', 'Calling-Station-Id': '198.51.100.7' }, { timeout: 8 })).attributes['Reply-Message'];
    // A full disk the probe cannot see (it writes no row): a real user's request opens the outage; the probe passing puts it on trial.
    pg.sql(
      `CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full' USING ERRCODE = 'disk_full'; END $$;
       CREATE TRIGGER full_disk BEFORE UPDATE ON mfa_shim_users FOR EACH ROW EXECUTE FUNCTION full_disk()`,
      db,
    );
    const unavailable = 'Verification is unavailable; try again later';
    expect(await ask(USERS[0]!)).toBe(unavailable);
    await new Promise((r) => setTimeout(r, 1500));
    for (const user of ['nobody@contoso.com', USERS[1]!, 'nobody2@contoso.com']) expect(await ask(user)).toBe(unavailable);
    pg.sql('DROP TRIGGER full_disk ON mfa_shim_users', db);
    await new Promise((r) => setTimeout(r, 1500));
    // A real user's change commits and ends the outage: a made-up name is a wrong code again.
    expect(await ask(USERS[1]!)).toBe('Wrong code or unknown user');
    expect(await ask('nobody@contoso.com')).toBe('Wrong code or unknown user');
  }, 30_000);

  it('a node whose store file a re-import superseded says so once, naming both generations (a black-box test: 503s, /healthz ok and nothing on stderr)', async () => {
    const { store, admin } = await freshImport();
    const served = tmp.path('node.store');
    copyFileSync(store, served);
    const notices: string[] = [];
    service = await startTestService(served, new TestClock(Date.now()), { state: admin, onNotice: (m) => notices.push(m) });
    // Generation 2 gives user 0 a new seed.
    await runImportStore({ store, key: TEST_KEY, state: admin, input: input(Buffer.from('another-seed-20bytes')) });
    for (let i = 0; i < 3; i++) expect((await verify(service.url, USERS[0], H(0))).json).toEqual({ error: 'state_unavailable' });
    expect((await call(`${service.url}/healthz`)).status).toBe(200);
    await waitFor('the line', () => notices.length > 0, 3000);
    await new Promise((r) => setTimeout(r, 200));
    expect(notices).toEqual([
      expect.stringMatching(/: the database holds store generation 2, newer than this node's store file \(generation 1\): a re-import superseded it, .*give this node the current store file \(generation 2, the file the last import with --state wrote: .*\) and restart it$/),
    ]);
    expect((await readStoreFile(store, TEST_KEY)).gen).toBe(2);
  }, 30_000);
});
