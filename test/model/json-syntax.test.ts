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
    expect(problemOf('xyz').t).toBe('Unexpected character at line 1, column 1');
    expect(problemOf('{}\n x').t).toBe('Unexpected non-whitespace character after the JSON value at line 2, column 2');
  });

  it('gives the line and column where V8 gives no position, and says a comment is one (a black-box test: "Unexpected character" alone for a // comment)', () => {
    expect(problemOf('{\n  "company": {\n    "fraudAlert": { "reportingCode": // the default\n 0 } } }').p).toEqual({
      reason: 'Unexpected character (JSON has no comments: remove the // or /* */ text)',
      line: 3,
      column: 38,
    });
    expect(problemOf('{\n  "a": tru\n}').t).toBe('Unexpected character at line 2, column 11');
    // A comment where a key belongs: V8 gives the position itself; the hint is the same.
    expect(problemOf('{\n  // note\n  "a": 1\n}').t).toBe('Expected property name or \'}\' (JSON has no comments: remove the // or /* */ text) at line 2, column 3');
  });
});
