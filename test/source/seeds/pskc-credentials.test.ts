import { chmodSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPskcKeyFile, loadPskcPasswordFile } from '../../../src/source/seeds/read-seed-files.js';
import { tempDir } from './seed-test-helpers.js';

describe('--pskc-key-file / --pskc-password-file loaders', () => {
  const tmp = tempDir();

  it('reads a hex key with whitespace, line breaks and 0x', () => {
    const path = tmp.file('key.hex', '0x1234 5678 9012 3456\n7890 1234 5678 9012\r\n');
    expect(loadPskcKeyFile(path).toString('hex')).toBe('12345678901234567890123456789012');
  });

  it.each([
    ['empty', '', /is empty/],
    ['not hex', 'this is my secret key!!', /not hex digits/],
    ['wrong length', 'a1b2c3d4e5f60718293a4b5c6d7e8f901', /33 hex digits/],
  ])('refuses a key file that is %s, naming the file and not echoing it', (_name, content, message) => {
    const path = tmp.file(`bad-${_name}.hex`, content);
    let error: Error | undefined;
    try {
      loadPskcKeyFile(path);
    } catch (err) {
      error = err as Error;
    }
    expect(error).toBeDefined();
    expect(error!.message).toMatch(message);
    expect(error!.message).toContain(path);
    if (content) expect(error!.message).not.toContain(content);
  });

  it('missing key file: clear error naming it', () => {
    expect(() => loadPskcKeyFile('/nonexistent/psk.hex')).toThrow(/\/nonexistent\/psk\.hex \(ENOENT\)/);
  });

  it('password: the first line, without its line ending; spaces kept', () => {
    expect(loadPskcPasswordFile(tmp.file('pw1.txt', ' two words \r\nsecond line\n'))).toBe(' two words ');
    expect(loadPskcPasswordFile(tmp.file('pw2.txt', 'qwerty'))).toBe('qwerty');
  });

  it("a password or key saved as UTF-16 with its byte-order mark (Windows PowerShell 5.1's `>`) is read as its text; without the mark it is refused by name, not tried as a wrong password", () => {
    const bom = (le: boolean, text: string) => {
      const body = Buffer.from(text, 'utf16le');
      return le ? Buffer.concat([Buffer.from([0xff, 0xfe]), body]) : Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(body).swap16()]);
    };
    expect(loadPskcPasswordFile(tmp.file('pw-le.txt', bom(true, 'Pässwort 1\r\n')))).toBe('Pässwort 1');
    expect(loadPskcPasswordFile(tmp.file('pw-be.txt', bom(false, 'Pässwort 1\r\n')))).toBe('Pässwort 1');
    expect(loadPskcKeyFile(tmp.file('key-le.hex', bom(true, '00112233445566778899aabbccddeeff\r\n'))).toString('hex')).toBe('00112233445566778899aabbccddeeff');
    const bare = tmp.file('pw-utf16-bare.txt', Buffer.from('hunter2-password\r\n', 'utf16le'));
    expect(() => loadPskcPasswordFile(bare)).toThrow(`the PSKC password file ${bare} is UTF-16 text without a byte-order mark: save it as UTF-8`);
    // UTF-8 with its mark, as Notepad saves it, as before.
    expect(loadPskcPasswordFile(tmp.file('pw-utf8-bom.txt', '\uFEFFqwerty\n'))).toBe('qwerty');
  });

  it('empty password file is refused without echoing anything', () => {
    const path = tmp.file('pw-empty.txt', '\nqwerty\n');
    expect(() => loadPskcPasswordFile(path)).toThrow(/is empty or its first line is blank/);
    try {
      loadPskcPasswordFile(path);
    } catch (err) {
      expect((err as Error).message).not.toContain('qwerty');
    }
  });

  it('issue 17 item 17: a key or password file group or others can read is warned about, refused when strict, silent at 0600; never echoed', () => {
    const key = tmp.file('perm-key.hex', '00112233445566778899aabbccddeeff\n');
    const password = tmp.file('perm-password.txt', 'hunter2-password\n');
    for (const [path, load, what] of [
      [key, loadPskcKeyFile, 'PSKC key file'],
      [password, loadPskcPasswordFile, 'PSKC password file'],
    ] as const) {
      chmodSync(path, 0o644);
      const notices: string[] = [];
      expect(load(path, { onNotice: (m) => notices.push(m) })).toBeTruthy();
      expect(notices).toEqual([`warning: ${what} ${path} has mode 0644: group or others can access it; chmod 600 it (--strict-permissions refuses such files)`]);
      expect(() => load(path, { strict: true, onNotice: (m) => notices.push(m) })).toThrow(`${what} ${path} has mode 0644: group or others can access it; chmod 600 it`);
      chmodSync(path, 0o600);
      expect(load(path, { strict: true, onNotice: (m) => notices.push(m) })).toBeTruthy();
      expect(notices).toHaveLength(1);
      expect(notices.join()).not.toMatch(/00112233|hunter2/);
    }
  });
});
