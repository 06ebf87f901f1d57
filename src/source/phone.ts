import { getCountryCallingCode, isSupportedCountry, parsePhoneNumberFromString, PhoneNumber as LibPhoneNumber, type CountryCode, type E164Number } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/metadata.max.json';
import type { PhoneNumber } from '../model/export-data.js';
import { isExcelScientific } from './excel-scientific.js';

/** A failure names the extension cell when that cell, not the number, is what is wrong. */
export type PhoneResult = { ok: true; phone: PhoneNumber } | { ok: false; reason: string; cell?: 'extension' };

/** `555-123-4567 x890`, `... ext. 890`, `... extension 890`, `... #890` at the end of a number. */
const EXTENSION_IN_NUMBER = /\s*(?:x|ext\.?|extension|#)\s*(\d+)\s*$/i;
const ALL_DIGITS = /^\d+$/;

/** Whether libphonenumber knows a country calling code, geographic (`1`, `44`) or not (`800`, `882`). */
function isCallingCode(code: string): boolean {
  return Object.hasOwn(metadata.country_calling_codes, code) || Object.hasOwn(metadata.nonGeographic, code);
}

/**
 * Parses a phone as MFA Server exports it (a separate country code, or `+CC ...`, punctuation,
 * an extension in its own column or inside the number) into Entra's format
 * `+{cc} {national}[x{ext}]`, validating the number for its country with libphonenumber's full
 * metadata. Messages never repeat the number itself (callers mask what they show).
 */
export function parsePhone(countryCodeCell: string | undefined, numberCell: string, extensionCell: string | undefined): PhoneResult {
  let text = numberCell.trim();
  let extension = extensionCell?.trim() || undefined;
  // Most exports write bare digits: no extension, punctuation or letters to look for.
  const plain = ALL_DIGITS.test(text);
  const inNumber = plain ? null : EXTENSION_IN_NUMBER.exec(text);
  if (inNumber) {
    text = text.slice(0, inNumber.index).trim();
    if (extension !== undefined && extension !== inNumber[1]) {
      return { ok: false, reason: 'the number carries an extension that differs from the extension column' };
    }
    extension = inNumber[1];
  }
  if (extension !== undefined && !/^\d{1,10}$/.test(extension)) {
    return { ok: false, reason: 'the extension must be 1 to 10 digits', ...(inNumber ? {} : { cell: 'extension' as const }) };
  }
  if (!plain && (!/^[+\d\s\-()./]+$/.test(text) || !/\d/.test(text))) {
    if (isExcelScientific(text)) return { ok: false, reason: 'the number is in scientific notation, as Excel saves a long number: its digits are lost; export the column again as text' };
    return { ok: false, reason: 'the number has characters other than digits and punctuation' };
  }

  const cc = parseCountryCode(countryCodeCell);
  if (cc === 'invalid') return { ok: false, reason: 'the country code is not a number or a two-letter country' };
  if (cc?.kind === 'region' && !isSupportedCountry(cc.region)) {
    return { ok: false, reason: `the country code ${cc.region} is not a two-letter country (ISO 3166-1${cc.region === 'UK' ? ': the United Kingdom is GB' : ''})` };
  }
  // libphonenumber throws (rather than answering) for a default calling code it does not know.
  if (cc?.kind === 'calling' && !isCallingCode(cc.callingCode)) return { ok: false, reason: `the country code ${cc.callingCode} is not a country calling code` };
  // `00` dials out of most countries; `011` out of North America, whose numbers never start with 0.
  const nanpOut = cc?.kind === 'calling' && cc.callingCode === '1' && /^011[\s\-.]*[1-9]/.test(text);
  const international = text.startsWith('+') || text.startsWith('00') || nanpOut;
  if (international && text.startsWith('00')) text = `+${text.slice(2)}`;
  else if (nanpOut) text = `+${text.slice(3).trimStart()}`;
  if (!international && cc === undefined) {
    return { ok: false, reason: 'no country code: fill the country code column or write the number as +CC ...' };
  }
  // North American numbers in their usual shapes (ten digits after +1 or with country code 1)
  // are already their national significant number. A number valid for the US (NANP's main
  // country, which a full parse tries first) is what a full parse would also find; anything else
  // (Canada, the Caribbean, invalid) takes the full parse below. A test holds the two paths equal.
  // `new PhoneNumber('+1…').isValid()` checks the US rules without a parse: a quarter of its cost.
  const digits = plain ? text : text.replace(/[\s\-()./]/g, '');
  const nanp =
    !international && cc?.kind === 'calling' && cc.callingCode === '1' && /^[2-9]\d{9}$/.test(digits)
      ? digits
      : international && /^\+1[2-9]\d{9}$/.test(digits) && (cc === undefined || (cc.kind === 'calling' && cc.callingCode === '1'))
        ? digits.slice(2)
        : undefined;
  if (nanp !== undefined && new LibPhoneNumber(`+1${nanp}` as E164Number).isValid()) return entraPhone('1', nanp, extension);
  const parsed = international
    ? parsePhoneNumberFromString(text, INTERNATIONAL)
    : cc!.kind === 'region'
      ? parsePhoneNumberFromString(text, { defaultCountry: cc!.region, extract: false })
      : parsePhoneNumberFromString(text, { defaultCallingCode: cc!.callingCode, extract: false });
  if (!parsed) return { ok: false, reason: 'not a phone number' };
  // Dialled out of North America with `011`, country code 1 is where it is dialled from, not the number's.
  if (international && cc !== undefined && !nanpOut) {
    // A country (GB) says its calling code (44) as a number does.
    const expected = cc.kind === 'region' ? getCountryCallingCode(cc.region) : cc.callingCode;
    if (parsed.countryCallingCode !== expected) {
      return { ok: false, reason: `the number's +${parsed.countryCallingCode} disagrees with country code ${cc.kind === 'region' ? `${cc.region} (+${expected})` : expected}` };
    }
  }
  if (!parsed.isValid()) {
    return { ok: false, reason: `not a valid number for country code +${parsed.countryCallingCode}` };
  }
  return entraPhone(String(parsed.countryCallingCode), String(parsed.nationalNumber), extension);
}

const INTERNATIONAL = { extract: false } as const;

/** Entra's `+{cc} {national}[x{ext}]`, with the parts kept apart. */
function entraPhone(countryCode: string, nationalNumber: string, extension: string | undefined): PhoneResult {
  if (extension === undefined) return { ok: true, phone: { countryCode, nationalNumber, entra: `+${countryCode} ${nationalNumber}` } };
  return { ok: true, phone: { countryCode, nationalNumber, extension, entra: `+${countryCode} ${nationalNumber}x${extension}` } };
}

type CountryCodeCell = { kind: 'calling'; callingCode: string } | { kind: 'region'; region: CountryCode };

/** A country code column holds a handful of distinct values: read each spelling once. */
const countryCodes = new Map<string, CountryCodeCell | undefined | 'invalid'>();
function parseCountryCode(cell: string | undefined): CountryCodeCell | undefined | 'invalid' {
  if (cell === undefined) return undefined;
  let v = countryCodes.get(cell);
  if (v === undefined && !countryCodes.has(cell)) {
    v = readCountryCode(cell);
    if (countryCodes.size < 1000) countryCodes.set(cell, v);
  }
  return v;
}

/** `1`, `+1`, `001` -> calling code 1; `US`, `gb` -> region; empty -> undefined. */
function readCountryCode(cell: string): CountryCodeCell | undefined | 'invalid' {
  const v = cell.trim();
  if (!v) return undefined;
  const digits = /^(?:\+|00)?(\d{1,4})$/.exec(v);
  if (digits) return { kind: 'calling', callingCode: digits[1]!.replace(/^0+/, '') || '0' };
  if (/^[A-Za-z]{2}$/.test(v)) return { kind: 'region', region: v.toUpperCase() as CountryCode };
  return 'invalid';
}
