import { accessSync, closeSync, constants, fstatSync, lstatSync, openSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { kindOf, UnsafeFileError } from '../io/secret-file.js';

/**
 * The files the shim writes as an attacker on the same host would try them (issue 17 item 10): a
 * symlink planted where the audit log goes, an output file others can read. (The key files it
 * reads go through io/secret-file.ts.)
 */

const uid = (): number | undefined => process.getuid?.();

/**
 * Every open of such a file: never through a symbolic link (O_NOFOLLOW), and never waiting on a
 * pipe (O_NONBLOCK: a FIFO planted at the audit log's path froze serve's start and its SIGHUP, a
 * black-box test). The open then returns at once and the file is refused for what it is. On a
 * regular file O_NONBLOCK changes nothing.
 */
const SAFE_OPEN = constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Why a file opened for the shim's output is unsafe, or undefined: a regular file, ours, 0600 or stricter. */
function unsafeOutput(st: Stats): string | undefined {
  if (!st.isFile()) return `is not a regular file (${kindOf(st)}): give a regular file`;
  const me = uid();
  if (me !== undefined && st.uid !== me) return `is owned by uid ${st.uid}, not by this user (uid ${me})`;
  if ((st.mode & 0o077) !== 0) return `has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}; chmod 600 it`;
  return undefined;
}

/** The refusal of a failed open: a symbolic link, a file that is no regular one (a pipe without a reader, a socket, a directory), else the code. */
function openFailure(err: unknown, path: string, what: string, action: string): UnsafeFileError {
  const code = (err as NodeJS.ErrnoException).code;
  // O_NOFOLLOW on a symbolic link fails with ELOOP.
  if (code === 'ELOOP') return new UnsafeFileError(`${what} ${path} is a symbolic link; refusing to ${action} it`);
  // A pipe no process reads (O_NONBLOCK), a socket, a directory opened for writing.
  if (code === 'ENXIO' || code === 'EISDIR' || code === 'EOPNOTSUPP') {
    const problem = statProblem(path);
    if (problem) return new UnsafeFileError(`${what} ${path} ${problem}`);
  }
  return new UnsafeFileError(`cannot open ${what} ${path} (${code ?? String(err)})`);
}

function statProblem(path: string): string | undefined {
  try {
    return unsafeOutput(lstatSync(path));
  } catch {
    return undefined;
  }
}

/** The descriptor kept if it is a private regular file of ours; else closed and refused. */
function checkedDescriptor(fd: number, path: string, what: string): number {
  const problem = unsafeOutput(fstatSync(fd));
  if (problem) {
    closeSync(fd);
    throw new UnsafeFileError(`${what} ${path} ${problem}`);
  }
  return fd;
}

/**
 * Opens (creating it 0600 if missing) a file the shim writes: never through a symbolic link
 * (O_NOFOLLOW), and only a regular file owned by this user with no access for group or others.
 * `flags` is e.g. O_APPEND for the audit log. Returns the descriptor.
 */
export function openPrivateOutput(path: string, what: string, flags: number): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | SAFE_OPEN | flags, 0o600);
  } catch (err) {
    throw openFailure(err, path, what, 'write through');
  }
  return checkedDescriptor(fd, path, what);
}

/**
 * Refuses, writing nothing (not even creating it), a file openPrivateOutput would refuse: a command
 * checks its audit log so before it changes the store, its journal or the database, so that a log it
 * cannot write stops it before the change, not after (a black-box test: import and unlock made their
 * change, then refused the log, leaving no audit line). A missing file passes when its directory
 * exists and can be written.
 */
export function checkPrivateOutput(path: string, what: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | SAFE_OPEN);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw openFailure(err, path, what, 'write through');
    try {
      accessSync(dirname(path), constants.W_OK | constants.X_OK);
    } catch (dirErr) {
      throw new UnsafeFileError(`cannot open ${what} ${path} (${(dirErr as NodeJS.ErrnoException).code ?? String(dirErr)})`);
    }
    return;
  }
  closeSync(checkedDescriptor(fd, path, what));
}

/** Refuses an existing path the shim is about to replace when it is not a private regular file of ours. */
export function checkReplaceable(path: string, what: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | SAFE_OPEN);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw openFailure(err, path, what, 'replace');
  }
  try {
    const problem = unsafeOutput(fstatSync(fd));
    if (problem) throw new UnsafeFileError(`${what} ${path} ${problem}`);
  } finally {
    closeSync(fd);
  }
}
