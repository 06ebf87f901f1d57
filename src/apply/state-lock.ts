import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { UserError } from '../model/user-error.js';

export interface LockInfo {
  id: string;
  operation: string;
  pid: number;
  host: string;
  user: string;
  started: string;
  /** The run this holder is working on, once it has one (apply makes its run after the pre-flight read). */
  runId?: string;
}

/** Another run holds the state directory. */
export class LockHeldError extends UserError {
  constructor(readonly holder: LockInfo) {
    super(`the state directory is in use by ${holder.operation} (lock ${holder.id}), pid ${holder.pid} of ${holder.user}@${holder.host}, started ${holder.started}; if that process is gone for good: mfa-migrate force-unlock ${holder.id}`);
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

/**
 * Takes the state directory's lock: a file created with O_EXCL holding who, where and since
 * when. A lock whose process is gone from this host (killed, crashed) is taken over, so a resume
 * after kill -9 needs no manual step; a live holder, or one on another host, is refused.
 */
export async function acquireLock(stateDir: string, operation: string): Promise<HeldLock> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, 'lock');
  const info: LockInfo = { id: randomUUID(), operation, pid: process.pid, host: hostname(), user: safeUser(), started: new Date().toISOString() };
  let tookOver: LockInfo | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(info)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return { info, ...(tookOver ? { tookOver } : {}), setRun: (runId) => recordRun(path, info, runId), release: () => releaseLock(path, info.id) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readLock(path);
    if (holder && (holder.host !== info.host || isAlive(holder.pid))) throw new LockHeldError(holder);
    // The holder died without releasing the lock: move it aside and try again.
    tookOver = holder;
    await rename(path, `${path}.stale-${Date.now()}`).catch(() => {});
  }
  throw new Error(`cannot take the lock ${path}`);
}

export async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/** Rewrites our lock with the run id, atomically, so a reader never sees half a lock. */
async function recordRun(path: string, info: LockInfo, runId: string): Promise<void> {
  const current = await readLock(path);
  if (current?.id !== info.id) return;
  info.runId = runId;
  await writeFileAtomic(path, `${JSON.stringify(info)}\n`, 0o600);
}

async function releaseLock(path: string, id: string): Promise<void> {
  const current = await readLock(path);
  if (current?.id === id) await unlink(path).catch(() => {});
}

/** Whether the lock's holder is still at work: alive on this host, or on another host (which cannot be checked). */
export function lockHolderAlive(lock: LockInfo): boolean {
  return lock.host !== hostname() || isAlive(lock.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Removes the state folder's lock if it is the one named (Terraform's force-unlock); returns the holder it removed. */
export async function forceUnlock(stateDir: string, lockId: string): Promise<LockInfo> {
  const path = join(stateDir, 'lock');
  const holder = await readLock(path);
  if (!holder) throw new UserError(`${stateDir} is not locked`);
  if (holder.id !== lockId) throw new UserError(`the lock of ${stateDir} is ${holder.id}, not ${lockId}: nothing removed`);
  await unlink(path);
  return holder;
}
