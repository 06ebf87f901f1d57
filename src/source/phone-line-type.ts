import { parsePhoneNumberFromString, type NumberType } from 'libphonenumber-js/max';

/** Number types that take calls but not text messages, in words. */
const NOT_FOR_SMS: Partial<Record<NonNullable<NumberType>, string>> = {
  FIXED_LINE: 'fixed line',
  TOLL_FREE: 'toll free',
  PREMIUM_RATE: 'premium rate',
  SHARED_COST: 'shared cost',
  UAN: 'universal access number',
  VOICEMAIL: 'voicemail',
};

/** Stands for "no type to say" among the answers kept. */
const NONE = '';

/**
 * Answers already given, by digits. The type is the costliest step of mapping a user (a parse, then the
 * number matched against each type's pattern), and apply's re-derivation maps every user twice (the
 * cutover's pass, then each user's): kept for up to 32,768 numbers (about 2 MB), a plan of 20,000 users
 * and every test's sample asks libphonenumber once a number.
 */
const ANSWERS = new Map<string, string>();
const ANSWERS_KEPT = 32_768;

/**
 * The type, in words, of a number in Entra's format that libphonenumber's full metadata (the `max`
 * build, which holds number types) says takes no text messages: a landline (FIXED_LINE, not
 * FIXED_LINE_OR_MOBILE: most North American numbers, which the numbering plan does not tell apart),
 * a toll-free, premium-rate or shared-cost number, a UAN or voicemail; undefined for any other.
 * Parsed, so that the country is found among those sharing a calling code (a Guernsey number under
 * +44, an Åland one under +358). Asked only of numbers planned for SMS, not in the export's parse: a
 * type costs a metadata lookup per number.
 */
export function smsLessLineType(entra: string): string | undefined {
  const digits = entra.replace(/x\d*$/, '').replace(/\D/g, '');
  const known = ANSWERS.get(digits);
  if (known !== undefined) return known === NONE ? undefined : known;
  // A number libphonenumber cannot read has no type to say anything by.
  const type = parsePhoneNumberFromString(`+${digits}`)?.getType();
  const answer = type === undefined ? undefined : NOT_FOR_SMS[type];
  if (ANSWERS.size >= ANSWERS_KEPT) ANSWERS.clear();
  ANSWERS.set(digits, answer ?? NONE);
  return answer;
}
