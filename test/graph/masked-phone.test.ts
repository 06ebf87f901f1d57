import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMaskedPhoneNumber, MaskedPhoneError, maskedPhoneIn } from '../../src/graph/masked-phone.js';
import { maskedPhoneNumber, PHONE_NUMBER_RE } from '../../src/emulator/phone-number.js';
import { readExport } from '../../src/source/export-bundle.js';
import { CONTOSO } from '../helpers/migration.js';

/** Every phone number the Contoso tenant file holds (what the emulator serves). */
function tenantNumbers(): string[] {
  const tenant = JSON.parse(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8')) as { users: { methods?: { phone?: { phoneNumber: string }[] } }[] };
  return tenant.users.flatMap((u) => (u.methods?.phone ?? []).map((p) => p.phoneNumber));
}

/** Every number the Contoso export gives in Graph's format (what apply writes, and a later plan reads back). */
async function exportNumbers(): Promise<string[]> {
  const bundle = await readExport({ source: CONTOSO, tokens: [], seeds: {} });
  return bundle.users.flatMap((u) => [u.phone?.entra, u.backupPhone?.entra]).filter((n): n is string => typeof n === 'string');
}

describe('isMaskedPhoneNumber', () => {
  it('never flags a number in Graph\'s format (the fixtures\', the export\'s, with and without an extension or a space) or a legacy one formatted otherwise', async () => {
    const numbers = [...tenantNumbers(), ...(await exportNumbers()), '+1 5555551234', '+1 5555551234x123', '+1 2065555555', '+44 2079460958', '+49 301234567x9', '+15555551234', '+1 4255550101x12345',
      // Legacy formatting, not a mask (a review: refusing a tenant for them would stop every plan).
      '+1 (425) 555-0101', '+1 425.555.0101', '+1 425 555 0101 ext. 123', '+1 4255550101 #45', '+1 4255550101x', '+1 4255550101X12'];
    expect(tenantNumbers().length).toBeGreaterThan(3);
    expect((await exportNumbers()).some((n) => n.includes('x'))).toBe(true);
    for (const n of numbers) expect(isMaskedPhoneNumber(n), n).toBe(false);
  });

  it('flags the shapes a mask may take: runs of X, x or # for hidden digits, a country code hidden, *, • or … anywhere', () => {
    for (const n of [
      '+1 XXXXXXXX01',
      '+X XXXXXXXX01',
      '+1 ********01',
      '+1 425***0101',
      '+1 42555501xx',
      '+1 4255550101xXXX',
      '+1 4255550101x***',
      '+44 ••••••••12',
      '+1 ########01',
      'XXXXXXXX01',
      '+1 425555010●',
      '+1 42…01',
    ]) {
      expect(isMaskedPhoneNumber(n), n).toBe(true);
    }
  });

  it("flags the emulator's mask of every number it serves (behaviour.maskedPhoneNumbers), which keeps two digits", async () => {
    for (const n of [...tenantNumbers(), ...(await exportNumbers())]) {
      expect(PHONE_NUMBER_RE.test(n), n).toBe(true);
      const masked = maskedPhoneNumber(n);
      expect(masked.slice(-2) === n.slice(-2) || n.includes('x')).toBe(true);
      expect(isMaskedPhoneNumber(masked), masked).toBe(true);
    }
    expect(maskedPhoneNumber('+1 4255550101')).toBe('+1 XXXXXXXX01');
    expect(maskedPhoneNumber('+1 4255550103x1234')).toBe('+1 XXXXXXXX03xXXXX');
  });

  it('takes a value that is not text (a missing number) as not masked', () => {
    for (const v of [undefined, null, 12, {}]) expect(isMaskedPhoneNumber(v)).toBe(false);
  });
});

describe('maskedPhoneIn and MaskedPhoneError', () => {
  const list = (...numbers: [string, string][]) => ({ value: [{ '@odata.type': '#microsoft.graph.passwordAuthenticationMethod', id: 'p' }, ...numbers.map(([phoneType, phoneNumber]) => ({ '@odata.type': '#microsoft.graph.phoneAuthenticationMethod', phoneType, phoneNumber }))] });

  it('passes a list whose numbers are whole', () => {
    expect(maskedPhoneIn(list(['mobile', '+1 4255550101'], ['office', '+1 4255550103x12']))).toBeUndefined();
    expect(maskedPhoneIn(null)).toBeUndefined();
  });

  it('refuses the first masked number, naming the user and the phone type, never its digits, with why and what to do', () => {
    expect(maskedPhoneIn(list(['mobile', '+1 4255550101'], ['alternateMobile', '+1 XXXXXXXX40']))).toBe('alternateMobile');
    const e = new MaskedPhoneError('quinn@contoso.com', maskedPhoneIn(list(['mobile', '+1 4255550139'], ['alternateMobile', '+1 XXXXXXXX40']))!);
    expect(e.exitCode).toBe(1);
    expect(e.message).toMatch(/^Graph showed quinn@contoso\.com's alternateMobile phone number masked: the signed-in account sees masked phone numbers \(an Authentication Administrator does\)/);
    expect(e.message).toContain('Privileged Authentication Administrator');
    expect(e.message).toContain('UserAuthenticationMethod.Read.All');
    // Neither the masked number nor the other one: no digit at all.
    expect(e.message).not.toMatch(/\d|XX/);
    expect(e.after('nothing was sent').message).toMatch(/; nothing was sent$/);
  });
});
