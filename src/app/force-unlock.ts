import { join } from 'node:path';
import { hostname } from 'node:os';
import { forceUnlock, lockHolderAlive, readLock, type LockInfo } from '../apply/state-lock.js';
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
    // A holder still running here is at work: its lock gone, a second run would write the same
    // journal beside it (found by a black-box test: the journal was damaged for good).
    if (holder.host === hostname() && lockHolderAlive(holder)) {
      throw new UserError(
        `lock ${lockId} of ${dir} is held by ${holder.operation}, pid ${holder.pid}, still running on this host: stop it first (Ctrl-C lets it journal what is in flight); force-unlock removes only the lock of a process that is gone (killed, crashed, another host's)`,
      );
    }
    show(dir, holder);
    await forceUnlock(dir, lockId);
    return;
  }
  throw new UserError(`no lock ${lockId} in ${stateDir ?? 'any tenant folder of the state base'}`);
}
