import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import pgpass from 'pgpass';
import { UserError } from '../../model/user-error.js';
import type { ShimToken, ShimUser, SourceFailures, TokenState, UserState } from '../store-model.js';
import type { StateBackend, StateView } from '../verifier.js';
import { BatchItemError, CommitBatcher } from './commit-batcher.js';
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
  /** Batches of accepts in flight at once (default 2; commit-batcher.ts). */
  batchesInFlight?: number;
}

// Users' rows with one row per token, for a batch of users: one row per (user, serial) pair asked.
const READ_BATCH = `
  SELECT k.user_key, u.fails, u.locked_at, u.sources, u.version, t.serial, t.fingerprint, t.counter::text AS counter, t.last_step, t.drift
  FROM unnest($2::text[], $3::text[]) AS k(user_key, serial)
  JOIN mfa_shim_users u ON u.store_id = $1 AND u.user_key = k.user_key
  LEFT JOIN mfa_shim_tokens t ON t.store_id = $1 AND t.serial = k.serial`;
interface ReadRow {
  user_key: string;
  fails: number;
  locked_at: string | null;
  sources: SourceFailures;
  version: string;
  serial: string | null;
  fingerprint: string | null;
  counter: string | null;
  last_step: string | null;
  drift: number | null;
}

// The acceptance compare-and-set, a batch of them in one statement (commit-batcher.ts; one per user).
// Each is taken only while the user's state is still the version read: every change to a user's
// state or tokens' state bumps that version (accepts, failures, an import), so the token's state
// the code was checked against, and the lock-out decided on, are still the user's. The user's row
// goes to the next version first, which locks it: a concurrent accept for the same user, on any
// node, waits and then finds the version gone (PostgreSQL re-checks an UPDATE's WHERE on a row
// changed under it). The token's state is then set where the code is still unused (a second guard).
// The version bump makes every decision taken from an older copy of the state fail its
// compare-and-set. `clear`: the accept also forgets the user's failures and lock-out; the row is
// updated only with the accept (the unused condition is checked on it too, from the statement's
// snapshot, which the version makes current). Users' rows are locked in user_key order (the batch
// is sent sorted; unnest's rows drive the join), so two nodes' batches do not deadlock; if one ever
// did, PostgreSQL aborts one and it is sent again. A HOTP request carries a counter, a TOTP request
// a last step and drift.
const UNUSED = 'CASE WHEN v.counter IS NULL THEN (t.last_step IS NULL OR t.last_step < v.last_step) ELSE t.counter < v.counter END';
const ACCEPT_BATCH = `
  WITH v AS (
    SELECT * FROM unnest($2::integer[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::numeric[], $8::bigint[], $9::integer[], $10::boolean[])
      AS v(i, user_key, version, serial, fingerprint, counter, last_step, drift, clear)
  ), bumped AS (
    UPDATE mfa_shim_users u SET
      version   = u.version + 1,
      fails     = CASE WHEN v.clear THEN 0 ELSE u.fails END,
      locked_at = CASE WHEN v.clear THEN NULL ELSE u.locked_at END,
      sources   = CASE WHEN v.clear THEN '{}'::jsonb ELSE u.sources END
    FROM v WHERE u.store_id = $1 AND u.user_key = v.user_key AND u.version = v.version
      AND EXISTS (SELECT 1 FROM mfa_shim_tokens t WHERE t.store_id = $1 AND t.serial = v.serial AND t.fingerprint = v.fingerprint AND ${UNUSED})
    RETURNING v.i
  )
  UPDATE mfa_shim_tokens t SET
    counter   = CASE WHEN v.counter IS NULL THEN t.counter ELSE v.counter END,
    last_step = CASE WHEN v.counter IS NULL THEN v.last_step ELSE t.last_step END,
    drift     = CASE WHEN v.counter IS NULL THEN v.drift ELSE t.drift END
  FROM v JOIN bumped b ON b.i = v.i
  WHERE t.store_id = $1 AND t.serial = v.serial AND t.fingerprint = v.fingerprint AND ${UNUSED}
  RETURNING v.i`;
// A batch of user state changes (failures, lock-outs, unlocks), each a compare-and-set on the version.
const UPDATE_USERS_BATCH = `
  WITH v AS (
    SELECT * FROM unnest($2::integer[], $3::text[], $4::bigint[], $5::integer[], $6::bigint[], $7::jsonb[])
      AS v(i, user_key, version, fails, locked_at, sources)
  )
  UPDATE mfa_shim_users u SET fails = v.fails, locked_at = v.locked_at, sources = v.sources, version = u.version + 1
  FROM v WHERE u.store_id = $1 AND u.user_key = v.user_key AND u.version = v.version
  RETURNING v.i`;

/** An accept waiting for its batch. */
interface AcceptRequest {
  user: ShimUser;
  expected: StateView['user'];
  token: ShimToken;
  next: TokenState;
  clear: boolean;
}
/** A user state change waiting for its batch. */
interface UpdateRequest {
  user: ShimUser;
  expected: StateView['user'];
  next: UserState;
}
/** PostgreSQL's deadlock_detected and serialization_failure: the statement did nothing; send it again. */
const RETRIED_CODES = new Set(['40P01', '40001']);
const MAX_BATCH_TRIES = 3;

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
    const batching = { maxInFlight: options.batchesInFlight ?? 2 };
    this.#reads = new CommitBatcher((batch) => this.#readBatch(batch), (user) => user.key, batching);
    this.#accepts = new CommitBatcher((batch) => this.#acceptBatch(batch), (r) => r.user.key, batching);
    this.#updates = new CommitBatcher((batch) => this.#updateBatch(batch), (r) => r.user.key, batching);
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
      // Tokens' state may have changed under every user: a decision any node took from before this
      // import must fail its compare-and-set (the accept relies on the version alone being current).
      await client.query('UPDATE mfa_shim_users SET version = version + 1 WHERE store_id = $1', [store.storeId]);
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
    const view = await this.#reads.submit(user);
    this.#cache.set(user.key, view);
    return view;
  }

  accept(user: ShimUser, expected: StateView['user'], token: ShimToken, next: TokenState, clearFailures: boolean): Promise<boolean> {
    return this.#accepts.submit({ user, expected, token, next, clear: clearFailures });
  }

  updateUser(user: ShimUser, expected: StateView['user'], next: UserState): Promise<boolean> {
    return this.#updates.submit({ user, expected, next });
  }

  // Every read and change goes in a batch (commit-batcher.ts): one statement, one round trip and
  // one commit for all that arrived meanwhile, where each would otherwise wake the database.
  readonly #reads: CommitBatcher<ShimUser, StateView>;
  readonly #accepts: CommitBatcher<AcceptRequest, boolean>;
  readonly #updates: CommitBatcher<UpdateRequest, boolean>;

  async #readBatch(batch: ShimUser[]): Promise<(StateView | BatchItemError)[]> {
    const pairs = batch.flatMap((user) => user.tokens.map((t) => [user.key, t.serial] as const));
    const result = await this.#batchQuery<ReadRow>('mfa-shim-read-batch', READ_BATCH, [this.storeId, pairs.map((p) => p[0]), pairs.map((p) => p[1])]);
    const rowsOf = new Map<string, ReadRow[]>();
    for (const row of result.rows) {
      const rows = rowsOf.get(row.user_key);
      if (rows) rows.push(row);
      else rowsOf.set(row.user_key, [row]);
    }
    // One user's missing state fails that user's read, not the batch's.
    return batch.map((user) => {
      try {
        return viewOf(user, rowsOf.get(user.key) ?? []);
      } catch (err) {
        return new BatchItemError(err);
      }
    });
  }

  async #acceptBatch(batch: AcceptRequest[]): Promise<boolean[]> {
    const order = sortedByUser(batch);
    const result = await this.#batchQuery<{ i: number }>('mfa-shim-accept-batch', ACCEPT_BATCH, [
      this.storeId,
      order,
      order.map((i) => batch[i]!.user.key),
      order.map((i) => batch[i]!.expected.version),
      order.map((i) => batch[i]!.token.serial),
      order.map((i) => batch[i]!.token.fingerprint),
      order.map((i) => (batch[i]!.token.type === 'hotp' ? batch[i]!.next.counter!.toString() : null)),
      order.map((i) => (batch[i]!.token.type === 'hotp' ? null : batch[i]!.next.lastStep)),
      order.map((i) => (batch[i]!.token.type === 'hotp' ? 0 : batch[i]!.next.drift)),
      order.map((i) => batch[i]!.clear),
    ]);
    const done = new Set(result.rows.map((r) => r.i));
    return batch.map(({ user, expected, token, next, clear }, i) => {
      const accepted = done.has(i);
      const cached = this.#cache.get(user.key);
      if (accepted && cached) {
        const t = user.tokens.indexOf(token);
        if (t >= 0) cached.tokens[t] = next;
        cached.user = clear ? { fails: 0, lockedAt: null, sources: {}, version: expected.version + 1 } : { ...cached.user, version: expected.version + 1 };
      } else if (!accepted) {
        this.#cache.delete(user.key);
      }
      return accepted;
    });
  }

  async #updateBatch(batch: UpdateRequest[]): Promise<boolean[]> {
    const order = sortedByUser(batch);
    const result = await this.#batchQuery<{ i: number }>('mfa-shim-update-users-batch', UPDATE_USERS_BATCH, [
      this.storeId,
      order,
      order.map((i) => batch[i]!.user.key),
      order.map((i) => batch[i]!.expected.version),
      order.map((i) => batch[i]!.next.fails),
      order.map((i) => batch[i]!.next.lockedAt),
      order.map((i) => JSON.stringify(batch[i]!.next.sources)),
    ]);
    const done = new Set(result.rows.map((r) => r.i));
    return batch.map(({ user, expected, next }, i) => {
      const updated = done.has(i);
      const cached = this.#cache.get(user.key);
      if (updated && cached) cached.user = { ...next, version: expected.version + 1 };
      else if (!updated) this.#cache.delete(user.key);
      return updated;
    });
  }

  /** One batch's statement; sent again when PostgreSQL aborted it for a deadlock (it did nothing). */
  async #batchQuery<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.query<R>({ name, text, values });
      } catch (err) {
        if (attempt < MAX_BATCH_TRIES && RETRIED_CODES.has((err as { code?: string }).code ?? '')) continue;
        throw this.#failed(err as Error);
      }
    }
  }

  /** Forgets the cached state (after the database was lost: it may have been restored from a backup). */
  #forget(): void {
    this.#cache.clear();
  }

  /** A statement failed: the state is answered as lost until the database answers again. */
  #failed(err: Error): StateUnavailableError {
    this.#forget();
    this.#lost(err);
    return new StateUnavailableError(`state database: ${err.message}`);
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

/** A batch's positions in user_key order: every batch locks users' rows in one order (no deadlock). */
function sortedByUser(batch: readonly { user: ShimUser }[]): number[] {
  return batch.map((_, i) => i).sort((a, b) => (batch[a]!.user.key < batch[b]!.user.key ? -1 : batch[a]!.user.key > batch[b]!.user.key ? 1 : 0));
}

/** A user's state from their rows (one per token asked); refused when the database does not hold this store's tokens. */
function viewOf(user: ShimUser, rows: readonly ReadRow[]): StateView {
  const row = rows[0];
  if (!row) throw new StateUnavailableError(`the database has no state for user ${user.key}`);
  return {
    user: { fails: row.fails, lockedAt: row.locked_at === null ? null : Number(row.locked_at), sources: row.sources, version: Number(row.version) },
    tokens: user.tokens.map((token) => {
      const t = rows.find((r) => r.serial === token.serial);
      // No row, or a row for another seed: this node's store file is not the current one.
      if (!t || t.fingerprint !== token.fingerprint) throw new StateUnavailableError(`the database's state of token ${token.serial} is missing or for another seed`);
      return { counter: t.counter === null ? null : BigInt(t.counter), lastStep: t.last_step === null ? null : Number(t.last_step), drift: t.drift ?? 0 };
    }),
  };
}
