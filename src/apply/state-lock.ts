import { mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { FileLock, LockBusyError, LockIdMismatchError, LockIsLinkError, forceRemoveLock, readLockState, type LockState } from '../io/file-lock.js';
import { isOutOfRoom, knownFsReason } from '../io/fs-reason.js';
import { identityAlive } from '../io/process-start.js';
import { cliCommand } from '../model/command-line.js';
import { UserError } from '../model/user-error.js';

export { LockUnreadableError } from '../io/file-lock.js';

export interface LockInfo {
  id: string;
  operation: string;
  pid: number;
  host: string;
  user: string;
  started: string;
  /** The holder's process start (see io/process-start.ts), so a reused pid is not taken for it. */
  processStart?: string;
  /** The run this holder is working on, once it has one (apply makes its run after the pre-flight read). */
  runId?: string;
}

/** Another run holds the state directory. */
export class LockHeldError extends UserError {
  constructor(
    readonly holder: LockInfo,
    stateDir: string,
  ) {
    // The folder named: force-unlock without it looks only in the state base.
    super(`the state directory is in use by ${holder.operation} (lock ${holder.id}), pid ${holder.pid} of ${holder.user}@${holder.host}, started ${holder.started}; if that process is gone for good: ${cliCommand(['force-unlock', holder.id, '--state-dir', stateDir])}`);
    this.name = 'LockHeldError';
  }
}

export interface HeldLock {
  info: LockInfo;
  /** A lock left by a process that died on this host was taken over. */
  tookOver?: LockInfo;
  /** Records the run being worked on in the lock, so that `runs` can tell which run is running. */
  setRun(runId: string): Promise<void>;
  release(): Promise<void>;
}

type Fields = Omit<LockInfo, 'id' | 'pid' | 'host' | 'processStart'>;

const lockPath = (stateDir: string): string => join(stateDir, 'lock');

/**
 * Takes the state directory's lock (io/file-lock.ts): who, where and since when. A lock whose process
 * is gone from this host (killed, crashed) is taken over, so a resume after kill -9 needs no manual
 * step; a live holder, or one on another host, is refused (LockHeldError); an unreadable lock is
 * refused (LockUnreadableError) and left for the admin.
 */
export async function acquireLock(stateDir: string, operation: string): Promise<HeldLock> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  let lock: FileLock<Fields>;
  try {
    lock = await FileLock.acquire<Fields>(lockPath(stateDir), { operation, user: safeUser(), started: new Date().toISOString() });
  } catch (err) {
    if (err instanceof LockBusyError) throw new LockHeldError(err.holder as LockInfo, stateDir);
    const why = knownFsReason(err);
    if (why) throw new UserError(`cannot lock the state folder ${stateDir}: ${why}`);
    throw err;
  }
  const held: HeldLock = {
    info: { ...lock.record } as LockInfo,
    ...(lock.tookOver ? { tookOver: lock.tookOver as LockInfo } : {}),
    setRun: async (runId) => {
      try {
        if (await lock.update({ runId })) held.info.runId = runId;
      } catch (err) {
        // The lock is held all the same; it only does not name the run. On a full or read-only disk
        // the run's journal is refused next, saying so (a fault-injection test met a stack trace here).
        if (!isOutOfRoom(err)) throw err;
      }
    },
    release: () => lock.release(),
  };
  return held;
}

/**
 * The lock's record at `path` (the state directory's `lock` file); undefined when free or unreadable,
 * a symbolic link included (listing runs goes on; taking that lock is refused, naming it).
 */
export async function readLock(path: string): Promise<LockInfo | undefined> {
  let state: LockState<Fields>;
  try {
    state = readLockState<Fields>(path);
  } catch (err) {
    if (err instanceof LockIsLinkError) return undefined;
    throw err;
  }
  return state.kind === 'held' ? (state.holder as LockInfo) : undefined;
}

/** The state directory's lock: free, held (and whether its holder is alive) or unreadable (with the id force-unlock takes). */
export function inspectLock(stateDir: string): LockState<Fields> {
  return readLockState<Fields>(lockPath(stateDir));
}

/**
 * Refuses as acquireLock does (LockHeldError) when the state folder's lock has a live holder, taking
 * and tidying nothing: for the checks a command makes before it takes the lock, so that an operator
 * is told first that the folder is in use (a later build's run refused first sent them to switch
 * builds, and only then did they learn the run was live). Anything else (free, a dead holder's,
 * unreadable, a link) is left to acquireLock, which words it.
 */
export function refuseLiveHolder(stateDir: string): void {
  let state: LockState<Fields>;
  try {
    state = inspectLock(stateDir);
  } catch {
    return;
  }
  if (state.kind === 'held' && state.alive) throw new LockHeldError(state.holder as LockInfo, stateDir);
}

/** What force-unlock removed: the holder's record, or an unreadable lock's id. */
export type RemovedLock = LockInfo | { id: string; unreadable: true; ageMs: number };

/**
 * `force-unlock LOCK_ID` (Terraform's habit): removes the state folder's lock only if its id is
 * `lockId`, whoever holds it (the admin has checked), and returns what it removed: the holder, or an
 * unreadable lock's id. Taken under the lock's claim, so it never removes a lock that replaced the
 * one named. Not locked, or locked under another id: a UserError, nothing removed.
 */
export async function forceUnlock(stateDir: string, lockId: string): Promise<RemovedLock> {
  let removed: Awaited<ReturnType<typeof forceRemoveLock<Fields>>>;
  try {
    removed = await forceRemoveLock<Fields>(lockPath(stateDir), lockId);
  } catch (err) {
    if (!(err instanceof LockIdMismatchError)) throw err;
    throw new UserError(err.actual === undefined ? `${stateDir} is not locked` : `the lock of ${stateDir} is ${err.actual}, not ${lockId}: nothing removed`);
  }
  return removed.kind === 'held' ? (removed.holder as LockInfo) : { id: removed.id, unreadable: true, ageMs: removed.ageMs };
}

/** Whether the lock's holder is still at work: alive on this host, or on another host (which cannot be checked). */
export function lockHolderAlive(lock: LockInfo): boolean {
  return identityAlive(lock);
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

