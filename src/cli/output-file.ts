import { randomBytes } from 'node:crypto';
import { open, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { UserError } from '../model/user-error.js';

/**
 * An output file a command was asked to write (`--out`, `--report`, `--results`), checked before
 * any work: an empty name, a folder, or a place this process cannot create a file in is refused
 * at once, rather than after minutes of reading or, for apply, after the tenant was written.
 * The check creates and removes a file beside the target: `access()` says yes to root on a
 * read-only or pseudo file system.
 */
export async function checkOutputFile(flag: string, path: string | undefined): Promise<void> {
  if (path === undefined) return;
  if (path.trim() === '') throw new UserError(`${flag}: the file name is empty`);
  // resolve() would drop the slash, and the write then fail on a "folder" that is not one.
  if (path.endsWith('/')) throw new UserError(`${flag} ${path}: ends with / (a folder); name a file`);
  const target = resolve(path);
  const st = await stat(target).catch(() => undefined);
  if (st?.isDirectory()) throw new UserError(`${flag} ${path}: is a folder; name a file`);
  const probe = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.probe`);
  try {
    await (await open(probe, 'wx', 0o600)).close();
  } catch (err) {
    throw new UserError(`${flag} ${path}: cannot write in ${dirname(target)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  await unlink(probe).catch(() => undefined);
}

/** Writes an output file crash-safely (mode 0600), a failure said in one line naming the option and the file. */
export async function writeOutputFile(flag: string, path: string, data: string | Uint8Array): Promise<void> {
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
