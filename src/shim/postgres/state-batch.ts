import { CLEARED } from '../lockout.js';
import type { AbsentView } from '../absent-names.js';
import type { ShimToken, ShimUser, SourceFailures, TokenState, UserState } from '../store-model.js';
import type { StateView } from '../verifier.js';
import { BatchItemError } from './commit-batcher.js';

/**
 * One batch of a node's requests to the shared state, sent as one statement (one round trip, one
 * transaction, one commit): reads of users' state, accepts, and changes of users' state (failures,
 * lock-outs, unlocks). A batch holds at most one request per user (commit-batcher.ts), so its parts
 * never touch one user twice. Every change is a compare-and-set on the user's version (below).
 */
export type StateRequest =
  | { kind: 'read'; user: ShimUser }
  | { kind: 'accept'; user: ShimUser; expected: StateView['user']; token: ShimToken; next: TokenState; clear: boolean }
  | { kind: 'update'; user: ShimUser; expected: StateView['user']; next: UserState }
  /** A made-up name's state (absent-names.ts), by the keyed hash of the name. */
  | { kind: 'absent-read'; name: string }
  /** A made-up name's failure: written only if still at `version` (null: no live row). */
  | { kind: 'absent-write'; name: string; version: number | null; next: UserState; nowMs: number; expiresAt: number };

/**
 * A change refused because the user's state had moved on (another node changed it): the state the
 * statement found, newer than the one the change was decided on. The node decides again from it
 * without reading first (a user whose verifications alternate between nodes, behind a load
 * balancer, meets this on every one). Given for users of one token only (the change names that
 * token; a user's other tokens are not looked up).
 */
export class RefusedChange {
  constructor(readonly current: StateView) {}
}

/** A request's answer: a read's view, a change's done or not (or refused with the state found), a made-up name's view, its write's new version (null: not written). */
export type StateAnswer = StateView | boolean | RefusedChange | AbsentView | number | null;

// Each change is taken only while the user's state is still the version read: every change to a
// user's state or tokens' state bumps that version (accepts, failures, unlocks, an import), so the
// token's state a code was checked against, and the lock-out decided on, are still the user's.
// The user's row goes to the next version first, which locks it: a concurrent change for the same
// user, on any node, waits and then finds the version gone (PostgreSQL re-checks an UPDATE's WHERE
// on a row changed under it). An accept then sets the token's state where the code is still unused
// (a second guard; the user's row changes only with it: the same condition from the statement's
// snapshot, which the version makes current), and may clear the user's failures in the same
// change. The bump makes every decision taken from an older copy of the state fail its
// compare-and-set. Before any change, the batch's users' rows are locked in the database's own
// user_key order (\`locked\`: a condition without columns is a one-time filter, run before the
// update reads a row), the one order every batch of every node takes, so batches do not deadlock
// whatever plan each gets; an import locks the tables before it writes (pg-state.ts). Should one
// deadlock anyway, PostgreSQL aborts the statement (nothing of it is done) and it is sent again.
// Reads see the state as the statement
// began; they are of other users than the batch's changes, and look each row up by its key (a
// lateral subquery with LIMIT 1 is not turned into a join: the plan, generic and made once per
// connection, never scans a store's users, whatever the table's statistics say). A HOTP accept
// carries a counter, a TOTP accept a last step and drift.
// Made-up names (absent_written, schema 3) are a compare-and-set on their row's version as users
// are: a row is inserted where none is, or where one has expired (expected version null, sent as
// a new version of 0), else updated only at the version read; their rows are locked in name order
// (the insert's ORDER BY). The same statement deletes up to two expired rows for each one written
// (none of this batch's names; rows another statement holds are skipped, never waited for): the
// table stays as large as the names tried within the window (rules.ts failureWindowMs), with
// no housekeeping of its own.
// A change whose user is at another version than the one it was decided on (another node changed
// the user since this node read them: their version as the statement began is not the change's)
// cannot be made, and its answer is the user's and token's rows as read (a read's rows, answered
// as RefusedChange): newer than the node's copy, never older (versions only grow, and the node's
// copy came from a statement that ended before this one began). A change refused for another
// reason (its user changed under the statement, or the code used) answers nothing: the node reads.
const UNUSED = 'CASE WHEN w.counter IS NULL THEN (t.last_step IS NULL OR t.last_step < w.last_step) ELSE t.counter < w.counter END';
// The token is still this user's in the database's store generation (schema 2; rows written before
// it hold no user and are not held to it).
const OWNED = '(t.user_key IS NULL OR t.user_key = w.user_key)';
/** Users' reads and changes ($1-$17). */
const USER_CTES = `
  WITH r AS (
    SELECT * FROM unnest($2::integer[], $3::text[], $4::text[]) AS r(i, user_key, serial)
  ), w AS (
    SELECT * FROM unnest($5::integer[], $6::boolean[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::numeric[], $12::bigint[], $13::integer[], $14::boolean[], $15::integer[], $16::bigint[], $17::jsonb[])
      AS w(i, accept, user_key, version, serial, fingerprint, counter, last_step, drift, clear, fails, locked_at, sources)
  ), locked AS MATERIALIZED (
    SELECT 1 FROM mfa_shim_users u WHERE u.store_id = $1 AND u.user_key = ANY($7::text[])
    ORDER BY u.user_key
    FOR UPDATE
  ), changed AS (
    UPDATE mfa_shim_users u SET
      version   = u.version + 1,
      fails     = CASE WHEN NOT w.accept THEN w.fails     WHEN w.clear THEN 0            ELSE u.fails END,
      locked_at = CASE WHEN NOT w.accept THEN w.locked_at WHEN w.clear THEN NULL         ELSE u.locked_at END,
      sources   = CASE WHEN NOT w.accept THEN w.sources   WHEN w.clear THEN '{}'::jsonb  ELSE u.sources END
    FROM w
    WHERE (SELECT count(*) FROM locked) >= 0
      AND u.store_id = $1 AND u.user_key = w.user_key AND u.version = w.version
      AND (NOT w.accept OR EXISTS (SELECT 1 FROM mfa_shim_tokens t WHERE t.store_id = $1 AND t.serial = w.serial AND t.fingerprint = w.fingerprint AND ${OWNED} AND ${UNUSED}))
    RETURNING w.i, w.accept
  ), accepted AS (
    UPDATE mfa_shim_tokens t SET
      counter   = CASE WHEN w.counter IS NULL THEN t.counter ELSE w.counter END,
      last_step = CASE WHEN w.counter IS NULL THEN w.last_step ELSE t.last_step END,
      drift     = CASE WHEN w.counter IS NULL THEN w.drift ELSE t.drift END
    FROM w JOIN changed c ON c.i = w.i AND c.accept
    WHERE t.store_id = $1 AND t.serial = w.serial AND t.fingerprint = w.fingerprint AND ${OWNED} AND ${UNUSED}
    RETURNING w.i
  `;
/** Made-up names' writes and the pruning of expired ones ($18-$25). */
const ABSENT_CTES = `), aw AS (
    SELECT * FROM unnest($19::integer[], $20::text[], $21::bigint[], $22::integer[], $23::bigint[], $24::jsonb[], $25::bigint[])
      AS aw(i, name_hash, version, fails, locked_at, sources, expires_at)
  ), absent_written AS (
    INSERT INTO mfa_shim_absent_names AS n (store_id, name_hash, fails, locked_at, sources, version, expires_at)
    SELECT $1, aw.name_hash, aw.fails, aw.locked_at, aw.sources, COALESCE(aw.version + 1, 0), aw.expires_at FROM aw ORDER BY aw.name_hash
    ON CONFLICT (store_id, name_hash) DO UPDATE SET
      fails = EXCLUDED.fails, locked_at = EXCLUDED.locked_at, sources = EXCLUDED.sources, expires_at = EXCLUDED.expires_at, version = n.version + 1
    WHERE n.version + 1 = EXCLUDED.version OR (EXCLUDED.version = 0 AND n.expires_at <= $18::bigint)
    RETURNING n.name_hash, n.version
  ), absent_pruned AS (
    DELETE FROM mfa_shim_absent_names d
     USING (SELECT p.name_hash FROM mfa_shim_absent_names p
             WHERE p.store_id = $1 AND p.expires_at <= $18::bigint AND p.name_hash <> ALL($20::text[])
             ORDER BY p.expires_at LIMIT 2 * cardinality($20::text[])
             FOR UPDATE SKIP LOCKED) p
     WHERE d.store_id = $1 AND d.name_hash = p.name_hash
    RETURNING 1
`;
const USER_ROWS = `  )
  SELECT i, NULL::integer AS fails, NULL::bigint AS locked_at, NULL::jsonb AS sources, NULL::bigint AS version,
         NULL::text AS serial, NULL::text AS fingerprint, NULL::text AS counter, NULL::bigint AS last_step, NULL::integer AS drift,
         NULL::text AS owner, NULL::bigint AS expires_at
    FROM changed WHERE NOT accept
  UNION ALL
  SELECT i, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM accepted
  UNION ALL
  SELECT r.i, u.fails, u.locked_at, u.sources, u.version, t.serial, t.fingerprint, t.counter::text, t.last_step, t.drift, t.user_key AS owner, NULL
    FROM r
    CROSS JOIN LATERAL (SELECT * FROM mfa_shim_users u WHERE u.store_id = $1 AND u.user_key = r.user_key LIMIT 1) u
    LEFT JOIN LATERAL (SELECT * FROM mfa_shim_tokens t WHERE t.store_id = $1 AND t.serial = r.serial LIMIT 1) t ON true
  UNION ALL
  SELECT w.i, u.fails, u.locked_at, u.sources, u.version, t.serial, t.fingerprint, t.counter::text, t.last_step, t.drift, t.user_key, NULL
    FROM w
    CROSS JOIN LATERAL (SELECT * FROM mfa_shim_users u WHERE u.store_id = $1 AND u.user_key = w.user_key AND u.version <> w.version LIMIT 1) u
    LEFT JOIN LATERAL (SELECT * FROM mfa_shim_tokens t WHERE t.store_id = $1 AND t.serial = w.serial LIMIT 1) t ON true
   WHERE w.serial IS NOT NULL AND NOT EXISTS (SELECT 1 FROM changed c WHERE c.i = w.i)
`;
/** Made-up names' written versions and reads ($26-$27). */
const ABSENT_ROWS = `  UNION ALL
  SELECT aw.i, NULL, NULL, NULL, a.version, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM absent_written a JOIN aw ON aw.name_hash = a.name_hash
  UNION ALL
  SELECT ar.i, n.fails, n.locked_at, n.sources, n.version, NULL, NULL, NULL, NULL, NULL, NULL, n.expires_at
    FROM unnest($26::integer[], $27::text[]) AS ar(i, name_hash)
    LEFT JOIN LATERAL (SELECT * FROM mfa_shim_absent_names n WHERE n.store_id = $1 AND n.name_hash = ar.name_hash LIMIT 1) n ON true`;
/** The whole statement: users' and made-up names' requests (and the probe: every table a verification uses). */
export const STATE_BATCH = `${USER_CTES}${ABSENT_CTES}${USER_ROWS}${ABSENT_ROWS}`;
/**
 * The statement for a batch without made-up names (every batch over HTTP, most over RADIUS): the
 * same text less the made-up names' parts, which PostgreSQL otherwise starts, runs on empty arrays
 * and ends for every batch (about a sixth of a small batch's work in the database).
 */
export const USER_BATCH = `${USER_CTES}${USER_ROWS}`;

/**
 * A row of the batch's answer, as an array (the query's rowMode 'array': no object per row), by the
 * statement's column order: a change that was made (request i, the rest null), or a read's row (one
 * per token).
 */
export type StateBatchRow = [
  i: number,
  fails: number | null,
  lockedAt: string | null,
  sources: SourceFailures | null,
  version: string | null,
  serial: string | null,
  fingerprint: string | null,
  counter: string | null,
  lastStep: string | null,
  drift: number | null,
  /** The user the token belongs to in the database's store generation (null: not recorded). */
  owner: string | null,
  /** A made-up name's row: when it may be forgotten. */
  expiresAt: string | null,
];
/** The columns of a StateBatchRow. */
const I = 0, FAILS = 1, LOCKED_AT = 2, SOURCES = 3, VERSION = 4, SERIAL = 5, FINGERPRINT = 6, COUNTER = 7, LAST_STEP = 8, DRIFT = 9, OWNER = 10, EXPIRES_AT = 11;

// The array parameters are sent as PostgreSQL's array literals made here, in one join each: pg's own
// encoding walks every element through its generic value preparation, a fair part of a batch's
// CPU in the node (docs/benchmarks.md, "Parameters and rows"). Numbers are integers (safe ones: String gives
// their digits); text is always quoted and escaped (a user key may hold any printable character).
const NULL = 'NULL';
/** Integers (a HOTP counter is a bigint, for numeric(20, 0)): sent unquoted, as their digits. */
const numbers = (values: readonly (number | bigint | null)[]): string => `{${values.map((v) => (v === null ? NULL : String(v))).join(',')}}`;
const booleans = (values: readonly boolean[]): string => `{${values.map((v) => (v ? 't' : 'f')).join(',')}}`;
const texts = (values: readonly (string | null)[]): string => `{${values.map((v) => (v === null ? NULL : `"${v.replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;

/** The statement's parameters for a batch: reads by (request, user, serial); changes by request. */
export function stateBatchValues(storeId: string, batch: readonly StateRequest[]): unknown[] {
  // Reads: one row per (request, user, serial). Changes: one row per request, the columns the other
  // kind does not use left null.
  const r = { i: [] as number[], user: [] as string[], serial: [] as (string | null)[] };
  const w = {
    i: [] as number[],
    accept: [] as boolean[],
    user: [] as string[],
    version: [] as number[],
    serial: [] as (string | null)[],
    fingerprint: [] as (string | null)[],
    counter: [] as (bigint | null)[],
    lastStep: [] as (number | null)[],
    drift: [] as number[],
    clear: [] as boolean[],
    fails: [] as (number | null)[],
    lockedAt: [] as (number | null)[],
    sources: [] as (string | null)[],
  };
  const absent = { i: [] as number[], name: [] as string[], version: [] as (number | null)[], fails: [] as number[], lockedAt: [] as (number | null)[], sources: [] as string[], expiresAt: [] as number[] };
  const absentRead = { i: [] as number[], name: [] as string[] };
  let nowMs = 0;
  for (const [i, q] of batch.entries()) {
    if (q.kind === 'absent-read') {
      absentRead.i.push(i);
      absentRead.name.push(q.name);
      continue;
    }
    if (q.kind === 'absent-write') {
      absent.i.push(i);
      absent.name.push(q.name);
      absent.version.push(q.version);
      absent.fails.push(q.next.fails);
      absent.lockedAt.push(q.next.lockedAt);
      absent.sources.push(JSON.stringify(q.next.sources));
      absent.expiresAt.push(q.expiresAt);
      nowMs = Math.max(nowMs, q.nowMs);
      continue;
    }
    if (q.kind === 'read') {
      // A user without tokens is still read (an unlock of a user whose tokens were removed).
      for (const serial of q.user.tokens.length === 0 ? [null] : q.user.tokens.map((t) => t.serial)) {
        r.i.push(i);
        r.user.push(q.user.key);
        r.serial.push(serial);
      }
      continue;
    }
    const accept = q.kind === 'accept' ? q : undefined;
    const update = q.kind === 'update' ? q : undefined;
    const hotp = accept?.token.type === 'hotp';
    w.i.push(i);
    w.accept.push(accept !== undefined);
    w.user.push(q.user.key);
    w.version.push(q.expected.version);
    // An update names the user's one token, if one, for the rows a refusal answers with.
    w.serial.push(accept ? accept.token.serial : q.user.tokens.length === 1 ? q.user.tokens[0]!.serial : null);
    w.fingerprint.push(accept?.token.fingerprint ?? null);
    w.counter.push(hotp ? accept!.next.counter! : null);
    w.lastStep.push(accept && !hotp ? accept.next.lastStep : null);
    w.drift.push(accept && !hotp ? accept.next.drift : 0);
    w.clear.push(accept?.clear ?? false);
    w.fails.push(update?.next.fails ?? null);
    w.lockedAt.push(update?.next.lockedAt ?? null);
    w.sources.push(update ? JSON.stringify(update.next.sources) : null);
  }
  return [
    storeId, numbers(r.i), texts(r.user), texts(r.serial),
    numbers(w.i), booleans(w.accept), texts(w.user), numbers(w.version), texts(w.serial), texts(w.fingerprint), numbers(w.counter),
    numbers(w.lastStep), numbers(w.drift), booleans(w.clear), numbers(w.fails), numbers(w.lockedAt), texts(w.sources),
    nowMs, numbers(absent.i), texts(absent.name), numbers(absent.version), numbers(absent.fails), numbers(absent.lockedAt), texts(absent.sources), numbers(absent.expiresAt),
    numbers(absentRead.i), texts(absentRead.name),
  ];
}

/** The statement a batch needs and its parameters: USER_BATCH unless the batch holds a made-up name's request. */
export function stateBatchQuery(storeId: string, batch: readonly StateRequest[]): { full: boolean; text: string; values: unknown[] } {
  const values = stateBatchValues(storeId, batch);
  const full = batch.some((q) => q.kind === 'absent-read' || q.kind === 'absent-write');
  // USER_BATCH takes $1-$17 only: PostgreSQL refuses a parameter the statement does not use.
  return full ? { full, text: STATE_BATCH, values } : { full, text: USER_BATCH, values: values.slice(0, 17) };
}

/** Each request's answer: a read's state view (or its error), a change's done or not. */
export function stateBatchAnswers(batch: readonly StateRequest[], rows: readonly StateBatchRow[]): (StateAnswer | BatchItemError)[] {
  const rowsOf = new Map<number, StateBatchRow[]>();
  for (const row of rows) {
    const list = rowsOf.get(row[I]);
    if (list) list.push(row);
    else rowsOf.set(row[I], [row]);
  }
  return batch.map((request, i) => {
    if (request.kind === 'absent-read') return absentViewOf(rowsOf.get(i)?.[0]);
    if (request.kind === 'absent-write') {
      const version = rowsOf.get(i)?.[0]?.[VERSION];
      return version === undefined || version === null ? null : Number(version);
    }
    if (request.kind !== 'read') return changeAnswer(request.user, rowsOf.get(i));
    try {
      return viewOf(request.user, rowsOf.get(i) ?? []);
    } catch (err) {
      return new BatchItemError(err);
    }
  });
}

/** The database cannot be reached, answered wrongly, or holds no state (or another seed's) for a user: answered as lost state (503, Access-Reject). */
export class StateUnavailableError extends Error {}

/** A change's answer: made (a row without a version), refused with the state found (rows of a read, for a user of one token), or refused. */
function changeAnswer(user: ShimUser, rows: readonly StateBatchRow[] | undefined): boolean | RefusedChange {
  if (rows === undefined) return false;
  if (rows.some((row) => row[VERSION] === null)) return true;
  if (user.tokens.length !== 1) return false;
  try {
    return new RefusedChange(viewOf(user, rows));
  } catch {
    // Not as this store file has it: the read that follows says why.
    return false;
  }
}

/** A made-up name's state from its row (a row of nulls: none). */
function absentViewOf(row: StateBatchRow | undefined): AbsentView {
  if (!row || row[VERSION] === null) return { state: CLEARED, version: null, expiresAt: null };
  return {
    state: { fails: row[FAILS]!, lockedAt: row[LOCKED_AT] === null ? null : Number(row[LOCKED_AT]), sources: row[SOURCES]! },
    version: Number(row[VERSION]),
    expiresAt: Number(row[EXPIRES_AT]),
  };
}

/** A user's state from their rows (one per token asked). */
function viewOf(user: ShimUser, rows: readonly StateBatchRow[]): StateView {
  const row = rows[0];
  if (!row || row[VERSION] === null) throw new StateUnavailableError(`the database has no state for user ${user.key}`);
  return {
    user: { fails: row[FAILS]!, lockedAt: row[LOCKED_AT] === null ? null : Number(row[LOCKED_AT]), sources: row[SOURCES]!, version: Number(row[VERSION]) },
    tokens: user.tokens.map((token) => {
      const t = rows.find((r) => r[SERIAL] === token.serial);
      if (!t || t[FINGERPRINT] !== token.fingerprint) throw new StateUnavailableError(`the database's state of token ${token.serial} is missing or for another seed`);
      if (t[OWNER] !== null && t[OWNER] !== user.key) throw new StateUnavailableError(`token ${token.serial} belongs to another user in the database's store generation: this node's store file is not the current one`);
      return { counter: t[COUNTER] === null ? null : BigInt(t[COUNTER]), lastStep: t[LAST_STEP] === null ? null : Number(t[LAST_STEP]), drift: t[DRIFT] ?? 0 };
    }),
  };
}
