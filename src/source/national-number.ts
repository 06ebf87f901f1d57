import { numberingPlan, regionsOfCallingCode, type NumberingPlan } from './numbering-plans.js';

/** How the country is given beside a number in national format: a calling code or a region. */
export type NationalContext = { callingCode: string } | { region: string };

export interface NationalParse {
  callingCode: string;
  /** The region the number belongs to (for shared calling codes, the one libphonenumber picks). */
  region: string;
  nationalNumber: string;
}

/** Only ASCII digits and the punctuation exports use; anything else takes libphonenumber's own parse. */
const SIMPLE_NATIONAL = /^[\d ()\-./]+$/;
const NOT_DIGIT = /\D/g;

/**
 * libphonenumber's parse of a number written in national format with its country given
 * (parsePhoneNumberFromString(text, { defaultCallingCode | defaultCountry, extract: false })),
 * step for step, but with each region's expressions compiled once (numbering-plans.ts): some
 * 17 µs a number less, the largest cost of a users.csv with many numbers outside North America.
 *
 * It answers only where its steps are certain to be libphonenumber's, and returns undefined for
 * the caller to run libphonenumber itself: characters other than ASCII digits and plain
 * punctuation, fewer than 3 digits (viability), a number that begins with the region's
 * international prefix or with the calling code itself (libphonenumber's two guesses that the
 * number is international after all), an unknown calling code or region, a national number
 * libphonenumber would refuse for its length, or no region found for it. A randomised test holds
 * every answer equal to libphonenumber's.
 */
export function parseNationalNumber(context: NationalContext, text: string): NationalParse | undefined {
  if (text.length > 250 || !SIMPLE_NATIONAL.test(text)) return undefined;
  const digits = text.replace(NOT_DIGIT, '');
  if (digits.length < 3) return undefined;

  // parsePhoneNumber: the plan selected before the national number is extracted.
  let selected: NumberingPlan | undefined;
  let region: string | undefined;
  if ('region' in context) {
    selected = numberingPlan(context.region);
    if (selected === undefined) return undefined;
    region = context.region;
    // stripIddPrefix (only tried when a region is given).
    if (selected.idd.test(digits)) return undefined;
  } else {
    const main = regionsOfCallingCode(context.callingCode)?.[0];
    selected = main === undefined ? undefined : numberingPlan(main);
    if (selected === undefined) return undefined;
  }
  const callingCode = selected.callingCode;
  // extractCountryCallingCodeFromInternationalNumberWithoutPlusSign.
  if (digits.startsWith(callingCode)) return undefined;

  const nationalNumber = extractNationalNumber(digits, selected);
  const exact = regionByNationalNumber(callingCode, nationalNumber);
  region = exact ?? region;
  // parse(): MIN_LENGTH_FOR_NSN and MAX_LENGTH_FOR_NSN.
  if (region === undefined || nationalNumber.length < 2 || nationalNumber.length > 17) return undefined;
  return { callingCode, region, nationalNumber };
}

/** extractNationalNumber: strips the national prefix (and applies the transform rule) when libphonenumber would. */
function extractNationalNumber(number: string, plan: NumberingPlan): string {
  const prefix = plan.nationalPrefixForParsing;
  if (prefix === undefined) return number;
  const match = prefix.exec(number);
  if (match === null) return number;
  // extractNationalNumberFromPossiblyIncompleteNumber
  const groups = match.length - 1;
  const captured = groups > 0 && Boolean(match[groups]);
  const stripped = plan.nationalPrefixTransformRule !== undefined && captured ? number.replace(prefix, plan.nationalPrefixTransformRule) : number.slice(match[0].length);
  if (stripped === number) return number;
  // shouldHaveExtractedNationalPrefix
  if (plan.national.test(number) && !plan.national.test(stripped)) return number;
  if (plan.possibleLengths) {
    const region = regionByNationalNumber(plan.callingCode, stripped);
    const lengths = region === undefined ? plan.possibleLengths : numberingPlan(region)!.possibleLengths;
    const status = lengthStatus(stripped.length, lengths);
    if (status === 'too-short' || status === 'invalid') return number;
  }
  return stripped;
}

/** getCountryByCallingCode / getCountryByNationalNumber: the region of a calling code a number belongs to. */
function regionByNationalNumber(callingCode: string, nationalNumber: string): string | undefined {
  const regions = regionsOfCallingCode(callingCode);
  if (regions === undefined) return undefined;
  if (regions.length === 1) return regions[0];
  for (const region of regions) {
    const plan = numberingPlan(region)!;
    if (plan.leadingDigits !== undefined) {
      if (plan.leadingDigits.test(nationalNumber)) return region;
    } else if (plan.hasType(nationalNumber)) {
      return region;
    }
  }
  return undefined;
}

/** checkNumberLength, without a number type. */
function lengthStatus(length: number, possible: readonly number[] | undefined): 'possible' | 'too-short' | 'too-long' | 'invalid' {
  if (!possible) return 'possible';
  if (possible[0] === length) return 'possible';
  if (possible[0]! > length) return 'too-short';
  if (possible[possible.length - 1]! < length) return 'too-long';
  return possible.indexOf(length, 1) >= 0 ? 'possible' : 'invalid';
}
