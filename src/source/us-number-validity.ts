import { Metadata } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/metadata.max.json';

/** The parts of libphonenumber's numbering plan API this module reads (its typings omit them). */
interface PlanInternals {
  nationalNumberPattern(): string;
  type(name: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
}

// libphonenumber's getNumberType, in its order of number types.
const TYPES = ['FIXED_LINE', 'MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'];

/**
 * Whether a ten-digit national number is a valid US number, with libphonenumber's own metadata
 * and its own rule (valid for the country, then of some known type: libphonenumber's
 * getNumberType) but with the regular expressions compiled once. libphonenumber builds each
 * expression again on every call, which made US numbers the largest cost of reading a large
 * users.csv. A randomised test holds this equal to libphonenumber's isValid().
 */
export const isValidUsNumber: (nationalNumber: string) => boolean = (() => {
  const m = new Metadata(metadata);
  m.selectNumberingPlan('US');
  const plan = m as unknown as PlanInternals;
  const whole = (pattern: string) => new RegExp(`^(?:${pattern})$`);
  const general = whole(plan.nationalNumberPattern());
  const types = TYPES.flatMap((name) => {
    const t = plan.type(name);
    const pattern = t?.pattern();
    return pattern ? [{ re: whole(pattern), lengths: t!.possibleLengths() }] : [];
  });
  return (n: string) => general.test(n) && types.some((t) => (!t.lengths || t.lengths.includes(n.length)) && t.re.test(n));
})();
