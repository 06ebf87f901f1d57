/**
 * Masks a phone number for logs and terminal output: keeps the country code, the first three and
 * the last four digits (`+1 425***0101`), and the extension marker. Short numbers keep less.
 */
export function maskPhone(phone: string): string {
  const m = /^(\+\d{1,4})\s*([\d\s\-().]*?)(\s*x\s*\d+)?$/i.exec(phone.trim());
  if (!m) return maskDigits(phone);
  const digits = (m[2] ?? '').replace(/\D/g, '');
  const ext = m[3] ? 'x***' : '';
  return `${m[1]} ${maskNational(digits)}${ext}`;
}

function maskNational(digits: string): string {
  if (digits.length >= 9) return `${digits.slice(0, 3)}***${digits.slice(-4)}`;
  if (digits.length >= 5) return `***${digits.slice(-2)}`;
  return '***';
}

/** Any text that may hold a phone number: keep at most the last two digits of each digit run. */
function maskDigits(text: string): string {
  return text.replace(/\d[\d\s\-().]{3,}\d/g, (run) => {
    const d = run.replace(/\D/g, '');
    return `***${d.slice(-2)}`;
  });
}
