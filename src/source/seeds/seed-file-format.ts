import { open } from 'node:fs/promises';
import type { ProblemCode } from '../../model/problem.js';
import { DEFAULT_CSV_LIMITS, fileTooLargeMessage, type CsvLimits } from '../csv-limits.js';
import { DEFAULT_MAX_XML_BYTES } from './pskc-reader.js';
import { sniffOathCsv } from './oath-csv.js';
import { looksLikeUtf16 } from '../utf16.js';
import { detectDelimiter, parseHeaderLine, seedCsvKind, type CsvDelimiter } from './seed-csv-header.js';

export type SniffedSeedFile =
  | { kind: 'pskc' }
  | { kind: 'entra' | 'generic'; delimiter: CsvDelimiter }
  | { kind: 'oath-csv'; version: 1 | 2 }
  | { kind: 'problem'; code: ProblemCode; message: string };

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

  if (text[start] === '<') {
    if (size > maxXmlBytes) {
      return { kind: 'problem', code: 'pskc-unsafe', message: `the PSKC file is ${size} bytes, more than the ${maxXmlBytes}-byte limit; it is refused` };
    }
    return { kind: 'pskc' };
  }

  const lineEnd = text.indexOf('\n', start);
  const firstLine = (lineEnd === -1 ? text.slice(start) : text.slice(start, lineEnd)).replace(/\r$/, '');
  const delimiter = detectDelimiter(firstLine);
  const header = parseHeaderLine(firstLine, delimiter);
  const kind = header === null ? null : seedCsvKind(header);
  if (kind === null) {
    // The whole head, unless the file goes on past it (then its last line may be cut short).
    const oath = sniffOathCsv(size > head.length ? text.slice(start, text.lastIndexOf('\n') + 1) : text.slice(start));
    if (oath !== null) {
      if (size > csvCaps.maxFileBytes) return { kind: 'problem', code: 'file-unreadable', message: fileTooLargeMessage(size, csvCaps) };
      return { kind: 'oath-csv', version: oath.version };
    }
    return {
      kind: 'problem',
      code: 'seed-format-unknown',
      message:
        'not a recognised seed file: expected PSKC XML (RFC 6030 or its drafts), Entra\'s OATH upload CSV (header "upn,serial number,secret key,time interval,manufacturer,model"), a seed CSV whose header names a serial and a secret column, or the LinOTP/privacyIDEA OATH CSV (serial, hex key, hotp|totp, digits[, period or counter], no header)',
    };
  }
  if (size > csvCaps.maxFileBytes) return { kind: 'problem', code: 'file-unreadable', message: fileTooLargeMessage(size, csvCaps) };
  return { kind, delimiter };
}
