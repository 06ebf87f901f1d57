import { open } from 'node:fs/promises';
import type { ProblemCode } from '../../model/problem.js';
import { DEFAULT_CSV_LIMITS, fileTooLargeMessage, type CsvLimits } from '../csv-limits.js';
import { DEFAULT_MAX_XML_BYTES } from './pskc-reader.js';
import { sniffOathCsv } from './oath-csv.js';
import { looksLikeUtf16 } from '../../io/utf16.js';
import { detectDelimiter, ENTRA_COLUMNS, GENERIC_COLUMNS, hasEntraColumns, normalizeHeader, parseHeaderLine, seedCsvKind } from './seed-csv-header.js';
import type { SeedCsvShape } from './seed-csv-file.js';
import { csvPreamble } from '../csv-delimiter.js';
import { secretLikeCell } from './secret-like-cell.js';
import { shownValue } from '../../model/shown-value.js';

export type SniffedSeedFile =
  | { kind: 'pskc' }
  | ({ kind: 'entra' | 'generic' } & SeedCsvShape)
  | { kind: 'oath-csv'; version: 1 | 2 }
  | { kind: 'problem'; code: ProblemCode; message: string; line?: number };

const HEAD_BYTES = 64 * 1024;

/**
 * Tells the seed file format from the content, never the extension: XML (first non-blank character
 * `<`) is PSKC; otherwise the first non-blank line must be a CSV header naming the serial and secret
 * columns, or the file must be LinOTP's and privacyIDEA's headerless OATH CSV (`hotp` or `totp` as
 * a line's third cell). Any other headerless CSV is refused without quoting its first line, which
 * would hold a secret.
 */
export async function sniffSeedFile(path: string, maxXmlBytes = DEFAULT_MAX_XML_BYTES, csvCaps: CsvLimits = DEFAULT_CSV_LIMITS): Promise<SniffedSeedFile> {
  let head: Buffer;
  let size: number;
  try {
    const handle = await open(path, 'r');
    try {
      const stat = await handle.stat();
      if (stat.isDirectory()) return { kind: 'problem', code: 'file-unreadable', message: 'is a directory, not a seed file' };
      size = stat.size;
      const buf = Buffer.alloc(HEAD_BYTES);
      const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT') return { kind: 'problem', code: 'file-missing', message: 'the seed file does not exist' };
    if (code === 'EISDIR') return { kind: 'problem', code: 'file-unreadable', message: 'is a directory, not a seed file' };
    return { kind: 'problem', code: 'file-unreadable', message: `cannot read the seed file (${code})` };
  }

  if (head.length === 0) return { kind: 'problem', code: 'seed-format-unknown', message: 'the seed file is empty' };
  if (looksLikeUtf16(head)) {
    return { kind: 'problem', code: 'seed-format-unknown', message: 'the seed file is UTF-16 text; save it as UTF-8 and try again' };
  }
  if (head.includes(0)) {
    return { kind: 'problem', code: 'seed-format-unknown', message: 'the seed file is binary (GPG-encrypted or zipped?); give the plain PSKC or CSV file' };
  }
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const start = text.search(/\S/);
  if (start === -1) return { kind: 'problem', code: 'seed-format-unknown', message: 'the seed file holds only blank space' };

  // Vendors send seeds PGP-encrypted (Token2: "encrypted with a PGP or GPG public key"), as a binary
  // .gpg (refused above) or in ASCII armour (.asc): said so, with the way to the plain file.
  const armour = /^-----BEGIN PGP (SIGNED )?MESSAGE-----/.exec(text.slice(start, start + 40));
  if (armour !== null) {
    const line = 1 + (text.slice(0, start).match(LINE_END)?.length ?? 0);
    const what = armour[1] === undefined ? 'PGP-encrypted (in ASCII armour)' : 'PGP-signed (in ASCII armour)';
    return { kind: 'problem', code: 'seed-format-unknown', line, message: `the seed file is ${what}: decrypt it with gpg --decrypt into a file only you can read (umask 077), and give that plain PSKC or CSV file` };
  }
  if (text[start] === '<') {
    if (size > maxXmlBytes) {
      return { kind: 'problem', code: 'pskc-unsafe', message: `the PSKC file is ${size} bytes, more than the ${maxXmlBytes}-byte limit; it is refused` };
    }
    return { kind: 'pskc' };
  }

  // Excel's `sep=;` line (and PowerShell's `#TYPE`) before the header, as users.csv takes them.
  const preamble = csvPreamble(text.slice(start));
  const headerLine = 1 + (text.slice(0, start).match(LINE_END)?.length ?? 0) + preamble.lines;
  const lineEnd = preamble.header.search(/\r\n|\n|\r/);
  const firstLine = lineEnd === -1 ? preamble.header : preamble.header.slice(0, lineEnd);
  const delimiter = preamble.delimiter ?? detectDelimiter(firstLine);
  const header = parseHeaderLine(firstLine, delimiter);
  const kind = header === null ? null : seedCsvKind(header);
  if (kind === null) {
    // The whole head, unless the file goes on past it (then its last line may be cut short).
    const oath = sniffOathCsv(size > head.length ? text.slice(start, text.lastIndexOf('\n') + 1) : text.slice(start));
    if (oath !== null) {
      if (size > csvCaps.maxFileBytes) return { kind: 'problem', code: 'file-unreadable', message: fileTooLargeMessage(size, csvCaps) };
      return { kind: 'oath-csv', version: oath.version };
    }
    const unmatched = header === null ? null : unmatchedHeader(header);
    if (unmatched !== null) return { kind: 'problem', code: 'seed-format-unknown', line: headerLine, message: unmatched };
    return {
      kind: 'problem',
      code: 'seed-format-unknown',
      // The line that was neither a known header nor an OATH CSV line (never quoted: it may be a secret).
      line: headerLine,
      message:
        'not a recognised seed file: expected PSKC XML (RFC 6030 or its drafts), Entra\'s OATH upload CSV (header "upn,serial number,secret key,time interval,manufacturer,model"), a seed CSV whose header names a serial and a secret column, or the LinOTP/privacyIDEA OATH CSV (serial, hex key, hotp|totp, digits[, period or counter], no header)',
    };
  }
  if (size > csvCaps.maxFileBytes) return { kind: 'problem', code: 'file-unreadable', message: fileTooLargeMessage(size, csvCaps) };
  // Entra's columns read by the generic reader (a parameter Entra's format lacks added): their secret key stays Base32.
  const entraColumns = kind === 'generic' && hasEntraColumns(new Set(header!.map(normalizeHeader)));
  return { kind, delimiter, headerLine, ...(entraColumns ? { entraColumns } : {}) };
}

const LINE_END = /\r\n|\n|\r/g;

/**
 * Why a first line that is a header (it names at least one column the seed CSVs know) is not one of
 * theirs: the columns it has and the one(s) it lacks, so that a header such as `Serial No,Hex Key` is
 * told what to rename. Null when the line does not read as a header: a headerless file's first line
 * is data (a secret, perhaps) and is never quoted. A name that could be key material is not shown.
 */
function unmatchedHeader(cells: string[]): string | null {
  const names = cells.map(normalizeHeader);
  const known = new Set<string>([...Object.values(GENERIC_COLUMNS).flat(), ...Object.values(ENTRA_COLUMNS).flat()]);
  if (!names.some((n) => known.has(n))) return null;
  const has = (aliases: readonly string[]) => names.some((n) => aliases.includes(n));
  const shown = cells.map((c) => (c.trim() === '' ? '(an empty name)' : secretLikeCell(c, 'name') !== null ? '(a name not shown)' : shownValue(c)));
  const lacks = [
    ...(has(GENERIC_COLUMNS.serial) ? [] : [`serial column (named ${aliasList(GENERIC_COLUMNS.serial)})`]),
    ...(has(GENERIC_COLUMNS.secret) ? [] : [`secret column (named ${aliasList(GENERIC_COLUMNS.secret)}; a hex or Base32 seed, its encoding in an encoding column)`]),
  ];
  return `not a recognised seed CSV: its header has the column(s) ${shown.join(', ')} but no ${lacks.join(' and no ')}. Rename the column(s) to one of those names (Entra's upload CSV is "upn,serial number,secret key,time interval,manufacturer,model")`;
}

/** `serial, serial number, serialno or sn`, from the normalised aliases (as written in docs/seed-formats.md). */
function aliasList(aliases: readonly string[]): string {
  const words = aliases.map((a) => ALIAS_WORDS[a] ?? a);
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

const ALIAS_WORDS: Record<string, string> = {
  serialnumber: 'serial number',
  tokenserial: 'token serial',
  tokenserialnumber: 'token serial number',
  secretkey: 'secret key',
  otpkey: 'otp key',
  tokenseed: 'token seed',
};
