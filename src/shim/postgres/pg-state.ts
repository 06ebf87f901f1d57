import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import pgpass from 'pgpass';
import { UserError } from '../../model/user-error.js';
import type { ShimToken, ShimUser, SourceFailures, TokenState, UserState } from '../store-model.js';
import type { StateBackend, StateView } from '../verifier.js';
import { migrate } from './schema.js';
import { shownStateUrl } from './state-url.js';

/** What the database is told about a store: its lineage, generation, users and tokens (with their initial state). */
export interface StoreState {
  storeId: string;
  gen: number;
  users: Iterable<ShimUser>;
  tokens: Iterable<ShimToken>;
}

export interface PgStateOptions {
  onNotice?: (message: string) => void;
  /** How often a lost database is probed (default 1 s). */
  probeMs?: number;
  /** Connections in the pool (default 16). */
  poolSize?: number;
}

// The user's row with one row per token (a join: no JSON built or parsed per request).
const READ: pg.QueryConfig = {
  name: 'mfa-shim-read',
  text: `SELECT u.fails, u.locked_at, u.sources, u.version, t.serial, t.fingerprint, t.counter::text AS counter, t.last_step, t.drift
         FROM mfa_shim_users u
         LEFT JOIN mfa_shim_tokens t ON t.store_id = u.store_id AND t.serial = ANY($3::text[])
         WHERE u.store_id = $1 AND u.user_key = $2`,
};
// The acceptance compare-and-set, one statement each: a code is accepted only while still unused.
// ... and only while the user's state is the version the lock-out was decided on; the accept bumps
// that version (one statement), so that any change a node decided from an older copy of the user's
// or the tokens' state fails its compare-and-set.
const acceptStatement = (setToken: string, unused: string, key: string, version: string): string => `
  WITH accepted AS (
    UPDATE mfa_shim_tokens SET ${setToken}
    WHERE store_id = $1 AND serial = $2 AND fingerprint = $3 AND ${unused}
      AND EXISTS (SELECT 1 FROM mfa_shim_users WHERE store_id = $1 AND user_key = ${key} AND version = ${version})
    RETURNING 1)
  UPDATE mfa_shim_users SET version = version + 1
  WHERE store_id = $1 AND user_key = ${key} AND version = ${version} AND EXISTS (SELECT 1 FROM accepted)`;
const ACCEPT_HOTP = acceptStatement('counter = $4', 'counter < $4', '$5', '$6');
const ACCEPT_TOTP = acceptStatement('last_step = $4, drift = $5', '(last_step IS NULL OR last_step < $4)', '$6', '$7');
const UPDATE_USER =
  'UPDATE mfa_shim_users SET fails = $3, locked_at = $4, sources = $5, version = version + 1 WHERE store_id = $1 AND user_key = $2 AND version = $6';

/** The database cannot be reached or answered wrongly: answered as lost state (503, Access-Reject). */
export class StateUnavailableError extends Error {}

/**
 * Verification state in PostgreSQL (issue 16): any number of `shim serve` nodes share it, and every
 * change is a compare-and-set in one statement (verifier.ts), so no code is accepted twice across
 * nodes. Seeds never reach the database. When the database is lost, `healthy` turns false (requests
 * are answered as lost state at once) and a probe reconnects by itself.
 */
export class PgState implements StateBackend {
  #healthy = true;
  #probe: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    readonly url: URL,
    private readonly storeId: string,
    private readonly options: PgStateOptions,
  ) {
    // An idle connection dropped by the server is reported here; without a listener it would end the process.
    pool.on('error', (err) => this.#lost(err));
  }

  /** Connects, creates or migrates the schema. */
  static async open(url: URL, storeId: string, options: PgStateOptions = {}): Promise<PgState> {
    // The URL's parts (host, port, database, user, sslmode...) as pg reads them; the password never
    // from it (state-url.ts refuses one), but from PGPASSWORD, else PGPASSFILE / ~/.pgpass, as psql.
    const { password: _none, ...fromUrl } = parseConnectionString(url.href);
    const config: pg.PoolConfig = {
      ...(fromUrl as pg.PoolConfig),
      max: options.poolSize ?? 16,
      connectionTimeoutMillis: 3000,
      query_timeout: 5000,
      keepAlive: true,
      application_name: 'mfa-migrate shim',
    };
    if (process.env.PGPASSWORD === undefined) {
      const who = { host: config.host ?? 'localhost', port: String(config.port ?? 5432), database: config.database ?? '', user: config.user ?? process.env.PGUSER ?? '' };
      config.password = () => new Promise<string>((resolve) => pgpass(who, (p) => resolve(p ?? '')));
    }
    const pool = new pg.Pool(config);
    const state = new PgState(pool, url, storeId, options);
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new UserError(`--state ${shownStateUrl(url)}: cannot connect: ${(err as Error).message}`);
    }
    try {
      await migrate(client);
      client.release();
    } catch (err) {
      client.release();
      await pool.end().catch(() => undefined);
      throw new UserError(`--state ${shownStateUrl(url)}: cannot create or migrate the shim's tables: ${(err as Error).message}`);
    }
    return state;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /**
   * Checks that the database holds this store's state at this generation (every node must serve the
   * same store file) and that every user and token has its row. `reset`: take the store's own state
   * where the database has none, or another generation (the admin's explicit choice).
   */
  async attach(store: StoreState, reset: boolean): Promise<void> {
    const row = (await this.pool.query<{ generation: number }>('SELECT generation FROM mfa_shim_stores WHERE store_id = $1', [store.storeId])).rows[0];
    const where = `--state ${shownStateUrl(this.url)}`;
    if (!row && !reset) {
      throw new UserError(`${where} holds no state for this store (id ${store.storeId}): import with --state, or start once with --reset-state to take the store's own state`);
    }
    if (row && row.generation !== store.gen && !reset) {
      throw new UserError(
        `${where} holds the state of store generation ${row.generation}, this store file is generation ${store.gen}: give every node the same, current store file (or start with --reset-state)`,
      );
    }
    await this.load(store);
  }

  /**
   * Writes a store generation's users and tokens: new ones with the store's state; a token whose seed
   * is unchanged keeps the database's state, never moved backwards (the greater counter and last
   * step win, so an accept on another node during an import is kept); a changed seed starts from the
   * store's; rows of removed tokens and users go. One transaction.
   */
  async load(store: StoreState): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO mfa_shim_stores (store_id, generation) VALUES ($1, $2)
         ON CONFLICT (store_id) DO UPDATE SET generation = EXCLUDED.generation, updated_at = now()`,
        [store.storeId, store.gen],
      );
      const tokens = [...store.tokens];
      await client.query(
        `INSERT INTO mfa_shim_tokens (store_id, serial, fingerprint, counter, last_step, drift)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::numeric[], $5::bigint[], $6::integer[])
         ON CONFLICT (store_id, serial) DO UPDATE SET
           counter   = CASE WHEN mfa_shim_tokens.fingerprint = EXCLUDED.fingerprint THEN GREATEST(mfa_shim_tokens.counter, EXCLUDED.counter) ELSE EXCLUDED.counter END,
           last_step = CASE WHEN mfa_shim_tokens.fingerprint = EXCLUDED.fingerprint THEN GREATEST(mfa_shim_tokens.last_step, EXCLUDED.last_step) ELSE EXCLUDED.last_step END,
           drift     = CASE WHEN mfa_shim_tokens.fingerprint = EXCLUDED.fingerprint THEN mfa_shim_tokens.drift ELSE EXCLUDED.drift END,
           fingerprint = EXCLUDED.fingerprint`,
        [
          store.storeId,
          tokens.map((t) => t.serial),
          tokens.map((t) => t.fingerprint),
          tokens.map((t) => (t.counter === null ? null : t.counter.toString())),
          tokens.map((t) => t.lastStep),
          tokens.map((t) => t.drift),
        ],
      );
      await client.query('DELETE FROM mfa_shim_tokens WHERE store_id = $1 AND NOT (serial = ANY($2::text[]))', [store.storeId, tokens.map((t) => t.serial)]);
      const users = [...store.users];
      await client.query(
        `INSERT INTO mfa_shim_users (store_id, user_key, fails, locked_at, sources)
         SELECT $1, * FROM unnest($2::text[], $3::integer[], $4::bigint[], $5::jsonb[])
         ON CONFLICT (store_id, user_key) DO NOTHING`,
        [store.storeId, users.map((u) => u.key), users.map((u) => u.fails), users.map((u) => u.lockedAt), users.map((u) => JSON.stringify(u.sources))],
      );
      await client.query('DELETE FROM mfa_shim_users WHERE store_id = $1 AND NOT (user_key = ANY($2::text[]))', [store.storeId, users.map((u) => u.key)]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Every token's and user's state (for an import keeping the state of unchanged tokens). */
  async readAll(): Promise<{ tokens: Map<string, TokenState & { fingerprint: string }>; users: Map<string, UserState> }> {
    const tokens = new Map<string, TokenState & { fingerprint: string }>();
    const users = new Map<string, UserState>();
    const t = await this.pool.query<{ serial: string; fingerprint: string; counter: string | null; last_step: string | null; drift: number }>(
      'SELECT serial, fingerprint, counter::text AS counter, last_step, drift FROM mfa_shim_tokens WHERE store_id = $1',
      [this.storeId],
    );
    for (const r of t.rows) tokens.set(r.serial, { fingerprint: r.fingerprint, counter: r.counter === null ? null : BigInt(r.counter), lastStep: r.last_step === null ? null : Number(r.last_step), drift: r.drift });
    const u = await this.pool.query<{ user_key: string; fails: number; locked_at: string | null; sources: SourceFailures }>(
      'SELECT user_key, fails, locked_at, sources FROM mfa_shim_users WHERE store_id = $1',
      [this.storeId],
    );
    for (const r of u.rows) users.set(r.user_key, { fails: r.fails, lockedAt: r.locked_at === null ? null : Number(r.locked_at), sources: r.sources });
    return { tokens, users };
  }

  /**
   * Each user's state as last read or written by this node. Every change is still a compare-and-set
   * against the database (a stale entry only makes it fail, and be read again); an answer that
   * changes nothing (locked out, an exact replay) is given from a fresh read (verifier.ts). It saves
   * the read round trip of most verifications.
   */
  readonly #cache = new Map<string, StateView>();

  async read(user: ShimUser, fresh = false): Promise<StateView> {
    const cached = fresh ? undefined : this.#cache.get(user.key);
    if (cached) return { ...cached, cached: true };
    const view = await this.#readFresh(user);
    this.#cache.set(user.key, view);
    return view;
  }

  async #readFresh(user: ShimUser): Promise<StateView> {
    const result = await this.#query<{
      fails: number;
      locked_at: string | null;
      sources: SourceFailures;
      version: string;
      serial: string | null;
      fingerprint: string | null;
      counter: string | null;
      last_step: string | null;
      drift: number | null;
    }>({ ...READ, values: [this.storeId, user.key, user.tokens.map((t) => t.serial)] });
    const row = result.rows[0];
    if (!row) throw new StateUnavailableError(`the database has no state for user ${user.key}`);
    return {
      user: { fails: row.fails, lockedAt: row.locked_at === null ? null : Number(row.locked_at), sources: row.sources, version: Number(row.version) },
      tokens: user.tokens.map((token) => {
        const t = result.rows.length === 1 ? row : result.rows.find((r) => r.serial === token.serial);
        // No row, or a row for another seed: this node's store file is not the current one.
        if (!t || t.serial !== token.serial || t.fingerprint !== token.fingerprint) throw new StateUnavailableError(`the database's state of token ${token.serial} is missing or for another seed`);
        return { counter: t.counter === null ? null : BigInt(t.counter), lastStep: t.last_step === null ? null : Number(t.last_step), drift: t.drift ?? 0 };
      }),
    };
  }

  async accept(user: ShimUser, expected: StateView['user'], token: ShimToken, next: TokenState): Promise<boolean> {
    const values =
      token.type === 'hotp'
        ? [this.storeId, token.serial, token.fingerprint, next.counter!.toString(), user.key, expected.version]
        : [this.storeId, token.serial, token.fingerprint, next.lastStep, next.drift, user.key, expected.version];
    const result = await this.#query({ name: `mfa-shim-accept-${token.type}`, text: token.type === 'hotp' ? ACCEPT_HOTP : ACCEPT_TOTP, values });
    const done = result.rowCount === 1;
    const cached = this.#cache.get(user.key);
    if (done && cached) {
      const i = user.tokens.indexOf(token);
      if (i >= 0) cached.tokens[i] = next;
      cached.user = { ...cached.user, version: expected.version + 1 };
    } else if (!done) {
      this.#cache.delete(user.key);
    }
    return done;
  }

  async updateUser(user: ShimUser, expected: StateView['user'], next: UserState): Promise<boolean> {
    const result = await this.#query({
      name: 'mfa-shim-update-user',
      text: UPDATE_USER,
      values: [this.storeId, user.key, next.fails, next.lockedAt, JSON.stringify(next.sources), expected.version],
    });
    const done = result.rowCount === 1;
    const cached = this.#cache.get(user.key);
    if (done && cached) cached.user = { ...next, version: expected.version + 1 };
    else if (!done) this.#cache.delete(user.key);
    return done;
  }

  /** Forgets the cached state (after the database was lost: it may have been restored from a backup). */
  #forget(): void {
    this.#cache.clear();
  }

  async #query<R extends pg.QueryResultRow = pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(config);
    } catch (err) {
      this.#forget();
      this.#lost(err as Error);
      throw new StateUnavailableError(`state database: ${(err as Error).message}`);
    }
  }

  /** The database is gone or failing: answer as lost state until a probe gets through again. */
  #lost(err: Error): void {
    if (this.#closed) return;
    if (this.#healthy) this.options.onNotice?.(`--state ${shownStateUrl(this.url)}: ${err.message}; answering state_unavailable until it is back`);
    this.#healthy = false;
    if (this.#probe) return;
    this.#probe = setInterval(() => {
      this.pool.query('SELECT 1').then(
        () => {
          clearInterval(this.#probe);
          this.#probe = undefined;
          if (this.#closed) return;
          this.#healthy = true;
          this.options.onNotice?.(`--state ${shownStateUrl(this.url)}: reconnected`);
        },
        () => undefined,
      );
    }, this.options.probeMs ?? 1000);
    this.#probe.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#probe) clearInterval(this.#probe);
    await this.pool.end();
  }
}
