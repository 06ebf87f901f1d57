import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { StoreError } from './store-file.js';

/** Who holds a store: written into `<store>.lock`. */
export interface LockHolder {
  id: string;
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

/** The store is held by another live process (typically `shim serve`). */
export class StoreBusyError extends StoreError {
  override name = 'StoreBusyError';
  constructor(
    readonly store: string,
    readonly holder: LockHolder,
  ) {
    super(
      `${store} is in use by \`mfa-migrate ${holder.command}\` (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}); stop it first, or use its HTTP API`,
    );
  }
}

export const lockPathOf = (store: string): string => `${store}.lock`;

/**
 * One process at a time owns a store's state (the in-memory counters are the truth while it runs).
 * A lock left by a process that died on this host is taken over; one from another host is not.
 */
export class StoreLock {
  private constructor(
    readonly path: string,
    readonly holder: LockHolder,
  ) {}

  static async acquire(store: string, command: string): Promise<StoreLock> {
    const path = lockPathOf(store);
    const holder: LockHolder = {
      id: randomBytes(8).toString('hex'),
      pid: process.pid,
      host: hostname(),
      command,
      startedAt: new Date().toISOString(),
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx', 0o600);
        try {
          await handle.writeFile(JSON.stringify(holder) + '\n');
          await handle.sync();
        } finally {
          await handle.close();
        }
        return new StoreLock(path, holder);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new StoreError(`${path}: cannot create the lock file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        }
      }
      const current = await readHolder(path);
      if (current && isAlive(current)) throw new StoreBusyError(store, current);
      // Dead holder (or an unreadable, half-written lock): take it over.
      await unlink(path).catch(() => undefined);
    }
    throw new StoreError(`${path}: could not take the store lock (another process is racing for it)`);
  }

  /** Removes the lock if it is still ours. */
  async release(): Promise<void> {
    const current = await readHolder(this.path);
    if (current?.id === this.holder.id) await unlink(this.path).catch(() => undefined);
  }

  /** Synchronous release for process exit handlers. */
  releaseSync(): void {
    try {
      const current = JSON.parse(readFileSync(this.path, 'utf8')) as LockHolder;
      if (current.id === this.holder.id) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

/** The live process holding the store, if any. */
export async function liveHolder(store: string): Promise<LockHolder | undefined> {
  const holder = await readHolder(lockPathOf(store));
  return holder && isAlive(holder) ? holder : undefined;
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.id === 'string') return parsed as LockHolder;
  } catch {
    // missing or half-written
  }
  return undefined;
}

function isAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true; // cannot tell; assume it runs
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
