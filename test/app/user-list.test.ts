import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readUserList } from '../../src/app/user-list.js';
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
