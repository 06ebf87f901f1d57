/**
 * Why JSON.parse refused a text, without the text: V8 quotes the input around the error
 * (`Unexpected token 'b', "b6627a32a9"... is not valid JSON`), and the file may be a key or a seed
 * file given by mistake. The reason keeps V8's words but the quoted input; the line and column come
 * from V8's position when it gives one.
 */
export interface JsonSyntaxProblem {
  reason: string;
  line?: number;
  column?: number;
}

export function jsonSyntaxProblem(err: unknown, text: string): JsonSyntaxProblem {
  const message = err instanceof Error ? err.message : String(err);
  const reason =
    message
      .replace(/^Unexpected token .*$/s, 'Unexpected character')
      .replace(/\s+after JSON at position \d+.*$/s, ' after the JSON value')
      .replace(/\s*in JSON at position \d+.*$/s, '')
      .replace(/, (\.\.\.)?".*$/s, '')
      .replace(/ is not valid JSON$/, '')
      .trim() || 'not valid JSON';
  const at = /at position (\d+)/.exec(message);
  if (!at) return { reason };
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  return { reason, line, column: before.length - before.lastIndexOf('\n') };
}

/** The problem as one phrase: `Unexpected end of JSON input`, `Expected ':' after property name at line 1, column 6`. */
export function jsonSyntaxText(err: unknown, text: string): string {
  const p = jsonSyntaxProblem(err, text);
  return p.line === undefined ? p.reason : `${p.reason} at line ${p.line}, column ${p.column}`;
}
