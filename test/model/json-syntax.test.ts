import { describe, expect, it } from 'vitest';
import { jsonSyntaxProblem, jsonSyntaxText } from '../../src/model/json-syntax.js';

const problemOf = (text: string) => {
  try {
    JSON.parse(text);
  } catch (err) {
    return { p: jsonSyntaxProblem(err, text), t: jsonSyntaxText(err, text) };
  }
  throw new Error('parsed');
};

describe('jsonSyntaxProblem', () => {
  it('never quotes the text (a key or seed file given by mistake), whatever V8 put in its message', () => {
    for (const secret of ['b6627a32a9deadbeefcafe', 'JBSWY3DPEHPK3PXP', '"JBSWY3DPEHPK3PXP', 'JBSWY3DP EHPK3PXP\n', '{"k": JBSWY3DPEHPK3PXP}', `{ "padding": "${'x'.repeat(40)}", "k": 'JBSWY3DPEHPK3PXP' }`]) {
      const { t } = problemOf(secret);
      expect(t).not.toMatch(/JBSW|EHPK|b662|dead/);
      expect(t.length).toBeGreaterThan(0);
    }
  });

  it('keeps the reason and gives the line and column where V8 gives a position', () => {
    const { p, t } = problemOf('{\n  "a": 1,\n  "b" 2\n}');
    expect(p).toMatchObject({ line: 3, column: 7 });
    expect(t).toMatch(/^Expected ':' after property name at line 3, column 7$/);
    expect(problemOf('').t).toBe('Unexpected end of JSON input');
    expect(problemOf('xyz').t).toBe('Unexpected character');
    expect(problemOf('{}\n x').t).toBe('Unexpected non-whitespace character after the JSON value at line 2, column 2');
  });
});
