import { existsSync } from 'node:fs';
import { createdNow, removeIfStillEmpty } from './created-file.js';
import { readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { syncDirectory } from '../io/fsync.js';
import { UserError } from '../model/user-error.js';
import { shellArg } from '../model/command-line.js';
import { AuditLog, auditPathOf, type AuditEvent } from './audit-log.js';
import { buildStore, type ImportInput, type ImportOptions, type ImportSummary, type PreviousStore } from './import-store.js';
import { CommitUnknownError, PgState, type LoadOutcome } from './postgres/pg-state.js';
import { describePgError } from './postgres/pg-error.js';
import { migrationEvent } from './state-audit.js';
import { shownStateUrl } from './postgres/state-url.js';
import type { ShimRules } from './rules.js';
import { checkStoreFiles, journalPathOf, loadDocument, ShimDatabase, writeStoreGeneration } from './shim-database.js';
import { checkPrivateOutput } from './private-file.js';
import { readStoreFile, StoreError, writeStoreFile } from './store-file.js';
import { StoreBusyError, StoreLock, liveHolder, stateOptionFor, type LockHolder } from './store-lock.js';
import { userKey, type ShimToken, type ShimUser } from './store-model.js';
import { requestUnlock } from './unlock-requests.js';
import { Verifier, type StateBackend, type Verdict, type VerifyReason, type VerifyResult } from './verifier.js';
import { unlockReason } from './unlock-reason.js';

/** The one-shot commands (check, unlock, import) as functions; src/app/shim-*.ts wire them to requests. */

export interface OneShotOptions {
  store: string;
  key: Buffer;
  auditLog?: string;
  now?: () => number;
  onNotice?: (message: string) => void;
  /** Continue from the store's own state when its journal (or database state) is missing or foreign. */
  resetState?: boolean;
  /** The shared state in PostgreSQL (--state); default: the store's local journal. */
  state?: URL;
  /** The key file given (--key-file), for a command this one advises (never the key). */
  keyFile?: string;
}

/** The store's users and seeds, and where their state is: the local journal, or PostgreSQL. */
interface OpenState {
  db: ShimDatabase;
  backend: StateBackend;
  close(): Promise<void>;
}

/**
 * Opens the state for a one-shot command. Local: the store with its journal, under the store lock
 * (the server, if any, owns the state then). PostgreSQL: the store for its seeds only, without the
 * lock (the database arbitrates: a check or unlock beside running servers is safe).
 */
async function openState(opts: OneShotOptions, command: string): Promise<OpenState> {
  const notice = opts.onNotice ?? (() => undefined);
  if (!opts.state) {
    const db = await ShimDatabase.open(opts.store, opts.key, { command, onNotice: notice, resetState: opts.resetState === true });
    return { db, backend: db, close: () => db.close() };
  }
  const db = await ShimDatabase.open(opts.store, opts.key, { command, onNotice: notice, seedsOnly: true, lock: false });
  try {
    const pg = await PgState.open(opts.state, db.storeId, { onNotice: notice, poolSize: 2, oneShot: true });
    try {
      await auditMigration(opts, pg);
      await pg.attach(storeStateOf(db), opts.resetState === true);
    } catch (err) {
      await pg.close();
      throw err;
    }
    return { db, backend: pg, close: async () => (await pg.close(), await db.close()) };
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** Where the command's audit log is: `--audit-log`, else beside the store. */
const auditPathFor = (opts: OneShotOptions): string => opts.auditLog ?? auditPathOf(opts.store);

/**
 * The command's audit log, opened before its state is (the store lock taken, the journal extended
 * or compacted, the database migrated or written): a log that cannot be opened stops the command
 * before it changes anything (a black-box test: import and unlock made their change, then refused
 * the log, exit 1 and no audit line).
 */
const openAuditLog = (opts: OneShotOptions): Promise<AuditLog> => AuditLog.open(auditPathFor(opts), opts.onNotice ?? (() => undefined), opts.now ?? Date.now);

/** A schema migration the command's open made: audited as serve audits it (one line). */
async function auditMigration(opts: OneShotOptions, pg: PgState): Promise<void> {
  if (!pg.migrated) return;
  const audit = await openAuditLog(opts);
  audit.write(migrationEvent(pg.migrated));
  await audit.close();
}

export function storeStateOf(db: { storeId: string; generation: number; users: Map<string, ShimUser>; tokens: Map<string, ShimToken> }) {
  return { storeId: db.storeId, gen: db.generation, users: [...db.users.values()], tokens: [...db.tokens.values()] };
}

/** `shim check`: one verification with the same rules and state as the server. */
export async function runCheck(
  opts: OneShotOptions & { rules: ShimRules; user: string; code: string },
): Promise<{ result: VerifyResult; reason: VerifyReason; serial?: string }> {
  // Opened first: a log that cannot be opened stops the check before a code is used up.
  const audit = await openAuditLog(opts);
  let state: OpenState;
  try {
    state = await openState(opts, 'shim check');
  } catch (err) {
    await audit.close();
    throw err;
  }
  try {
    const now = opts.now ?? Date.now;
    let verdict: Verdict;
    let written = true;
    try {
      verdict = await new Verifier(state.db, state.backend, opts.rules, now).verify(opts.user, opts.code);
      const line: AuditEvent = { event: 'verify', user: verdict.user?.username ?? opts.user, client: 'shim check', result: verdict.result, reason: verdict.reason, serial: verdict.serial ?? null };
      // As the server: no accept is answered without its audit line (the code stays used up).
      if (verdict.result === 'accept') written = await audit.writeAccept(line);
      else audit.write(line);
    } finally {
      await audit.close();
    }
    if (!written) throw new UserError(`audit log ${audit.path} cannot be written: the code was accepted and is used up, but is not answered as accepted (an accept is never answered without its audit line); use the next code once the log can be written`);
    const out: { result: VerifyResult; reason: VerifyReason; serial?: string } = { result: verdict.result, reason: verdict.reason };
    if (verdict.serial !== undefined) out.serial = verdict.serial;
    return out;
  } finally {
    await state.close();
  }
}

export type UnlockOutcome =
  /** `cleared`: false when the user had no failures counted (nothing_to_clear). */
  | { status: 'unlocked'; username: string; wasLocked: boolean; cleared: boolean }
  | { status: 'requested'; server: LockHolder; requestFile: string }
  | { status: 'unknown_user' };

/**
 * `shim unlock`: clears the user's failures and lock-out. With the local state, while `shim serve`
 * holds the store, the change is handed to it as a MAC'd unlock request (see unlock-requests.ts);
 * with PostgreSQL state it is written to the database, for every node at once.
 */
export async function runUnlock(opts: OneShotOptions & { rules: ShimRules; user: string }): Promise<UnlockOutcome> {
  // While a server holds the store: a request MAC'd with the store key, for a user the store holds.
  const handOver = async (server: LockHolder): Promise<UnlockOutcome> => {
    // A server on shared state reads no unlock requests: the request would sit there, said done (a black-box test).
    if (server.sharedState) {
      throw new UserError(
        `${opts.store} is served by \`mfa-migrate ${server.command}\` (pid ${server.pid} on ${server.host}) with its state in PostgreSQL: unlock in the database, for every node at once: mfa-migrate shim unlock ${shellArg(opts.user)} --store ${shellArg(opts.store)}${opts.keyFile !== undefined ? ` --key-file ${shellArg(opts.keyFile)}` : ''}${opts.auditLog !== undefined ? ` --audit-log ${shellArg(opts.auditLog)}` : ''} ${stateOptionFor(server)}`,
      );
    }
    // The server audits the unlock in its own log, the one it was started with: a --audit-log given
    // here would never get the line (a black-box test found it neither checked nor used), so it is refused, not ignored.
    if (opts.auditLog !== undefined) {
      throw new UserError(
        `${opts.store} is served by \`mfa-migrate ${server.command}\` (pid ${server.pid} on ${server.host}): an unlock is handed to it, and it writes the unlock's audit line to its own audit log (the one it was started with), never to --audit-log ${opts.auditLog}; run the unlock again without --audit-log`,
      );
    }
    checkStoreFiles(opts.store);
    const doc = await readStoreFile(opts.store, opts.key);
    if (!doc.users.some((u) => userKey(u.username) === userKey(opts.user))) return { status: 'unknown_user' };
    return { status: 'requested', server, requestFile: await requestUnlock(opts.store, opts.user, opts.key, doc.storeId) };
  };
  if (!opts.state) {
    const holder = await liveHolder(opts.store);
    if (holder) return handOver(holder);
  }
  // The log is checked before the state is opened (one that cannot be written stops the unlock before
  // anything changes), but opened (made, if new) only once the store is ours and the user found: a
  // server that took the store since the look above gets the request, and an unknown user nothing,
  // with no empty log made on the way (another server's log may be that path: it is never removed).
  checkPrivateOutput(auditPathFor(opts), 'audit log');
  let state: OpenState;
  try {
    state = await openState(opts, 'shim unlock');
  } catch (err) {
    if (err instanceof StoreBusyError) return handOver(err.holder);
    throw err;
  }
  try {
    if (!state.db.findUser(userKey(opts.user))) return { status: 'unknown_user' };
    const audit = await openAuditLog(opts);
    try {
      const done = (await new Verifier(state.db, state.backend, opts.rules, opts.now ?? Date.now).unlock(opts.user))!;
      audit.write({ event: 'unlock', user: done.user.username, client: 'shim unlock', result: 'accept', reason: unlockReason(done.wasLocked, done.cleared) });
      return { status: 'unlocked', username: done.user.username, wasLocked: done.wasLocked, cleared: done.cleared };
    } finally {
      await audit.close();
    }
  } finally {
    await state.close();
  }
}

/**
 * `shim import`: builds the next store generation from the export, keeping the state of unchanged
 * tokens, and writes it atomically (0600) with a fresh journal, or, with --state, writes the state
 * to PostgreSQL (where an accept made meanwhile on a running node is never moved backwards). Holds
 * the store lock throughout.
 */
export async function runImportStore(opts: OneShotOptions & { input: ImportInput; importOptions?: ImportOptions; dropStoreState?: readonly string[] }): Promise<ImportSummary> {
  const drop = opts.dropStoreState ?? [];
  if (drop.length > 0 && !opts.state) throw new UserError("--drop-store-state drops another store's state from PostgreSQL: give it with --state postgres://...");
  if (drop.some((id) => id.trim() === '')) throw new UserError('--drop-store-state: give the id of the store whose state goes (the refusal of an import names it)');
  // The files the import writes: never through a planted symbolic link, never another user's (issue 17 item 10).
  checkStoreFiles(opts.store);
  const notice = opts.onNotice ?? (() => undefined);
  let previous: PreviousStore | undefined;
  let db: ShimDatabase | undefined;
  let lock: StoreLock | undefined;
  let pg: PgState | undefined;
  // A new store's audit log, made by this import: removed again, still empty, should the import fail
  // under the store's lock (a full disk left an empty log beside no store). One that was there is
  // never removed: a server may hold it open.
  const made = existsSync(opts.store) ? undefined : createdNow(auditPathFor(opts));
  const audit = await openAuditLog(opts);
  let imported = false;
  try {
    if (existsSync(opts.store)) {
      db = await ShimDatabase.open(opts.store, opts.key, { command: 'shim import', onNotice: notice, resetState: opts.resetState === true, seedsOnly: opts.state !== undefined, ...(opts.state ? { stateUrl: opts.state } : {}) });
      previous = { storeId: db.storeId, generation: db.generation, createdAt: db.createdAt, users: db.users, tokens: db.tokens, retired: db.retired };
    } else {
      lock = await StoreLock.acquire(opts.store, 'shim import');
      // A journal with no store is a store lost (deleted, not restored): a first import over it would
      // start every counter again and overwrite the journal, the one record of the codes used (a review).
      if (existsSync(journalPathOf(opts.store)) && opts.resetState !== true) {
        throw new StoreError(
          `${opts.store} does not exist, but its state journal ${journalPathOf(opts.store)} does: the store was lost, and a new one would accept used codes again. Restore the store from a backup; or, to start the state again from nothing, import with --reset-state`,
        );
      }
    }
    // The generation the database may hold at most for this import to follow it: the one it starts
    // from. --reset-state (a missing or foreign journal) does not change that: an import from an
    // old copy would put back used codes' state.
    const from = previous?.generation ?? null;
    if (opts.state) {
      pg = await PgState.open(opts.state, previous?.storeId ?? '', { onNotice: notice, poolSize: 2, oneShot: true });
      await auditMigration(opts, pg);
      // Before the store file is written (a refused import changes nothing); checked again, under lock, when the state is.
      if (previous) await pg.checkGeneration(previous.storeId, from);
      if (db) await takeDatabaseState(pg, db);
    }
    const { doc, summary } = buildStore(opts.input, previous, opts.importOptions);
    let dropped = '';
    if (pg) {
      if (drop.includes(doc.storeId)) {
        throw new UserError(`--drop-store-state ${doc.storeId} names this store (the one ${opts.store} holds): an import keeps its own store's state; name another store the database holds`);
      }
      // Before the store file is written: a refused import writes nothing (a black-box test found a
      // new store file left behind by an import the database refused). Checked again under the
      // tables' lock when the state is written.
      const oneStore = { drop, ...(previous ? {} : { newStoreFile: opts.store }) };
      const toDrop = await pg.checkOneStore(doc.storeId, oneStore);
      for (const id of drop) if (!toDrop.some((d) => d.storeId === id)) notice(`--drop-store-state ${id}: the database holds no state for store ${id}; nothing to drop`);
      const users = new Map<string, ShimUser>();
      const tokens = new Map<string, ShimToken>();
      loadDocument(doc, users, tokens, opts.store);
      const newKind = [...tokens.values()]
        .filter((t) => {
          const was = previous?.tokens.get(t.serial);
          return was !== undefined && was.fingerprint === t.fingerprint && (was.type !== t.type || was.period !== t.period);
        })
        .map((t) => t.serial);
      // The store file is written before the database: a crash between the two then leaves the file
      // ahead of the database (the import is simply run again from it), never the database ahead of
      // every store file (a generation whose seeds no node could be given). The file as it was is
      // kept, to be put back should the database not take the import: a failed import leaves
      // both as they were (a black-box test found the file a generation ahead, and refused).
      const before = previous ? await readFile(opts.store) : undefined;
      // The state is the database's: the store file holds the seeds (and names no local journal).
      await writeStoreFile(opts.store, doc, opts.key);
      let outcome: LoadOutcome;
      try {
        outcome = await pg.load({ storeId: doc.storeId, gen: doc.gen, users: [...users.values()], tokens: [...tokens.values()], newKind }, from, oneStore);
      } catch (err) {
        outcome = await notTaken(err, { store: opts.store, state: opts.state!, pg, storeId: doc.storeId, gen: doc.gen, from, before });
      }
      if (outcome.dropped.length > 0) {
        dropped = `; dropped the state of ${outcome.dropped.map((d) => `store ${d.storeId} (generation ${d.generation})`).join(', ')}, ${outcome.carried} of this store's token(s) carrying on from a dropped token of the same seed`;
        notice(`--state ${shownStateUrl(opts.state!)}: ${dropped.slice(2)}`);
      }
    } else {
      // The store and the empty journal of this generation, which it names; the old journal is folded in or obsolete.
      await writeStoreGeneration(opts.store, opts.key, doc);
    }
    audit.write({
      event: 'import',
      detail: `generation ${doc.gen}: ${summary.users} users, ${summary.tokens} tokens (${summary.added} new, ${summary.kept} kept, ${summary.reset} reset, ${summary.removed.length} removed, ${summary.skipped.length} skipped)${dropped}`,
    });
    imported = true;
    return summary;
  } finally {
    await audit.close();
    // Only under the store's lock: an import that lost it to another (who may have opened the log since) leaves it.
    if (!imported && made && lock) removeIfStillEmpty(made);
    await pg?.close();
    await db?.close();
    await lock?.release();
  }
}

/**
 * A load that failed. The database certainly did not take it (an error answered before or at the
 * COMMIT): the store file goes back to what it was (a new one is removed), and the error says so.
 * Its COMMIT got no answer: the database may take it yet (a COMMIT waiting on a synchronous standby
 * becomes visible later; a review saw the file put back, then the database at the new generation
 * with no store file of it anywhere): the new file is kept unless the database already holds the new
 * generation (the import was taken: its outcome is returned), and the error says to run the import
 * again (it follows on from the file whether the database holds the old generation or the new).
 */
async function notTaken(
  err: unknown,
  at: { store: string; state: URL; pg: PgState; storeId: string; gen: number; from: number | null; before: Buffer | undefined },
): Promise<LoadOutcome> {
  const where = `--state ${shownStateUrl(at.state)}`;
  if (err instanceof CommitUnknownError) {
    const held = await at.pg.heldGeneration(at.storeId).catch(() => null);
    if (held === at.gen) return { dropped: [], carried: 0 };
    throw new UserError(
      `${where}: the import's ${err.message}: whether the database took it is unknown (${held === null ? 'it cannot be asked now' : 'it may yet: a COMMIT waiting on a synchronous standby shows later'}). ${at.store} is kept at generation ${at.gen}; the database holds ${at.from === null ? 'none' : `generation ${at.from}`} or generation ${at.gen}. Run the same import again with --state once the database answers: it is safe either way (it follows on from that file)`,
      undefined,
      { cause: err },
    );
  }
  try {
    if (at.before) await writeFileAtomic(at.store, at.before, 0o600);
    else await rm(at.store, { force: true });
    await syncDirectory(dirname(at.store));
  } catch (undo) {
    throw new UserError(
      `${where}: the database did not take the import (${describePgError(err)}), and ${at.store} could not be put back (${(undo as Error).message}): it is generation ${at.gen}, the database holds ${at.from === null ? 'none' : `generation ${at.from}`}; run the import again with --state once the cause is fixed (it follows on from that file)`,
      undefined,
      { cause: err },
    );
  }
  // A refusal (another import got in since the checks) says what to do already; the file is as it was.
  if (err instanceof UserError) throw err;
  const left = at.before ? `${at.store} is left as it was (generation ${at.from})` : `${at.store} was not created`;
  throw new UserError(`${where}: the database did not take the import: ${describePgError(err)}; ${left}, and so is the database: fix the cause and run the import again`, undefined, { cause: err });
}

/** Puts the database's state of each token (of the same seed) and user on the store's, for buildStore to keep. */
async function takeDatabaseState(pg: PgState, db: ShimDatabase): Promise<void> {
  const { tokens, users } = await pg.readAll();
  for (const token of db.tokens.values()) {
    const t = tokens.get(token.serial);
    if (t && t.fingerprint === token.fingerprint) Object.assign(token, { counter: t.counter, lastStep: t.lastStep, drift: t.drift });
  }
  for (const user of db.users.values()) {
    const u = users.get(user.key);
    if (u) Object.assign(user, u);
  }
}
