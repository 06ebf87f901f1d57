import { fsReason } from '../io/fs-reason.js';
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
