/**
 * Masks a phone number for logs, terminal output, JSON output and reports: keeps the country code
 * and the last two digits, one `*` for each other digit (`+1 ********01`, as Entra's own screens
 * show a number), and the extension marker with its digits hidden (`x***`). Short numbers (fewer
 * than five digits) keep none.
 */
export function maskPhone(phone: string): string {
  const m = /^(\+\d{1,4})\s*([\d\s\-().]*?)(\s*x\s*\d+)?$/i.exec(phone.trim());
  if (!m) return maskPhoneText(phone);
  const digits = (m[2] ?? '').replace(/\D/g, '');
  const ext = m[3] ? 'x***' : '';
  return `${m[1]} ${maskRun(digits)}${ext}`;
}

/**
 * An extension written at the end of a number cell (`x45`, `ext. 45`, `extension 45`, `#45`), as the
 * export reader takes it apart (src/source/phone.ts), with digits of any script.
 */
export const EXTENSION_AT_END = /\s*(?:x|ext\.?|extension|#|;ext=)\s*\p{Nd}+\s*$/iu;

/**
 * A phone as typed in an export cell (`030 1234567`, `(425) 555-0101 x12`): every digit of the
 * number but its last two is replaced by `*`, punctuation and spacing kept, so a reader can still see
 * the shape the number was written in (a trunk prefix, a separate extension) without the number. An
 * extension at the end of the cell is hidden as `maskPhone` hides it, its marker kept and its digits
 * `***` (`(***) ***-**01 x***`): the cell and the number's Entra form (`+1 ********01x***`) shown
 * side by side reveal the same two digits and no extension.
 */
export function maskPhoneText(text: string): string {
  const ext = EXTENSION_AT_END.exec(text);
  if (!ext) return maskDigits(text);
  return maskDigits(text.slice(0, ext.index)) + ext[0].replace(/\p{Nd}+/u, '***');
}

/**
 * Every digit but the last two (none when fewer than five) as `*`, punctuation and spacing kept.
 * Letters count as digits: a vanity number's letters are its digits (1-800-FLOWERS).
 */
function maskDigits(text: string): string {
  // Any script's digits (full-width, Arabic-Indic...): an export cell may hold them, and `\d` is ASCII only.
  const total = (text.match(/[\p{Nd}\p{L}]/gu) ?? []).length;
  const keep = total >= 5 ? 2 : 0;
  let seen = 0;
  return text.replace(/[\p{Nd}\p{L}]/gu, (d) => (++seen > total - keep ? d : '*'));
}

function maskRun(digits: string): string {
  const keep = digits.length >= 5 ? 2 : 0;
  return '*'.repeat(digits.length - keep) + digits.slice(digits.length - keep);
}
