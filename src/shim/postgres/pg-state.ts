import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import pgpass from 'pgpass';
import { UserError } from '../../model/user-error.js';
import type { ShimToken, ShimUser, SourceFailures, TokenState, UserState } from '../store-model.js';
import { CLEARED } from '../lockout.js';
import type { StateBackend, StateView } from '../verifier.js';
import { CommitBatcher, type BatchItemError } from './commit-batcher.js';
import { MIGRATIONS, migrate } from './schema.js';
import { RefusedChange, STATE_BATCH, stateBatchAnswers, stateBatchQuery, stateBatchValues, StateUnavailableError, type StateAnswer, type StateBatchRow, type StateRequest } from './state-batch.js';
import { PgAbsentNames } from './pg-absent-names.js';
import { passwordFileProblem } from './password-file.js';
import { describePgError, isConnectionLoss } from './pg-error.js';
import { StateHealth, type OutageEvent } from './state-health.js';
import { shownStateUrl, withRootCertificate } from './state-url.js';

/** What the database is told about a store: its lineage, generation, users and tokens (with their initial state). */
export interface StoreState {
  storeId: string;
  gen: number;
  users: readonly ShimUser[];
  tokens: readonly ShimToken[];
  /**
   * Serials whose state is the store's, not the greater of the store's and the database's: the
   * same seed made another kind of token (HOTP and TOTP, or another time step), whose counter or
   * step means something else.
   */
  newKind?: readonly string[];
}

export interface PgStateOptions {
  onNotice?: (message: string) => void;
  /** How often a lost database is probed (default 1 s). */
  probeMs?: number;
  /** How often a database that seems up is asked whether it is, idle or not (default 5 s). */
  heartbeatMs?: number;
  /** Connections in the pool (default 16). */
  poolSize?: number;
  /** How long an unused connection is kept (default pg's 10 s). */
  idleTimeoutMs?: number;
  /** How long a new connection may take (default 3 s). */
  connectTimeoutMs?: number;
  /** How long a schema migration waits for the tables (default 5 s). */
  migrationLockTimeoutMs?: number;
  /** How long a statement may take before its requests are answered as lost state (default 5 s). */
  answerTimeoutMs?: number;
  /** How long the count of locked-out users (/metrics) is kept before it is asked again (default 5 s). */
  lockedCountMs?: number;
  /** An outage of the state begins or ends (serve audits it). */
  onOutage?: (event: OutageEvent) => void;
  /**
   * The key made-up names are hashed with (deriveKey(store key, 'absent-name')): given, their failures
   * and lock-outs are kept in the database (pg-absent-names.ts); without it (one-shot commands,
   * which never conceal), in this process's memory.
   */
  nameKey?: Buffer;
  /**
   * A one-shot command (check, unlock, import): no heartbeat, and an outage is not said on its own
   * line (the command's error says it).
   */
  oneShot?: boolean;
}

export type { OutageEvent };

/** The batch statement's name: prepared once per connection, by a batch or by the probe alike. */
const BATCH_STATEMENT = 'mfa-shim-state-batch';
/** The same for a batch without made-up names (state-batch.ts USER_BATCH). */
const USER_BATCH_STATEMENT = 'mfa-shim-user-batch';
/** How long the probe waits for the tables (an import holds them): far below the probe's interval. */
const PROBE_LOCK_WAIT_MS = 500;

/**
 * - A statement the shim stops waiting for (answerTimeoutMs, 5 s: answered as lost state) is
 *   cancelled by the server first (half a second sooner), so a code is rarely used up by a change
 *   the node answered as failed (the limit does not cover the commit, nor an answer lost on the way
 *   back; never a code accepted twice).
 * - The batch statement is prepared once per connection and planned once too, unless the server or
 *   the role asks otherwise (the default, auto, plans some executions again, which costs more than
 *   the statement's work).
 * Sent as SQL, not as startup options: PGOPTIONS and the URL's options stay the user's, and poolers
 * that refuse unknown startup parameters (PgBouncer) still connect.
 */
const sessionSettings = (statementTimeoutMs: number): string => `SELECT set_config('statement_timeout', '${statementTimeoutMs}ms', false),
  CASE WHEN current_setting('plan_cache_mode', true) = 'auto' THEN set_config('plan_cache_mode', 'force_generic_plan', false) END`;

/** How long an import's bulk statements may take. */
const BULK_TIMEOUT_MS = 10 * 60_000;
/**
 * A user's row created by generation G starts at version G x 2^32: above any version of a row an
 * earlier generation created (a user's state changes fewer than 2^32 times in a generation), and
 * within Number's exact integers for two million generations.
 */
const VERSIONS_PER_GENERATION = 2n ** 32n;

/** PostgreSQL's deadlock_detected and serialization_failure: the statement did nothing; send it again. */
const RETRIED_CODES = new Set(['40P01', '40001']);
const MAX_BATCH_TRIES = 3;

export { StateUnavailableError };

/** A load's COMMIT got no answer (the connection lost, a timeout): the database may or may not have taken it. */
export class CommitUnknownError extends Error {
  constructor(readonly failure: Error) {
    super(`COMMIT got no answer (${describePgError(failure)})`, { cause: failure });
  }
}

/**
 * Where the store file of the generation the database holds is, for the errors refusing an older one.
 * Only that file will do: --reset-state never takes the database back to an older generation.
 */
function currentStoreFile(held: number): string {
  return `generation ${held}, the file the last import with --state wrote: copy it from the machine that ran that import, or from a node serving it`;
}

/**
 * Verification state in PostgreSQL (issue 16): any number of `shim serve` nodes share it, and every
 * change is a compare-and-set in one statement (verifier.ts), so no code is accepted twice across
 * nodes. Seeds never reach the database. When the database is lost, or refuses the node's
 * statements, `healthy` turns false (requests are answered as lost state at once) until a probe
 * finds it taking writes again (state-health.ts).
 */
export class PgState implements StateBackend {
  #closed = false;
  readonly #health: StateHealth;
  /** The store generation this node serves (attach), to tell when a re-import superseded its store file. */
  #gen: number | undefined;
  /** The newer generation last said to have superseded it (said once per generation). */
  #saidGen: number | undefined;
  #genCheck: Promise<void> | undefined;
  /** The schema migration this open made, if any (said on stderr; the commands audit it). */
  migrated: { from: number; to: number; makes: string } | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    readonly url: URL,
    private readonly storeId: string,
    private readonly options: PgStateOptions,
  ) {
    // An idle connection dropped by the server is reported here; without a listener it would end the process.
    pool.on('error', (err) => {
      this.#cache.clear();
      this.absentNames?.clear();
      this.#health.failed(err, 'request');
    });
    this.#health = new StateHealth({
      where: `--state ${shownStateUrl(url)}`,
      probe: () => this.#writeProbe(),
      ...(options.probeMs !== undefined ? { probeMs: options.probeMs } : {}),
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      ...(options.onNotice && !options.oneShot ? { onNotice: options.onNotice } : {}),
      ...(options.onOutage ? { onOutage: options.onOutage } : {}),
    });
    // One batch in flight: the next gathers while it is at the database (larger batches, fewer wake-ups).
    // A made-up name's key cannot be a user's (user keys are printable ASCII).
    this.#batches = new CommitBatcher((batch) => this.#sendBatch(batch), (r) => ('user' in r ? r.user.key : `\0${r.name}`), { maxInFlight: 1 });
    if (options.nameKey) this.absentNames = new PgAbsentNames(options.nameKey, (request) => this.#batches.submit(request));
  }

  /** Made-up names' state, in the database (with PgStateOptions.nameKey). */
  readonly absentNames: PgAbsentNames | undefined;

  /** Connects, creates or migrates the schema. */
  static async open(url: URL, storeId: string, options: PgStateOptions = {}): Promise<PgState> {
    // The URL's parts (host, port, database, user, sslmode...) as pg reads them; the password never
    // from it (state-url.ts refuses one), but from PGPASSWORD, else PGPASSFILE / ~/.pgpass, as psql.
    const { password: _none, ...fromUrl } = parseConnectionString(withRootCertificate(url, process.env, existsSync, homedir()).href);
    const answerTimeout = options.answerTimeoutMs ?? 5000;
    const config: pg.PoolConfig = {
      ...(fromUrl as pg.PoolConfig),
      max: options.poolSize ?? 16,
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMillis: options.idleTimeoutMs } : {}),
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
      query_timeout: answerTimeout,
      keepAlive: true,
      application_name: 'mfa-migrate shim',
    };
    if (process.env.PGPASSWORD === undefined) {
      const who = { host: config.host ?? 'localhost', port: String(config.port ?? 5432), database: config.database ?? '', user: config.user ?? process.env.PGUSER ?? '' };
      // Asked only when the server wants a password: none to give is said plainly (pg's own words
      // are about SASL), and so is a password file ignored for its mode (pgpass's own WARNING line
      // is never reached).
      const none = `the server asks for a password, and none is given for ${who.user || 'this user'} at ${who.host}:${who.port}`;
      config.password = () => {
        const problem = passwordFileProblem(process.env);
        if (problem !== undefined) return Promise.reject(new Error(`${none}: ${problem}; or give it in PGPASSWORD`));
        return new Promise<string>((resolve, reject) =>
          pgpass(who, (p) => (p ? resolve(p) : reject(new Error(`${none}: put it in PGPASSFILE (or ~/.pgpass, mode 0600) or PGPASSWORD`)))),
        );
      };
    }
    // Each connection's session settings, sent before anything else on it (a failure, e.g. a
    // PostgreSQL before 12 or a pooler refusing SET, leaves the server's own), and before the
    // connection is handed out (pg-pool's onConnect is awaited): a query sent beside it
    // would run on a busy connection, which pg warns about on stderr.
    const settings = sessionSettings(Math.max(50, answerTimeout - 500));
    config.onConnect = async (client: pg.ClientBase) => {
      await client.query(settings).catch((err: Error) => options.onNotice?.(`--state ${shownStateUrl(url)}: the connection's settings were not taken (${err.message}); the server's own apply`));
    };
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
      const { from, to } = await migrate(client, options.migrationLockTimeoutMs);
      client.release();
      // A migration changes every node's tables: said, never silent (the commands audit it too).
      if (from > 0 && from < to) {
        const makes = MIGRATIONS.slice(from, to).map((m, i) => `version ${from + i + 1}: ${m.makes}`).join('; ');
        state.migrated = { from, to, makes };
        options.onNotice?.(`--state ${shownStateUrl(url)}: migrated the shim's tables from schema version ${from} to ${to} (${makes})`);
      }
    } catch (err) {
      client.release();
      await pool.end().catch(() => undefined);
      throw new UserError(`--state ${shownStateUrl(url)}: cannot create or migrate the shim's tables: ${(err as Error).message}`);
    }
    if (!options.oneShot) state.#health.start();
    return state;
  }

  /**
   * Whether the database takes this node's writes: the node's own batch statement with no request
   * in it (every table, column and privilege a verification uses; refused by a read-only database
   * or a standby as a verification is), in a transaction rolled back, waiting for the tables no
   * longer than PROBE_LOCK_WAIT_MS. A probe that only connected, or read, would pass where every
   * verification is refused (a black-box test: a revoked privilege, a renamed column). It writes no
   * row: a full disk is not seen by it (state-health.ts lets a request try then). Also reads the
   * store generation the database holds (a re-import superseding this node's store file).
   */
  async #writeProbe(): Promise<void> {
    const client = await this.pool.connect();
    // A connection cut while checked out is reported to its holder alone: without a listener the
    // process would end (the query under way, or the next, fails with it anyway).
    const cut = (): void => undefined;
    client.on('error', cut);
    try {
      await client.query(`BEGIN; SET LOCAL lock_timeout = ${PROBE_LOCK_WAIT_MS}`);
      const held = await this.#generationOf(this.storeId, client);
      await client.query({ name: BATCH_STATEMENT, text: STATE_BATCH, values: stateBatchValues(this.storeId, []) });
      this.#noteGeneration(held);
    } finally {
      // A connection that cannot even roll back is not given back to the pool.
      const rolledBack = await client.query('ROLLBACK').then(
        () => true,
        () => false,
      );
      client.off('error', cut);
      client.release(!rolledBack);
    }
  }

  /** Probes once now: a node starting on a database that takes no writes says so at once. */
  probeNow(): Promise<void> {
    return this.#health.probeNow();
  }

  /** The state can be read and persisted (/healthz, mfa_shim_up, Status-Server). */
  get healthy(): boolean {
    return this.#health.healthy;
  }

  /** Verifications may try the database (healthy, or an outage on trial: state-health.ts). */
  get accepting(): boolean {
    return this.#health.accepting;
  }

  /** An outage is open, on trial or quiet too: it ends only when a change commits or a probe sees the state back. */
  get inOutage(): boolean {
    return this.#health.inOutage;
  }

  /** A request answered state_unavailable (the gate's), counted for the line that says the state is back. */
  countRefused(): void {
    this.#health.countRefused();
  }

  /**
   * Says once (per generation) that a re-import superseded this node's store file: the users it
   * changed are answered state_unavailable (documented) while /healthz stays ok, and nothing else
   * would tell the admin why (a black-box test).
   */
  #noteGeneration(held: number | undefined): void {
    if (this.#gen === undefined || held === undefined || held <= this.#gen || this.#saidGen === held) return;
    this.#saidGen = held;
    this.options.onNotice?.(
      `--state ${shownStateUrl(this.url)}: the database holds store generation ${held}, newer than this node's store file (generation ${this.#gen}): a re-import superseded it, and the users whose tokens it changed are answered state_unavailable; give this node the current store file (${currentStoreFile(held)}) and restart it`,
    );
  }

  /** Asks the database's generation now (one ask at a time), after a user's state was not found as this store file has it. */
  #checkGeneration(): void {
    if (this.#gen === undefined || this.#closed || this.#genCheck) return;
    this.#genCheck = this.#generationOf(this.storeId)
      .then(
        (held) => this.#noteGeneration(held),
        () => undefined,
      )
      .finally(() => (this.#genCheck = undefined));
  }

  readonly #lockedCount: { at: number; value: number | null; pending: Promise<number | null> | undefined } = { at: -Infinity, value: null, pending: undefined };

  /**
   * Users of the store whose lock-out is in force (locked after `lockedAfter`, ms since the epoch;
   * null: any lock-out, they never expire), for /metrics: one count over the store's users, asked at
   * most once per lockedCountMs (5 s) and shared by the scrapes meanwhile. Null (the series is left
   * out) while the database is lost or the count fails: a scrape never waits on a lost database.
   */
  lockedUsers(lockedAfter: number | null): Promise<number | null> {
    const cache = this.#lockedCount;
    if (!this.#health.accepting || this.#closed) return Promise.resolve(null);
    if (performance.now() - cache.at < (this.options.lockedCountMs ?? 5000)) return Promise.resolve(cache.value);
    cache.pending ??= this.pool
      .query<{ n: string }>('SELECT count(*) AS n FROM mfa_shim_users WHERE store_id = $1 AND locked_at IS NOT NULL AND ($2::bigint IS NULL OR locked_at > $2::bigint)', [this.storeId, lockedAfter])
      .then(
        (r) => Number(r.rows[0]!.n),
        () => null,
      )
      .then((value) => {
        Object.assign(cache, { at: performance.now(), value, pending: undefined });
        return value;
      });
    return cache.pending;
  }

  /**
   * Checks that the database holds this store's state at this generation (every node must serve the
   * same store file) and that every user and token has its row. `reset`: take the store's own state
   * where the database has none, or another generation (the admin's explicit choice).
   */
  async attach(store: StoreState, reset: boolean): Promise<void> {
    await this.#refuseSharedSeeds(store);
    const where = `--state ${shownStateUrl(this.url)}`;
    const others = await this.#otherStores(store.storeId);
    const held = await this.#generationOf(store.storeId);
    if (held === undefined && others.length > 0) {
      // --reset-state would be refused too (a database holds one store's state): not offered.
      throw new UserError(
        `${where} holds no state for this store (id ${store.storeId}): it holds ${storeList(others)}, and a database holds one store's state: give every node the store file that was imported into it (the file the last import with --state wrote: copy it from the machine that ran that import, or from a node serving it); to give the database to this store instead, import this store's file with --state and --drop-store-state ${others.map((o) => o.storeId).join(' --drop-store-state ')} (docs/shim.md, "High availability")`,
      );
    }
    if (others.length > 0) {
      // Held beside another store (written before one database held one store): both go on, told once.
      this.options.onNotice?.(
        `warning: ${where} holds the state of ${storeList(others)} besides this store's (id ${store.storeId}): a user in both has two failure counts and lock-outs; give the database to one store: import its file with --state and --drop-store-state naming the other (docs/shim.md, "High availability")`,
      );
    }
    if (reset) {
      await this.load(store, undefined, { action: 'start' });
      this.#gen = store.gen;
      return;
    }
    if (held === undefined) {
      throw new UserError(`${where} holds no state for this store (id ${store.storeId}): import with --state, or start once with --reset-state to take the store's own state`);
    }
    if (held > store.gen) {
      // An old copy: --reset-state would be refused too (#notBackwards), so it is not offered.
      throw new UserError(
        `${where} holds the state of store generation ${held}, newer than this store file's (generation ${store.gen}): this file is an old copy; give every node the same, current store file (${currentStoreFile(held)}); --reset-state does not take the database back to an older generation`,
      );
    }
    if (held < store.gen) {
      throw new UserError(
        `${where} holds the state of store generation ${held}, older than this store file's (generation ${store.gen}): the import that wrote this file did not write the database (it stopped between the two, or ran without --state); run it again with --state (or start once with --reset-state to take this file's state), then give every node this file`,
      );
    }
    this.#gen = store.gen;
    // A node starting on the generation the database holds, with every row there, writes nothing
    // (an import locks the tables: a rolling restart would pause every node's changes once a node).
    if (await this.#holdsAll(store)) return;
    // Rows missing (a newer schema's column not yet filled): filled in. But a token whose seed
    // differs is another store file's of the same generation (an old copy imported elsewhere):
    // taking it would put a used code's state back.
    const differing = await this.#differingSeeds(store);
    if (differing > 0) {
      throw new UserError(
        `${where}: ${differing} of this store file's tokens have other seeds than the ones the database's state was imported with (same generation ${store.gen}): this file is not the current store (an old copy?); give every node the current store file`,
      );
    }
    await this.load(store, store.gen, { action: 'start' });
  }

  /** The stores other than `storeId` whose state the database holds. */
  async #otherStores(storeId: string, client: pg.ClientBase | pg.Pool = this.pool): Promise<HeldStore[]> {
    const found = await client.query<{ store_id: string; generation: number; updated_at: Date }>(
      'SELECT store_id, generation, updated_at FROM mfa_shim_stores WHERE store_id <> $1 ORDER BY store_id',
      [storeId],
    );
    return found.rows.map((r) => ({ storeId: r.store_id, generation: r.generation, updatedAt: r.updated_at }));
  }

  /**
   * One database holds one store's state (a black-box test: a second store with other seeds was
   * imported beside the first, and a user in both had two independent failure counts and
   * lock-outs). Refuses to write `storeId` while the database holds another store's state, unless
   * `drop` names it (--drop-store-state: the admin gives the database to this store). Returns the
   * stores of `drop` the database holds.
   */
  async checkOneStore(storeId: string, options: OneStoreOptions = {}, client: pg.ClientBase | pg.Pool = this.pool): Promise<HeldStore[]> {
    const { drop = [], action = 'import' } = options;
    const others = await this.#otherStores(storeId, client);
    const kept = others.filter((o) => !drop.includes(o.storeId));
    const here = kept.length > 0 && (await this.#generationOf(storeId, client)) !== undefined;
    // A node of a store held beside another (written before this rule) fills in its own rows: it
    // adds no store (attach warned); an import is refused, so that the admin chooses one.
    if (kept.length > 0 && !(action === 'start' && here)) {
      const ids = kept.map((o) => o.storeId);
      const flags = ids.map((id) => `--drop-store-state ${id}`).join(' ');
      const how =
        action === 'import'
          ? `for new seeds of ${ids.length > 1 ? 'those stores\'' : `store ${ids[0]}'s`} users, import into ${ids.length > 1 ? 'the store file of the one to keep' : 'its store file'} (the file the last import with --state wrote: copy it from the machine that ran that import, or from a node serving it) with its key; to give the database to this store instead, import with ${flags} (${ids.length > 1 ? 'their' : 'its'} nodes then stop working on this database)`
          : `give every node the store file that was imported into it (the file the last import with --state wrote); to give the database to this store instead, import this store's file with --state and ${flags}`;
      const self = here ? ` besides this store's (id ${storeId})` : options.newStoreFile !== undefined ? `; this import makes a new store (${options.newStoreFile} did not exist)` : `; this ${action === 'import' ? 'import' : 'node'} is of store ${storeId}`;
      throw new UserError(
        `--state ${shownStateUrl(this.url)} holds the state of ${storeList(kept)}${self}, and a database holds one store's state (two keep their own failure counts and lock-outs for a user in both, and each accepts a code of a seed they share once): ${how}`,
      );
    }
    return others.filter((o) => drop.includes(o.storeId));
  }

  /**
   * Refuses a store whose tokens' seeds another store's state in this database holds too: two stores
   * keep two counters for one token, so a code used through one is new to the other (a black-box test:
   * each node imported its own store file, and a used code was accepted again). One database serves
   * one store, whose file every node has a copy of.
   */
  async #refuseSharedSeeds(store: StoreState, client: pg.ClientBase | pg.Pool = this.pool): Promise<void> {
    // Over every token: held to the bulk statements' bound, not a verification's (a review).
    const found = await client.query<{ store_id: string; n: string }>({
      text: `SELECT t.store_id, count(*) AS n FROM mfa_shim_tokens t
        WHERE t.store_id <> $1 AND t.fingerprint <> '' AND t.fingerprint = ANY($2::text[]) GROUP BY t.store_id ORDER BY t.store_id`,
      values: [store.storeId, [...new Set(store.tokens.map((t) => t.fingerprint).filter((f) => f !== ''))]],
      query_timeout: BULK_TIMEOUT_MS,
    } as pg.QueryConfig);
    if (found.rows.length === 0) return;
    const others = found.rows.map((r) => `store ${r.store_id} (${r.n} token(s))`).join(', ');
    throw new UserError(
      `--state ${shownStateUrl(this.url)} holds the state of the same seeds for ${others}: two store files on one database would each accept a code once (a code used through one is new to the other); give every node a copy of one store file (docs/shim.md, "High availability"), or delete the other store's rows (tables mfa_shim_stores, mfa_shim_tokens, mfa_shim_users, by store_id) first`,
    );
  }

  /** Tokens of the store whose row in the database is for another seed. */
  async #differingSeeds(store: StoreState): Promise<number> {
    const found = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM unnest($2::text[], $3::text[]) AS k(serial, fingerprint)
         JOIN mfa_shim_tokens t ON t.store_id = $1 AND t.serial = k.serial AND t.fingerprint <> k.fingerprint`,
      [store.storeId, store.tokens.map((t) => t.serial), store.tokens.map((t) => t.fingerprint)],
    );
    return Number(found.rows[0]!.n);
  }

  /**
   * Refuses when the database holds a newer generation of the store than `from`, the one an import
   * started from (null: none, so any): another import ran since, or the import was made from an old
   * copy of the store file; going on would put back the state of tokens whose codes were used
   * since. An older one is taken: an import that stopped between writing its store file and the
   * database (a crash) is run again from that file (an import never moves an unchanged token's state
   * backwards).
   */
  async checkGeneration(storeId: string, from: number | null, client: pg.ClientBase | pg.Pool = this.pool, lock = false): Promise<void> {
    const held = await this.#generationOf(storeId, client, lock);
    if (held !== undefined && (from === null || held > from)) {
      throw new UserError(
        `--state ${shownStateUrl(this.url)} holds the state of store generation ${held}, newer than the one this import started from (${from === null ? 'no store file' : `generation ${from}`}): another import ran since, or this store file is an old copy; import again from the current store file (${currentStoreFile(held)}); --reset-state does not take the database back to an older generation`,
      );
    }
  }

  /** Refuses to write an older generation of the store than the database holds (--reset-state from an old copy). */
  async #notBackwards(store: StoreState, client: pg.ClientBase): Promise<void> {
    const held = await this.#generationOf(store.storeId, client, true);
    if (held !== undefined && held > store.gen) {
      throw new UserError(
        `--state ${shownStateUrl(this.url)} holds the state of store generation ${held}, newer than this store file's (generation ${store.gen}): even --reset-state does not take the database back to an older store file; use the current one (${currentStoreFile(held)})`,
      );
    }
  }

  /** The store generation the database holds for a store (undefined: none). */
  heldGeneration(storeId: string): Promise<number | undefined> {
    return this.#generationOf(storeId);
  }

  /** The store generation the database holds (undefined: none); `lock`: its row locked for the transaction. */
  async #generationOf(storeId: string, client: pg.ClientBase | pg.Pool = this.pool, lock = false): Promise<number | undefined> {
    return (await client.query<{ generation: number }>(`SELECT generation FROM mfa_shim_stores WHERE store_id = $1${lock ? ' FOR UPDATE' : ''}`, [storeId])).rows[0]?.generation;
  }

  /** Whether every user and token of the store has its row (the token's for the same seed and user). */
  async #holdsAll(store: StoreState): Promise<boolean> {
    const owners = tokenOwners(store.users);
    const found = (
      await this.pool.query<{ tokens: string; users: string }>(
        `SELECT (SELECT count(*) FROM unnest($2::text[], $3::text[], $4::text[]) AS k(serial, fingerprint, user_key)
                   JOIN mfa_shim_tokens t ON t.store_id = $1 AND t.serial = k.serial AND t.fingerprint = k.fingerprint AND t.user_key = k.user_key) AS tokens,
                (SELECT count(*) FROM unnest($5::text[]) AS k(user_key)
                   JOIN mfa_shim_users u ON u.store_id = $1 AND u.user_key = k.user_key) AS users`,
        [store.storeId, store.tokens.map((t) => t.serial), store.tokens.map((t) => t.fingerprint), store.tokens.map((t) => owners.get(t.serial) ?? null), store.users.map((u) => u.key)],
      )
    ).rows[0]!;
    return Number(found.tokens) === store.tokens.length && Number(found.users) === store.users.length;
  }

  /**
   * Writes a store generation's users and tokens: new ones with the store's state; a token whose seed
   * is unchanged keeps the database's state, never moved backwards (the greater counter and last
   * step win, so an accept on another node during an import is kept); a changed seed starts from the
   * store's; rows of removed tokens and users go. One transaction. `from`: the generation the
   * database must hold (checkGeneration), or undefined to take this store's state whatever it holds
   * (--reset-state).
   */
  async load(store: StoreState, from?: number | null, options: OneStoreOptions = {}): Promise<LoadOutcome> {
    let outcome: LoadOutcome = { dropped: [], carried: 0 };
    let committing = false;
    const client = await this.pool.connect();
    // A connection cut while checked out fails the statement under way; its event must not end the process.
    const cut = (): void => undefined;
    client.on('error', cut);
    // Bulk statements over every user and token: not held to a verification's deadline (5 s was
    // reached at 40,000 users), but not unbounded either.
    const bulk = (text: string, values?: unknown[]) => client.query({ text, values, query_timeout: BULK_TIMEOUT_MS } as pg.QueryConfig);
    try {
      await bulk('BEGIN');
      // An import of many users may take longer than a verification's statement may.
      await bulk('SET LOCAL statement_timeout = 0');
      // Verifications wait while an import writes (their batches change rows): an import's writes
      // would otherwise take users' and tokens' rows in another order than a batch (state-batch.ts)
      // and the two could deadlock.
      await bulk('LOCK TABLE mfa_shim_users, mfa_shim_tokens IN SHARE ROW EXCLUSIVE MODE');
      // Checked under the store's row lock: two imports at once cannot both pass it. Even
      // --reset-state never takes the cluster back to an older generation than the one it holds.
      if (from !== undefined) await this.checkGeneration(store.storeId, from, client, true);
      else await this.#notBackwards(store, client);
      // Under the tables' lock: two imports of two stores into an empty database cannot both pass it.
      // (A second store's shared seeds are refused by it too: the state of only one store is here.)
      const dropped = await this.checkOneStore(store.storeId, options, client);
      await bulk(
        `INSERT INTO mfa_shim_stores (store_id, generation) VALUES ($1, $2)
         ON CONFLICT (store_id) DO UPDATE SET generation = EXCLUDED.generation, updated_at = now()`,
        [store.storeId, store.gen],
      );
      const { tokens, users } = store;
      const owners = tokenOwners(users);
      // Their rows' state cannot be compared with the store's: marked as another seed's, so that the
      // upsert below takes the store's.
      if (store.newKind && store.newKind.length > 0) {
        await bulk(`UPDATE mfa_shim_tokens SET fingerprint = '' WHERE store_id = $1 AND serial = ANY($2::text[])`, [store.storeId, store.newKind]);
      }
      await bulk(
        `INSERT INTO mfa_shim_tokens (store_id, serial, fingerprint, counter, last_step, drift, user_key)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::numeric[], $5::bigint[], $6::integer[], $7::text[])
         ON CONFLICT (store_id, serial) DO UPDATE SET
           user_key  = EXCLUDED.user_key,
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
          tokens.map((t) => owners.get(t.serial) ?? null),
        ],
      );
      if (dropped.length > 0) {
        const ids = dropped.map((d) => d.storeId);
        outcome = { dropped, carried: await this.#carryOver(store, ids, bulk) };
        // Their tokens' and users' rows go with them (ON DELETE CASCADE).
        await bulk('DELETE FROM mfa_shim_stores WHERE store_id = ANY($1::text[])', [ids]);
      }
      // An anti-join (hashed), not `NOT (serial = ANY($2))`: that compares every row with the whole
      // list (quadratic: 0.6 s at 5,000 users, 5.6 s at 20,000).
      await bulk(
        'DELETE FROM mfa_shim_tokens t WHERE t.store_id = $1 AND NOT EXISTS (SELECT 1 FROM unnest($2::text[]) AS k(serial) WHERE k.serial = t.serial)',
        [store.storeId, tokens.map((t) => t.serial)],
      );
      await bulk(
        `INSERT INTO mfa_shim_users (store_id, user_key, fails, locked_at, sources, version)
         SELECT $1, k.*, $6::bigint FROM unnest($2::text[], $3::integer[], $4::bigint[], $5::jsonb[]) AS k
         ON CONFLICT (store_id, user_key) DO NOTHING`,
        // A new row's versions start where no earlier row's reached: a user removed and added again
        // must not match a node's cached copy of the old row (a decision from it would then pass).
        [store.storeId, users.map((u) => u.key), users.map((u) => u.fails), users.map((u) => u.lockedAt), users.map((u) => JSON.stringify(u.sources)), (BigInt(store.gen) * VERSIONS_PER_GENERATION).toString()],
      );
      await bulk(
        'DELETE FROM mfa_shim_users u WHERE u.store_id = $1 AND NOT EXISTS (SELECT 1 FROM unnest($2::text[]) AS k(user_key) WHERE k.user_key = u.user_key)',
        [store.storeId, users.map((u) => u.key)],
      );
      // Tokens' state may have changed under every user: a decision any node took from before this
      // import must fail its compare-and-set (the accept relies on the version alone being current).
      await bulk('UPDATE mfa_shim_users SET version = version + 1 WHERE store_id = $1', [store.storeId]);
      committing = true;
      await bulk('COMMIT');
    } catch (err) {
      await bulk('ROLLBACK').catch(() => undefined);
      // Not back to the pool: after a timeout the connection may still be busy with the statement.
      client.release(err as Error);
      // Before the COMMIT nothing was written, nor by one the server refused; one without an answer may have been taken.
      throw committing && isConnectionLoss(err) ? new CommitUnknownError(err as Error) : err;
    }
    // Statistics for the plans of the rows just written (skipped with a warning by a role that does
    // not own the tables; autovacuum gets there in time anyway).
    await bulk('ANALYZE mfa_shim_users, mfa_shim_tokens').catch(() => undefined);
    client.off('error', cut);
    client.release();
    return outcome;
  }

  /**
   * Before the dropped stores' rows go (in the import's transaction): each of this store's tokens
   * whose seed a dropped store's token holds too carries on from where that one got, so a code used
   * through the dropped store is not new to this one (a new store key, say, for the same seeds). A
   * HOTP counter moves up to the dropped one's; a TOTP last step too, when it is one of this token's
   * time step (its step times this token's period within a day of now: another period's step would
   * refuse every code). Only ever forward. Returns how many tokens moved.
   */
  async #carryOver(store: StoreState, dropped: readonly string[], bulk: (text: string, values?: unknown[]) => Promise<pg.QueryResult>): Promise<number> {
    const hotp = await bulk(
      `UPDATE mfa_shim_tokens n SET counter = o.counter
         FROM (SELECT fingerprint, max(counter) AS counter FROM mfa_shim_tokens WHERE store_id = ANY($2::text[]) AND counter IS NOT NULL GROUP BY fingerprint) o
        WHERE n.store_id = $1 AND n.fingerprint = o.fingerprint AND n.counter IS NOT NULL AND n.counter < o.counter`,
      [store.storeId, dropped],
    );
    const totp = store.tokens.filter((t) => t.type === 'totp');
    const steps = await bulk(
      `UPDATE mfa_shim_tokens n SET last_step = o.last_step
         FROM (SELECT k.serial, max(d.last_step) AS last_step
                 FROM unnest($3::text[], $4::integer[]) AS k(serial, period)
                 JOIN mfa_shim_tokens t ON t.store_id = $1 AND t.serial = k.serial
                 JOIN mfa_shim_tokens d ON d.store_id = ANY($2::text[]) AND d.fingerprint = t.fingerprint AND d.last_step IS NOT NULL
                WHERE abs(d.last_step * k.period - extract(epoch FROM now())) < 86400
                GROUP BY k.serial) o
        WHERE n.store_id = $1 AND n.serial = o.serial AND (n.last_step IS NULL OR n.last_step < o.last_step)`,
      [store.storeId, dropped, totp.map((t) => t.serial), totp.map((t) => t.period ?? 30)],
    );
    return (hotp.rowCount ?? 0) + (steps.rowCount ?? 0);
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

  /** A cached view is handed back as it is, not in a promise: most verifications read from the cache, and the verifier takes either. */
  read(user: ShimUser, fresh = false): StateView | Promise<StateView> {
    const cached = fresh ? undefined : this.#cache.get(user.key);
    // Copies: the cache's entry changes with this node's changes, a view handed out does not.
    if (cached) return { user: cached.user, tokens: [...cached.tokens], cached: true };
    return this.#readFresh(user);
  }

  async #readFresh(user: ShimUser): Promise<StateView> {
    let view: StateView;
    try {
      view = (await this.#batches.submit({ kind: 'read', user })) as StateView;
    } catch (err) {
      // A user's rows not as this store file has them: a re-import since, most likely (said once).
      if (err instanceof StateUnavailableError) this.#checkGeneration();
      throw err;
    }
    this.#cache.set(user.key, { user: view.user, tokens: [...view.tokens] });
    return view;
  }

  async accept(user: ShimUser, expected: StateView['user'], token: ShimToken, next: TokenState, clearFailures: boolean): Promise<boolean> {
    const answer = (await this.#batches.submit({ kind: 'accept', user, expected, token, next, clear: clearFailures })) as boolean | RefusedChange;
    // The entry is brought forward only from the version this change was decided on (a read that
    // came back meanwhile may hold another); otherwise it goes, and the next request reads.
    const cached = this.#cache.get(user.key);
    if (answer === true && cached?.user.version === expected.version) {
      const t = user.tokens.indexOf(token);
      if (t >= 0) cached.tokens[t] = next;
      cached.user = { ...(clearFailures ? { ...CLEARED, sources: {} } : expected), version: expected.version + 1 };
    } else {
      this.#refused(user, answer);
    }
    return answer === true;
  }

  async updateUser(user: ShimUser, expected: StateView['user'], next: UserState): Promise<boolean> {
    const answer = (await this.#batches.submit({ kind: 'update', user, expected, next })) as boolean | RefusedChange;
    const cached = this.#cache.get(user.key);
    if (answer === true && cached?.user.version === expected.version) cached.user = { ...next, version: expected.version + 1 };
    else this.#refused(user, answer);
    return answer === true;
  }

  /**
   * A change not made, or made from a copy the cache no longer holds: the entry goes (the next
   * request reads), or becomes the state a refusal found, unless the entry is as new already.
   */
  #refused(user: ShimUser, answer: boolean | RefusedChange): void {
    const cached = this.#cache.get(user.key);
    if (answer instanceof RefusedChange) {
      if (!cached || cached.user.version < answer.current.user.version) this.#cache.set(user.key, answer.current);
    } else {
      this.#cache.delete(user.key);
    }
  }

  // Every read and change goes in a batch (commit-batcher.ts, state-batch.ts): one statement, one
  // round trip and one commit for all that arrived meanwhile, where each would wake the database.
  readonly #batches: CommitBatcher<StateRequest, StateAnswer>;

  /** One batch's statement; sent again when PostgreSQL aborted it for a deadlock (it did nothing). */
  async #sendBatch(batch: StateRequest[]): Promise<(StateAnswer | BatchItemError)[]> {
    const { full, text, values } = stateBatchQuery(this.storeId, batch);
    // Rows as arrays: no object per row (state-batch.ts StateBatchRow).
    const query: pg.QueryArrayConfig = { name: full ? BATCH_STATEMENT : USER_BATCH_STATEMENT, text, values, rowMode: 'array' };
    for (let attempt = 1; ; attempt++) {
      try {
        const answers = stateBatchAnswers(batch, (await this.pool.query<StateBatchRow>(query)).rows);
        // A change committed: the state is persisted, whatever ended an outage or not yet.
        if (answers.some((a, i) => (a === true && batch[i]!.kind !== 'read') || (typeof a === 'number' && batch[i]!.kind === 'absent-write'))) this.#health.committed();
        return answers;
      } catch (err) {
        if (attempt < MAX_BATCH_TRIES && RETRIED_CODES.has((err as { code?: string }).code ?? '')) continue;
        throw this.#failed(err as Error);
      }
    }
  }

  /** A statement failed: the state is answered as lost until the database takes writes again (state-health.ts). */
  #failed(err: Error): StateUnavailableError {
    // The cached state is forgotten: the database may come back restored from a backup.
    this.#cache.clear();
    this.absentNames?.clear();
    this.#health.failed(err, 'request');
    return new StateUnavailableError(`--state ${shownStateUrl(this.url)}: the state could not be read or written: ${describePgError(err)}`);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#health.close();
    await this.pool.end();
  }
}

/** How an import or a start meets another store's state in the database (checkOneStore). */
export interface OneStoreOptions {
  /** Other stores whose state goes (--drop-store-state). */
  drop?: readonly string[];
  /** Who is told: an import, or a node starting (whose advice is the store file imported). */
  action?: 'import' | 'start';
  /** The import makes a new store, at this file. */
  newStoreFile?: string;
}

/** Another store whose state a database holds. */
export interface HeldStore {
  storeId: string;
  generation: number;
  updatedAt: Date;
}

/** What a load did besides writing the store's rows: the other stores' state it dropped (--drop-store-state). */
export interface LoadOutcome {
  dropped: HeldStore[];
  /** This store's tokens that carried on from a dropped store's token of the same seed. */
  carried: number;
}

/** `store 4a88... (generation 3, last imported 2026-01-02)`, for each. */
function storeList(stores: readonly HeldStore[]): string {
  return stores.map((o) => `store ${o.storeId} (generation ${o.generation}, last written ${o.updatedAt.toISOString().slice(0, 10)})`).join(', ');
}

/** Each token's user, by serial (the store's users hold their tokens). */
function tokenOwners(users: readonly ShimUser[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const u of users) for (const t of u.tokens) owners.set(t.serial, u.key);
  return owners;
}
