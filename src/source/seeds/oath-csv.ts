import type { OathAlgorithm, OathSeed, OathType } from '../../model/export-data.js';
import type { ProblemList, Where } from '../../model/problem.js';
import { leftOutAt } from '../seed-left-out.js';
import { DEFAULT_CSV_LIMITS, type CsvLimits } from '../csv-limits.js';
import { DIGITS_MAX, DIGITS_MIN, PERIOD_MAX, digitsMessage, parseCounter, parseInteger, parseOathType } from './oath-parameters.js';
import { makeOathSeed, wipeSeeds } from './oath-seed.js';
import { warnIfCounterNearEnd } from './counter-headroom.js';
import { composedUsername } from '../../model/username.js';
import { readCsvRows, reportCsvReadFailure } from './seed-csv-rows.js';
import { parseHeaderLine } from './seed-csv-header.js';
import { decodeHex } from './secret-encoding.js';
import { shownValue } from '../../model/shown-value.js';
import { refuseSecretLikeCell } from './secret-like-cell.js';
import { refuseExcelScientificSerial } from '../excel-scientific.js';
import { refuseEncodedTwice } from './secret-suspect.js';

/**
 * The headerless OATH token CSV that LinOTP and privacyIDEA import and export, one token a line:
 *
 *     serial, key, type, digits, period or counter
 *
 * The key is hex; the type `hotp` (the default when the line stops after the key) or `totp`; digits
 * default to 6; the fifth cell is the TOTP period (default 30) or the HOTP counter (default 0).
 * privacyIDEA's `# version: 2` files put user, resolver and realm before these. Lines starting with
 * `#` are comments; spaces after the commas are allowed. The hash follows the key length, as
 * privacyIDEA reads these files: 32 bytes SHA-256, 64 bytes SHA-512, otherwise SHA-1 (28 and 48
 * bytes mean SHA-224 and SHA-384, which no target here takes: refused). Other token types the
 * format carries (ocra, tan, ...) are left out with a warning.
 */

/** The cells of a line, after version 2's user, resolver and realm. */
const FIELDS = ['serial', 'key', 'type', 'digits', 'period or counter'] as const;
/** privacyIDEA's version 2 cells before them. */
const V2_OWNER = ['user', 'resolver', 'realm'] as const;

/** Recognises the format from the start of a file with no header: `hotp` or `totp` as a line's type (quoted or not). */
export function sniffOathCsv(head: string): { version: 1 | 2 } | null {
  const lines = head.split(/\r?\n/);
  const version = /^\s*#\s*version:\s*2\s*$/i.test(lines[0] ?? '') ? 2 : 1;
  const typeColumn = version === 2 ? 5 : 2;
  // A file of `serial, key` lines only (HOTP by default) is one too, when every line looks so: a
  // hex key of 16 bytes or more in the key's cell, nothing after it (another headerless CSV is not).
  let keysOnly = 0;
  let other = false;
  for (const line of lines) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    // Cells trimmed and unquoted (`"totp"` is totp), as privacyIDEA's import (Python's csv module) reads them.
    const cells = parseHeaderLine(t, ',');
    if (!cells) {
      other = true;
      continue;
    }
    const type = cells[typeColumn]?.toLowerCase();
    if (type === 'hotp' || type === 'totp') return { version };
    if (cells.length === typeColumn && cells[0] !== '' && /^(?:[0-9a-f]{2}){16,}$/i.test(cells[typeColumn - 1] ?? '')) keysOnly++;
    else other = true;
  }
  return keysOnly > 0 && !other ? { version } : null;
}

export async function readOathCsv(path: string, display: string, version: 1 | 2, problems: ProblemList, limits: CsvLimits = DEFAULT_CSV_LIMITS): Promise<OathSeed[]> {
  const seeds: OathSeed[] = [];
  const skip = version === 2 ? 3 : 0;
  try {
    for await (const { line, cells } of readCsvRows(path, ',', limits, { comments: true, columns: version === 2 ? [...V2_OWNER, ...FIELDS] : FIELDS })) {
      const where = (i?: number): Where => (i === undefined ? { file: display, line } : { file: display, line, field: FIELDS[i]! });
      const cell = (i: number): string => cells[skip + i] ?? '';
      const serial = cell(0);
      if (serial === '') {
        problems.warning('value-invalid', where(0), 'the line has no serial; it is skipped');
        continue;
      }
      // Before any message names the token: a key in the serial's place must not become its name.
      if (refuseSecretLikeCell(serial, 'serial', 'serial', problems, where(0), 'line')) continue;
      if (refuseExcelScientificSerial(serial, 'serial', problems, where(0), 'line')) continue;
      // From here on each problem that skips the line carries its serial (Problem.serial): the token's user is told why it has no seed.
      if (version === 2 && refuseSecretLikeCell(cells[0] ?? '', 'user', 'name', problems, leftOutAt({ file: display, line, field: 'user' }, serial), 'line')) continue;
      if (cells.length < skip + 2 || cell(1) === '') {
        problems.error('secret-invalid', leftOutAt(where(1), serial), `token ${serial} has no key; the line is skipped`);
        continue;
      }
      const typeText = cells.length > skip + 2 ? cell(2) : 'hotp';
      const type: OathType | null = parseOathType(typeText);
      if (type === null) {
        problems.warning('value-invalid', leftOutAt(where(2), serial), `token ${serial} is of type ${shownValue(typeText)}, not HOTP or TOTP; it is left out`);
        continue;
      }
      let ok = true;
      const bad = (i: number, message: string): void => {
        problems.error('value-invalid', leftOutAt(where(i), serial), `${message}; the line of token ${serial} is skipped`);
        ok = false;
      };
      let digits = 6;
      if (cell(3) !== '') {
        const d = parseInteger(cell(3), DIGITS_MIN, DIGITS_MAX);
        if (d === null) bad(3, digitsMessage('digits', cell(3)));
        else digits = d;
      }
      let period: number | null = null;
      let counter: bigint | null = null;
      if (type === 'totp') {
        period = cell(4) === '' ? 30 : parseInteger(cell(4), 1, PERIOD_MAX);
        if (period === null) bad(4, `the period must be a whole number of seconds from 1 to ${PERIOD_MAX}`);
      } else {
        counter = cell(4) === '' ? 0n : parseCounter(cell(4));
        if (counter === null) bad(4, 'the counter must be a whole number from 0 to 18446744073709551615 (2^64 - 1)');
      }
      const bytes = decodeHex(cell(1));
      if (bytes === null) {
        problems.error('secret-invalid', leftOutAt(where(1), serial), `the key of token ${serial} is not valid hex (an even number of 0-9, a-f); the line is skipped`);
        continue;
      }
      if (refuseEncodedTwice(bytes, 'key', serial, problems, where(1), 'line')) continue;
      const algorithm = hashForKeyLength(bytes.length);
      if (algorithm === null) bad(1, `a ${bytes.length}-byte key means SHA-${bytes.length === 28 ? 224 : 384} in this format, which is not supported`);
      if (!ok || algorithm === null) {
        bytes.fill(0);
        continue;
      }
      const user = version === 2 ? composedUsername(cells[0] ?? '') : '';
      if (counter !== null) warnIfCounterNearEnd(serial, counter, problems, where(4));
      seeds.push(makeOathSeed({ serial, type, algorithm, digits, period, counter, user, source: display, line, serialField: FIELDS[0], secretField: FIELDS[1] }, bytes, problems, where(1)));
    }
  } catch (err) {
    if (!reportCsvReadFailure(err, display, problems)) throw err;
    return wipeSeeds(seeds);
  }
  return seeds;
}

/** privacyIDEA's rule: the hash is told by the key length. */
function hashForKeyLength(bytes: number): OathAlgorithm | null {
  if (bytes === 32) return 'sha256';
  if (bytes === 64) return 'sha512';
  if (bytes === 28 || bytes === 48) return null;
  return 'sha1';
}
