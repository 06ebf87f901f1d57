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

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('usernames in composed and decomposed form are one name in every file (a black-box test)', () => {
  it("users.csv decomposed, devices.csv and a seed file's UPN composed: the device and the token are the user's", async () => {
    const composed = 'm\u00fcller@contoso.com';
    const decomposed = 'mu\u0308ller@contoso.com';
    const source = exportOf({
      'users.csv': `username\n${decomposed}\n`,
      'devices.csv': `username,device_name\n${composed},Phone\n`,
      'seeds.csv': `upn,serial number,secret key,time interval,manufacturer,model\n${composed},S1,${SECRET},30,Contoso,T1\n`,
    });
    const bundle = await readExport({ source, tokens: [join(source, 'seeds.csv')], seeds: {} });
    expect(bundle.problems.items).toEqual([]);
    expect(bundle.users.map((u) => u.username)).toEqual([composed]);
    expect(bundle.tokens.map((t) => [t.seed.serial, t.user, t.via])).toEqual([['S1', composed, 'seed-file']]);
  });

  it("users.csv composed, a seed CSV's user decomposed: the token is the user's, with no mismatch", async () => {
    const source = exportOf({
      'users.csv': 'username,oath_token_serial\nj\u00f6rg@contoso.com,S2\n',
      'seeds.csv': `serial,secret,encoding,type,digits,period,user\nS2,${SECRET},base32,totp,6,30,jo\u0308rg@contoso.com\nS3,${SECRET.replace('GE', 'GI')},base32,totp,6,30,JO\u0308RG@contoso.com\n`,
    });
    const bundle = await readExport({ source, tokens: [join(source, 'seeds.csv')], seeds: {} });
    expect(bundle.problems.items).toEqual([]);
    expect(bundle.tokens.map((t) => [t.seed.serial, t.seed.user, t.user, t.via])).toEqual([
      ['S2', 'j\u00f6rg@contoso.com', 'j\u00f6rg@contoso.com', 'users.csv'],
      ['S3', 'J\u00d6RG@contoso.com', 'j\u00f6rg@contoso.com', 'seed-file'],
    ]);
  });
});

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
