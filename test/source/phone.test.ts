import { describe, expect, it } from 'vitest';
import { parsePhone } from '../../src/source/phone.js';

describe('parsePhone', () => {
  it.each([
    // [country code cell, number cell, extension cell, Entra format]
    ['1', '4255550101', undefined, '+1 4255550101'],
    ['+1', '(425) 555-0101', undefined, '+1 4255550101'],
    ['001', '425.555.0101', undefined, '+1 4255550101'],
    [undefined, '+1 (206) 555-0199', undefined, '+1 2065550199'],
    ['', '+44 20 7946 0958', undefined, '+44 2079460958'],
    [undefined, '0044 20 7946 0958', undefined, '+44 2079460958'],
    ['49', '030 1234567', undefined, '+49 301234567'],
    ['DE', '030 1234567', undefined, '+49 301234567'],
    ['91', '98765 43210', undefined, '+91 9876543210'],
    ['1', '4255550103', '1234', '+1 4255550103x1234'],
    ['1', '(425) 555-0123 x45', undefined, '+1 4255550123x45'],
    ['1', '425-555-0123 ext. 45', undefined, '+1 4255550123x45'],
    ['1', '425-555-0123 extension 45', '45', '+1 4255550123x45'],
    ['61', '2 9876 5432', undefined, '+61 298765432'],
  ])('cc=%s number=%s ext=%s -> %s', (cc, number, ext, entra) => {
    const r = parsePhone(cc, number, ext);
    expect(r).toMatchObject({ ok: true, phone: { entra } });
  });

  it('keeps country code, national number and extension apart', () => {
    const r = parsePhone('1', '555-123-4567 x890'.replace('555-123', '425-555'), undefined);
    expect(r).toEqual({ ok: true, phone: { countryCode: '1', nationalNumber: '4255554567', extension: '890', entra: '+1 4255554567x890' } });
  });

  it.each([
    ['1', '12345', undefined, /not a valid number/],
    ['1', '5555551234', undefined, /not a valid number for country code \+1/],
    [undefined, '4255550101', undefined, /no country code/],
    ['1', '+44 20 7946 0958', undefined, /disagrees with country code 1/],
    ['abc', '4255550101', undefined, /country code is not/],
    ['1', 'call me maybe', undefined, /characters other than digits/],
    ['1', '4255550101 x12', '34', /differs from the extension column/],
    ['1', '4255550101', '12a', /extension must be/],
    // Calling codes no country has (libphonenumber throws for these rather than answering).
    ['999', '123456', undefined, /country code 999 is not a country calling code/],
    ['0', '5551234', undefined, /country code 0 is not a country calling code/],
    ['XX', '123456', undefined, /not a phone number/],
    [undefined, '+999 123456', undefined, /not a phone number/],
  ])('refuses cc=%s number=%s ext=%s', (cc, number, ext, reason) => {
    const r = parsePhone(cc, number, ext);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toMatch(reason);
      const digits = number.replace(/\D/g, '');
      if (digits.length >= 5) expect(r.reason).not.toContain(digits.slice(-5));
    }
  });
});

describe('parsePhone fast path for North American numbers', () => {
  it('gives the same answer as a full libphonenumber parse, valid or not', async () => {
    const { parsePhoneNumberFromString } = await import('libphonenumber-js/max');
    let seed = 7;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    let valid = 0;
    for (let i = 0; i < 3000; i++) {
      const digits = `${2 + Math.floor(rnd() * 8)}${String(Math.floor(rnd() * 1e9)).padStart(9, '0')}`;
      const full = parsePhoneNumberFromString(`+1${digits}`);
      const expected = full?.isValid() ? `+1 ${full.nationalNumber}` : undefined;
      for (const [cc, text] of [['1', digits], [undefined, `+1${digits}`], ['1', `(${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`]] as const) {
        const r = parsePhone(cc, text, undefined);
        expect(r.ok ? r.phone.entra : undefined).toBe(expected);
      }
      if (expected) valid++;
    }
    // Both outcomes were exercised.
    expect(valid).toBeGreaterThan(100);
    expect(valid).toBeLessThan(3000);
  });
});

describe('isValidNationalNumber', () => {
  it("equals libphonenumber's own US validity, toll-free, premium and personal ranges included", async () => {
    const { isValidUsNumber } = await import('../../src/source/numbering-plans.js');
    const { PhoneNumber } = await import('libphonenumber-js/max');
    let seed = 11;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const prefixes = ['800', '833', '888', '900', '500', '521', '523', '524', '525', '533', '425', '206', '555', '211', '011', '999'];
    for (let i = 0; i < 4000; i++) {
      const n = i % 2 ? `${prefixes[i % prefixes.length]}${String(Math.floor(rnd() * 1e7)).padStart(7, '0')}` : String(Math.floor(rnd() * 1e10)).padStart(10, '0');
      expect(isValidUsNumber(n), n).toBe(new PhoneNumber(`+1${n}` as never).isValid());
    }
  });

  it("equals libphonenumber's isValid() for the region a parse finds, in every region of many calling codes", async () => {
    const { isValidNationalNumber } = await import('../../src/source/numbering-plans.js');
    const { parsePhoneNumberFromString } = await import('libphonenumber-js/max');
    let seed = 7;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    // Shared calling codes (44: GB GG IM JE; 7: RU KZ; 61: AU CC CX; 590: GP BL MF ...), big plans and small ones.
    const codes = ['44', '49', '33', '39', '34', '31', '7', '61', '64', '81', '86', '91', '55', '52', '27', '234', '971', '590', '262', '358', '47', '46', '41', '43', '353', '351', '48', '420', '36', '30', '90', '972', '65', '852', '82'];
    let valid = 0;
    let checked = 0;
    for (let i = 0; i < 12000; i++) {
      const cc = codes[i % codes.length]!;
      const length = 6 + Math.floor(rnd() * 7);
      const digits = String(Math.floor(rnd() * 10 ** length)).padStart(length, '0');
      const national = i % 3 === 0 ? `0${digits}` : digits;
      const parsed = parsePhoneNumberFromString(national, { defaultCallingCode: cc, extract: false });
      if (!parsed?.country) continue;
      checked++;
      const expected = parsed.isValid();
      if (expected) valid++;
      expect(isValidNationalNumber(parsed.country, parsed.nationalNumber), `+${cc} ${national} (${parsed.country})`).toBe(expected);
    }
    // The sample must exercise both answers, not only invalid numbers.
    expect(checked).toBeGreaterThan(8000);
    expect(valid).toBeGreaterThan(500);
  });
});
