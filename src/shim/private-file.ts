import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { UserError } from '../model/user-error.js';

/**
 * The shim's own files as an attacker on the same host would try them (issue 17 items 10 and 17):
 * a symlink planted where the audit log goes, a key file left readable by everyone.
 */

/** A file the shim refuses to use, naming the file and what to do. */
export class UnsafeFileError extends UserError {}

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

export interface SecretFileOptions {
  /** Refuse (rather than warn about) a file group or others can read. */
  strict?: boolean;
  /** Refuse a file group or others can read whatever `strict` says (the RADIUS clients file). */
  alwaysStrict?: boolean;
  onNotice?: (message: string) => void;
}

/**
 * Reads a file holding a secret (store key, TLS key, API key, RADIUS secrets). Group or others
 * being able to read or write it is warned about, or refused with --strict-permissions (and always
 * for the RADIUS clients file). Symbolic links are followed: secrets are often mounted so.
 */
export function readSecretFile(path: string, what: string, options: SecretFileOptions = {}): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (err) {
    throw new UnsafeFileError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UnsafeFileError(`${what} ${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      if (options.strict || options.alwaysStrict) {
        throw new UnsafeFileError(`${what} ${path} has mode ${mode}: group or others can access it; chmod 600 it`);
      }
      options.onNotice?.(`warning: ${what} ${path} has mode ${mode}: group or others can access it; chmod 600 it (--strict-permissions refuses such files)`);
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
