import { readSecretText, type SecretFileOptions } from '../../io/secret-file.js';

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
  let text = readSecretText(path, 'PSKC key file', files).replace(/\s+/g, '');
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
  const text = readSecretText(path, 'PSKC password file', files);
  const newline = text.indexOf('\n');
  const first = (newline === -1 ? text : text.slice(0, newline)).replace(/\r$/, '');
  if (first.length === 0) throw new Error(`the PSKC password file ${path} is empty or its first line is blank`);
  return first;
}
