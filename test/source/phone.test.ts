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
    ['GB', '+44 20 7946 0958', undefined, '+44 2079460958'],
    ['CA', '+1 416 555 0123', undefined, '+1 4165550123'],
    ['91', '98765 43210', undefined, '+91 9876543210'],
    ['1', '4255550103', '1234', '+1 4255550103x1234'],
    ['1', '(425) 555-0123 x45', undefined, '+1 4255550123x45'],
    ['1', '425-555-0123 ext. 45', undefined, '+1 4255550123x45'],
    ['1', '425-555-0123 extension 45', '45', '+1 4255550123x45'],
    ['61', '2 9876 5432', undefined, '+61 298765432'],
    // Dialled out of North America (a black-box test saw it refused as "not a valid number for +1").
    ['1', '011 44 20 7946 0958', undefined, '+44 2079460958'],
    ['+1', '01149301234567', undefined, '+49 301234567'],
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
    // Excel saves a long number as it shows it: the digits are gone, which is what the admin must hear.
    ['1', '4.26E+09', undefined, /scientific notation, as Excel saves a long number: its digits are lost/],
    ['49', '4,92E+10', undefined, /scientific notation, as Excel saves a long number: its digits are lost/],
    ['1', '4255550101 x12', '34', /differs from the extension column/],
    ['1', '4255550101', '12a', /extension must be/],
    // Calling codes no country has (libphonenumber throws for these rather than answering).
    ['999', '123456', undefined, /country code 999 is not a country calling code/],
    ['0', '5551234', undefined, /country code 0 is not a country calling code/],
    ['XX', '123456', undefined, /country code XX is not a two-letter country/],
    ['UK', '020 7946 0958', undefined, /country code UK is not a two-letter country \(ISO 3166-1: the United Kingdom is GB\)/],
    // A country, like a calling code, must agree with the number's own +CC.
    ['GB', '+1 425 555 0102', undefined, /the number's \+1 disagrees with country code GB \(\+44\)/],
    ['US', '+44 20 7946 0958', undefined, /the number's \+44 disagrees with country code US \(\+1\)/],
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

/**
 * parsePhone uses libphonenumber's public API only (a shortcut for North American numbers, its parse
 * and isValid() for the rest): randomised, over every region and both ways of giving the country, its
 * answers must be libphonenumber's own.
 */
describe("parsePhone agrees with libphonenumber's own parse and isValid()", () => {
  it('in every region, for example numbers, with the national prefix, changed, cut and random digits', async () => {
    const { parsePhoneNumberFromString, getCountries, getCountryCallingCode } = await import('libphonenumber-js/max');
    const examples = (await import('libphonenumber-js/examples.mobile.json')).default as Record<string, string>;
    let seed = 13;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
    let asked = 0;
    let valid = 0;
    for (const region of getCountries()) {
      const callingCode = getCountryCallingCode(region);
      const example = examples[region] ?? digits(8);
      for (let i = 0; i < 24; i++) {
        const changed = example.slice(0, Math.max(1, example.length - 1 - Math.floor(rnd() * 4))) + digits(Math.floor(rnd() * 5));
        const candidates = [example, `0${example}`, changed, `0${changed}`, digits(3 + Math.floor(rnd() * 13)), `8${digits(6 + Math.floor(rnd() * 6))}`];
        const raw = candidates[i % candidates.length]!;
        const text = i % 4 === 3 ? `(${raw.slice(0, 3)}) ${raw.slice(3, 6)}-${raw.slice(6)}` : raw;
        for (const [cell, options] of [
          [callingCode, { defaultCallingCode: callingCode, extract: false }],
          [region, { defaultCountry: region, extract: false }],
        ] as const) {
          asked++;
          const full = parsePhoneNumberFromString(text, options);
          // A number written internationally (00 1 ...) must agree with the country given, whichever way it is given.
          const disagrees = /^(\+|00)/.test(text) && full?.countryCallingCode !== callingCode;
          const expected = full?.isValid() && !disagrees ? `+${full.countryCallingCode} ${full.nationalNumber}` : undefined;
          const r = parsePhone(cell, text, undefined);
          expect(r.ok ? r.phone.entra : undefined, `${cell} ${text}`).toBe(expected);
          if (expected) valid++;
        }
      }
    }
    // Every region was tried, and valid and invalid numbers both came up in numbers.
    expect(asked).toBeGreaterThan(240 * 24 * 2);
    expect(valid).toBeGreaterThan(2000);
    expect(asked - valid).toBeGreaterThan(2000);
  });
});
