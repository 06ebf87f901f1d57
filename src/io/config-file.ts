import type { Stats } from 'node:fs';
import { fileText } from './file-text.js';
import { modeText, readCheckedFile, refuseOddFile, UnsafeModeError } from './secret-file.js';

/**
 * Configuration that grants something though it holds no secret (the shim's RADIUS reply
 * attributes: the Class and Filter-Id VPN policy keys on). Anyone may read it; whoever can write it
 * decides what users get. So it is refused when group or others can write it, or when it belongs to
 * another user than this process's, root aside (root can change any file anyway). Messages name the
 * file and the fix.
 */
function checkConfigStats(st: Stats, path: string, what: string): void {
  refuseOddFile(st, path, what);
  if ((st.mode & 0o022) !== 0) throw new UnsafeModeError(`${what} ${path} has mode ${modeText(st)}: group or others can write it; chmod go-w ${path}`);
  // No uid where the platform has none (Windows).
  const me = process.getuid?.();
  if (me !== undefined && st.uid !== me && st.uid !== 0) {
    throw new UnsafeModeError(`${what} ${path} is owned by uid ${st.uid}, not by this user (uid ${me}) or root: its owner can change it; chown it to one of them`);
  }
}

/** The text of such a file (io/file-text.ts: UTF-8, or UTF-16 with its byte-order mark), checked on the descriptor read. */
export function readGuardedConfigText(path: string, what: string): string {
  // A regular file only: a server reads it again on a reload, and a pipe's open would freeze it.
  return fileText(readCheckedFile(path, what, (st) => checkConfigStats(st, path, what), true), `the ${what} ${path}`);
}
