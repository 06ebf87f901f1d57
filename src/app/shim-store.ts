import { fsReason } from '../io/fs-reason.js';
import { sameFile } from '../io/same-file.js';
import { auditPathOf } from '../shim/audit-log.js';
import { journalPathOf, nextJournalPathOf } from '../shim/shim-database.js';
import { lockPathOf } from '../shim/store-lock.js';
import { checkPrivateOutput } from '../shim/private-file.js';
import { UserError } from '../model/user-error.js';
import { loadStoreKey } from '../shim/store-key.js';
import { parseStateUrl } from '../shim/postgres/state-url.js';
import { describePgError, sqlState } from '../shim/postgres/pg-error.js';
import { StateUnavailableError } from '../shim/postgres/state-batch.js';

/** What every shim use case is told about the store it works on. */
export interface ShimStoreRequest {
  store: string;
  /** File holding the store key; default: $MFA_SHIM_KEY. */
  keyFile?: string;
  auditLog?: string;
  /** Refuse key files that group or others can read (default: warn). */
  strictPermissions?: boolean;
  /** Continue from the store's own state when its journal is missing or foreign (--reset-state). */
  resetState?: boolean;
  /** --state: PostgreSQL URL of the shared state (no password). */
  state?: string;
  now?: () => number;
  onNotice?: (message: string) => void;
}

/** The store key the request names (key file or environment). */
export function storeKeyOf(req: ShimStoreRequest): Buffer {
  return loadStoreKey({
    ...(req.keyFile !== undefined ? { keyFile: req.keyFile } : {}),
    ...(req.strictPermissions !== undefined ? { strictPermissions: req.strictPermissions } : {}),
    ...(req.onNotice ? { onNotice: req.onNotice } : {}),
  });
}

/**
 * Refuses a command whose files are one file twice, before anything is read or written: the audit
 * log is appended to, so named as the store, its state journal or lock, the key file or a file the
 * command reads (`reads`: the export and seed files of an import, the TLS and RADIUS files of serve),
 * it wrote its lines into that file (a review: `--audit-log` over the key file left the store
 * unreadable for good); and the store, its journal and lock are replaced or written, so must not be
 * the key file or a file read either. By device and inode, whatever path names a file. Then the audit
 * log is checked as its open will check it.
 */
export async function checkShimFiles(req: ShimStoreRequest, reads: readonly (string | undefined)[] = []): Promise<void> {
  const store = req.store;
  const written = [
    { path: store, what: 'the store' },
    { path: journalPathOf(store), what: "the store's state journal" },
    { path: nextJournalPathOf(store), what: "the store's next state journal" },
    { path: lockPathOf(store), what: "the store's lock" },
  ];
  const read = [
    ...(req.keyFile !== undefined ? [{ path: req.keyFile, what: 'the store key file (--key-file)' }] : []),
    ...reads.filter((r): r is string => r !== undefined).map((path) => ({ path, what: '' })),
  ];
  const said = (f: { path: string; what: string }): string => (f.what ? `${f.what} ${f.path}` : f.path);
  const audit = req.auditLog ?? auditPathOf(store);
  const auditSaid = req.auditLog !== undefined ? `--audit-log ${audit}` : `the audit log ${audit} (--audit-log's default)`;
  for (const other of [...written, ...read]) {
    if (await sameFile(audit, other.path)) throw new UserError(`${auditSaid}: is the same file as ${said(other)}, which this command reads or writes; name another file`);
  }
  for (const out of written) {
    for (const other of read) {
      if (await sameFile(out.path, other.path)) throw new UserError(`--store ${store}: ${out.path === store ? '' : `${out.what} ${out.path} `}is the same file as ${said(other)}, which this command reads; name another file`);
    }
  }
  // The log as its open will take it (a private regular file of ours, or one that can be made),
  // checked now without creating it: a command refused for its log has changed nothing (a black-box
  // test: import and unlock made their change, then refused the log, exit 1 and no audit line).
  checkPrivateOutput(audit, 'audit log');
}

/** The options the shim's operations take from a request (audit log, clock, notices). */
export function operationOptions(req: ShimStoreRequest, key: Buffer): { store: string; key: Buffer; keyFile?: string; auditLog?: string; resetState: boolean; state?: URL; now?: () => number; onNotice?: (m: string) => void } {
  return {
    store: req.store,
    key,
    ...(req.keyFile !== undefined ? { keyFile: req.keyFile } : {}),
    resetState: req.resetState === true,
    ...(req.state !== undefined ? { state: parseStateUrl(req.state) } : {}),
    ...(req.auditLog !== undefined ? { auditLog: req.auditLog } : {}),
    ...(req.now ? { now: req.now } : {}),
    ...(req.onNotice ? { onNotice: req.onNotice } : {}),
  };
}

/**
 * Runs a shim use case, turning a failed system call (a folder that vanished, a full disk) into a
 * one-line error naming the call, the file and the cause; the shim's own errors are UserErrors already.
 */
export async function withFileErrors<T>(work: () => Promise<T>, store?: string): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof UserError) && err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string') {
      const e = err as NodeJS.ErrnoException;
      // A write to an open file names no path: the store it was for is named (a black-box test read "write failed").
      const where = e.path ?? (store !== undefined ? `for the store ${store} (or its journal beside it)` : '');
      throw new UserError(`${e.syscall} ${where} failed: ${fsReason(err)}`.replace(/\s+/g, ' '), undefined, { cause: err });
    }
    // PostgreSQL's own refusal (a statement timed out behind a lock an import holds, a permission): one line, not a stack trace (a black-box test).
    if (!(err instanceof UserError) && err instanceof Error && sqlState(err) !== undefined) {
      const hint = sqlState(err) === '57014' ? '; try again once it is done' : '';
      throw new UserError(`--state: ${describePgError(err)}${hint}`, undefined, { cause: err });
    }
    // The state the command's verification or unlock needed could not be read or written (a
    // read-only database, a column renamed by hand): one line too (a black-box test saw a stack trace).
    if (err instanceof StateUnavailableError) throw new UserError(err.message, undefined, { cause: err });
    throw err;
  }
}
