import { FileLock, LockBusyError, readLockState } from '../io/file-lock.js';
import { fsReason } from '../io/fs-reason.js';
import { shellArg } from '../model/command-line.js';
import { parseStateUrl } from './postgres/state-url.js';
import { StoreError } from './store-file.js';

/** Who holds a store: written into `<store>.lock` (io/file-lock.ts adds the process start). */
export interface LockHolder {
  id: string;
  pid: number;
  host: string;
  command: string;
  startedAt: string;
  processStart?: string;
  /** The holder keeps the verification state in PostgreSQL (`--state`): unlock requests are not its. */
  sharedState?: boolean;
  /** The `--state` URL it was given (it holds no password), so a command refused beside it can be told the one to give. */
  stateUrl?: string;
}

/**
 * `--state URL` for a command to work beside `holder`: its URL, to paste, when the lock names one
 * that parseStateUrl accepts (no password: a lock file edited, or an older version's, is not trusted
 * for that); else the form only.
 */
export function stateOptionFor(holder: LockHolder): string {
  if (typeof holder.stateUrl === 'string') {
    try {
      return `--state ${shellArg(parseStateUrl(holder.stateUrl).href)}`;
    } catch {
      // Not one to show: the form below.
    }
  }
  return '--state postgres://...';
}

/** The store is held by another live process (typically `shim serve`). */
export class StoreBusyError extends StoreError {
  override name = 'StoreBusyError';
  constructor(
    readonly store: string,
    readonly holder: LockHolder,
  ) {
    super(
      `${store} is in use by \`mfa-migrate ${holder.command}\` (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}); ${holder.sharedState ? `its state is in PostgreSQL: give this command ${stateOptionFor(holder)} to work beside it` : 'stop it first, or use its HTTP API'}`,
    );
  }
}

export const lockPathOf = (store: string): string => `${store}.lock`;

type Fields = Pick<LockHolder, 'command' | 'startedAt' | 'sharedState' | 'stateUrl'>;

/**
 * One process at a time owns a store's state (the in-memory counters are the truth while it runs).
 * A lock left by a process that died on this host is taken over; one from another host is not; an
 * unreadable one is refused (io/file-lock.ts).
 */
export class StoreLock {
  private constructor(
    readonly path: string,
    private readonly lock: FileLock<Fields>,
  ) {}

  get holder(): LockHolder {
    return this.lock.record as LockHolder;
  }

  /** `sharedState`: the holder keeps its state in PostgreSQL; `stateUrl`, the URL it was given (recorded for the refusals of others). */
  static async acquire(store: string, command: string, sharedState = false, stateUrl?: URL): Promise<StoreLock> {
    const path = lockPathOf(store);
    const shared = sharedState ? { sharedState, ...(stateUrl ? { stateUrl: stateUrl.href } : {}) } : {};
    try {
      return new StoreLock(path, await FileLock.acquire<Fields>(path, { command, startedAt: new Date().toISOString(), ...shared }));
    } catch (err) {
      if (err instanceof LockBusyError) throw new StoreBusyError(store, err.holder as LockHolder);
      const code = (err as NodeJS.ErrnoException).code;
      // Said as the other files' failures are (`...: the disk is full`, docs/shim.md), the code otherwise.
      if (code) throw new StoreError(`${path}: cannot create the lock file: ${fsReason(err)}`);
      throw err;
    }
  }

  /** Removes the lock if it is still ours. */
  async release(): Promise<void> {
    await this.lock.release();
  }

  /** Synchronous release for process exit handlers. */
  releaseSync(): void {
    this.lock.releaseSync();
  }
}

/** The live process holding the store, if any. */
export async function liveHolder(store: string): Promise<LockHolder | undefined> {
  const state = readLockState<Fields>(lockPathOf(store));
  return state.kind === 'held' && state.alive ? (state.holder as LockHolder) : undefined;
}
