import type { ProblemList, Where } from '../model/problem.js';
import { shownValue } from '../model/shown-value.js';

/**
 * A serial Excel wrote as a number in scientific notation: a CSV opened in Excel and saved again
 * keeps a long numeric cell as it shows it (`1.0001E+07`, `2,60022E+12` where the decimal mark is a
 * comma), so the serial's digits are lost. Taken as written, two tokens could share the serial, or a
 * user's serial (users.csv saved so too) read as another token's: the row is refused instead.
 */
const SCIENTIFIC = /^[0-9](?:[.,][0-9]+)?E\+[0-9]+$/i;

export function isExcelScientific(value: string): boolean {
  return SCIENTIFIC.test(value.trim());
}

/** Why the cell is refused; `what` names it (`serial`, `serial number`, `oath_token_serial`). */
export function excelScientificMessage(what: string, value: string): string {
  return `the ${what} ${shownValue(value)} is a number in scientific notation, as Excel saves a long number it shows so: its digits are lost (and other tokens' serials may read the same). Take the file again as the vendor or the export wrote it, or import it into Excel with the column as Text before saving`;
}

/** Refuses a seed file's row whose serial Excel saved so; true when the caller skips it. */
export function refuseExcelScientificSerial(value: string, what: string, problems: ProblemList, where: Where, unit: 'row' | 'line'): boolean {
  if (!isExcelScientific(value)) return false;
  problems.error('value-invalid', where, `${excelScientificMessage(what, value)}; the ${unit} is skipped`);
  return true;
}
