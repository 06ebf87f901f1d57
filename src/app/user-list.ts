import { readFile } from 'node:fs/promises';
import { UserError } from '../model/user-error.js';

/**
 * The UPNs of a --users file, lower-cased: one per line (a CSV's first column), `#` comments and a
 * header (upn, username, userPrincipalName) skipped.
 */
export async function readUserList(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read --users ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.split(/[,;]/)[0]!.trim().toLowerCase())
    .filter((l) => l && !l.startsWith('#') && l !== 'upn' && l !== 'username' && l !== 'userprincipalname');
}
