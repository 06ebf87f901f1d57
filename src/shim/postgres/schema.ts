import type { PoolClient, QueryConfig, QueryResultRow } from 'pg';

/**
 * The shim's tables, versioned: `mfa_shim_schema` holds the version, and every start applies the
 * migrations above it, in one transaction under an advisory lock (so nodes starting together migrate
 * once). Append a migration to change the schema; never edit one that has shipped.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: one row per store lineage, token and user; the state only (seeds stay in the encrypted store file).
  `CREATE TABLE mfa_shim_stores (
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
  // 2: the user each token belongs to, so that a node still serving an earlier store file (where a
  // token since moved to another user was the first user's) cannot accept it for the old owner.
  // Filled by the next import or node start; rows without it are not held to it.
  `ALTER TABLE mfa_shim_tokens ADD COLUMN user_key text;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema to SCHEMA_VERSION; refuses a database whose schema is newer than this tool. */
/** How long a migration may wait for a lock (another node's migration, an import's tables), by default. */
const MIGRATION_LOCK_TIMEOUT_MS = 5000;
/** The client's deadline for a migration's statements (above the lock wait; not a verification's). */
const MIGRATION_QUERY_TIMEOUT_MS = 60_000;

export async function migrate(client: PoolClient, lockTimeoutMs = MIGRATION_LOCK_TIMEOUT_MS): Promise<{ from: number; to: number }> {
  // Each statement with the migration's own client deadline (the pool's is a verification's 5 s).
  const run = <R extends QueryResultRow>(text: string, values?: unknown[]) => client.query<R>({ text, values, query_timeout: MIGRATION_QUERY_TIMEOUT_MS } as QueryConfig);
  // Usually there is nothing to do: read the version first, so that a role granted only the tables'
  // rows (no CREATE on the schema, which CREATE TABLE IF NOT EXISTS needs even when the table is
  // there) can run a node.
  const present = (await run<{ present: boolean }>("SELECT to_regclass('mfa_shim_schema') IS NOT NULL AS present")).rows[0]?.present === true;
  if (present) {
    const current = (await run<{ version: number }>('SELECT version FROM mfa_shim_schema')).rows[0]?.version;
    if (current !== undefined && current > SCHEMA_VERSION) {
      throw new Error(`the database's shim schema is version ${current}, newer than this tool's (${SCHEMA_VERSION}): upgrade mfa-migrate`);
    }
    if (current === SCHEMA_VERSION) return { from: current, to: SCHEMA_VERSION };
  }
  await run('BEGIN');
  try {
    // The session's statement limit is a verification's; a migration waits for locks instead, up
    // to a bound: a migration queued behind an import's table lock would make every node's
    // statements queue behind it (it needs the table to itself).
    await run('SET LOCAL statement_timeout = 0');
    await run(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    await run("SELECT pg_advisory_xact_lock(hashtext('mfa-migrate shim schema'))");
    await run('CREATE TABLE IF NOT EXISTS mfa_shim_schema (version integer NOT NULL)');
    const row = (await run<{ version: number }>('SELECT version FROM mfa_shim_schema')).rows[0];
    const from = row?.version ?? 0;
    if (from > SCHEMA_VERSION) {
      throw new Error(`the database's shim schema is version ${from}, newer than this tool's (${SCHEMA_VERSION}): upgrade mfa-migrate`);
    }
    for (let v = from; v < SCHEMA_VERSION; v++) await run(MIGRATIONS[v]!);
    if (row === undefined) await run('INSERT INTO mfa_shim_schema (version) VALUES ($1)', [SCHEMA_VERSION]);
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
