import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { namedUsers, readUserList, unknownUsersText } from '../../src/app/user-list.js';
import { FileEncodingError } from '../../src/io/file-text.js';
import { tempDir } from '../helpers/migration.js';

const tmp = tempDir('user-list');
afterAll(() => tmp.cleanup());
const file = (name: string, text: string) => {
  const f = join(tmp.dir, name);
  writeFileSync(f, text);
  return f;
};

describe('readUserList', () => {
  it('lower-cases and composes each name, as the export reads its usernames (a decomposed ü names the same user)', async () => {
    const f = file('users.txt', 'upn\n# wave 1, then wave 2\nMu\u0308ller@Contoso.com\r\nCORP\\Jo\u0308rg\n  alice@contoso.com \n\n');
    expect(await readUserList(f)).toEqual(['m\u00fcller@contoso.com', 'corp\\j\u00f6rg', 'alice@contoso.com']);
  });

  it('refuses a line holding "," or ";" (a list or a CSV row), naming the lines: once, its first field was taken and the rest dropped without a word', async () => {
    const f = file('list.txt', 'alice@contoso.com, bob@contoso.com\ncarol@contoso.com\nCORP\\dave;CORP\\erin\n');
    await expect(readUserList(f)).rejects.toThrow(
      /^--users .*list\.txt: lines 1, 3 hold "," or ";", which no Entra UPN or sAMAccountName holds \(line 1 begins "alice@contoso\.com"\): give one username a line \(of a CSV, its username column alone\)$/,
    );
    await expect(readUserList(file('csv.txt', 'upn,displayName\nalice@contoso.com,Alice\n'))).rejects.toThrow(/: lines 1, 2 hold/);
    await expect(readUserList(file('one.txt', 'alice@contoso.com;\n'))).rejects.toThrow(/: line 1 holds "," or ";"/);
    // A seed CSV given by mistake: its key never reaches the message (a review saw the whole line printed).
    const key = '3132333435363738393031323334353637383930';
    const seeds = readUserList(file('seeds.csv', `T-100,${key},totp,6,30\nT-101,${key.toUpperCase()},totp,6,30\n`));
    await expect(seeds).rejects.toThrow(/lines 1, 2 hold "," or ";", which no Entra UPN or sAMAccountName holds \(line 1 begins "T-100"\)/);
    await expect(readUserList(file('seeds2.csv', `${key},T-100\n`))).rejects.toThrow(/line 1 begins \(a value of 40 characters, not shown: it could be a secret\)/);
    await seeds.catch((err: Error) => expect(err.message).not.toContain(key));
  });

  it("reads a list saved as UTF-16 with its byte-order mark (Windows PowerShell 5.1's `>`), and refuses one without the mark by name (a black-box test: each name had a NUL between its letters and matched no user)", async () => {
    const text = 'upn\r\nalice@contoso.com\r\nMu\u0308ller@Contoso.com\r\n';
    const le = Buffer.from(`\uFEFF${text}`, 'utf16le');
    const bytes = (name: string, b: Buffer) => {
      const f = join(tmp.dir, name);
      writeFileSync(f, b);
      return f;
    };
    expect(await readUserList(bytes('le.txt', le))).toEqual(['alice@contoso.com', 'm\u00fcller@contoso.com']);
    expect(await readUserList(bytes('be.txt', Buffer.from(le).swap16()))).toEqual(['alice@contoso.com', 'm\u00fcller@contoso.com']);
    expect(await readUserList(file('utf8-bom.txt', `\uFEFF${text}`))).toEqual(['alice@contoso.com', 'm\u00fcller@contoso.com']);
    const bare = bytes('wave\x1b[2J.txt', Buffer.from(text, 'utf16le'));
    await expect(readUserList(bare)).rejects.toThrow(new FileEncodingError(`--users ${join(tmp.dir, 'wave\\u001b[2J.txt')} is UTF-16 text without a byte-order mark: save it as UTF-8`));
  });
});

describe('names from a --users file in messages', () => {
  it('are shown escaped: a name holding an escape sequence cannot drive the terminal', () => {
    const evil = 'evil\x1b[31mred@contoso.com';
    expect(namedUsers([evil, 'b\u202eob@contoso.com'])).toBe('evil\\u001b[31mred@contoso.com, b\\u202eob@contoso.com');
    const text = unknownUsersText([evil], 'wave\x1b[2J.txt');
    expect(text).not.toMatch(/[\x00-\x1f]/);
    expect(text).toMatch(/^--users wave\\u001b\[2J\.txt: 1 name\(s\) no row of the export has: evil\\u001b\[31mred@contoso\.com \(/);
  });

  it('name the first ten and count the rest', () => {
    const names = Array.from({ length: 12 }, (_, i) => `u${i}@contoso.com`);
    expect(namedUsers(names)).toBe(`${names.slice(0, 10).join(', ')}, and 2 more`);
  });
});
