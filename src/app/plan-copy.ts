import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { syncDirectory, syncFile } from '../io/fsync.js';
import { identityAlive, ownIdentity, type ProcessIdentity } from '../io/process-start.js';

/**
 * The private plan copies apply reads (`apply PLANFILE`, `apply --source`) sit in the state folder
 * until the run ends. A killed apply cannot remove its own, and at 100,000 users each is about
 * 100 MB: so a copy's name says which process made it, and a copy whose process is gone from this
 * host is removed by the next apply, resume or rollback. Copies made on another host (a shared state folder) are kept.
 */
const PREFIX = '.plan-';

/** A new name for this process's copy (or, for tests, another's), in `stateDir`. */
export function planCopyPath(stateDir: string, who: ProcessIdentity = ownIdentity()): string {
  return join(stateDir, `${PREFIX}${Buffer.from(JSON.stringify(who)).toString('base64url')}-${randomBytes(6).toString('hex')}.jsonl`);
}

/**
 * Copies the plan file `source` to `copy` (a new name: never over another file), 0600, and fsyncs
 * the copy and its folder. A run's folder hard-links this copy and is renamed in once the copy and
 * the journal's first line are on disk: unsynced, a power cut could keep the journal and leave the
 * copy empty, a run that can then neither be resumed nor rolled back without the original plan.
 */
export async function copyPlanDurably(source: string, copy: string): Promise<void> {
  await copyFile(source, copy, constants.COPYFILE_EXCL);
  await syncFile(copy, 0o600);
  await syncDirectory(dirname(copy));
}

/** Removes the copies left by processes that no longer run on this host; returns how many. */
export async function removeAbandonedPlanCopies(stateDir: string): Promise<number> {
  let removed = 0;
  for (const name of await readdir(stateDir).catch(() => [] as string[])) {
    const owner = ownerOf(name);
    if (owner && !identityAlive(owner)) {
      await unlink(join(stateDir, name)).then(
        () => removed++,
        () => undefined,
      );
    }
  }
  return removed;
}

/** The process a copy's name records; undefined for any other file (or a copy from an older version, which names none). */
function ownerOf(name: string): ProcessIdentity | undefined {
  const m = /^\.plan-([A-Za-z0-9_-]+)-[0-9a-f]{12}\.jsonl$/.exec(name);
  if (!m) return undefined;
  try {
    const who = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as Partial<ProcessIdentity>;
    if (!Number.isSafeInteger(who.pid) || typeof who.host !== 'string') return undefined;
    if (who.processStart !== undefined && typeof who.processStart !== 'string') return undefined;
    return { pid: who.pid!, host: who.host, ...(who.processStart ? { processStart: who.processStart } : {}) };
  } catch {
    return undefined;
  }
}
