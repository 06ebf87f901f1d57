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

  it('requires username and device_name columns', async () => {
    const { devices, problems } = await read('user,token\na@b.com,x\n');
    expect(devices).toBeUndefined();
    expect(problems).toContainEqual(expect.objectContaining({ code: 'column-missing', field: 'device_name' }));
  });
});
