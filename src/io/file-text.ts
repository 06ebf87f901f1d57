import { UserError } from '../model/user-error.js';
import { looksLikeUtf16 } from './utf16.js';

/** A file saved as UTF-16 without a byte-order mark: its encoding cannot be told, so it is not guessed at. */
export class FileEncodingError extends UserError {}

/**
 * The text of a small file written by hand: a secret file (the client secret, a PSKC key or
 * password) or a --users list. UTF-8, its byte-order mark dropped (Notepad writes one), or UTF-16
 * LE or BE with its mark (Windows PowerShell 5.1's `$s > file` writes UTF-16LE so). UTF-16 without
 * a mark is refused naming the file (`name`, as the message should show it): read as UTF-8 it
 * would be a wrong secret, sent to Entra or tried on a PSKC file, or names with a NUL between
 * letters. The message never holds the content; a copy of the bytes made here is zeroed (the caller
 * zeroes `raw`).
 */
export function fileText(raw: Buffer, name: string): string {
  if (raw[0] === 0xff && raw[1] === 0xfe) return raw.subarray(2).toString('utf16le');
  if (raw[0] === 0xfe && raw[1] === 0xff) {
    const le = Buffer.from(raw.subarray(2, raw.length - (raw.length % 2)));
    const text = le.swap16().toString('utf16le');
    le.fill(0);
    return text;
  }
  if (looksLikeUtf16(raw)) throw new FileEncodingError(`${name} is UTF-16 text without a byte-order mark: save it as UTF-8`);
  return raw.toString('utf8').replace(/^\uFEFF/, '');
}
