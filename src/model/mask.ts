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
 * A phone as typed in an export cell (`030 1234567`, `(425) 555-0101 x12`): every digit but the
 * last two is replaced by `*`, punctuation and spacing kept, so a reader can still see the shape
 * the number was written in (a trunk prefix, a separate extension) without the number.
 */
export function maskPhoneText(text: string): string {
  // Any script's digits (full-width, Arabic-Indic...): an export cell may hold them, and `\d` is ASCII only.
  const total = (text.match(/\p{Nd}/gu) ?? []).length;
  const keep = total >= 5 ? 2 : 0;
  let seen = 0;
  return text.replace(/\p{Nd}/gu, (d) => (++seen > total - keep ? d : '*'));
}

function maskRun(digits: string): string {
  const keep = digits.length >= 5 ? 2 : 0;
  return '*'.repeat(digits.length - keep) + digits.slice(digits.length - keep);
}
