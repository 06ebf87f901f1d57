import type { ProblemList } from '../model/problem.js';
import { quotedCell } from './quoted-cell.js';

/**
 * Usernames holding `?`, the mark of an export written as ASCII: Windows PowerShell 5.1's Export-Csv
 * writes ASCII unless given -Encoding, and writes each letter it cannot encode (ü, é, ß) as `?`. No
 * UPN or sAMAccountName holds one, so such a user is matched to no one. Each row is an error (the
 * user's, in their plan too); the file's first says once what happened and what to do, so that the
 * rows need not (an export of 10,000 such users would otherwise say it 10,000 times).
 */
export class AsciiExportNames {
  #told = false;

  constructor(
    private readonly file: string,
    private readonly problems: ProblemList,
  ) {}

  /** Whether the username holds `?` (reported if so). */
  check(username: string, line: number): boolean {
    if (!username.includes('?')) return false;
    if (!this.#told) {
      this.#told = true;
      this.problems.error(
        'username-invalid',
        { file: this.file, field: 'username' },
        `usernames hold "?" (the first on line ${line}), which no UPN or sAMAccountName holds, so no tenant user will be found for them: the file was probably written as ASCII, which writes each letter it cannot encode (ü, é, ß) as "?" (Windows PowerShell 5.1's Export-Csv does unless told otherwise); export it again with -Encoding UTF8. Each such row is listed`,
      );
    }
    this.problems.error('username-invalid', { file: this.file, line, field: 'username' }, `username ${quotedCell(username)} holds "?", which no UPN or sAMAccountName holds: a letter lost to an ASCII export (export again with -Encoding UTF8)`);
    return true;
  }
}
