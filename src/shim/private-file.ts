import { closeSync, constants, fstatSync, openSync, type Stats } from 'node:fs';
import { UnsafeFileError } from '../io/secret-file.js';

/**
 * The files the shim writes as an attacker on the same host would try them (issue 17 item 10): a
 * symlink planted where the audit log goes, an output file others can read. (The key files it
 * reads go through io/secret-file.ts.)
 */

const uid = (): number | undefined => process.getuid?.();

/** Why a file opened for the shim's output is unsafe, or undefined: a regular file, ours, 0600 or stricter. */
function unsafeOutput(st: Stats): string | undefined {
  if (!st.isFile()) return 'is not a regular file';
  const me = uid();
  if (me !== undefined && st.uid !== me) return `is owned by uid ${st.uid}, not by this user (uid ${me})`;
  if ((st.mode & 0o077) !== 0) return `has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}; chmod 600 it`;
  return undefined;
}

/**
 * Opens (creating it 0600 if missing) a file the shim writes: never through a symbolic link
 * (O_NOFOLLOW), and only a regular file owned by this user with no access for group or others.
 * `flags` is e.g. O_APPEND for the audit log. Returns the descriptor.
 */
export function openPrivateOutput(path: string, what: string, flags: number): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | flags, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // O_NOFOLLOW on a symbolic link fails with ELOOP.
    if (code === 'ELOOP') throw new UnsafeFileError(`${what} ${path} is a symbolic link; refusing to write through it`);
    throw new UnsafeFileError(`cannot open ${what} ${path} (${code ?? String(err)})`);
  }
  const problem = unsafeOutput(fstatSync(fd));
  if (problem) {
    closeSync(fd);
    throw new UnsafeFileError(`${what} ${path} ${problem}`);
  }
  return fd;
}

/** Refuses an existing path the shim is about to replace when it is not a private regular file of ours. */
export function checkReplaceable(path: string, what: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ELOOP') throw new UnsafeFileError(`${what} ${path} is a symbolic link; refusing to replace it`);
    throw new UnsafeFileError(`cannot open ${what} ${path} (${code ?? String(err)})`);
  }
  try {
    const problem = unsafeOutput(fstatSync(fd));
    if (problem) throw new UnsafeFileError(`${what} ${path} ${problem}`);
  } finally {
    closeSync(fd);
  }
}
