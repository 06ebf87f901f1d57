import type { PoolClient, QueryConfig, QueryResultRow } from 'pg';

/** One schema version: the statements that make it, and how to tell from the catalog that they ran. */
export interface Migration {
  sql: string;
  /** A boolean SQL expression: whether the tables show this migration whole (checked against the version row). */
  applied: string;
  /** Whether they show any of it (default: `applied`): a migration half there matches no version. */
  partly?: string;
  /** What it makes, as said in an error. */
  makes: string;
}

/**
 * The shim's tables, versioned: `mfa_shim_schema` holds the version (one row), and every start applies
 * the migrations above it, in one transaction under an advisory lock (so nodes starting together
 * migrate once). Append a migration to change the schema; never edit one that has shipped.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    // 1: one row per store lineage, token and user; the state only (seeds stay in the encrypted store file).
    sql: `CREATE TABLE mfa_shim_stores (
     store_id   text PRIMARY KEY,
     generation integer NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE mfa_shim_tokens (
     store_id    text NOT NULL REFERENCES mfa_shim_stores ON DELETE CASCADE,
     serial      text NOT NULL,
     fingerprint text NOT NULL,
     counter     numeric(20, 0),
     last_step   bigint,
     drift       integer NOT NULL DEFAULT 0,
     PRIMARY KEY (store_id, serial)
   );
   CREATE TABLE mfa_shim_users (
     store_id  text NOT NULL REFERENCES mfa_shim_stores ON DELETE CASCADE,
     user_key  text NOT NULL,
     fails     integer NOT NULL DEFAULT 0,
     locked_at bigint,
     sources   jsonb NOT NULL DEFAULT '{}',
     version   bigint NOT NULL DEFAULT 0,
     PRIMARY KEY (store_id, user_key)
   );`,
    applied: "to_regclass('mfa_shim_stores') IS NOT NULL AND to_regclass('mfa_shim_tokens') IS NOT NULL AND to_regclass('mfa_shim_users') IS NOT NULL",
    partly: "to_regclass('mfa_shim_stores') IS NOT NULL OR to_regclass('mfa_shim_tokens') IS NOT NULL OR to_regclass('mfa_shim_users') IS NOT NULL",
    makes: 'tables mfa_shim_stores, mfa_shim_tokens and mfa_shim_users',
  },
  {
    // 2: the user each token belongs to, so that a node still serving an earlier store file (where a
    // token since moved to another user was the first user's) cannot accept it for the old owner.
    // Filled by the next import or node start; rows without it are not held to it.
    sql: `ALTER TABLE mfa_shim_tokens ADD COLUMN user_key text;`,
    applied: "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('mfa_shim_tokens') AND attname = 'user_key' AND NOT attisdropped)",
    makes: 'column mfa_shim_tokens.user_key',
  },
  {
    // 3: made-up names' failures and lock-outs (names the shim cannot verify, tried over RADIUS), shared
    // by every node as real users' are. A name is kept as a keyed hash (HMAC-SHA256 under a key derived
    // from the store key), never in clear: the table holds whatever was typed as a user name. A row
    // may go once expires_at (ms since the epoch) has passed; the statement that writes rows deletes
    // such rows as it goes (state-batch.ts).
    sql: `CREATE TABLE mfa_shim_absent_names (
     store_id   text NOT NULL REFERENCES mfa_shim_stores ON DELETE CASCADE,
     name_hash  text NOT NULL,
     fails      integer NOT NULL,
     locked_at  bigint,
     sources    jsonb NOT NULL,
     version    bigint NOT NULL,
     expires_at bigint NOT NULL,
     PRIMARY KEY (store_id, name_hash)
   );
   CREATE INDEX mfa_shim_absent_names_expiry ON mfa_shim_absent_names (store_id, expires_at);`,
    applied: "to_regclass('mfa_shim_absent_names') IS NOT NULL",
    makes: 'table mfa_shim_absent_names',
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** How long a migration may wait for a lock (another node's migration, an import's tables), by default. */
const MIGRATION_LOCK_TIMEOUT_MS = 5000;
/** The client's deadline for a migration's statements (above the lock wait; not a verification's). */
const MIGRATION_QUERY_TIMEOUT_MS = 60_000;

type Run = <R extends QueryResultRow>(text: string, values?: unknown[]) => Promise<{ rows: R[] }>;

/**
 * The version the database says it is at (0: no schema yet), checked against its tables. A version
 * row that does not match them (edited by hand, deleted, two rows, the tables restored apart from it)
 * is refused, saying what was found: migrating from it would run statements the tables already had
 * (PostgreSQL's own "already exists" errors) or skip ones they lack. Nothing is repaired.
 */
async function schemaVersion(run: Run): Promise<number> {
  const present = (await run<{ present: boolean }>("SELECT to_regclass('mfa_shim_schema') IS NOT NULL AS present")).rows[0]?.present === true;
  const versions = present ? (await run<{ version: number | null }>('SELECT version FROM mfa_shim_schema ORDER BY version')).rows.map((r) => r.version) : [];
  // What the tables show of each migration (one query over the catalog), and the version that makes.
  const marks = (await run<Record<string, boolean>>(`SELECT ${MIGRATIONS.map((m, i) => `(${m.applied}) AS a${i}, (${m.partly ?? m.applied}) AS p${i}`).join(', ')}`)).rows[0]!;
  const shown = MIGRATIONS.map((_, i) => (marks[`a${i}`] === true ? 'there' : marks[`p${i}`] === true ? 'partly there' : 'not there'));
  const upTo = shown.findIndex((s) => s !== 'there');
  const at = upTo === -1 ? shown.length : upTo;
  const consistent = shown.slice(at).every((s) => s === 'not there');
  const tables = `the tables are ${!consistent ? 'at no version' : at === 0 ? 'not there (no shim tables)' : `at version ${at}`} (${MIGRATIONS.map((m, i) => `${m.makes} (version ${i + 1}): ${shown[i]}`).join('; ')})`;
  const noRepair = 'nothing is repaired automatically';
  if (versions.length > 1) {
    throw new Error(`the shim's version row is not one: the table mfa_shim_schema holds ${versions.length} rows (versions ${versions.join(', ')}), and ${tables}; it was edited by hand: keep only the row of the version the tables are at (${noRepair})`);
  }
  const said = versions[0];
  if (said === null || (said !== undefined && (!Number.isInteger(said) || said < 0))) {
    throw new Error(`the shim's version row does not match the tables: the table mfa_shim_schema says version ${String(said)}, which is no schema version, and ${tables} (${noRepair})`);
  }
  // A newer tool's tables: what its migrations made is not known here.
  if (said !== undefined && said > SCHEMA_VERSION) {
    throw new Error(`the database's shim schema is version ${said}, newer than this tool's (${SCHEMA_VERSION}): upgrade mfa-migrate`);
  }
  const claimed = said ?? 0;
  if (consistent && at === claimed) return claimed;
  const what = !present ? 'there is no table mfa_shim_schema (the version row)' : said === undefined ? 'the table mfa_shim_schema holds no row (the version row)' : `the table mfa_shim_schema says version ${said}`;
  throw new Error(
    `the shim's version row does not match the tables: ${what}, but ${tables}. The row was edited or deleted by hand, or the tables restored without it: put back the row of the version the tables are at, or restore the database from a backup (${noRepair})`,
  );
}

/** Brings the schema to SCHEMA_VERSION; refuses a database whose schema is newer than this tool, or whose version row does not match its tables. */
export async function migrate(client: PoolClient, lockTimeoutMs = MIGRATION_LOCK_TIMEOUT_MS): Promise<{ from: number; to: number }> {
  // Each statement with the migration's own client deadline (the pool's is a verification's 5 s).
  const run: Run = <R extends QueryResultRow>(text: string, values?: unknown[]) => client.query<R>({ text, values, query_timeout: MIGRATION_QUERY_TIMEOUT_MS } as QueryConfig);
  // Usually there is nothing to do: read the version first, so that a role granted only the tables'
  // rows (no CREATE on the schema, which CREATE TABLE IF NOT EXISTS needs even when the table is
  // there) can run a node.
  const current = await schemaVersion(run);
  if (current === SCHEMA_VERSION) return { from: current, to: SCHEMA_VERSION };
  await run('BEGIN');
  try {
    // The session's statement limit is a verification's; a migration waits for locks instead, up
    // to a bound: a migration queued behind an import's table lock would make every node's
    // statements queue behind it (it needs the table to itself).
    await run('SET LOCAL statement_timeout = 0');
    await run(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    await run("SELECT pg_advisory_xact_lock(hashtext('mfa-migrate shim schema'))");
    await run('CREATE TABLE IF NOT EXISTS mfa_shim_schema (version integer NOT NULL)');
    // Again under the lock: another node may have migrated meanwhile.
    const from = await schemaVersion(run);
    const hadRow = (await run<{ n: string }>('SELECT count(*) AS n FROM mfa_shim_schema')).rows[0]!.n !== '0';
    for (let v = from; v < SCHEMA_VERSION; v++) await run(MIGRATIONS[v]!.sql);
    if (!hadRow) await run('INSERT INTO mfa_shim_schema (version) VALUES ($1)', [SCHEMA_VERSION]);
    else if (from < SCHEMA_VERSION) await run('UPDATE mfa_shim_schema SET version = $1', [SCHEMA_VERSION]);
    await run('COMMIT');
    return { from, to: SCHEMA_VERSION };
  } catch (err) {
    await run('ROLLBACK').catch(() => undefined);
    if ((err as { code?: string }).code === '55P03') {
      throw new Error(`the shim's tables are busy (an import or another node's migration) and the schema could not be migrated within ${lockTimeoutMs / 1000} s: start the node again`, { cause: err });
    }
    throw err;
  }
}
