import { closeSync, constants, fstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { EXIT } from '../model/exit-code.js';
import { UserError } from '../model/user-error.js';
import { fileText } from './file-text.js';

/**
 * Files holding a secret that the operator hands the tool: keys, passwords, the client secret, a
 * certificate with its private key (issue 17 item 17). Group or others being able to access one is
 * warned about, or refused with --strict-permissions. Messages name the file and its mode, never
 * its content.
 */

/** A file the tool refuses to use, naming the file and what to do. */
export class UnsafeFileError extends UserError {}

/** Refused for what it is, not for its content: a mode group or others can access (strict), or not a regular file. */
export class UnsafeModeError extends UnsafeFileError {}

export interface SecretFileOptions {
  /** Refuse (rather than warn about) a file group or others can access: --strict-permissions. */
  strict?: boolean;
  /** Refuse such a file whatever `strict` says (the shim's RADIUS clients file). */
  alwaysStrict?: boolean;
  /** Where the warning goes; without it a file others can read is used silently. */
  onNotice?: (message: string) => void;
  /** Refuse a pipe too (readCheckedFile's regularOnly): a file a running server reads again (the RADIUS clients file). */
  regularOnly?: boolean;
}

function failure(path: string, what: string, err: unknown): UnsafeFileError {
  return new UnsafeFileError(`cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, EXIT.error, { cause: err });
}

/** A regular file or a pipe (`<(pass show x)` hands one over without a file at all) is accepted; a directory or device is not. */
export function refuseOddFile(st: Stats, path: string, what: string): void {
  if (!st.isFile() && !st.isFIFO()) throw new UnsafeModeError(`${what} ${path} is not a regular file`);
}

/** What a file is that is not a regular one, for the refusal. */
export function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a pipe';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  return 'a device';
}

/** A file's permission bits as `ls -l` users write them for chmod: `0644`. */
export const modeText = (st: Stats): string => (st.mode & 0o777).toString(8).padStart(4, '0');

/** Warns about or refuses a secret file from its status. */
function checkStats(st: Stats, path: string, what: string, options: SecretFileOptions): void {
  refuseOddFile(st, path, what);
  if ((st.mode & 0o077) === 0) return;
  const mode = modeText(st);
  if (options.strict || options.alwaysStrict) {
    throw new UnsafeModeError(`${what} ${path} has mode ${mode}: group or others can access it; chmod 600 it`);
  }
  options.onNotice?.(`warning: ${what} ${path} has mode ${mode}: group or others can access it; chmod 600 it (--strict-permissions refuses such files)`);
}

/**
 * Reads a file `check` accepts from the status of the descriptor read (no window between the check
 * and the read; `check` throws an UnsafeFileError to refuse it). Symbolic links are followed:
 * secrets and configuration are often mounted so. `regularOnly`: anything but a regular file is
 * refused, and the open does not wait: opening a FIFO with no writer blocks, and a server reading
 * its clients or attributes file again would freeze whole (a review).
 */
export function readCheckedFile(path: string, what: string, check: (st: Stats) => void, regularOnly = false): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (regularOnly ? constants.O_NONBLOCK : 0));
  } catch (err) {
    throw failure(path, what, err);
  }
  try {
    const st = fstatSync(fd);
    if (regularOnly && !st.isFile()) throw new UnsafeModeError(`${what} ${path} is not a regular file (${kindOf(st)}): give a regular file`);
    check(st);
    return readFileSync(fd);
  } catch (err) {
    if (err instanceof UnsafeFileError) throw err;
    throw failure(path, what, err);
  } finally {
    closeSync(fd);
  }
}

/** Reads a file holding a secret, checked as checkStats says. */
export function readSecretFile(path: string, what: string, options: SecretFileOptions = {}): Buffer {
  return readCheckedFile(path, what, (st) => checkStats(st, path, what, options), options.regularOnly === true);
}

/**
 * A secret file's text (io/file-text.ts: UTF-8, or UTF-16 with its byte-order mark; UTF-16 without
 * one refused as "the WHAT PATH is UTF-16 text ..."), the bytes read zeroed whatever happens.
 */
export function readSecretText(path: string, what: string, options: SecretFileOptions = {}): string {
  const raw = readSecretFile(path, what, options);
  try {
    return fileText(raw, `the ${what} ${path}`);
  } finally {
    raw.fill(0);
  }
}

/**
 * The same check, from the file's status only, for a secret file another library reads by its path
 * (the certificate @azure/identity's ClientCertificateCredential loads when it first signs in).
 */
export function checkSecretFile(path: string, what: string, options: SecretFileOptions = {}): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw failure(path, what, err);
  }
  checkStats(st, path, what, options);
}
