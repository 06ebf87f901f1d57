import { describe, expect, it } from 'vitest';
import { ProblemList } from '../../src/model/problem.js';
import { secretFingerprint } from '../../src/model/secret.js';
import { parseCsvTable } from '../../src/source/csv-table.js';
import { readTable } from '../../src/source/columns.js';
import { devicesReader } from '../../src/source/devices-reader.js';

async function read(csv: string) {
  const problems = new ProblemList();
  const devices = await readTable(await parseCsvTable(Buffer.from(csv), 'devices.csv'), devicesReader(problems));
  return { devices, problems: problems.items };
}

describe('readDevices', () => {
  it('reads a registration and keeps only the fingerprint of its OTP seed', async () => {
    const { devices, problems } = await read('username,device_name,registered_at,device_token,oath_secret\nniaj@contoso.com,iPhone 15,2025-03-01T10:00:00Z,apns:abc,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n');
    expect(problems).toEqual([]);
    expect(devices).toEqual([
      {
        line: 2,
        username: 'niaj@contoso.com',
        deviceName: 'iPhone 15',
        registeredAt: '2025-03-01T10:00:00.000Z',
        deviceToken: 'apns:abc',
        oathSecretFingerprint: secretFingerprint(Buffer.from('12345678901234567890')),
      },
    ]);
    expect(JSON.stringify(devices)).not.toContain('GEZDGNBV');
  });

  it('reports a bad Base32 seed without repeating it, and a bad date as a warning', async () => {
    const { problems } = await read('username,device_name,registered_at,oath_secret\na@b.com,Phone,yesterday,NOT*BASE32!\n');
    expect(problems).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'value-invalid', field: 'registered_at', line: 2 }),
      expect.objectContaining({ severity: 'error', code: 'secret-invalid', field: 'oath_secret', line: 2 }),
    ]);
    expect(JSON.stringify(problems)).not.toContain('NOT*BASE32');
  });

  it("refuses a row whose username, device name or date holds what looks like the app's seed (columns out of order), never showing it", async () => {
    const seed = 'OIFIRRDZKYPZ6NDNUBYS6L6CFYBET7Y3';
    const { devices, problems } = await read(`username,device_name,registered_at,device_token,oath_secret\nu1@contoso.com,Pixel,${seed},gcm:x,\n${seed},Pixel,,,\nu3@contoso.com,${seed.toLowerCase()},,,\nu4@contoso.com,iPhone 15,2025-03-01,,\n`);
    expect(devices?.map((d) => d.username)).toEqual(['u4@contoso.com']);
    expect(problems.map((p) => [p.line, p.field, p.message])).toEqual([
      [2, 'registered_at', 'the registered_at looks like a secret (32 Base32 characters, not shown): are the columns in the right order? The row is skipped'],
      [3, 'username', 'the username looks like a secret (32 Base32 characters, not shown): are the columns in the right order? The row is skipped'],
      [4, 'device_name', 'the device name looks like a secret (32 Base32 characters, not shown): are the columns in the right order? The row is skipped'],
    ]);
    expect(JSON.stringify(problems).toUpperCase()).not.toContain(seed);
  });

  it('takes hyphenated device names for names, not seeds (a review saw Pixel-7-Pro-Work-Phone refused)', async () => {
    const { devices, problems } = await read('username,device_name\na@b.com,Pixel-7-Pro-Work-Phone\nb@b.com,Johns-Galaxy-S7-Edge\nc@b.com,JBSW-Y3DP-EHPK-3PXP-JBSW-Y3DP\n');
    expect(devices?.map((d) => d.deviceName)).toEqual(['Pixel-7-Pro-Work-Phone', 'Johns-Galaxy-S7-Edge']);
    expect(problems.map((p) => [p.line, p.field])).toEqual([[4, 'device_name']]);
  });

  it('masks a phone number found where a date belongs, and skips rows of empty cells; trailing empty cells are no error', async () => {
    const { devices, problems } = await read('username,device_name,registered_at\na@b.com,Phone,+1 (425) 555-0101,\n,,\n  \nc@b.com,Tablet,yesterday,,\n');
    expect(devices?.map((d) => d.username)).toEqual(['a@b.com', 'c@b.com']);
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [2, '"+* (***) ***-**01" is not a date (use ISO 8601, e.g. 2025-03-01T10:00:00Z)'],
      [5, '"yesterday" is not a date (use ISO 8601, e.g. 2025-03-01T10:00:00Z)'],
    ]);
  });

  it('requires username and device_name columns', async () => {
    const { devices, problems } = await read('user,token\na@b.com,x\n');
    expect(devices).toBeUndefined();
    expect(problems).toContainEqual(expect.objectContaining({ code: 'column-missing', field: 'device_name' }));
  });

  it("reads usernames in composed form, as users.csv's are: a decomposed ü is the same user", async () => {
    const { devices, problems } = await read('username,device_name\nmu\u0308ller@contoso.com,Phone\n');
    expect(problems).toEqual([]);
    expect(devices?.map((d) => d.username)).toEqual(['m\u00fcller@contoso.com']);
  });

  it('usernames holding ? (an ASCII export): said once for the file with what to do, and at each row', async () => {
    const { devices, problems } = await read('username,device_name\nm?ller@contoso.com,Phone\nalice@contoso.com,Phone\nj?rg@contoso.com,Tablet\n');
    expect(devices).toHaveLength(3);
    expect(problems.map((p) => [p.severity, p.code, p.line, p.field])).toEqual([
      ['error', 'username-invalid', undefined, 'username'],
      ['error', 'username-invalid', 2, 'username'],
      ['error', 'username-invalid', 4, 'username'],
    ]);
    expect(problems[0]!.message).toMatch(/the first on line 2.*written as ASCII.*-Encoding UTF8/);
  });
});
