import { describe, expect, it } from 'vitest';
import { OTHER_SECRET, RFC4226_SECRET } from '../../../fixtures/make-vendor-seeds.js';
import { encodeBase32 } from '../../../src/source/seeds/secret-encoding.js';
import { secretLikeCell } from '../../../src/source/seeds/secret-like-cell.js';
import { codes, read, secretForms, tempDir } from './seed-test-helpers.js';

/** The seed in every form a leak could take, Base32 included (the Entra and generic CSVs' own). */
function leaks(text: string, seed: Buffer): string[] {
  return [...secretForms(seed), encodeBase32(seed), encodeBase32(seed).slice(0, 16)].filter((form) => text.includes(form));
}

describe('a serial that looks like a secret', () => {
  it('real hardware serials pass: Yubico, RSA, Feitian, Token2, OATH token identifiers, the fixtures', () => {
    for (const serial of ['1234567', '20033752', '987654321', '77654321870', '2600112345678', '60234567890123', 'OATH0001C4D5', 'TOTP0001A2B3', 'TOTP123456', 'UBAM12345678_1', '12345678:1', 'KW128-1', 'G-1', 'E-2', 'oath-t256', 'pi-h1', '6023 4567 8901']) {
      expect(secretLikeCell(serial, 'serial'), serial).toBeNull();
    }
  });

  it('seeds are caught, in hex (digits alone too), Base32, grouped or Base64, with their length and kind', () => {
    expect(secretLikeCell(RFC4226_SECRET.toString('hex'), 'serial')).toBe('40 hex characters');
    expect(secretLikeCell(`0x${OTHER_SECRET.toString('hex').toUpperCase()}`, 'serial')).toBe('40 hex characters');
    expect(secretLikeCell('JBSWY3DPEHPK3PXP', 'serial')).toBe('16 Base32 characters');
    expect(secretLikeCell('zlbd lfqu f6bp olns ote5 5j5r 3ltg nssg', 'serial')).toBe('32 Base32 characters');
    expect(secretLikeCell('31:32:33:34:35:36:37:38:39:30', 'serial')).toBe('20 hex characters');
    expect(secretLikeCell(RFC4226_SECRET.toString('base64'), 'serial')).toBe('28 Base64 characters');
  });

  it('product names, words of unequal sizes, pass whatever their characters (a review saw real tokens skipped)', () => {
    for (const name of ['Yubico YubiKey 5 NFC', 'C302-i Programmable TOTP Card', 'miniOTP-2 programmable', 'Token2 Switzerland', 'Molto2 v2 multi-profile', 'Thales SafeNet OTP 110 token', 'Gemalto IDProve 100 OTP Token']) {
      expect(secretLikeCell(name, 'name'), name).toBeNull();
    }
    // Grouped evenly, a seed is still one: the last group may be shorter, a 0x or padding aside (a second review).
    expect(secretLikeCell('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PX', 'name')).toBe('31 Base32 characters');
    expect(secretLikeCell('0x3a5f c2d1 e4b7 a9f0 1234 5678 90ab cdef 0011 2233', 'serial')).toBe('40 hex characters');
    expect(secretLikeCell('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3P======', 'serial')).toBe('36 Base32 characters');
    // Cut by `-` or `:` in any sizes (a GUID's shape included), hex or Base64 is still a seed.
    expect(secretLikeCell('3a5fc2d1-e4b7-a9f0-1234-567890abcdef', 'serial')).toBe('32 hex characters');
    expect(secretLikeCell('q83vEjRWeJq-83vEjRWeJq83v-EjRWeJ', 'serial')).toBe('30 Base64 characters');
  });

  it('names made of letters are words, not seeds, unless 32 letters or more in one piece', () => {
    for (const name of ['christopherjones', 'Feitian Technologies', 'TokenVendorAcme', 'alice@contoso.com', 'OTP c200 TOTP SHA1 30s']) expect(secretLikeCell(name, 'name'), name).toBeNull();
    expect(secretLikeCell('christopherjones', 'serial')).toBe('16 Base32 characters');
    expect(secretLikeCell(encodeBase32(RFC4226_SECRET), 'name')).toBe('32 Base32 characters');
    expect(secretLikeCell('JBSWY3DPEHPK3PXP', 'name')).toBe('16 Base32 characters');
  });
});

describe('seed CSVs with their columns in the wrong order', () => {
  const tmp = tempDir();
  const hex = RFC4226_SECRET.toString('hex');
  const b32 = encodeBase32(RFC4226_SECRET);

  /** Each format, the seed in the serial's cell; the second row's cells both parse (its "serial" is valid hex or Base32). */
  const swapped: { format: string; name: string; content: string; line: number; field: string }[] = [
    { format: 'LinOTP OATH CSV', name: 'oath.csv', content: `${hex}, S1, totp, 6, 30\n${OTHER_SECRET.toString('hex')}, ABCDEF12, totp, 6, 30\n`, line: 1, field: 'serial' },
    { format: 'privacyIDEA version 2', name: 'oath-v2.csv', content: `# version: 2\nalice, ldap, corp, ${hex}, S1, totp\nbob, ldap, corp, ${OTHER_SECRET.toString('hex')}, ABCDEF12, totp\n`, line: 2, field: 'serial' },
    { format: 'generic seed CSV', name: 'generic.csv', content: `serial,secret\n${b32},S1\n${encodeBase32(OTHER_SECRET)},ABCDEFGH\n`, line: 2, field: 'serial' },
    { format: 'Entra upload CSV', name: 'entra.csv', content: `upn,serial number,secret key,time interval\nalice@contoso.com,${b32},S1,30\nbob@contoso.com,${encodeBase32(OTHER_SECRET)},ABCDEFGH,30\n`, line: 2, field: 'serial number' },
  ];

  for (const { format, name, content, line, field } of swapped) {
    it(`${format}: each row is refused at its file, line and serial field, the seed never shown nor made a serial`, async () => {
      const path = tmp.file(name, content);
      const { seeds, problems, text } = await read(path);
      expect(seeds).toEqual([]);
      expect(problems.map((p) => [p.severity, p.code, p.file, p.line, p.field])).toEqual([
        ['error', 'value-invalid', path, line, field],
        ['error', 'value-invalid', path, line + 1, field],
      ]);
      expect(problems[0]!.message).toMatch(/looks like a secret \((40 hex|32 Base32) characters, not shown\): are the columns in the right order\?/);
      expect(leaks(text, RFC4226_SECRET)).toEqual([]);
      expect(leaks(text, OTHER_SECRET)).toEqual([]);
    });
  }

  it('a seed in a name column (a header naming the columns wrongly) refuses the row: never a model, manufacturer or user', async () => {
    const path = tmp.file('shifted.csv', `serial,model,secret\nS1,${b32},c200\nS2,c200,${b32}\n`);
    const { seeds, problems, text } = await read(path);
    expect(seeds.map((s) => [s.serial, s.model])).toEqual([['S2', 'c200']]);
    expect(problems.map((p) => [p.code, p.line, p.field])).toEqual([['value-invalid', 2, 'model']]);
    expect(leaks(text, RFC4226_SECRET)).toEqual([]);
    const v2 = await read(tmp.file('v2-user.csv', `# version: 2\n${hex}, ldap, corp, S1, ${OTHER_SECRET.toString('hex')}, totp\n`));
    expect(v2.seeds).toEqual([]);
    expect(codes(v2.problems)).toEqual(['error:value-invalid']);
    expect(v2.problems[0]).toMatchObject({ line: 2, field: 'user' });
    expect(leaks(v2.text, RFC4226_SECRET)).toEqual([]);
  });
});
