import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { FileEncodingError, fileText } from '../../src/io/file-text.js';
import { readSecretText } from '../../src/io/secret-file.js';
import { UserError } from '../../src/model/user-error.js';
import { tempDir } from '../shim/helpers.js';

const tmp = tempDir('file-text-');
afterAll(() => tmp.cleanup());

/** `text` as UTF-16, little- or big-endian, with its byte-order mark or without. */
const utf16 = (text: string, order: 'le' | 'be', mark: boolean): Buffer => {
  const le = Buffer.from(`${mark ? '\uFEFF' : ''}${text}`, 'utf16le');
  return order === 'le' ? le : le.swap16();
};

describe('fileText: the text of a hand-written small file (a secret file, a --users list)', () => {
  it('reads UTF-8, its byte-order mark dropped, and UTF-16 of either byte order with its mark (Windows PowerShell 5.1 writes UTF-16LE)', () => {
    const text = 'Pässwort 1\r\nzweite Zeile\n';
    expect(fileText(Buffer.from(text), 'f')).toBe(text);
    expect(fileText(Buffer.from(`\uFEFF${text}`), 'f')).toBe(text);
    expect(fileText(utf16(text, 'le', true), 'f')).toBe(text);
    expect(fileText(utf16(text, 'be', true), 'f')).toBe(text);
    expect(fileText(Buffer.alloc(0), 'f')).toBe('');
  });

  it('refuses UTF-16 without a byte-order mark, naming the file and never showing the content', () => {
    for (const order of ['le', 'be'] as const) {
      let error: unknown;
      try {
        fileText(utf16('placeholder-value\r\n', order, false), 'the client secret file ./s.txt');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(FileEncodingError);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toBe('the client secret file ./s.txt is UTF-16 text without a byte-order mark: save it as UTF-8');
    }
    // Not ASCII in UTF-16, but UTF-8 text: read as it is.
    expect(fileText(Buffer.from('ü€'), 'f')).toBe('ü€');
  });

  it('readSecretText reads a secret file so, naming it by what it is', () => {
    const marked = tmp.path('marked.txt');
    writeFileSync(marked, utf16('placeholder-value\r\n', 'le', true), { mode: 0o600 });
    expect(readSecretText(marked, 'PSKC password file')).toBe('placeholder-value\r\n');
    const bare = tmp.path('bare.txt');
    writeFileSync(bare, utf16('placeholder-value\r\n', 'le', false), { mode: 0o600 });
    expect(() => readSecretText(bare, 'PSKC password file')).toThrow(new FileEncodingError(`the PSKC password file ${bare} is UTF-16 text without a byte-order mark: save it as UTF-8`));
  });
});
