/** The delimiters admins' CSV files use: Excel's `,` or `;` (by locale), and tab ("Text (Tab delimited)"). */
export type CsvDelimiter = ',' | ';' | '\t';

/**
 * The delimiter used most on the header line outside quotes (comma when none is used, or on a tie).
 * `text` may go on past the header: counting stops at the first line break outside quotes.
 */
export function detectDelimiter(text: string): CsvDelimiter {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && (ch === ',' || ch === ';' || ch === '\t')) counts[ch]++;
  }
  let best: CsvDelimiter = ',';
  for (const d of [';', '\t'] as const) if (counts[d] > counts[best]) best = d;
  return best;
}

/**
 * Lines some tools write before a CSV's header: PowerShell's `Export-Csv` (Windows PowerShell 5.1,
 * without -NoTypeInformation) starts with `#TYPE <class>`, and Excel honours a `sep=<char>` line
 * naming the delimiter. How many such lines `text` starts with (a BOM aside), and the delimiter a
 * `sep=` line names, and the text from the header on.
 */
export function csvPreamble(text: string): { lines: number; delimiter?: CsvDelimiter; header: string } {
  let rest = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let lines = 0;
  let delimiter: CsvDelimiter | undefined;
  for (;;) {
    const end = rest.search(/\r\n|\n|\r/);
    const line = end < 0 ? rest : rest.slice(0, end);
    const sep = /^"?sep=(.)"?,*\s*$/i.exec(line);
    if (sep && (sep[1] === ',' || sep[1] === ';' || sep[1] === '\t')) delimiter = sep[1];
    else if (!/^#TYPE\s/i.test(line)) return { lines, ...(delimiter ? { delimiter } : {}), header: rest };
    lines++;
    if (end < 0) return { lines, ...(delimiter ? { delimiter } : {}), header: '' };
    rest = rest.slice(end + (rest.startsWith('\r\n', end) ? 2 : 1));
  }
}
