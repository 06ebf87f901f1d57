import { readSecretFile, type SecretFileOptions } from '../../io/secret-file.js';
import { looksLikeUtf16 } from '../utf16.js';

/**
 * Loaders for the secrets that unlock encrypted PSKC files. Errors name the file and what is wrong
 * with it but never echo its content. A file group or others can access is warned about through
 * `files.onNotice`, or refused with `files.strict` (--strict-permissions).
 */

/** A pre-shared key given for encrypted PSKC files, and the file it came from (named in messages; never its content). */
export interface PskcKeyOption {
  key: Buffer;
  file?: string;
}

/** A PBKDF2 password given for encrypted PSKC files, and the file it came from. */
export interface PskcPasswordOption {
  password: string;
  file?: string;
}

/** --pskc-key-file: the pre-shared key as hex (AES: 16, 24 or 32 bytes; Triple-DES: 16 or 24); whitespace and `0x` are tolerated. */
export function loadPskcKeyFile(path: string, files: SecretFileOptions = {}): Buffer {
  const raw = readSecretFile(path, 'PSKC key file', files);
  let text = secretText(raw, path, 'key').replace(/\s+/g, '');
  raw.fill(0);
  if (text.startsWith('0x') || text.startsWith('0X')) text = text.slice(2);
  if (text.length === 0) throw new Error(`the PSKC key file ${path} is empty: it should hold the pre-shared key as hex`);
  if (!/^[0-9a-fA-F]+$/.test(text)) {
    throw new Error(`the PSKC key file ${path} holds characters that are not hex digits: it should hold the pre-shared key as hex`);
  }
  if (text.length % 2 !== 0 || ![32, 48, 64].includes(text.length)) {
    throw new Error(`the PSKC key file ${path} holds ${text.length} hex digits; a PSKC key is 32, 48 or 64 hex digits (16, 24 or 32 bytes: AES, or Triple-DES with 16 or 24)`);
  }
  return Buffer.from(text, 'hex');
}

/** --pskc-password-file: the first line of the file, without its line ending. */
export function loadPskcPasswordFile(path: string, files: SecretFileOptions = {}): string {
  const raw = readSecretFile(path, 'PSKC password file', files);
  const text = secretText(raw, path, 'password');
  raw.fill(0);
  const newline = text.indexOf('\n');
  const first = (newline === -1 ? text : text.slice(0, newline)).replace(/\r$/, '');
  if (first.length === 0) throw new Error(`the PSKC password file ${path} is empty or its first line is blank`);
  return first;
}

/**
 * A secret file's text: UTF-8, or UTF-16 with its byte-order mark (Windows PowerShell 5.1's
 * `'...' > file` writes UTF-16LE so); a byte-order mark is not part of the secret. UTF-16 without one
 * is refused by name: read as UTF-8 it would be a wrong key or password, and a failed decryption.
 */
function secretText(raw: Buffer, path: string, what: 'key' | 'password'): string {
  if (raw[0] === 0xff && raw[1] === 0xfe) return raw.subarray(2).toString('utf16le');
  if (raw[0] === 0xfe && raw[1] === 0xff) {
    const le = Buffer.from(raw.subarray(2, raw.length - (raw.length % 2)));
    const text = le.swap16().toString('utf16le');
    le.fill(0);
    return text;
  }
  if (looksLikeUtf16(raw)) throw new Error(`the PSKC ${what} file ${path} is UTF-16 text without a byte-order mark: save it as UTF-8`);
  return raw.toString('utf8').replace(/^\uFEFF/, '');
}
