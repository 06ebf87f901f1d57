import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { namedUsers, readUserList, unknownUsersText } from '../../src/app/user-list.js';
import { tempDir } from '../helpers/migration.js';

const tmp = tempDir('user-list');
afterAll(() => tmp.cleanup());

describe('readUserList', () => {
  it('lower-cases and composes each name, as the export reads its usernames (a decomposed ü names the same user)', async () => {
    const file = join(tmp.dir, 'users.txt');
    writeFileSync(file, 'upn\n# wave 1\nMu\u0308ller@Contoso.com\r\nCORP\\Jo\u0308rg;x\nalice@contoso.com,y\n\n');
    expect(await readUserList(file)).toEqual(['m\u00fcller@contoso.com', 'corp\\j\u00f6rg', 'alice@contoso.com']);
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
