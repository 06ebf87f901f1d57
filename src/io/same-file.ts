import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';

/**
 * The path made absolute as the system will take it, its `..` left in place: `lnk/../x` is the
 * folder above where `lnk` points, while resolve() tidies it to `./x` as text (a review: a
 * --results of `lnk/../RUN/journal.jsonl` passed the state-folder check and replaced a journal).
 */
export function absoluteAsWritten(path: string): string {
  return isAbsolute(path) ? path : `${process.cwd()}${sep}${path}`;
}

/**
 * A path with its symbolic links and `..` resolved as far as it exists: the nearest folder (or
 * file) that exists is resolved, the names below it kept, so a file or folder not made yet is
 * placed where it would be made.
 */
async function realPlace(path: string): Promise<string> {
  const abs = absoluteAsWritten(path);
  try {
    return await realpath(abs);
  } catch {
    const parent = dirname(abs);
    // A name not made yet: its `..` (the folder above a missing one) goes as the system would not
    // reach it anyway; a name below an existing folder is placed below that folder's real place.
    return parent === abs ? abs : join(await realPlace(parent), basename(abs));
  }
}

/**
 * Whether two paths name one file: by device and inode when both exist (a hard link or a folder's
 * other name is no way round it), else by their real places (a file not there yet).
 */
export async function sameFile(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  if (sa && sb) return sa.dev === sb.dev && sa.ino === sb.ino;
  return (await realPlace(a)) === (await realPlace(b));
}

/** Whether `path` is `folder` or anywhere below it, each resolved through symbolic links and `..`. */
export async function isWithin(path: string, folder: string): Promise<boolean> {
  const rel = relative(await realPlace(folder), await realPlace(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
