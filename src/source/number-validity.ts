import { Metadata } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/metadata.max.json';

/** The parts of libphonenumber's numbering plan API this module reads (its typings omit them). */
interface PlanInternals {
  nationalNumberPattern(): string;
  hasTypes(): boolean;
  type(name: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
}

// libphonenumber's getNumberType, in its order of number types.
const TYPES = ['FIXED_LINE', 'MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'];

type Check = (nationalNumber: string) => boolean;
const checks = new Map<string, Check>();
const meta = new Metadata(metadata);

/**
 * Whether a national significant number is valid for a region (`US`, `GB`, ...), with
 * libphonenumber's own metadata and its own rule (PhoneNumber.isValid(): the number matches the
 * region's national number pattern, then, when the region lists number types, one of them, as
 * getNumberType checks them) but with the regular expressions compiled once per region.
 * libphonenumber builds each expression again on every call (up to 1.4 KB of pattern each, some
 * 5 µs apiece), which made phone validation the largest cost of reading a large users.csv.
 * A randomised test holds this equal to libphonenumber's isValid() for many regions.
 */
export function isValidNationalNumber(region: string, nationalNumber: string): boolean {
  let check = checks.get(region);
  if (check === undefined) {
    check = compile(region);
    checks.set(region, check);
  }
  return check(nationalNumber);
}

export const isValidUsNumber: Check = (n) => isValidNationalNumber('US', n);

function compile(region: string): Check {
  meta.selectNumberingPlan(region as never);
  const plan = meta.numberingPlan as unknown as PlanInternals;
  const whole = (pattern: string) => new RegExp(`^(?:${pattern})$`);
  const general = whole(plan.nationalNumberPattern());
  if (!plan.hasTypes()) return (n) => general.test(n);
  const types = TYPES.flatMap((name) => {
    const t = plan.type(name);
    const pattern = t?.pattern();
    return pattern ? [{ re: whole(pattern), lengths: t!.possibleLengths() }] : [];
  });
  return (n) => general.test(n) && types.some((t) => (!t.lengths || t.lengths.includes(n.length)) && t.re.test(n));
}
