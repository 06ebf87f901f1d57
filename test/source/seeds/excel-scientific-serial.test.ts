import { describe, expect, it } from 'vitest';
import { codes, read, tempDir } from './seed-test-helpers.js';

/**
 * A seed CSV opened in Excel and saved again: a long numeric serial (Feitian's and Token2's 13 digits,
 * Deepnet's 8) is saved as the cell shows it, in scientific notation, and its digits are lost.
 */
describe('a serial Excel saved in scientific notation', () => {
  const tmp = tempDir();
  const A = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
  const B = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

  const files: Array<[string, string, string]> = [
    ['generic seed CSV', `serial,secret\r\n1.0001E+07,${A}\r\n10001002,${B}\r\n`, 'serial'],
    ['Entra upload CSV', `upn,serial number,secret key,time interval\n,2.60022E+12,${A},30\n,10001002,${B},30\n`, 'serial number'],
    ['generic seed CSV, European Excel', `Serial Number;Secret Key;Time Interval\n"2,60022E+12";${A};60\n10001002;${B};60\n`, 'Serial Number'],
    ['OATH CSV', `1.0001E+07, 3132333435363738393031323334353637383930, totp, 6, 30\n10001002, 3132333435363738393031323334353637383931, totp, 6, 30\n`, 'serial'],
  ];

  for (const [name, text, field] of files) {
    it(`${name}: the row is refused at its serial, never taken as the token's serial`, async () => {
      const { seeds, problems } = await read(tmp.file(`${name.replace(/\W+/g, '-')}.csv`, text));
      expect(seeds.map((s) => s.serial)).toEqual(['10001002']);
      expect(codes(problems)).toEqual(['error:value-invalid']);
      expect(problems[0]).toMatchObject({ line: 1 + (name === 'OATH CSV' ? 0 : 1), field });
      expect(problems[0]!.message).toMatch(/scientific notation.*Excel.*digits are lost/);
    });
  }

  it('two such serials are no longer one token with two seeds (seed-duplicate), but each row refused for what it is', async () => {
    const { seeds, problems } = await read(tmp.file('two.csv', `serial,secret\n1.0001E+07,${A}\n1.0001E+07,${B}\n`));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:value-invalid', 'error:value-invalid']);
    expect(problems.map((p) => p.line)).toEqual([2, 3]);
  });

  it('serials that only resemble it are read as they are', async () => {
    const { seeds, problems } = await read(tmp.file('like.csv', `serial,secret\n1E5-A,${A}\nE+1234567,${B}\n`));
    expect(problems).toEqual([]);
    expect(seeds.map((s) => s.serial)).toEqual(['1E5-A', 'E+1234567']);
  });
});
