import { readFile } from 'node:fs/promises';
import { fileText } from '../io/file-text.js';
import { printable } from '../model/printable.js';
import { shownValue } from '../model/shown-value.js';
import { UserError } from '../model/user-error.js';
import { composedUsername } from '../model/username.js';

/**
 * The usernames of a --users file (the export's: UPNs, or `CORP\\alice`), lower-cased and composed
 * as the export's usernames are (a decomposed ü names the same user): one per line, `#` comments
 * and a header (upn, username, userPrincipalName) skipped. A line holding `,` or `;` is refused: no
 * name a user can be found by holds either (Entra's UPN characters leave them out, as AD's
 * sAMAccountName rule does), so it is a list or a CSV row, and taking its first field (as once was
 * done) dropped the rest of a list without a word. UTF-16 with its byte-order mark is read too
 * (PowerShell 5.1's `Get-Content ... > users.txt`), UTF-16 without one refused by name (io/file-text.ts):
 * read as UTF-8, each name had a NUL between its letters and matched no user.
 */
export async function readUserList(path: string): Promise<string[]> {
  return (await readUserNames(path)).map((n) => n.name);
}

/**
 * The names of a --users file as readUserList reads them (`name`, lower case), each with its spelling
 * in the file (`given`, composed): what `status --users` shows, as `status --source` shows the export's.
 */
export async function readUserNames(path: string): Promise<{ name: string; given: string }[]> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (err) {
    throw new UserError(`cannot read --users ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const text = fileText(raw, `--users ${printable(path)}`);
  const names: { name: string; given: string }[] = [];
  const several: { line: number; text: string }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const given = composedUsername(raw.trim());
    const name = given.toLowerCase();
    if (!name || name.startsWith('#') || name === 'upn' || name === 'username' || name === 'userprincipalname') return;
    if (/[,;]/.test(name)) several.push({ line: i + 1, text: raw.trim() });
    else names.push({ name, given });
  });
  if (several.length > 0) {
    const lines = firstTenOf(several, (s) => String(s.line));
    // Only the first field is shown, and as a value from a file is (a seed CSV given by mistake holds a key after its serial).
    const first = several[0]!.text.split(/[,;]/)[0]!.trim();
    throw new UserError(`--users ${printable(path)}: ${several.length === 1 ? 'line' : 'lines'} ${lines} ${several.length === 1 ? 'holds' : 'hold'} "," or ";", which no Entra UPN or sAMAccountName holds (line ${several[0]!.line} begins ${printable(shownValue(first))}): give one username a line (of a CSV, its username column alone)`);
  }
  // An empty list is a mistake (a file not yet filled, /dev/null), never "no user": apply would still
  // send the plan's policy changes and use the plan up (a black-box test saw it).
  if (names.length === 0) throw new UserError(`--users ${path} names no user (it is empty, or holds only comments and a header): give a file with one username a line`);
  return names;
}

/** A list as a message shows it: the first ten, each as `show` gives it, and how many more. */
export function firstTenOf<T>(items: readonly T[], show: (item: T) => string): string {
  return items.slice(0, 10).map(show).join(', ') + (items.length > 10 ? `, and ${items.length - 10} more` : '');
}

/**
 * Names from a --users file, as a message shows them: the first ten, and how many more; each shown
 * escaped (model/printable.ts), so that a name holding an escape sequence cannot drive the terminal.
 */
export function namedUsers(names: readonly string[]): string {
  return firstTenOf(names, (n) => printable(n));
}

/**
 * What to say of --users names no row of the export has, naming the first few: the file names users by
 * the export's username, so a user matched by an on-premises name (`CORP\alice`) is listed so, not by
 * the Entra UPN the plan shows beside it.
 */
export function unknownUsersText(unknown: readonly string[], file: string): string {
  return `--users ${printable(file)}: ${unknown.length} name(s) no row of the export has: ${namedUsers(unknown)} (the file names users by the export's username: one matched by an on-premises name, such as CORP\\alice, is listed by that name, not by its Entra UPN)`;
}

/**
 * Checks a --users file's names against the export's usernames, for plan and status alike: a file
 * with none of them is refused (a scope of nobody), and the names no row has are said once through
 * `log` (they are left out of the scope by the caller, which keeps only export users).
 */
export function checkListedUsers(listed: readonly string[], exportUsernames: Iterable<string>, file: string, log: ((line: string) => void) | undefined): void {
  const known = new Set<string>();
  for (const u of exportUsernames) known.add(u.toLowerCase());
  const unknown = listed.filter((u) => !known.has(u));
  if (unknown.length === 0) return;
  const why = unknownUsersText(unknown, file);
  // Not one of them in the export: a plan or status of nobody is none (a black-box test got "0 user(s) in scope", exit 0).
  if (unknown.length === listed.length) throw new UserError(why);
  log?.(`Note: ${why}; they are ignored`);
}
