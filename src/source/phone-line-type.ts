import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Whether libphonenumber's full metadata (the `max` build, which holds number types) types a number
 * in Entra's format as a landline only: FIXED_LINE, not FIXED_LINE_OR_MOBILE (most North American
 * numbers, which the numbering plan does not tell apart). Parsed, so that the country is found among
 * those sharing a calling code (a Guernsey number under +44, an Åland one under +358). Asked only of
 * numbers planned for SMS, not in the export's parse: a type costs a metadata lookup per number.
 */
export function isFixedLineOnly(entra: string): boolean {
  const digits = entra.replace(/x\d*$/, '').replace(/\D/g, '');
  // A number libphonenumber cannot read has no type to say anything by.
  return parsePhoneNumberFromString(`+${digits}`)?.getType() === 'FIXED_LINE';
}
