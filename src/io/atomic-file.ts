import { randomBytes } from 'node:crypto';
import { lstat, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDirectory, writeFileSynced } from './fsync.js';
import { processState } from './process-start.js';
import { tempFileDone, tempFileOpen } from './temp-files-at-exit.js';

/**
 * Replaces `path` with `data` so that a crash leaves either the old or the new file, never a mix:
 * write a temporary file beside it (created 0600, never readable by others, even briefly), fsync it,
 * rename it over the target, then fsync the directory so the rename itself is durable. `data` may
 * be text made a chunk at a time (a large report), written as it is made rather than held whole.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<string>, mode = 0o600): Promise<void> {
  await (await stageFileAtomic(path, data, mode)).commit();
}

/**
 * A file written and synced beside its target, not yet renamed in: commit() puts it in place (a
 * failure after the rename, the folder's sync, is told by failedOncePlaced), discard() removes it.
 */
export interface StagedFile {
  readonly path: string;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

/**
 * The first half of writeFileAtomic: the temporary file written and fsynced, the target untouched.
 * Two outputs that must be both or neither (a plan and its report) are each staged, then committed:
 * a disk that fills while either is written leaves neither (each temporary file removed).
 */
export async function stageFileAtomic(path: string, data: string | Uint8Array | Iterable<string>, mode = 0o600): Promise<StagedFile> {
  // A device, pipe or symbolic link there would be replaced by a file, not written to (/dev/null, as root).
  const there = await lstat(path).catch(() => undefined);
  if (there && !there.isFile()) throw Object.assign(new Error(`${path} is not a regular file: it is replaced whole, not written through`), { code: 'ENOTREG' });
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  // Removed should the process end before it is renamed in or discarded (a Ctrl-C while a large report is written).
  tempFileOpen(temp);
  const discard = async (): Promise<void> => {
    await unlink(temp).catch(() => undefined);
    tempFileDone(temp);
  };
  try {
    await writeFileSynced(temp, data, { mode, exclusive: true });
  } catch (err) {
    await discard();
    throw err;
  }
  return {
    path,
    discard,
    commit: async () => {
      try {
        await rename(temp, path);
      } catch (err) {
        await discard();
        throw err;
      }
      tempFileDone(temp);
      // In place from here: a failure now (the folder's sync) must not be said as the file not written.
      await syncDirectory(dir).catch((err: unknown) => {
        if (err instanceof Error) placedFailures.add(err);
        throw err;
      });
      await removeLeftTemps(dir, basename(path));
    },
  };
}

const placedFailures = new WeakSet<Error>();

/** Whether a StagedFile's commit failed once its file was in place (its folder's sync), or `cause` of such a failure. */
export function failedOncePlaced(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if (placedFailures.has(e)) return true;
  return false;
}

/**
 * Temporary files of earlier writes of this file whose process is gone (killed between its write and
 * its rename): removed, so that a copy of what was written (a plan, a report) does not stay behind
 * hidden beside it. One of a process still running is its write in progress, and is left alone.
 */
async function removeLeftTemps(dir: string, name: string): Promise<void> {
  const prefix = `.${name}.`;
  const entries = await readdir(dir).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(entry.slice(prefix.length));
    if (!m || processState(Number(m[1])).running) continue;
    await unlink(join(dir, entry)).catch(() => undefined);
  }
}
