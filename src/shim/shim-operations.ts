import { existsSync } from 'node:fs';
import { AuditLog, auditPathOf } from './audit-log.js';
import { checkReplaceable } from './private-file.js';
import { buildStore, type ImportInput, type ImportOptions, type ImportSummary, type PreviousStore } from './import-store.js';
import type { ShimRules } from './rules.js';
import { ShimDatabase, journalPathOf, writeStoreGeneration } from './shim-database.js';
import { readStoreFile } from './store-file.js';
import { StoreBusyError, StoreLock, liveHolder, type LockHolder } from './store-lock.js';
import { userKey } from './store-model.js';
import { requestUnlock } from './unlock-requests.js';
import { Verifier, type VerifyReason, type VerifyResult } from './verifier.js';

/** The one-shot commands (check, unlock, import) as functions; src/cli/shim-command.ts only wires flags. */

export interface OneShotOptions {
  store: string;
  key: Buffer;
  auditLog?: string;
  now?: () => number;
  onNotice?: (message: string) => void;
  /** Continue from the store's own state when its journal is missing or foreign (see ShimDatabase). */
  resetState?: boolean;
}

/** `shim check`: one verification with the same rules and state as the server (which must not be running). */
export async function runCheck(
  opts: OneShotOptions & { rules: ShimRules; user: string; code: string },
): Promise<{ result: VerifyResult; reason: VerifyReason; serial?: string }> {
  const db = await ShimDatabase.open(opts.store, opts.key, { command: 'shim check', onNotice: opts.onNotice ?? (() => undefined), resetState: opts.resetState === true });
  try {
    const now = opts.now ?? Date.now;
    const verdict = await new Verifier(db, db, opts.rules, now).verify(opts.user, opts.code);
    const audit = await AuditLog.open(opts.auditLog ?? auditPathOf(opts.store), opts.onNotice ?? (() => undefined), now);
    audit.write({
      event: 'verify',
      user: verdict.user?.username ?? opts.user,
      client: 'shim check',
      result: verdict.result,
      reason: verdict.reason,
      serial: verdict.serial ?? null,
    });
    await audit.close();
    const out: { result: VerifyResult; reason: VerifyReason; serial?: string } = { result: verdict.result, reason: verdict.reason };
    if (verdict.serial !== undefined) out.serial = verdict.serial;
    return out;
  } finally {
    await db.close();
  }
}

export type UnlockOutcome =
  | { status: 'unlocked'; username: string; wasLocked: boolean }
  | { status: 'requested'; server: LockHolder; requestFile: string }
  | { status: 'unknown_user' };

/**
 * `shim unlock`: clears the user's fail counter and lock-out. While `shim serve` holds the store the
 * change is handed to it as an unlock request (see unlock-requests.ts).
 */
export async function runUnlock(opts: OneShotOptions & { rules: ShimRules; user: string }): Promise<UnlockOutcome> {
  // While a server holds the store: a request MAC'd with the store key, for a user the store holds.
  const handOver = async (server: LockHolder): Promise<UnlockOutcome> => {
    const doc = await readStoreFile(opts.store, opts.key);
    if (!doc.users.some((u) => userKey(u.username) === userKey(opts.user))) return { status: 'unknown_user' };
    return { status: 'requested', server, requestFile: await requestUnlock(opts.store, opts.user, opts.key, doc.storeId) };
  };
  const holder = await liveHolder(opts.store);
  if (holder) return handOver(holder);
  let db: ShimDatabase;
  try {
    db = await ShimDatabase.open(opts.store, opts.key, { command: 'shim unlock', onNotice: opts.onNotice ?? (() => undefined), resetState: opts.resetState === true });
  } catch (err) {
    if (err instanceof StoreBusyError) return handOver(err.holder);
    throw err;
  }
  try {
    if (!db.findUser(userKey(opts.user))) return { status: 'unknown_user' };
    const now = opts.now ?? Date.now;
    const done = (await new Verifier(db, db, opts.rules, now).unlock(opts.user))!;
    const audit = await AuditLog.open(opts.auditLog ?? auditPathOf(opts.store), opts.onNotice ?? (() => undefined), now);
    audit.write({ event: 'unlock', user: done.user.username, client: 'shim unlock', result: 'accept', reason: done.wasLocked ? 'unlocked' : 'fail_counter_reset' });
    await audit.close();
    return { status: 'unlocked', username: done.user.username, wasLocked: done.wasLocked };
  } finally {
    await db.close();
  }
}

/**
 * `shim import`: builds the next store generation from the export, keeping the state of unchanged
 * tokens, and writes it atomically (0600) with a fresh journal. Holds the store lock throughout.
 */
export async function runImportStore(opts: OneShotOptions & { input: ImportInput; importOptions?: ImportOptions }): Promise<ImportSummary> {
  // The files the import writes: never through a planted symbolic link, never another user's (issue 17 item 10).
  checkReplaceable(opts.store, 'store');
  checkReplaceable(journalPathOf(opts.store), 'state journal');
  let previous: PreviousStore | undefined;
  let db: ShimDatabase | undefined;
  let lock: StoreLock | undefined;
  if (existsSync(opts.store)) {
    db = await ShimDatabase.open(opts.store, opts.key, { command: 'shim import', onNotice: opts.onNotice ?? (() => undefined), resetState: opts.resetState === true });
    previous = { storeId: db.storeId, generation: db.generation, createdAt: db.createdAt, users: db.users, tokens: db.tokens };
  } else {
    lock = await StoreLock.acquire(opts.store, 'shim import');
  }
  try {
    const { doc, summary } = buildStore(opts.input, previous, opts.importOptions);
    // The store and the empty journal of this generation, which it names; the old journal is folded in or obsolete.
    await writeStoreGeneration(opts.store, opts.key, doc);
    const audit = await AuditLog.open(opts.auditLog ?? auditPathOf(opts.store), opts.onNotice ?? (() => undefined), opts.now ?? Date.now);
    audit.write({
      event: 'import',
      detail: `generation ${doc.gen}: ${summary.users} users, ${summary.tokens} tokens (${summary.added} new, ${summary.kept} kept, ${summary.reset} reset, ${summary.removed.length} removed, ${summary.skipped.length} skipped)`,
    });
    await audit.close();
    return summary;
  } finally {
    await db?.close();
    await lock?.release();
  }
}
