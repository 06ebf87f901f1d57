import { join } from 'node:path';
import { forceUnlock, readLock, type LockInfo } from '../apply/state-lock.js';
import { UserError } from '../model/user-error.js';
import { stateDirsToSearch } from './runs.js';

/**
 * `force-unlock LOCK_ID`: removes the state folder's lock of that id (one left by a process gone for
 * good, another host's say), once `show` has been given its holder. Only the lock of that id goes.
 */
export async function forceUnlockById(lockId: string, stateDir: string | undefined, show: (dir: string, holder: LockInfo) => void): Promise<void> {
  const { dirs } = await stateDirsToSearch(stateDir);
  for (const dir of dirs) {
    const holder = await readLock(join(dir, 'lock'));
    if (holder?.id !== lockId) continue;
    show(dir, holder);
    await forceUnlock(dir, lockId);
    return;
  }
  throw new UserError(`no lock ${lockId} in ${stateDir ?? 'any tenant folder of the state base'}`);
}
