import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readExport } from '../../src/source/export-bundle.js';

const dir = mkdtempSync(join(tmpdir(), 'export-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function exportOf(files: Record<string, string | Buffer>): string {
  const source = join(dir, `export-${++n}`);
  mkdirSync(source);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(source, name), content);
  return source;
}

describe('devices.csv when users.csv cannot be read (a black-box test saw a warning for every device)', () => {
  it.each([
    ['UTF-16', { 'users.csv': Buffer.from('\ufeffusername\r\nalice@contoso.com\r\n', 'utf16le') }, 'file-unreadable'],
    ['no username column', { 'users.csv': 'email\nalice@contoso.com\n' }, 'column-missing'],
    ['missing', {}, 'file-missing'],
  ])('users.csv %s: its error alone, no device-unknown-user', async (_, files, code) => {
    const source = exportOf({ ...files, 'devices.csv': 'username,device_name\nalice@contoso.com,Phone\nbob@contoso.com,Phone\n' });
    const bundle = await readExport({ source, tokens: [], seeds: {} });
    expect(bundle.problems.items.map((p) => [p.file, p.code])).toEqual([['users.csv', code]]);
    expect(bundle.devices).toHaveLength(2);
  });

  it('users.csv read: a device of someone not in it is still warned about', async () => {
    const source = exportOf({ 'users.csv': 'username\nalice@contoso.com\n', 'devices.csv': 'username,device_name\nalice@contoso.com,Phone\nbob@contoso.com,Phone\n' });
    const bundle = await readExport({ source, tokens: [], seeds: {} });
    expect(bundle.problems.items.map((p) => [p.file, p.line, p.code])).toEqual([['devices.csv', 3, 'device-unknown-user']]);
  });
});
