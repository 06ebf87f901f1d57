import { randomBytes } from 'node:crypto';
import { lstat, open, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { stateBase } from '../app/state-dirs.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { absoluteAsWritten, isWithin, sameFile } from '../io/same-file.js';
import { DEVICES_FILE, SETTINGS_FILE, USERS_FILE } from '../source/export-bundle.js';
import { UserError } from '../model/user-error.js';

/**
 * An output file a command was asked to write (`--out`, `--report`, `--results`), checked before
 * any work: an empty name, a folder, or a place this process cannot create a file in is refused
 * at once, rather than after minutes of reading or, for apply, after the tenant was written.
 * The check creates a file beside the target, writes a byte to it and removes it: `access()` says
 * yes to root on a read-only or pseudo file system.
 * Nor may it be in a state folder (`stateDir`, the command's --state-dir, or the state base of every
 * tenant's): written there, it replaced a run's journal or plan copy, its own or another's, or the
 * lock (a second-operator review: a resume's --results over its journal left the run unreadable).
 */
export async function checkOutputFile(flag: string, path: string | undefined, notTheSameAs: readonly string[] = [], stateDir?: string): Promise<void> {
  if (path === undefined) return;
  if (path.trim() === '') throw new UserError(`${flag}: the file name is empty`);
  // resolve() would drop the slash, and the write then fail on a "folder" that is not one.
  if (path.endsWith('/')) throw new UserError(`${flag} ${path}: ends with / (a folder); name a file`);
  // As the system will take it (`lnk/../x` is not `./x`): the probe and the checks where the write lands.
  const target = absoluteAsWritten(path);
  const st = await stat(target).catch(() => undefined);
  if (st?.isDirectory()) throw new UserError(`${flag} ${path}: is a folder; name a file`);
  await refuseIfNotRegular(flag, path);
  for (const dir of [...(stateDir !== undefined ? [stateDir] : []), stateBase()]) {
    if (await isWithin(target, dir)) throw new UserError(`${flag} ${path}: is in the state folder ${dir}, which holds the lock and the runs' journals and plan copies (a file written there can destroy a run's record); choose a path outside it`);
  }
  for (const other of notTheSameAs) {
    if (await sameFile(target, other)) throw new UserError(`${flag} ${path}: is the same file as ${other}, which this command reads or writes; name another file`);
  }
  const probe = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.probe`);
  try {
    await writeProbe(probe);
  } catch (err) {
    throw new UserError(`${flag} ${path}: cannot write in ${dirname(target)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  } finally {
    await unlink(probe).catch(() => undefined);
  }
}

/**
 * Creates the probe and writes one byte to it, flushed: an empty file needs only an inode, so a disk
 * that is 100% full passed a create-and-remove check and the run was sent, its results lost at the
 * end (a black-box test). A disk that fills during the run is still found only when the file is written.
 */
async function writeProbe(probe: string): Promise<void> {
  const fh = await open(probe, 'wx', 0o600);
  try {
    await fh.write(Buffer.of(0x0a));
    // Flushed: a file system that allocates on write-back (NFS, some FUSE) says ENOSPC only then.
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/**
 * The files a command reads that an output must never replace: the export's (users.csv, devices.csv,
 * settings.json), seed files and their key files (a results file written over the seeds would leave
 * no copy of them, a review found). A plan kept in the export folder may be written again.
 */
export function inputFiles(source: { dir?: string; tokens?: readonly string[]; pskcKeyFile?: string; pskcPasswordFile?: string; pskcKeyFiles?: readonly string[]; pskcPasswordFiles?: readonly string[] }): string[] {
  const inDir = source.dir ? [USERS_FILE, DEVICES_FILE, SETTINGS_FILE].map((f) => join(source.dir!, f)) : [];
  const keys = [source.pskcKeyFile, source.pskcPasswordFile, ...(source.pskcKeyFiles ?? []), ...(source.pskcPasswordFiles ?? [])].filter((f): f is string => f !== undefined);
  return [...inDir, ...(source.tokens ?? []), ...keys];
}

/**
 * An output file is replaced whole (written beside it, then renamed over it): a device, a pipe or a
 * symbolic link there would be replaced by a file, not written to (`/dev/null` made a 0600 file holding
 * the plan, for every process of the host, by a security review run as root). Refused, naming it.
 */
async function refuseIfNotRegular(flag: string, path: string): Promise<void> {
  const st = await lstat(absoluteAsWritten(path)).catch(() => undefined);
  if (!st || st.isFile()) return;
  const what = st.isSymbolicLink() ? 'a symbolic link' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isFIFO() ? 'a pipe' : st.isSocket() ? 'a socket' : 'not a regular file';
  throw new UserError(`${flag} ${path}: is ${what}; an output file is replaced whole, not written through: name a regular file (or a new one)`);
}

/** Writes an output file crash-safely (mode 0600), a failure said in one line naming the option and the file. */
export async function writeOutputFile(flag: string, path: string, data: string | Uint8Array): Promise<void> {
  // Checked again: what is there may have changed since the command began.
  await refuseIfNotRegular(flag, path);
  await asOutputError(flag, path, writeFileAtomic(path, data, 0o600));
}

/** A write of an output file, whatever writes it, failing with one line rather than an unexpected error. */
export async function asOutputError<T>(flag: string, path: string, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined) throw err;
    throw new UserError(`${flag} ${path}: cannot write it (${code})`, 1, { cause: err });
  }
}
