import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * A path with its symbolic links and `..` resolved as far as it exists: the nearest folder (or
 * file) that exists is resolved, the names below it kept, so a file or folder not made yet is
 * placed where it would be made.
 */
export async function realPlace(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await realpath(abs);
  } catch {
    const parent = dirname(abs);
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
