import { Metadata } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/metadata.max.json';

/** The parts of libphonenumber's numbering plan API this module reads (its typings omit them). */
interface PlanInternals {
  callingCode(): string;
  IDDPrefix(): string;
  nationalNumberPattern(): string;
  possibleLengths(): number[] | undefined;
  nationalPrefixForParsing(): string | undefined;
  nationalPrefixTransformRule(): string | undefined;
  leadingDigits(): string | undefined;
  hasTypes(): boolean;
  type(name: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
}

// libphonenumber's getNumberType, in its order of number types.
const TYPES = ['FIXED_LINE', 'MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'];

/**
 * One region's numbering plan from libphonenumber's own (max) metadata, with its regular
 * expressions compiled once. libphonenumber builds each expression again on every call (up to
 * 1.4 KB of pattern each, some 5 µs apiece), which made phones the largest cost of reading a large
 * users.csv. Randomised tests hold what is built on these equal to libphonenumber's own answers.
 */
export interface NumberingPlan {
  region: string;
  callingCode: string;
  /** International (IDD) prefix, anchored at the start. */
  idd: RegExp;
  /** The whole national number pattern. */
  national: RegExp;
  possibleLengths: readonly number[] | undefined;
  /** National prefix for parsing (or the national prefix), anchored at the start, as libphonenumber builds it. */
  nationalPrefixForParsing: RegExp | undefined;
  nationalPrefixTransformRule: string | undefined;
  /** Leading digits that identify this region among those sharing its calling code, anchored. */
  leadingDigits: RegExp | undefined;
  /** getNumberType() finds a type: the number is of one of the plan's types. */
  hasType(nationalNumber: string): boolean;
  /** PhoneNumber.isValid() for a number of this region. */
  isValid(nationalNumber: string): boolean;
}

const meta = new Metadata(metadata);
const plans = new Map<string, NumberingPlan | null>();

/** The compiled plan of a region (`US`, `GB`, ...), or undefined when libphonenumber has none. */
export function numberingPlan(region: string): NumberingPlan | undefined {
  let plan = plans.get(region);
  if (plan === undefined) {
    plan = Object.hasOwn(metadata.countries, region) ? compile(region) : null;
    plans.set(region, plan);
  }
  return plan ?? undefined;
}

/**
 * The regions of a calling code, main region first (metadata.getCountryCodesForCallingCode: none
 * for non-geographic codes such as 800 or 881).
 */
export function regionsOfCallingCode(callingCode: string): readonly string[] | undefined {
  const regions = metadata.country_calling_codes[callingCode as keyof typeof metadata.country_calling_codes] as string[] | undefined;
  if (regions === undefined || (regions.length === 1 && regions[0]!.length === 3)) return undefined;
  return regions;
}

/** Whether libphonenumber knows a country calling code, geographic (`1`, `44`) or not (`800`, `882`). */
export function isCallingCode(code: string): boolean {
  return Object.hasOwn(metadata.country_calling_codes, code) || Object.hasOwn(metadata.nonGeographic, code);
}

/** Whether a national significant number is valid for a region: libphonenumber's PhoneNumber.isValid(). */
export function isValidNationalNumber(region: string, nationalNumber: string): boolean {
  return numberingPlan(region)?.isValid(nationalNumber) ?? false;
}

export const isValidUsNumber = (nationalNumber: string): boolean => isValidNationalNumber('US', nationalNumber);

function compile(region: string): NumberingPlan {
  meta.selectNumberingPlan(region as never);
  const plan = meta.numberingPlan as unknown as PlanInternals;
  const whole = (pattern: string) => new RegExp(`^(?:${pattern})$`);
  const start = (pattern: string) => new RegExp(`^(?:${pattern})`);
  const general = whole(plan.nationalNumberPattern());
  const types = plan.hasTypes()
    ? TYPES.flatMap((name) => {
        const t = plan.type(name);
        const pattern = t?.pattern();
        return pattern ? [{ re: whole(pattern), lengths: t!.possibleLengths() }] : [];
      })
    : [];
  // getNumberType: the national pattern, then one of the types (their own lengths first).
  const hasType = (n: string): boolean => general.test(n) && types.some((t) => (!t.lengths || t.lengths.includes(n.length)) && t.re.test(n));
  const npfp = plan.nationalPrefixForParsing();
  const leading = plan.leadingDigits();
  return {
    region,
    callingCode: plan.callingCode(),
    idd: start(plan.IDDPrefix()),
    national: general,
    possibleLengths: plan.possibleLengths(),
    // libphonenumber: new RegExp('^(?:' + nationalPrefixForParsing + ')')
    nationalPrefixForParsing: npfp ? start(npfp) : undefined,
    nationalPrefixTransformRule: plan.nationalPrefixTransformRule() || undefined,
    // libphonenumber: nationalNumber.search(leadingDigits) === 0, the same as a match anchored at the start.
    leadingDigits: leading ? start(leading) : undefined,
    hasType,
    // isValidNumber: getNumberType() when the plan has types, else the national pattern alone.
    isValid: plan.hasTypes() ? hasType : (n) => general.test(n),
  };
}
