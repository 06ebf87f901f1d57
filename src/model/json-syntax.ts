import { lineAndColumn, scanJson } from './json-scan.js';

/**
 * Why JSON.parse refused a text, without the text: V8 quotes the input around the error
 * (`Unexpected token 'b', "b6627a32a9"... is not valid JSON`), and the file may be a key or a seed
 * file given by mistake. The reason keeps V8's words but the quoted input; the line and column come
 * from V8's position when it gives one, else from walking the text to where it breaks (V8 gives
 * none for an unexpected character: a `//` comment where a value belongs, `tru`).
 */
export interface JsonSyntaxProblem {
  reason: string;
  line?: number;
  column?: number;
}

export function jsonSyntaxProblem(err: unknown, text: string): JsonSyntaxProblem {
  const message = err instanceof Error ? err.message : String(err);
  const said =
    message
      .replace(/^Unexpected token .*$/s, 'Unexpected character')
      .replace(/\s+after JSON at position \d+.*$/s, ' after the JSON value')
      .replace(/\s*in JSON at position \d+.*$/s, '')
      .replace(/, (\.\.\.)?".*$/s, '')
      .replace(/ is not valid JSON$/, '')
      .trim() || 'not valid JSON';
  const at = /at position (\d+)/.exec(message);
  const offset = at ? Number(at[1]) : said === 'Unexpected end of JSON input' ? undefined : scanJson(text).errorAt;
  if (offset === undefined) return { reason: said };
  // A comment is the likeliest `/` (an admin annotating a setting); JSON has none.
  const reason = text[offset] === '/' ? `${said} (JSON has no comments: remove the // or /* */ text)` : said;
  return { reason, ...lineAndColumn(text, offset) };
}

/** The problem as one phrase: `Unexpected end of JSON input`, `Expected ':' after property name at line 1, column 6`. */
export function jsonSyntaxText(err: unknown, text: string): string {
  const p = jsonSyntaxProblem(err, text);
  return p.line === undefined ? p.reason : `${p.reason} at line ${p.line}, column ${p.column}`;
}
