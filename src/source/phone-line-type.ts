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
  // A number libphonenumber cannot read has no type to say anything by.
  const type = parsePhoneNumberFromString(`+${digits}`)?.getType();
  return type === undefined ? undefined : NOT_FOR_SMS[type];
}
