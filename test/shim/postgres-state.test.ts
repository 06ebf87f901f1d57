import { createHmac } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { hotpCode } from '../../src/otp/hotp.js';
import { totpCode } from '../../src/otp/totp.js';
import { parseStateUrl } from '../../src/shim/postgres/state-url.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { runCheck, runImportStore, runUnlock, storeStateOf } from '../../src/shim/shim-operations.js';
import pgClient from 'pg';
import { PgState, StateUnavailableError } from '../../src/shim/postgres/pg-state.js';
import { MIGRATIONS } from '../../src/shim/postgres/schema.js';
import { deriveKey } from '../../src/shim/store-key.js';
import { ShimDatabase } from '../../src/shim/shim-database.js';
import { readStoreFile } from '../../src/shim/store-file.js';
import { Verifier } from '../../src/shim/verifier.js';
import type { ShimService } from '../../src/shim/shim-service.js';
import { runCli, runMain, startServeProcess } from './cli-process.js';
import { parseClients } from '../../src/shim/radius/clients-file.js';
import { radclient, radclientMissing } from './radius/radclient.js';
import { call, verify } from './http-client.js';
import { unavailable } from './postgres-server.js';
import { usePostgres } from './use-postgres.js';
import { RFC_SEED_SHA1, RFC_SEED_SHA256, TEST_KEY, TEST_KEY_B64, TestClock, seed, startTestService, tempDir } from './helpers.js';

if (unavailable) process.stderr.write(`PostgreSQL state tests skipped: ${unavailable}\n`);

const H = (c: number): string => hotpCode(RFC_SEED_SHA1, 'sha1', c, 6);
const USERS = Array.from({ length: 40 }, (_, i) => `user${i}@contoso.com`);

let tmp: ReturnType<typeof tempDir>;

describe.skipIf(unavailable !== undefined)('shared state on PostgreSQL (issue 16)', () => {
  const pg = usePostgres();

  let store: string;
  let n = 0;
  const children: ChildProcess[] = [];
  let service: ShimService | undefined;
  /** A fresh database per test (the server is shared). */
  async function freshImport(): Promise<URL> {
    tmp = tempDir();
    store = tmp.path('shim.store');
    const db = `shim_${++n}`;
    pg.sql(`CREATE DATABASE ${db}`);
    const state = parseStateUrl(pg.url.replace(/\/mfa_shim$/, `/${db}`));
    await runImportStore({
      store,
      key: TEST_KEY,
      state,
      input: { users: USERS.map((username) => ({ username, enabled: true })), tokens: USERS.map((user, i) => ({ seed: seed({ serial: `H${i}`, secret: RFC_SEED_SHA1, type: 'hotp' }), user })) },
    });
    return state;
  }
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await service?.close().catch(() => undefined);
    service = undefined;
    tmp?.cleanup();
  });

  it('refuses a URL holding a password, and creates a versioned schema', async () => {
    expect(() => parseStateUrl('postgres://shim:secret@db/mfa')).toThrow(/holds a password; put it in PGPASSFILE/);
    expect(() => parseStateUrl('postgres://shim@db/mfa?password=x')).toThrow(/holds a password/);
    // As the client decodes the names: pass%77ord is password; sslpassword unlocks the client key.
    expect(() => parseStateUrl('postgres://shim%3Ahunter2@db/mfa')).toThrow(/holds a password/);
    expect(() => parseStateUrl('postgres://sh%ZZim@db/mfa')).toThrow(/the user name in the URL has a broken %-escape/);
    expect(() => parseStateUrl('postgres://shim@db:99999/mfa')).toThrow(/not a valid postgres:\/\/ URL \(a port is 1 to 65535\)/);
    expect(() => parseStateUrl('host=db user=shim password=hunter2')).toThrow(/must be a postgres:\/\/ URL .*not a key=value connection string/);
    // A user:password given as the user parameter, which the client takes (a black-box test connected so).
    for (const query of ['pass%77ord=x', 'sslpassword=x', '%20Password=x', 'sslmode=require&PASSWORD=x', 'user=shim:hunter2', 'user=shim%3Ahunter2']) {
      expect(() => parseStateUrl(`postgres://shim@db/mfa?${query}`), query).toThrow(/holds a password/);
    }
    expect(parseStateUrl('postgres://shim@db/mfa?sslmode=require&application_name=shim').pathname).toBe('/mfa');
    expect(parseStateUrl('postgres://db/mfa?user=shim').pathname).toBe('/mfa');
    expect(() => parseStateUrl('mysql://db/mfa')).toThrow(/not supported/);
    const state = await freshImport();
    const db = state.pathname.slice(1);
    expect(pg.sql(`SELECT version FROM mfa_shim_schema`, db)).toMatch(/^3$/m);
    expect(pg.sql(`SELECT count(*) FROM mfa_shim_tokens`, db)).toMatch(/^40$/m);
    // No seed in the database: only the state.
    expect(pg.sql(`SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_name = 'mfa_shim_tokens'`, db)).not.toMatch(/secret|seed/);
    pg.sql(`UPDATE mfa_shim_schema SET version = 99`, db);
    await expect(runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: H(0) })).rejects.toThrow(/schema is version 99, newer than this tool's/);
  });

  it('verifies with the database as the state; check and unlock work beside a running server; a store not in the database is refused', async () => {
    const state = await freshImport();
    const clock = new TestClock(1_700_000_000_000);
    service = await startTestService(store, clock, { state });
    expect((await verify(service.url, USERS[0], H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: H(0) })).reason).toBe('replayed');
    expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: H(1) })).reason).toBe('ok');
    expect((await verify(service.url, USERS[0], H(1))).json).toEqual({ result: 'reject', reason: 'replayed' });
    for (let i = 0; i < 10; i++) await verify(service.url, USERS[1], '000000');
    expect((await verify(service.url, USERS[1], H(0))).json).toEqual({ result: 'reject', reason: 'locked_out' });
    // Counted in the database (a black-box test found the series missing with --state).
    expect((await call(`${service.url}/metrics`)).text).toMatch(/^# HELP mfa_shim_locked_users .*\n# TYPE mfa_shim_locked_users gauge\nmfa_shim_locked_users 1$/m);
    // Without --state it would be handed to the server as a request it never reads (a black-box test: "handed to the running server", and still locked).
    // The command it gives names the server's URL, to paste: it holds no password (a black-box review: it said postgres://...).
    const given = `--state ${state.href}`;
    expect(state.href).toMatch(/^postgres:\/\/shim@127\.0\.0\.1:\d+\/shim_\d+$/);
    await expect(runUnlock({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: USERS[1]! })).rejects.toThrow(
      `with its state in PostgreSQL: unlock in the database, for every node at once: mfa-migrate shim unlock user1@contoso.com --store ${store} ${given}`,
    );
    // The command it gives keeps the key file given (a black-box test: left out).
    await expect(runUnlock({ store, key: TEST_KEY, keyFile: '/etc/mfa shim/store.key', rules: DEFAULT_RULES, user: USERS[1]! })).rejects.toThrow(
      new RegExp(`: mfa-migrate shim unlock user1@contoso\\.com --store \\S+ --key-file '/etc/mfa shim/store\\.key' ${given.replace(/[.?]/g, '\\$&')}$`),
    );
    // So is a check: the way beside such a server is --state, not stopping it.
    await expect(runCheck({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: USERS[0]!, code: H(2) })).rejects.toThrow(`its state is in PostgreSQL: give this command ${given} to work beside it`);
    expect(await runUnlock({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[1]! })).toMatchObject({ status: 'unlocked', wasLocked: true });
    expect((await verify(service.url, USERS[1], H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    // A store the database does not know.
    const other = tmp.path('other.store');
    await runImportStore({ store: other, key: TEST_KEY, input: { users: [{ username: 'x@contoso.com', enabled: true }], tokens: [] } });
    await expect(runCheck({ store: other, key: TEST_KEY, state, rules: DEFAULT_RULES, user: 'x@contoso.com', code: '123456' })).rejects.toThrow(/holds no state for this store/);
  });

  it('answers 503 state_unavailable when the database is lost, turns /healthz unhealthy, and reconnects by itself', async () => {
    const state = await freshImport();
    const secret = 'vpn-shared-secret-0123456789';
    service = await startTestService(store, new TestClock(Date.now()), { state, radius: { port: 0, clients: parseClients(`127.0.0.1 ${secret} vpn\n`, 'clients') } });
    expect((await verify(service.url, USERS[2], H(0))).status).toBe(200);
    await pg.kill();
    try {
      const lost = await verify(service.url, USERS[2], H(1));
      expect(lost.status).toBe(503);
      expect(lost.json).toEqual({ error: 'state_unavailable' });
      expect((await call(`${service.url}/healthz`)).json).toEqual({ status: 'failing', error: 'state_unavailable' });
      expect((await verify(service.url, USERS[2], H(1))).status).toBe(503);
      if (!radclientMissing) {
        const reply = await radclient(service.radiusAddress!.port, secret, { 'User-Name': USERS[2]!, 'User-Password': H(1) });
        expect(reply.code).toBe('Access-Reject');
        expect(reply.attributes['Reply-Message']).toBe('Verification is unavailable; try again later');
      }
    } finally {
      await pg.start();
    }
    const deadline = Date.now() + 15_000;
    while ((await call(`${service.url}/healthz`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('the shim did not reconnect');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await verify(service.url, USERS[2], H(1))).json).toEqual({ result: 'accept', reason: 'ok' });
    expect((await call(`${service.url}/metrics`)).text).toMatch(/^mfa_shim_up 1$/m);
  }, 60_000);

  it('24 verifications of one user at once on one node are each decided: none answered as lost state (a black-box test: 9 at once gave 2)', async () => {
    const state = await freshImport();
    service = await startTestService(store, new TestClock(Date.now()), { state, sourceMaxFails: 0 });
    const burst = async (code: string): Promise<Record<string, number>> => {
      const replies = await Promise.all(Array.from({ length: 24 }, () => verify(service!.url, USERS[6], code)));
      expect(replies.filter((r) => r.status !== 200).map((r) => r.json)).toEqual([]);
      const counted: Record<string, number> = {};
      for (const r of replies) counted[(r.json as { reason: string }).reason] = (counted[(r.json as { reason: string }).reason] ?? 0) + 1;
      return counted;
    };
    // One accept, the rest exact replays of it (counted for no one).
    expect(await burst(H(0))).toEqual({ ok: 1, replayed: 23 });
    // Ten wrong codes lock the user (one unauthenticated source), as one by one; the rest find the lock-out.
    expect(await burst('000000')).toEqual({ wrong_code: 10, locked_out: 14 });
    const metrics = (await call(`${service.url}/metrics`)).text;
    expect(metrics).toMatch(/^mfa_shim_internal_errors_total 0$/m);
    expect(metrics).toMatch(/^mfa_shim_busy_total 0$/m);
  }, 30_000);

  describe('batched statements, in process (group commit)', () => {
    /** Two PgStates on one database (two nodes), over the seeds of the store file. */
    async function openNodes(state: URL): Promise<{ db: ShimDatabase; a: PgState; b: PgState; close: () => Promise<void> }> {
      const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test', onNotice: () => undefined, seedsOnly: true, lock: false });
      const a = await PgState.open(state, db.storeId);
      const b = await PgState.open(state, db.storeId);
      await a.attach(storeStateOf(db), false);
      return { db, a, b, close: async () => (await a.close(), await b.close(), await db.close()) };
    }

    it('decides each request of a batch alone: a stale version, a used code and a clearing accept beside plain ones', async () => {
      const state = await freshImport();
      const { db, a, close } = await openNodes(state);
      try {
        const u = (i: number) => db.findUser(USERS[i]!.toLowerCase())!;
        const views = await Promise.all([0, 1, 2, 3, 4].map((i) => a.read(u(i), true)));
        // User 3 has failures to clear; user 2's code 0 is used already.
        expect(await a.updateUser(u(3), views[3]!.user, { fails: 4, lockedAt: null, sources: { '203.0.113.9': { fails: 4, at: 1 } } })).toBe(true);
        expect(await a.accept(u(2), views[2]!.user, u(2).tokens[0]!, { counter: 1n, lastStep: null, drift: 0 }, false)).toBe(true);
        const v2 = await a.read(u(2), true);
        const v3 = await a.read(u(3), true);
        const next = { counter: 1n, lastStep: null, drift: 0 };
        const [v6, v7] = [await a.read(u(6), true), await a.read(u(7), true)];
        const [version6, version7] = [v6.user.version, v7.user.version];
        const failed = { fails: 1, lockedAt: null, sources: {} };
        // One event-loop turn: one batch (one statement) of accepts, reads and user changes.
        const outcomes = await Promise.all([
          a.accept(u(0), views[0]!.user, u(0).tokens[0]!, next, false),
          a.accept(u(1), { ...views[1]!.user, version: views[1]!.user.version + 7 }, u(1).tokens[0]!, next, false),
          a.accept(u(2), v2.user, u(2).tokens[0]!, next, true),
          a.accept(u(3), v3.user, u(3).tokens[0]!, next, true),
          a.accept(u(4), views[4]!.user, u(4).tokens[0]!, { counter: 5n, lastStep: null, drift: 0 }, false),
          Promise.resolve(a.read(u(5), true)).then((v) => v.tokens[0]!.counter),
          a.updateUser(u(6), v6.user, failed),
          a.updateUser(u(7), { ...v7.user, version: v7.user.version - 1 }, failed),
        ]);
        expect(outcomes).toEqual([true, false, false, true, true, 0n, true, false]);
        const after = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => a.read(u(i), true)));
        expect(after.map((v) => v.tokens[0]!.counter)).toEqual([1n, 0n, 1n, 1n, 5n, 0n, 0n, 0n]);
        // The refused accept of user 2 changed nothing of theirs (its version neither); user 3's cleared with the accept.
        expect(after[2]!.user.version).toBe(v2.user.version);
        expect(after[3]!.user).toMatchObject({ fails: 0, lockedAt: null, sources: {} });
        expect(after[1]!.user.version).toBe(views[1]!.user.version);
        expect(after[6]!.user).toMatchObject({ fails: 1, version: version6 + 1 });
        expect(after[7]!.user).toMatchObject({ fails: 0, version: version7 });
      } finally {
        await close();
      }
    });

    it("user names PostgreSQL's array syntax gives a meaning to (quotes, backslashes, commas, braces, NULL) are read and changed as any other, in one batch", async () => {
      // The batch's array parameters are array literals the node writes itself (state-batch.ts).
      const odd = ['o"brien@contoso.com', 'back\\slash@contoso.com', '{a,b}@contoso.com', 'NULL', '"NULL"', 'x\\"y', 'plain@contoso.com'];
      tmp = tempDir();
      store = tmp.path('shim.store');
      const dbName = `shim_${++n}`;
      pg.sql(`CREATE DATABASE ${dbName}`);
      const state = parseStateUrl(pg.url.replace(/\/mfa_shim$/, `/${dbName}`));
      await runImportStore({ store, key: TEST_KEY, state, input: { users: odd.map((username) => ({ username, enabled: true })), tokens: odd.map((user, i) => ({ seed: seed({ serial: `Q${i}`, secret: RFC_SEED_SHA1, type: 'hotp' }), user })) } });
      const { db, a, close } = await openNodes(state);
      try {
        const users = odd.map((name) => db.findUser(name.toLowerCase())!);
        const views = await Promise.all(users.map((u) => a.read(u, true)));
        // Odd ones accept, even ones fail once (sources' JSON goes as an array element too): one batch.
        const failed = { fails: 1, lockedAt: null, sources: { '203.0.113.9': { fails: 1, at: 7 } } };
        const outcomes = await Promise.all(users.map((u, i) => (i % 2 === 1 ? a.accept(u, views[i]!.user, u.tokens[0]!, { counter: 1n, lastStep: null, drift: 0 }, false) : a.updateUser(u, views[i]!.user, failed))));
        expect(outcomes).toEqual(odd.map(() => true));
        const after = await Promise.all(users.map((u) => a.read(u, true)));
        expect(after.map((v) => v.tokens[0]!.counter)).toEqual(odd.map((_, i) => (i % 2 === 1 ? 1n : 0n)));
        expect(after.map((v) => v.user.fails)).toEqual(odd.map((_, i) => (i % 2 === 1 ? 0 : 1)));
        expect(after[0]!.user.sources).toEqual(failed.sources);
        expect(pg.sql(`SELECT user_key FROM mfa_shim_users WHERE fails = 1 ORDER BY user_key COLLATE "C"`, dbName).trim().split('\n')).toEqual(odd.filter((_, i) => i % 2 === 0).map((k) => k.toLowerCase()).sort());
      } finally {
        await close();
      }
    });

    it("a change refused because another node changed the user brings back the user's state as found: the node decides again without reading", async () => {
      const state = await freshImport();
      const { db, a, b, close } = await openNodes(state);
      try {
        const [u0, u1] = [db.findUser(USERS[0]!)!, db.findUser(USERS[1]!)!];
        const [old0, old1] = [await a.read(u0, true), await a.read(u1, true)];
        // Node b accepts user 0's first code and counts a failure of user 1.
        expect(await b.accept(u0, (await b.read(u0, true)).user, u0.tokens[0]!, { counter: 1n, lastStep: null, drift: 0 }, false)).toBe(true);
        expect(await b.updateUser(u1, (await b.read(u1, true)).user, { fails: 1, lockedAt: null, sources: {} })).toBe(true);
        // Node a, from its older copies: both refused (one batch).
        const refused = await Promise.all([
          a.accept(u0, old0.user, u0.tokens[0]!, { counter: 1n, lastStep: null, drift: 0 }, false),
          a.updateUser(u1, old1.user, { fails: 1, lockedAt: null, sources: {} }),
        ]);
        expect(refused).toEqual([false, false]);
        // The next reads are answered at once (no promise: no round trip), with b's changes.
        const [next0, next1] = [a.read(u0), a.read(u1)];
        expect(next0).not.toBeInstanceOf(Promise);
        expect(next1).not.toBeInstanceOf(Promise);
        const fresh = [await b.read(u0, true), await b.read(u1, true)];
        expect(next0).toMatchObject({ user: fresh[0]!.user, tokens: [{ counter: 1n }], cached: true });
        expect(next1).toMatchObject({ user: { ...fresh[1]!.user, fails: 1 }, cached: true });
        // And the decision taken from them goes through.
        expect(await a.accept(u0, (next0 as { user: typeof old0.user }).user, u0.tokens[0]!, { counter: 2n, lastStep: null, drift: 0 }, false)).toBe(true);
      } finally {
        await close();
      }
    });

    it('two nodes, 40 users, every code sent to both at once: each accepted exactly once', async () => {
      const state = await freshImport();
      const { db, a, b, close } = await openNodes(state);
      try {
        const clock = new TestClock(1_700_000_000_000);
        const [va, vb] = [new Verifier(db, a, DEFAULT_RULES, clock.now), new Verifier(db, b, DEFAULT_RULES, clock.now)];
        for (let c = 0; c < 3; c++) {
          const verdicts = await Promise.all(USERS.flatMap((user) => [va.verify(user, H(c)), vb.verify(user, H(c)), va.verify(user, H(c))]));
          const ok = verdicts.filter((v) => v.reason === 'ok');
          expect(ok).toHaveLength(USERS.length);
          expect(new Set(ok.map((v) => v.user!.key)).size).toBe(USERS.length);
          expect(verdicts.filter((v) => v.reason === 'replayed')).toHaveLength(2 * USERS.length);
        }
      } finally {
        await close();
      }
    });

    it("locks a batch's users in the database's order before changing any, whatever order the requests came in (no deadlock between nodes)", async () => {
      const state = await freshImport();
      const { db, a, close } = await openNodes(state);
      const holder = new pgClient.Client({ connectionString: state.href });
      const prober = new pgClient.Client({ connectionString: state.href });
      await holder.connect();
      await prober.connect();
      try {
        const [lo, hi] = [db.findUser(USERS[1]!.toLowerCase())!, db.findUser(USERS[2]!.toLowerCase())!];
        const [vlo, vhi] = [await a.read(lo, true), await a.read(hi, true)];
        // Another transaction holds the later user's row.
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM mfa_shim_users WHERE user_key = $1 FOR UPDATE', [hi.key]);
        const failed = { fails: 1, lockedAt: null, sources: {} };
        // One batch, the later user first.
        const batch = Promise.all([a.updateUser(hi, vhi.user, failed), a.updateUser(lo, vlo.user, failed)]);
        await new Promise((r) => setTimeout(r, 300));
        // The batch waits for the later user's row having already locked the earlier one's.
        await expect(prober.query('SELECT 1 FROM mfa_shim_users WHERE user_key = $1 FOR UPDATE NOWAIT', [lo.key])).rejects.toMatchObject({ code: '55P03' });
        await holder.query('ROLLBACK');
        expect(await batch).toEqual([true, true]);
      } finally {
        await holder.end();
        await prober.end();
        await close();
      }
    });

    it("a change another node commits while a batch waits for its users' rows: the batch's accepts are refused whole, nothing of them done", async () => {
      const state = await freshImport();
      const { db, a, close } = await openNodes(state);
      const other = new pgClient.Client({ connectionString: state.href });
      await other.connect();
      try {
        const [before, after] = [db.findUser(USERS[1]!.toLowerCase())!, db.findUser(USERS[2]!.toLowerCase())!];
        const [vb, va] = [await a.read(before, true), await a.read(after, true)];
        // Another node's change of both users (a failure counted: the next version), held uncommitted.
        await other.query('BEGIN');
        await other.query('UPDATE mfa_shim_users SET version = version + 1, fails = 1 WHERE user_key = ANY($1)', [[before.key, after.key]]);
        const next = { counter: 1n, lastStep: null, drift: 0 };
        // One batch: user 1's accept decided on the version before the change; user 2's on the one it
        // makes (which a node cannot know before its statement begins; refused all the same).
        const batch = Promise.all([
          a.accept(before, vb.user, before.tokens[0]!, next, true),
          a.accept(after, { ...va.user, fails: 1, version: va.user.version + 1 }, after.tokens[0]!, next, true),
        ]);
        await new Promise((r) => setTimeout(r, 300));
        await other.query('COMMIT');
        expect(await batch).toEqual([false, false]);
        // Neither token moved, and each user's row is as the other node left it (its failure not cleared).
        for (const [user, v] of [[before, vb], [after, va]] as const) {
          const now = await a.read(user, true);
          expect(now.tokens[0]!.counter).toBe(0n);
          expect(now.user).toMatchObject({ fails: 1, version: v.user.version + 1 });
        }
      } finally {
        await other.end();
        await close();
      }
    });

    it('a made-up name (RADIUS, concealed) locks out after as many tries as a real user, spread over two nodes; a restarted node still finds it locked; the database holds a keyed hash, never the name; expired rows go with later writes', async () => {
      const state = await freshImport();
      const dbName = state.pathname.slice(1);
      const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test', onNotice: () => undefined, seedsOnly: true, lock: false });
      const nameKey = deriveKey(TEST_KEY, 'absent-name');
      const open = async () => PgState.open(state, db.storeId, { nameKey });
      let a = await open();
      const b = await open();
      try {
        const clock = new TestClock(1_700_000_000_000);
        const verifiers = () => [new Verifier(db, a, DEFAULT_RULES, clock.now), new Verifier(db, b, DEFAULT_RULES, clock.now)];
        let [va, vb] = verifiers();
        const who = { source: '203.0.113.7', authenticated: true };
        // Ten failures from one vouched source, alternating nodes: the eleventh try is refused as locked, for both.
        const tries = async (name: string, n: number) => {
          const out: string[] = [];
          for (let i = 0; i < n; i++) {
            const v = await (i % 2 === 0 ? va! : vb!).verify(name, '000000', who, { conceal: true });
            out.push(v.concealedLock !== undefined || v.reason === 'locked_out' ? 'locked' : v.failure ? 'failed' : v.reason);
          }
          return out;
        };
        const expected = [...Array<string>(10).fill('failed'), 'locked'];
        expect(await tries(USERS[20]!, 11)).toEqual(expected);
        expect(await tries('nobody@contoso.com', 11)).toEqual(expected);
        // A node restarted (no cache) finds it locked, from the database.
        await a.close();
        a = await open();
        [va, vb] = verifiers();
        expect(await tries('nobody@contoso.com', 2)).toEqual(['locked', 'locked']);
        // The name is nowhere in the table: its HMAC under the store's derived key is.
        const rows = pg.sql(`SELECT name_hash, fails FROM mfa_shim_absent_names`, dbName);
        expect(rows).not.toMatch(/nobody/);
        expect(rows).toContain(createHmac('sha256', nameKey).update('nobody@contoso.com').digest('hex'));
        // Past the lock-out window the name starts over, and a later write deletes expired rows.
        clock.advance(16 * 60);
        expect(await tries('NOBODY@contoso.com', 1)).toEqual(['failed']);
        expect(await tries('someone-else@contoso.com', 1)).toEqual(['failed']);
        clock.advance(16 * 60);
        expect(await tries('third@contoso.com', 1)).toEqual(['failed']);
        expect(pg.sql(`SELECT count(*) FROM mfa_shim_absent_names`, dbName)).toMatch(/^1$/m);
      } finally {
        await a.close();
        await b.close();
        await db.close();
      }
    });

    it("a made-up name's request in a batch beside users' changes: the batch goes as the whole statement, each request decided", async () => {
      const state = await freshImport();
      const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test', onNotice: () => undefined, seedsOnly: true, lock: false });
      const a = await PgState.open(state, db.storeId, { nameKey: deriveKey(TEST_KEY, 'absent-name') });
      try {
        await a.attach(storeStateOf(db), false);
        const u = (i: number) => db.findUser(USERS[i]!.toLowerCase())!;
        const [v0, v1] = [await a.read(u(0), true), await a.read(u(1), true)];
        const failed = { fails: 1, lockedAt: null, sources: {} };
        // One event-loop turn: an accept, a failure and a made-up name's read in one batch (its write follows alone).
        const [accepted, updated, absent] = await Promise.all([
          a.accept(u(0), v0.user, u(0).tokens[0]!, { counter: 1n, lastStep: null, drift: 0 }, false),
          a.updateUser(u(1), v1.user, failed),
          a.absentNames!.read('nobody@contoso.com', true).then((view) => a.absentNames!.write('nobody@contoso.com', view, failed, 1_700_000_000_000, 1_700_000_900_000)),
        ]);
        expect([accepted, updated]).toEqual([true, true]);
        expect(absent).not.toBeNull();
        expect((await a.read(u(0), true)).tokens[0]!.counter).toBe(1n);
        expect((await a.read(u(1), true)).user).toMatchObject({ fails: 1, version: v1.user.version + 1 });
        expect((await a.absentNames!.read('nobody@contoso.com', true)).state).toMatchObject({ fails: 1 });
      } finally {
        await a.close();
        await db.close();
      }
    });

    it('reads and unlocks a user who has no token left', async () => {
      tmp = tempDir();
      store = tmp.path('shim.store');
      const dbName = `shim_${++n}`;
      pg.sql(`CREATE DATABASE ${dbName}`);
      const state = parseStateUrl(pg.url.replace(/\/mfa_shim$/, `/${dbName}`));
      const input = { users: [{ username: 'kept@contoso.com', enabled: true }, { username: 'bare@contoso.com', enabled: true }], tokens: [{ seed: seed({ serial: 'K1', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'kept@contoso.com' }] };
      await runImportStore({ store, key: TEST_KEY, state, input });
      const { db, a, close } = await openNodes(state);
      try {
        const bare = db.findUser('bare@contoso.com')!;
        const view = await a.read(bare, true);
        expect(view.tokens).toEqual([]);
        expect(await a.updateUser(bare, view.user, { fails: 10, lockedAt: 1, sources: {} })).toBe(true);
      } finally {
        await close();
      }
      expect(await runUnlock({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: 'bare@contoso.com' })).toMatchObject({ status: 'unlocked', wasLocked: true });
    });

    it('an idle node finds the database gone by itself, and says it is back once (a black-box test: /healthz ok through an outage, "reconnected" three times)', async () => {
      const state = await freshImport();
      const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test', onNotice: () => undefined, seedsOnly: true, lock: false });
      const notices: string[] = [];
      const a = await PgState.open(state, db.storeId, { answerTimeoutMs: 700, probeMs: 50, heartbeatMs: 100, idleTimeoutMs: 100, connectTimeoutMs: 500, onNotice: (m) => notices.push(m) });
      try {
        await a.attach(storeStateOf(db), false);
        expect(a.healthy).toBe(true);
        // Idle: the pool has let its connections go, so no dropped connection tells of the outage.
        await new Promise((r) => setTimeout(r, 400));
        pg.freeze();
        try {
          // No statement of its own: the heartbeat finds it (once its connection attempt times out).
          const deadline = Date.now() + 8000;
          while (a.healthy && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
          expect(a.healthy).toBe(false);
          // Probes meanwhile, every 50 ms, each waiting for a connection far longer than that.
          await new Promise((r) => setTimeout(r, 1000));
        } finally {
          pg.thaw();
        }
        const deadline = Date.now() + 15_000;
        while (!a.healthy && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(a.healthy).toBe(true);
        await new Promise((r) => setTimeout(r, 500));
        expect(notices.filter((m) => /: state is back after \d+ s \(reconnected\); /.test(m))).toHaveLength(1);
      } finally {
        await a.close();
        await db.close();
      }
    }, 30_000);

    it('a database that takes no writes (read-only, as a standby before promotion) is no healthy state: found by the heartbeat, back once it takes them (a black-box test saw /healthz 200 and every verification 503)', async () => {
      const state = await freshImport();
      const dbName = state.pathname.slice(1);
      const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test', onNotice: () => undefined, seedsOnly: true, lock: false });
      const notices: string[] = [];
      const a = await PgState.open(state, db.storeId, { probeMs: 50, heartbeatMs: 100, idleTimeoutMs: 100, onNotice: (m) => notices.push(m) });
      try {
        await a.attach(storeStateOf(db), false);
        expect(a.healthy).toBe(true);
        pg.sql(`ALTER DATABASE ${dbName} SET default_transaction_read_only = on`);
        // As a failover does: the connections dropped; the new ones are read-only.
        pg.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}' AND pid <> pg_backend_pid()`);
        const deadline = Date.now() + 8000;
        while (a.healthy && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(a.healthy).toBe(false);
        // Its probes find it still refusing writes: not said to be back.
        await new Promise((r) => setTimeout(r, 500));
        expect(a.healthy).toBe(false);
        expect(notices.some((m) => m.includes('state is back'))).toBe(false);
        pg.sql(`ALTER DATABASE ${dbName} RESET default_transaction_read_only`);
        pg.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}' AND pid <> pg_backend_pid()`);
        const back = Date.now() + 8000;
        while (!a.healthy && Date.now() < back) await new Promise((r) => setTimeout(r, 50));
        expect(a.healthy).toBe(true);
      } finally {
        await a.close();
        await db.close();
      }
    }, 30_000);

    it('a statement the node gives up on is cancelled by the server too: the code is not used up by an answer of lost state', async () => {
      const state = await freshImport();
      const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test', onNotice: () => undefined, seedsOnly: true, lock: false });
      const a = await PgState.open(state, db.storeId, { answerTimeoutMs: 700, probeMs: 50 });
      await a.attach(storeStateOf(db), false);
      const holder = new pgClient.Client({ connectionString: state.href });
      await holder.connect();
      try {
        const user = db.findUser(USERS[9]!.toLowerCase())!;
        const seen = await a.read(user, true);
        // An import holding the tables longer than the node waits.
        await holder.query('BEGIN');
        await holder.query('LOCK TABLE mfa_shim_users, mfa_shim_tokens IN SHARE ROW EXCLUSIVE MODE');
        await expect(a.accept(user, seen.user, user.tokens[0]!, { counter: 1n, lastStep: null, drift: 0 }, false)).rejects.toThrow(StateUnavailableError);
        await new Promise((r) => setTimeout(r, 600));
        await holder.query('COMMIT');
        await new Promise((r) => setTimeout(r, 300));
        const after = await a.read(user, true);
        expect(after.tokens[0]!.counter).toBe(0n);
        expect(after.user.version).toBe(seen.user.version);
      } finally {
        await holder.end();
        await a.close();
        await db.close();
      }
    });

    it("counts the store's users whose lock-out is in force for /metrics, in the database (every node's), kept a few seconds", async () => {
      const state = await freshImport();
      const dbName = state.pathname.slice(1);
      const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test', onNotice: () => undefined, seedsOnly: true, lock: false });
      const fresh = await PgState.open(state, db.storeId, { lockedCountMs: 0 });
      const kept = await PgState.open(state, db.storeId);
      try {
        expect(await fresh.lockedUsers(null)).toBe(0);
        expect(await kept.lockedUsers(null)).toBe(0);
        pg.sql(`UPDATE mfa_shim_users SET locked_at = 1000 WHERE user_key = 'user20@contoso.com'; UPDATE mfa_shim_users SET locked_at = 5000 WHERE user_key = 'user21@contoso.com'`, dbName);
        // Another store's locked user is not this store's.
        pg.sql(`INSERT INTO mfa_shim_stores VALUES ('other', 1); INSERT INTO mfa_shim_users (store_id, user_key, locked_at) VALUES ('other', 'user22@contoso.com', 5000)`, dbName);
        expect(await fresh.lockedUsers(null)).toBe(2);
        // Locked at or before the cut: run out (lockout minutes past).
        expect(await fresh.lockedUsers(1000)).toBe(1);
        // The count is kept for 5 s by default: a scrape does not query each time.
        expect(await kept.lockedUsers(null)).toBe(0);
      } finally {
        await fresh.close();
        await kept.close();
        await db.close();
      }
    });

    it('a node starting on the generation the database holds writes nothing; a missing row is written again', async () => {
      const state = await freshImport();
      const { db, a, close } = await openNodes(state);
      try {
        const user = db.findUser(USERS[10]!.toLowerCase())!;
        const before = await a.read(user, true);
        const c = await PgState.open(state, db.storeId);
        await c.attach(storeStateOf(db), false);
        expect((await a.read(user, true)).user.version).toBe(before.user.version);
        const dbName = state.pathname.slice(1);
        pg.sql(`DELETE FROM mfa_shim_tokens WHERE serial = 'H10'`, dbName);
        await c.attach(storeStateOf(db), false);
        await c.close();
        // Written again, and nothing else touched.
        expect(pg.sql(`SELECT count(*) FROM mfa_shim_tokens`, dbName)).toMatch(/^40$/m);
        expect(pg.sql(`SELECT count(*) FROM mfa_shim_users`, dbName)).toMatch(/^40$/m);
        const restored = await a.read(user, true);
        expect(restored.tokens[0]!.counter).toBe(0n);
        expect(restored.user.version).toBe(before.user.version + 1);
      } finally {
        await close();
      }
    });

    it('an import from an old copy of the store file, or a node on a copy whose seeds differ, is refused: no used code comes back', async () => {
      const state = await freshImport();
      const OTHER = Buffer.from('another-seed-20bytes');
      const O = (c: number): string => hotpCode(OTHER, 'sha1', c, 6);
      const input = (secret0: Buffer) => ({
        users: USERS.map((username) => ({ username, enabled: true })),
        tokens: USERS.map((user, i) => ({ seed: seed({ serial: `H${i}`, secret: i === 0 ? secret0 : RFC_SEED_SHA1, type: 'hotp' }), user })),
      });
      const copy = tmp.path('copy.store');
      copyFileSync(store, copy);
      // Generation 2 gives user 0 a new token seed, whose first codes are then used.
      await runImportStore({ store, key: TEST_KEY, state, input: input(OTHER) });
      for (const c of [0, 1]) expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: O(c) })).reason).toBe('ok');
      // Not even --reset-state takes the database back to the old copy's generation (a one-off check with it did).
      await expect(runCheck({ store: copy, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: H(0), resetState: true })).rejects.toThrow(/holds the state of store generation 2, newer than this store file's \(generation 1\): even --reset-state does not take the database back/);
      // The old copy (generation 1) imported into the database: refused, the database unchanged.
      await expect(runImportStore({ store: copy, key: TEST_KEY, state, input: input(OTHER) })).rejects.toThrow(/holds the state of store generation 2, newer than the one this import started from \(generation 1\): another import ran since, or this store file is an old copy/);
      // Nor with --reset-state, however often: a refused import writes nothing, the copy stays generation 1.
      for (let i = 0; i < 2; i++) await expect(runImportStore({ store: copy, key: TEST_KEY, state, resetState: true, input: input(OTHER) })).rejects.toThrow(/newer than the one this import started from \(generation 1\)/);
      expect((await readStoreFile(copy, TEST_KEY)).gen).toBe(1);
      // A store file of the database's generation whose seeds are not the ones the state was imported
      // with (another file of that generation, as here after the row's seed is changed): a node on it
      // is refused, where it used to write its own state over the database's.
      const dbName = state.pathname.slice(1);
      const fingerprint = pg.sql(`SELECT fingerprint FROM mfa_shim_tokens WHERE serial = 'H0'`, dbName).trim().split('\n').at(-1)!.trim();
      pg.sql(`UPDATE mfa_shim_tokens SET fingerprint = 'another-file' WHERE serial = 'H0'`, dbName);
      await expect(runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: O(1) })).rejects.toThrow(/1 of this store file's tokens have other seeds than the ones the database's state was imported with \(same generation 2\)/);
      pg.sql(`UPDATE mfa_shim_tokens SET fingerprint = '${fingerprint}' WHERE serial = 'H0'`, dbName);
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: O(1) })).reason).toBe('replayed');
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: O(2) })).reason).toBe('ok');
    });

    it('a second store file holding the same seeds is refused on that database, at import and at start: two stores would each accept a code once (a black-box test)', async () => {
      const state = await freshImport();
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: H(0) })).reason).toBe('ok');
      const second = tmp.path('second.store');
      const input = { users: USERS.map((username) => ({ username, enabled: true })), tokens: USERS.map((user, i) => ({ seed: seed({ serial: `H${i}`, secret: RFC_SEED_SHA1, type: 'hotp' }), user })) };
      const refused = /holds the state of the same seeds for store \S+ \(40 token\(s\)\): two store files on one database would each accept a code once/;
      // The import is of another store: refused as such, before its store file is written (a black-box test found it left behind).
      await expect(runImportStore({ store: second, key: TEST_KEY, state, input })).rejects.toThrow(/holds the state of store [0-9a-f]{16} \(generation 1, last written \d{4}-\d\d-\d\d\); this import makes a new store \(\S+second\.store did not exist\), and a database holds one store's state/);
      expect(existsSync(second)).toBe(false);
      // Made on another database, then started on this one (even asked to take its own state): refused too.
      const otherDb = `shim_${++n}`;
      pg.sql(`CREATE DATABASE ${otherDb}`);
      const elsewhere = tmp.path('elsewhere.store');
      await runImportStore({ store: elsewhere, key: TEST_KEY, state: parseStateUrl(pg.url.replace(/\/mfa_shim$/, `/${otherDb}`)), input });
      await expect(runCheck({ store: elsewhere, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: H(0), resetState: true })).rejects.toThrow(refused);
      // The first store goes on: its used code stays used.
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: H(0) })).reason).toBe('replayed');
    });

    it('a database holds one store: another is refused at import (its store file not written) and at start, naming the one held; --drop-store-state gives the database to it, used codes of shared seeds staying used (a black-box test: two stores side by side, two lock-outs)', async () => {
      const state = await freshImport();
      const dbName = state.pathname.slice(1);
      const storeA = (await readStoreFile(store, TEST_KEY)).storeId;
      const notices: string[] = [];
      const onNotice = (m: string) => void notices.push(m);
      const OTHER = Buffer.from('another-seed-20bytes');
      const O = (c: number): string => hotpCode(OTHER, 'sha1', c, 6);
      const T = (period: number): string => totpCode(RFC_SEED_SHA256, 'sha1', 6, period, Date.now());
      const totpSeed = (serial: string, period: number) => seed({ serial, secret: RFC_SEED_SHA256, type: 'totp', period });
      const inputA = { users: USERS.map((username) => ({ username, enabled: true })), tokens: USERS.map((user, i) => ({ seed: i === 8 ? totpSeed('T8', 30) : seed({ serial: `H${i}`, secret: RFC_SEED_SHA1, type: 'hotp' }), user })) };

      // A database holding two stores (written before this rule): an import of either is refused, naming the other; a node starts, warned.
      pg.sql(`INSERT INTO mfa_shim_stores (store_id, generation) VALUES ('0123456789abcdef', 4)`, dbName);
      await expect(runImportStore({ store, key: TEST_KEY, state, input: inputA })).rejects.toThrow(
        new RegExp(`holds the state of store 0123456789abcdef \\(generation 4, last written [0-9-]{10}\\) besides this store's \\(id ${storeA}\\), and a database holds one store's state .*: for new seeds of store 0123456789abcdef's users, import into its store file .*; to give the database to this store instead, import with --drop-store-state 0123456789abcdef`),
      );
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: H(0), onNotice })).reason).toBe('ok');
      expect(notices.splice(0)).toEqual([expect.stringMatching(/^warning: --state \S+ holds the state of store 0123456789abcdef .* besides this store's .*--drop-store-state naming the other/)]);
      // Its rows filled in at a start as ever (it adds no store).
      pg.sql(`DELETE FROM mfa_shim_tokens WHERE serial = 'H30'`, dbName);
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[30]!, code: H(0), onNotice })).reason).toBe('ok');
      expect(notices.splice(0)).toHaveLength(1);
      // Dropped by name: generation 2 of store A, with a TOTP token for user 8.
      await runImportStore({ store, key: TEST_KEY, state, input: inputA, dropStoreState: ['0123456789abcdef'], onNotice });
      expect(notices.splice(0)).toEqual([expect.stringMatching(/: dropped the state of store 0123456789abcdef \(generation 4\), 0 of this store's token\(s\) carrying on/)]);
      expect(pg.sql(`SELECT string_agg(store_id, ',') FROM mfa_shim_stores`, dbName).trim()).toBe(storeA);
      const t30 = T(30);
      for (const [user, code] of [[USERS[0]!, H(1)], [USERS[8]!, t30]] as const) expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user, code })).reason).toBe('ok');

      // Store B, other seeds, into a new folder: refused before its store file is written; the database keeps store A alone.
      const inputB = (withShared: boolean) => ({
        users: [USERS[0]!, USERS[8]!, USERS[9]!, 'new@contoso.com'].map((username) => ({ username, enabled: true })),
        tokens: [
          { seed: seed({ serial: 'B0', secret: withShared ? RFC_SEED_SHA1 : OTHER, type: 'hotp' }), user: USERS[0]! },
          ...(withShared ? [{ seed: totpSeed('BT8', 30), user: USERS[8]! }, { seed: totpSeed('BT9', 60), user: USERS[9]! }] : []),
          { seed: seed({ serial: 'BN', secret: OTHER, type: 'hotp' }), user: 'new@contoso.com' },
        ],
      });
      const storeB = tmp.path('adm2.store');
      const refusal = await runImportStore({ store: storeB, key: TEST_KEY, state, input: inputB(false) }).then(() => 'imported', (err: Error) => err.message);
      expect(refusal).toMatch(new RegExp(`^--state postgres://shim@127\\.0\\.0\\.1:\\d+/${dbName} holds the state of store ${storeA} \\(generation 2, last written [0-9-]{10}\\); this import makes a new store \\(${storeB.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} did not exist\\), and a database holds one store's state`));
      expect(refusal).toMatch(new RegExp(`import into its store file \\(the file the last import with --state wrote: .*\\) with its key; to give the database to this store instead, import with --drop-store-state ${storeA} \\(its nodes then stop working on this database\\)$`));
      expect(existsSync(storeB)).toBe(false);
      expect(pg.sql(`SELECT string_agg(store_id, ',') FROM mfa_shim_stores`, dbName).trim()).toBe(storeA);
      // Made without --state and started on this database: refused, even with --reset-state (which would be refused too: not offered).
      await runImportStore({ store: storeB, key: TEST_KEY, input: inputB(false) });
      const storeBId = (await readStoreFile(storeB, TEST_KEY)).storeId;
      for (const resetState of [false, true]) {
        const start = await runCheck({ store: storeB, key: TEST_KEY, state, rules: DEFAULT_RULES, user: 'new@contoso.com', code: O(0), resetState }).then(() => 'started', (err: Error) => err.message);
        expect(start).toMatch(new RegExp(`holds no state for this store \\(id ${storeBId}\\): it holds store ${storeA} .*, and a database holds one store's state: give every node the store file that was imported into it .*import this store's file with --state and --drop-store-state ${storeA}`));
        expect(start).not.toMatch(/start once with --reset-state/);
      }
      // Its own id, or without --state: refused.
      await expect(runImportStore({ store: storeB, key: TEST_KEY, state, input: inputB(true), dropStoreState: [storeBId] })).rejects.toThrow(/--drop-store-state \S+ names this store \(the one \S+ holds\)/);
      await expect(runImportStore({ store: storeB, key: TEST_KEY, input: inputB(true), dropStoreState: [storeA] })).rejects.toThrow(/--drop-store-state drops another store's state from PostgreSQL: give it with --state/);

      // Store B, now sharing seeds with store A, given the database: A's state goes, the codes used through A stay used.
      rmSync(storeB);
      rmSync(`${storeB}.journal`);
      await runImportStore({ store: storeB, key: TEST_KEY, state, input: inputB(true), dropStoreState: [storeA, 'fedcba9876543210'], onNotice });
      expect(notices.splice(0)).toEqual([
        '--drop-store-state fedcba9876543210: the database holds no state for store fedcba9876543210; nothing to drop',
        expect.stringMatching(new RegExp(`: dropped the state of store ${storeA} \\(generation 2\\), 2 of this store's token\\(s\\) carrying on from a dropped token of the same seed$`)),
      ]);
      const storeBNow = (await readStoreFile(storeB, TEST_KEY)).storeId;
      expect(pg.sql(`SELECT string_agg(store_id, ',') FROM mfa_shim_stores`, dbName).trim()).toBe(storeBNow);
      expect(pg.sql(`SELECT count(*) FROM mfa_shim_tokens WHERE store_id <> '${storeBNow}'`, dbName)).toMatch(/^0$/m);
      expect(readFileSync(`${storeB}.audit.jsonl`, 'utf8')).toMatch(new RegExp(`"event":"import".*dropped the state of store ${storeA}`));
      const checkB = async (user: string, code: string) => (await runCheck({ store: storeB, key: TEST_KEY, state, rules: DEFAULT_RULES, user, code })).reason;
      expect(await checkB(USERS[0]!, H(1))).toBe('replayed');
      expect(await checkB(USERS[0]!, H(2))).toBe('ok');
      expect(await checkB(USERS[8]!, t30)).toBe('replayed');
      // A 60 s token of that seed does not take the 30 s token's step (it would refuse every code).
      expect(await checkB(USERS[9]!, T(60))).toBe('ok');
      // Store A's nodes no longer start on this database.
      await expect(runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: H(3) })).rejects.toThrow(/holds the state of the same seeds for store|holds no state for this store/);
    });

    it('an import from the command line into a new folder, refused for the store the database holds, leaves no store file (a black-box test); --drop-store-state takes the database', async () => {
      const dbName = `shim_${++n}`;
      pg.sql(`CREATE DATABASE ${dbName}`);
      const url = pg.url.replace(/\/mfa_shim$/, `/${dbName}`);
      tmp = tempDir();
      const contoso = fileURLToPath(new URL('../../fixtures/contoso/', import.meta.url));
      const importArgs = (file: string) => [
        'shim', 'import', '--source', contoso, '--tokens', `${contoso}tokens/seeds.pskc`, '--tokens', `${contoso}tokens/seeds-psk.pskc`, '--tokens', `${contoso}tokens/seeds-password.pskc`,
        '--tokens', `${contoso}tokens/entra-upload.csv`, '--tokens', `${contoso}tokens/generic-seeds.csv`,
        '--pskc-key-file', `${contoso}tokens/psk.hex`, '--pskc-password-file', `${contoso}tokens/pskc-password.txt`, '--store', file, '--state', url,
      ];
      const env = { MFA_SHIM_KEY: TEST_KEY_B64, ...pg.env };
      const first = await runMain(importArgs(tmp.path('shim.store')), env);
      expect(first.status, first.stderr).toBe(0);
      const held = (await readStoreFile(tmp.path('shim.store'), TEST_KEY)).storeId;
      const adm2 = tmp.path('adm2.store');
      const refused = await runMain(importArgs(adm2), env);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`holds the state of store ${held} .*this import makes a new store .*--drop-store-state ${held}`));
      expect(existsSync(adm2)).toBe(false);
      const taken = await runMain([...importArgs(adm2), '--drop-store-state', held], env);
      expect(taken.status, taken.stderr).toBe(0);
      expect(taken.stderr).toMatch(new RegExp(`mfa-migrate shim: --state \\S+: dropped the state of store ${held} \\(generation 1\\), \\d+ of this store's token`));
      expect(pg.sql(`SELECT string_agg(store_id, ',') FROM mfa_shim_stores`, dbName).trim()).toBe((await readStoreFile(adm2, TEST_KEY)).storeId);
    }, 60_000);

    it('refusing an old store file, the advice is the current file, never --reset-state (which is refused there too); its advice works', async () => {
      const state = await freshImport();
      const input = { users: USERS.map((username) => ({ username, enabled: true })), tokens: USERS.map((user, i) => ({ seed: seed({ serial: `H${i}`, secret: RFC_SEED_SHA1, type: 'hotp' }), user })) };
      const copy = tmp.path('copy.store');
      copyFileSync(store, copy);
      await runImportStore({ store, key: TEST_KEY, state, input }); // generation 2, on "the admin's machine"
      const check = (file: string, resetState = false) => runCheck({ store: file, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]!, code: H(0), resetState });
      const message = (p: Promise<unknown>) => p.then(() => 'no error', (err: Error) => err.message);
      const offersReset = /(start|give) (once )?with --reset-state|give --reset-state|\(or start with --reset-state\)/;
      const current = /current store file \(generation 2, the file the last import with --state wrote: copy it from the machine that ran that import, or from a node serving it\); --reset-state does not take the database back to an older generation/;

      // serve, check (and unlock: the same attach) on the old copy.
      const checkRefusal = await message(check(copy));
      expect(checkRefusal).toMatch(/holds the state of store generation 2, newer than this store file's \(generation 1\): this file is an old copy; give every node the same, /);
      expect(checkRefusal).toMatch(current);
      expect(checkRefusal).not.toMatch(offersReset);
      expect(await message(startTestService(copy, new TestClock(Date.now()), { state }))).toBe(checkRefusal);
      expect(await message(runUnlock({ store: copy, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[0]! }))).toBe(checkRefusal);
      // What the old message advised is refused, as documented.
      await expect(check(copy, true)).rejects.toThrow(/even --reset-state does not take the database back to an older store file; use the current one \(generation 2, /);
      // An import from the old copy.
      const importRefusal = await message(runImportStore({ store: copy, key: TEST_KEY, state, input }));
      expect(importRefusal).toMatch(/newer than the one this import started from \(generation 1\): another import ran since, or this store file is an old copy; import again from the /);
      expect(importRefusal).toMatch(current);
      expect(importRefusal).not.toMatch(offersReset);
      await expect(runImportStore({ store: copy, key: TEST_KEY, state, input, resetState: true })).rejects.toThrow(/newer than the one this import started from/);

      // The advice works: the current file copied over the old copy serves, checks and imports.
      copyFileSync(store, copy);
      expect((await check(copy)).reason).toBe('ok');
      expect((await runImportStore({ store: copy, key: TEST_KEY, state, input })).generation).toBe(3);

      // A store file newer than the database (its import did not write the database, here: run without
      // --state): --reset-state, or the import again with --state, are offered, and work.
      const local = (await runImportStore({ store: copy, key: TEST_KEY, input, resetState: true })).generation; // local only
      const newer = await message(check(copy));
      expect(newer).toContain(`holds the state of store generation 3, older than this store file's (generation ${local}): `);
      expect(newer).toMatch(/: the import that wrote this file did not write the database .*run it again with --state \(or start once with --reset-state to take this file's state\)/);
      expect((await runImportStore({ store: copy, key: TEST_KEY, state, input })).generation).toBe(local + 1);
      expect((await check(copy)).reason).toBe('replayed');
    });

    it('an import whose database write failed leaves its store file as it was, and is run again', async () => {
      const state = await freshImport();
      const dbName = state.pathname.slice(1);
      const input = { users: USERS.map((username) => ({ username, enabled: true })), tokens: USERS.map((user, i) => ({ seed: seed({ serial: `H${i}`, secret: RFC_SEED_SHA1, type: 'hotp' }), user })) };
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[3]!, code: H(0) })).reason).toBe('ok');
      pg.sql(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the disk is full'; END $$; CREATE TRIGGER refuse BEFORE UPDATE ON mfa_shim_stores FOR EACH ROW EXECUTE FUNCTION refuse()`, dbName);
      await expect(runImportStore({ store, key: TEST_KEY, state, input })).rejects.toThrow(/the database did not take the import: PostgreSQL refused a statement \(SQLSTATE P0001: the disk is full\); \S+ is left as it was \(generation 1\), and so is the database/);
      pg.sql(`DROP TRIGGER refuse ON mfa_shim_stores`, dbName);
      // The store file is generation 1 again, as the database: the import runs again, and no used code comes back.
      expect((await readStoreFile(store, TEST_KEY)).gen).toBe(1);
      expect((await runImportStore({ store, key: TEST_KEY, state, input })).generation).toBe(2);
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[3]!, code: H(0) })).reason).toBe('replayed');
    });

    it('a token an import removes and a later one brings back carries on from its state: no used code is accepted again', async () => {
      const state = await freshImport();
      const input = (without?: string) => {
        const users = USERS.filter((u) => u !== without);
        return { users: users.map((username) => ({ username, enabled: true })), tokens: users.map((user) => ({ seed: seed({ serial: `H${USERS.indexOf(user)}`, secret: RFC_SEED_SHA1, type: 'hotp' }), user })) };
      };
      for (const c of [0, 1, 2]) expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[5]!, code: H(c) })).reason).toBe('ok');
      expect((await runImportStore({ store, key: TEST_KEY, state, input: input(USERS[5]) })).removed).toEqual(['H5']);
      await runImportStore({ store, key: TEST_KEY, state, input: input() });
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[5]!, code: H(1) })).reason).toBe('replayed');
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[5]!, code: H(3) })).reason).toBe('ok');
    });

    it('a TOTP token given another time step starts afresh: the database does not keep the old step (every code refused)', async () => {
      const state = await freshImport();
      const input = (period: number) => ({
        users: USERS.map((username) => ({ username, enabled: true })),
        tokens: USERS.map((user, i) => ({ seed: i === 8 ? seed({ serial: 'T8', secret: RFC_SEED_SHA1, type: 'totp', period }) : seed({ serial: `H${i}`, secret: RFC_SEED_SHA1, type: 'hotp' }), user })),
      });
      await runImportStore({ store, key: TEST_KEY, state, input: input(30) });
      const code = (period: number) => totpCode(RFC_SEED_SHA1, 'sha1', 6, period, Date.now());
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[8]!, code: code(30) })).reason).toBe('ok');
      await runImportStore({ store, key: TEST_KEY, state, input: input(60) });
      // One code sent twice: made again for the second check, it is the next step's if a minute began in between (accepted).
      const minute = code(60);
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[8]!, code: minute })).reason).toBe('ok');
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[8]!, code: minute })).reason).toBe('replayed');
    });

    it("a user removed and added again starts at versions no earlier row of theirs reached (a node's old cached copy cannot match)", async () => {
      const state = await freshImport();
      const dbName = state.pathname.slice(1);
      const version = (u: string) => BigInt(pg.sql(`SELECT version FROM mfa_shim_users WHERE user_key = '${u}'`, dbName).trim().split('\n').at(-1)!.trim());
      const input = (users: string[]) => ({ users: users.map((username) => ({ username, enabled: true })), tokens: users.map((user) => ({ seed: seed({ serial: `H${USERS.indexOf(user)}`, secret: RFC_SEED_SHA1, type: 'hotp' }), user })) });
      for (let i = 0; i < 5; i++) await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[39]!, code: '000000' });
      const old = version(USERS[39]!);
      await runImportStore({ store, key: TEST_KEY, state, input: input(USERS.slice(0, 39)) });
      await runImportStore({ store, key: TEST_KEY, state, input: input(USERS) });
      expect(version(USERS[39]!)).toBeGreaterThanOrEqual(3n * 2n ** 32n);
      expect(version(USERS[39]!)).toBeGreaterThan(old);
      expect(version(USERS[0]!)).toBeLessThan(2n * 2n ** 32n);
    });

    it('with no password to give the server, a start ends at once with one message (it used to wait for ever)', async () => {
      const state = await freshImport();
      const empty = tmp.path('empty.pgpass');
      writeFileSync(empty, '', { mode: 0o600 });
      const saved = process.env.PGPASSFILE;
      process.env.PGPASSFILE = empty;
      try {
        const started = Date.now();
        await expect(runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[16]!, code: H(0) })).rejects.toThrow(
          /--state postgres:\/\/shim@127\.0\.0\.1:\d+\/shim_\d+: cannot connect: the server asks for a password, and none is given for shim at 127\.0\.0\.1:\d+: put it in PGPASSFILE \(or ~\/\.pgpass, mode 0600\) or PGPASSWORD/,
        );
        expect(Date.now() - started).toBeLessThan(4000);
      } finally {
        process.env.PGPASSFILE = saved;
      }
      // The installed command too: one line, exit 1, no stack trace, no pg warning.
      const r = runCli(['shim', 'check', '--store', store, '--state', state.href, '--user', USERS[16]!, '--code', H(0)], { env: { MFA_SHIM_KEY: TEST_KEY_B64, PGPASSFILE: empty } });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^mfa-migrate.*: --state .*: cannot connect: the server asks for a password, and none is given/)]);
      // The right password in a file group can read: ignored for its mode (as psql does), and said so in the one line,
      // not as pg's "WARNING: password file ... has group or world access" followed by "none is given" (a black-box test).
      const open = tmp.path('group.pgpass');
      copyFileSync(pg.env.PGPASSFILE!, open);
      chmodSync(open, 0o640);
      const g = runCli(['shim', 'check', '--store', store, '--state', state.href, '--user', USERS[16]!, '--code', H(0)], { env: { MFA_SHIM_KEY: TEST_KEY_B64, PGPASSFILE: open } });
      expect(g.status, g.stderr).toBe(1);
      expect(g.stderr.trim().split('\n')).toEqual([
        `mfa-migrate: --state ${state.href}: cannot connect: the server asks for a password, and none is given for shim at 127.0.0.1:${state.port}: PGPASSFILE ${open} has mode 0640: group or others can access it, so it was ignored (as psql ignores it); chmod 600 it; or give it in PGPASSWORD`,
      ]);
    }, 30_000);

    it('a node runs as a role that may only read and write the rows (no CREATE on the schema)', async () => {
      const state = await freshImport();
      const dbName = state.pathname.slice(1);
      pg.sql(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shim_rows') THEN CREATE ROLE shim_rows LOGIN PASSWORD 'rows-only-password'; END IF; END $$`);
      pg.sql(`REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA public TO shim_rows; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO shim_rows`, dbName);
      const passfile = tmp.path('rows.pgpass');
      writeFileSync(passfile, `${state.hostname}:${state.port}:*:shim_rows:rows-only-password\n`, { mode: 0o600 });
      const saved = process.env.PGPASSFILE;
      process.env.PGPASSFILE = passfile;
      try {
        const rows = parseStateUrl(`postgres://shim_rows@${state.host}${state.pathname}`);
        expect((await runCheck({ store, key: TEST_KEY, state: rows, rules: DEFAULT_RULES, user: USERS[15]!, code: H(0) })).reason).toBe('ok');
        // A migration it would need is still refused clearly (it may not create).
        pg.sql(`ALTER TABLE mfa_shim_tokens DROP COLUMN user_key; DROP TABLE mfa_shim_absent_names; UPDATE mfa_shim_schema SET version = 1`, dbName);
        await expect(runCheck({ store, key: TEST_KEY, state: rows, rules: DEFAULT_RULES, user: USERS[15]!, code: H(1) })).rejects.toThrow(/cannot create or migrate the shim's tables: .*(permission denied|must be owner)/);
      } finally {
        process.env.PGPASSFILE = saved;
      }
    });

    it("a database of schema 1 is migrated to 3, its state kept and each token's user recorded on the next start", async () => {
      const state = await freshImport();
      const dbName = state.pathname.slice(1);
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[14]!, code: H(0) })).reason).toBe('ok');
      pg.sql(`ALTER TABLE mfa_shim_tokens DROP COLUMN user_key; DROP TABLE mfa_shim_absent_names; UPDATE mfa_shim_schema SET version = 1`, dbName);
      const notices: string[] = [];
      expect((await runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[14]!, code: H(0), onNotice: (m) => notices.push(m) })).reason).toBe('replayed');
      // Said, and audited (a black-box test found the migration silent).
      expect(notices).toEqual([`--state ${state.href}: migrated the shim's tables from schema version 1 to 3 (version 2: column mfa_shim_tokens.user_key; version 3: table mfa_shim_absent_names)`]);
      expect(readFileSync(`${store}.audit.jsonl`, 'utf8')).toMatch(/\{"time":"[^"]+","event":"state","detail":"schema migrated from version 1 to 3 \(version 2: column mfa_shim_tokens\.user_key; version 3: table mfa_shim_absent_names\)"\}\n/);
      expect(pg.sql(`SELECT version FROM mfa_shim_schema`, dbName)).toMatch(/^3$/m);
      expect(pg.sql(`SELECT count(*) FROM mfa_shim_tokens WHERE user_key IS NULL`, dbName)).toMatch(/^0$/m);
      expect(pg.sql(`SELECT user_key FROM mfa_shim_tokens WHERE serial = 'H14'`, dbName)).toMatch(/^user14@contoso\.com$/m);
    });

    it('a version row that does not match the tables is refused, naming what was found, and nothing is repaired (a black-box test: two rows were taken, an older one gave "already exists")', async () => {
      const state = await freshImport();
      const dbName = state.pathname.slice(1);
      const start = () => runCheck({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[17]!, code: H(0) }).then(() => 'started', (err: Error) => err.message);
      const tables = 'the tables are at version 3 \\(tables mfa_shim_stores, mfa_shim_tokens and mfa_shim_users \\(version 1\\): there; column mfa_shim_tokens.user_key \\(version 2\\): there; table mfa_shim_absent_names \\(version 3\\): there\\)';
      const saveRow = 'CREATE TABLE saved AS SELECT * FROM mfa_shim_schema';
      const restoreRow = 'DROP TABLE IF EXISTS mfa_shim_schema; ALTER TABLE saved RENAME TO mfa_shim_schema';
      // Each: the edit, the refusal, and how the edit is undone (none: the last).
      const cases: [string, RegExp, string | undefined][] = [
        ['INSERT INTO mfa_shim_schema VALUES (2)', new RegExp(`cannot create or migrate the shim's tables: the shim's version row is not one: the table mfa_shim_schema holds 2 rows \\(versions 2, 3\\), and ${tables}; it was edited by hand: keep only the row of the version the tables are at \\(nothing is repaired automatically\\)$`), restoreRow],
        ['UPDATE mfa_shim_schema SET version = 1', new RegExp(`: the shim's version row does not match the tables: the table mfa_shim_schema says version 1, but ${tables}\\. The row was edited or deleted by hand, or the tables restored without it: put back the row of the version the tables are at, or restore the database from a backup \\(nothing is repaired automatically\\)$`), restoreRow],
        ['DELETE FROM mfa_shim_schema', new RegExp(`: the shim's version row does not match the tables: the table mfa_shim_schema holds no row \\(the version row\\), but ${tables}\\.`), restoreRow],
        ['DROP TABLE mfa_shim_schema', new RegExp(`: the shim's version row does not match the tables: there is no table mfa_shim_schema \\(the version row\\), but ${tables}\\.`), restoreRow],
        ['DROP TABLE mfa_shim_absent_names', /the table mfa_shim_schema says version 3, but the tables are at version 2 \(.*table mfa_shim_absent_names \(version 3\): not there\)/, `DROP TABLE saved; ${MIGRATIONS[2]!.sql}`],
        ['ALTER TABLE mfa_shim_tokens DROP COLUMN user_key', /the table mfa_shim_schema says version 3, but the tables are at no version \(.*column mfa_shim_tokens\.user_key \(version 2\): not there; table mfa_shim_absent_names \(version 3\): there\)/, `DROP TABLE saved; ALTER TABLE mfa_shim_tokens ADD COLUMN user_key text`],
        ['DROP TABLE mfa_shim_users', /the table mfa_shim_schema says version 3, but the tables are at no version \(tables mfa_shim_stores, mfa_shim_tokens and mfa_shim_users \(version 1\): partly there; column mfa_shim_tokens\.user_key \(version 2\): there; table mfa_shim_absent_names \(version 3\): there\)/, undefined],
      ];
      for (const [edit, refusal, undo] of cases) {
        pg.sql(`BEGIN; ${saveRow}; ${edit}; COMMIT`, dbName);
        const message = await start();
        expect(message, edit).toMatch(refusal);
        expect(message, edit).not.toMatch(/already exists/);
        if (undo === undefined) break;
        // Nothing was changed by the refusal: the edit undone, the node starts.
        pg.sql(`BEGIN; ${undo}; COMMIT`, dbName);
        expect(pg.sql('SELECT version FROM mfa_shim_schema', dbName).trim(), edit).toBe('3');
        expect(await start(), edit).toBe('started');
      }
    });

    it('a migration waiting behind an import gives up within its bound and leaves nothing queued', async () => {
      const state = await freshImport();
      const dbName = state.pathname.slice(1);
      pg.sql(`ALTER TABLE mfa_shim_tokens DROP COLUMN user_key; DROP TABLE mfa_shim_absent_names; UPDATE mfa_shim_schema SET version = 1`, dbName);
      const holder = new pgClient.Client({ connectionString: state.href });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('LOCK TABLE mfa_shim_users, mfa_shim_tokens IN SHARE ROW EXCLUSIVE MODE');
        await expect(PgState.open(state, 'x', { migrationLockTimeoutMs: 300 })).rejects.toThrow(/tables are busy .* within 0\.3 s: start the node again/);
        expect(pg.sql(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE mfa_shim_tokens%'`, dbName)).toMatch(/^0$/m);
        await holder.query('COMMIT');
        const a = await PgState.open(state, 'x');
        await a.close();
        expect(pg.sql(`SELECT version FROM mfa_shim_schema`, dbName)).toMatch(/^3$/m);
      } finally {
        await holder.end();
      }
    });

    it('a node still serving an earlier store file cannot accept a token that has since moved to another user', async () => {
      const state = await freshImport();
      const { db: old, a, close } = await openNodes(state);
      try {
        const [from, to] = [USERS[12]!, USERS[13]!];
        const userFrom = old.findUser(from.toLowerCase())!;
        const seen = await a.read(userFrom, true);
        // The next generation: token H12 is user 13's now.
        const tokens = USERS.map((user, i) => ({ seed: seed({ serial: `H${i}`, secret: RFC_SEED_SHA1, type: 'hotp' as const }), user: i === 12 ? to : user }));
        await runImportStore({ store, key: TEST_KEY, state, input: { users: USERS.map((username) => ({ username, enabled: true })), tokens } });
        // The old node's copy says H12 is user 12's: refused, by the change and by a read alike.
        expect(await a.accept(userFrom, { ...seen.user, version: seen.user.version + 1 }, userFrom.tokens[0]!, { counter: 1n, lastStep: null, drift: 0 }, false)).toBe(false);
        await expect(a.read(userFrom, true)).rejects.toThrow(/belongs to another user in the database's store generation/);
        expect((await new Verifier(old, a, DEFAULT_RULES).verify(from, H(0)).catch((e: Error) => e.message))).toMatch(/belongs to another user/);
        // A node on the new store file accepts it for its owner.
        const current = await ShimDatabase.open(store, TEST_KEY, { command: 'test', onNotice: () => undefined, seedsOnly: true, lock: false });
        const c = await PgState.open(state, current.storeId);
        try {
          await c.attach(storeStateOf(current), false);
          const verdict = await new Verifier(current, c, DEFAULT_RULES).verify(to, H(0));
          expect(verdict).toMatchObject({ result: 'accept', serial: 'H12' });
        } finally {
          await c.close();
          await current.close();
        }
      } finally {
        await close();
      }
    });

    it('an import moves every user to a new version: a node deciding from before it is refused and decides again', async () => {
      const state = await freshImport();
      const { db, a, b, close } = await openNodes(state);
      try {
        const user = db.findUser(USERS[6]!.toLowerCase())!;
        const seen = await a.read(user, true);
        await b.load(storeStateOf(db));
        expect(await a.accept(user, seen.user, user.tokens[0]!, { counter: 1n, lastStep: null, drift: 0 }, false)).toBe(false);
        const fresh = await a.read(user);
        expect(fresh.user.version).toBe(seen.user.version + 1);
        expect(await a.accept(user, fresh.user, user.tokens[0]!, { counter: 1n, lastStep: null, drift: 0 }, false)).toBe(true);
      } finally {
        await close();
      }
    });
  });

  describe('two nodes on one database', () => {
    const env = (): Record<string, string> => ({ MFA_SHIM_KEY: TEST_KEY_B64, ...pg.env });
    async function twoNodes(state: URL): Promise<[string, string, ChildProcess, ChildProcess]> {
      // Each node has its own copy of the store file (same key), as on two machines.
      const storeB = tmp.path('node-b.store');
      copyFileSync(store, storeB);
      const a = await startServeProcess(['--store', store, '--port', '0', '--state', state.href, '--rate-limit', '0', '--source-max-fails', '0'], env());
      const b = await startServeProcess(['--store', storeB, '--port', '0', '--state', state.href, '--rate-limit', '0', '--source-max-fails', '0'], env());
      children.push(a.child, b.child);
      return [a.url, b.url, a.child, b.child];
    }

    it('50 concurrent submissions of one code over both nodes give exactly one accept; a lock-out on one holds on the other', async () => {
      const state = await freshImport();
      const [a, b] = await twoNodes(state);
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => verify(i % 2 === 0 ? a : b, USERS[3], H(0))));
      const reasons = replies.map((r) => (r.json as { reason: string }).reason);
      expect(reasons.filter((r) => r === 'ok')).toHaveLength(1);
      expect(reasons.filter((r) => r === 'replayed')).toHaveLength(49);
      // Ten failures on node A lock the user out on node B as well, though B has seen the user
      // unlocked (its cache of the user's state is checked by every change and every refusal).
      expect((await verify(b, USERS[4], H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
      for (let i = 0; i < 10; i++) expect((await verify(a, USERS[4], '000000')).json).toEqual({ result: 'reject', reason: 'wrong_code' });
      expect((await verify(b, USERS[4], H(1))).json).toEqual({ result: 'reject', reason: 'locked_out' });
      expect((await verify(b, USERS[4], H(0))).json).toEqual({ result: 'reject', reason: 'locked_out' });
      // A node whose copy of a user's state is old decides again from the database: B saw user 5
      // at counter 1; A moves the counter 15 on (past B's look-ahead); B accepts the next code.
      expect((await verify(b, USERS[5], H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
      for (let c = 1; c <= 15; c++) expect((await verify(a, USERS[5], H(c))).json).toEqual({ result: 'accept', reason: 'ok' });
      expect((await verify(b, USERS[5], H(16))).json).toEqual({ result: 'accept', reason: 'ok' });
      expect((await verify(b, USERS[5], H(15))).json).toEqual({ result: 'reject', reason: 'replayed' });
      // An unlock on A (through the database) holds on B at once.
      const unlock = await runUnlock({ store, key: TEST_KEY, state, rules: DEFAULT_RULES, user: USERS[4]! });
      expect(unlock).toMatchObject({ status: 'unlocked', wasLocked: true });
      expect((await verify(b, USERS[4], H(1))).json).toEqual({ result: 'accept', reason: 'ok' });
    }, 60_000);

    it('kill -9 of a node under load loses no accepted code: the other node answers every one of them "replayed"', async () => {
      const state = await freshImport();
      const [a, b, childA] = await twoNodes(state);
      const accepted: { user: string; code: string }[] = [];
      let killed = false;
      const load = USERS.map(async (user, i) => {
        for (let c = 0; c < 30 && !killed; c++) {
          const code = H(c);
          try {
            const r = await verify(a, user, code);
            if ((r.json as { result?: string } | undefined)?.result === 'accept') accepted.push({ user, code });
          } catch {
            return; // the node died under this request: it was never answered
          }
          if (i === 0 && c === 10) {
            childA.kill('SIGKILL');
            killed = true;
          }
        }
      });
      await Promise.all(load);
      expect(accepted.length).toBeGreaterThan(10);
      // Each user's last accepted code is an exact replay on the other node; every earlier one is refused too.
      for (const user of USERS) {
        const mine = accepted.filter((a) => a.user === user).reverse();
        if (mine.length === 0) continue;
        expect((await verify(b, user, mine[0]!.code)).json, `${user} ${mine[0]!.code}`).toEqual({ result: 'reject', reason: 'replayed' });
        for (const { code } of mine.slice(1)) expect((await verify(b, user, code)).json, `${user} ${code}`).toMatchObject({ result: 'reject' });
      }
    }, 60_000);
  });
});
