import { describe, expect, it } from 'vitest';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/examples.mobile.json';
import metadata from 'libphonenumber-js/metadata.max.json';
import { parseNationalNumber, type NationalContext } from '../../src/source/national-number.js';
import { isValidNationalNumber } from '../../src/source/numbering-plans.js';

describe('parseNationalNumber', () => {
  it.each([
    [{ callingCode: '44' }, '20 7946 0958', 'GB', '2079460958'],
    [{ callingCode: '44' }, '020 7946 0958', 'GB', '2079460958'],
    [{ callingCode: '44' }, '07624 123456', 'IM', '7624123456'],
    [{ region: 'GB' }, '01534 123456', 'JE', '1534123456'],
    [{ callingCode: '49' }, '030 1234567', 'DE', '301234567'],
    [{ region: 'DE' }, '(030) 123-4567', 'DE', '301234567'],
    [{ callingCode: '61' }, '02 9876 5432', 'AU', '298765432'],
    [{ callingCode: '7' }, '8 727 123 4567', 'KZ', '7271234567'],
  ] as [NationalContext, string, string, string][])('%j %s -> %s %s', (context, text, region, nationalNumber) => {
    const callingCode = (metadata.countries as Record<string, unknown[]>)[region]![0];
    expect(parseNationalNumber(context, text)).toEqual({ callingCode, region, nationalNumber });
  });

  it.each([
    [{ callingCode: '44' }, '44 20 7946 0958', 'begins with the calling code'],
    [{ region: 'GB' }, '00 33 1 23 45 67 89', 'begins with the international prefix'],
    [{ callingCode: '999' }, '123456', 'unknown calling code'],
    [{ callingCode: '800' }, '12345678', 'a non-geographic calling code (no region)'],
    [{ region: 'ZZ' }, '123456', 'unknown region'],
    [{ callingCode: '44' }, '２０ 7946 0958', 'non-ASCII digits'],
    [{ callingCode: '44' }, '12', 'too few digits'],
  ] as [NationalContext, string, string][])('leaves %j %s to libphonenumber (%s)', (context, text) => {
    expect(parseNationalNumber(context, text)).toBeUndefined();
  });

  it("agrees with libphonenumber's parse and isValid() wherever it answers, in every region", () => {
    let seed = 13;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
    const countries = metadata.countries as Record<string, unknown[]>;
    let answered = 0;
    let asked = 0;
    let valid = 0;
    for (const region of Object.keys(countries)) {
      const plan = countries[region]!;
      const callingCode = plan[0] as string;
      const nationalPrefix = (plan[5] as string | undefined) ?? '0';
      const example = (examples as Record<string, string>)[region] ?? digits(8);
      const texts: string[] = [];
      for (let i = 0; i < 24; i++) {
        // Example numbers, with the national prefix, with digits changed, cut or added, and random digits.
        const changed = example.slice(0, Math.max(1, example.length - 1 - Math.floor(rnd() * 4))) + digits(Math.floor(rnd() * 5));
        const candidates = [example, nationalPrefix + example, changed, nationalPrefix + changed, digits(3 + Math.floor(rnd() * 13)), `0${digits(6 + Math.floor(rnd() * 6))}`];
        const text = candidates[i % candidates.length]!;
        texts.push(i % 4 === 3 ? `(${text.slice(0, 3)}) ${text.slice(3, 6)}-${text.slice(6)}` : text);
      }
      for (const text of texts) {
        for (const context of [{ callingCode }, { region }] as NationalContext[]) {
          asked++;
          const fast = parseNationalNumber(context, text);
          if (fast === undefined) continue;
          answered++;
          const options = 'region' in context ? { defaultCountry: context.region as CountryCode, extract: false } : { defaultCallingCode: context.callingCode, extract: false };
          const full = parsePhoneNumberFromString(text, options);
          const where = `${JSON.stringify(context)} ${text}`;
          expect(full, where).toBeDefined();
          expect({ callingCode: full!.countryCallingCode, region: full!.country, nationalNumber: full!.nationalNumber }, where).toEqual(fast);
          const expected = full!.isValid();
          expect(isValidNationalNumber(fast.region, fast.nationalNumber), where).toBe(expected);
          if (expected) valid++;
        }
      }
    }
    // Every region was tried; most inputs were answered here; valid and invalid numbers both came up.
    expect(asked).toBeGreaterThan(245 * 24 * 2 - 1);
    expect(answered / asked).toBeGreaterThan(0.6);
    expect(valid).toBeGreaterThan(2000);
    expect(answered - valid).toBeGreaterThan(2000);
  });
});
