import { describe, expect, it } from 'vitest';
import { lineAndColumn, scanJson } from '../../src/model/json-scan.js';

describe('scanJson', () => {
  it('tells valid from broken as JSON.parse does, breaking where V8 says when V8 says (random texts)', () => {
    const pieces = ['{', '}', '[', ']', ',', ':', '"a"', '"b"', '1', '-', '0', '.', 'e', 'E+', 'true', 'tru', 'null', ' ', '\n', '"\\u00', '"\\u0041"', '"\\x"', '"\\n"', '/', '"', '\t'];
    let state = 7;
    const next = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    let valid = 0;
    let positioned = 0;
    for (let t = 0; t < 30_000; t++) {
      let text = '';
      for (let k = 1 + Math.floor(next() * 12); k > 0; k--) text += pieces[Math.floor(next() * pieces.length)];
      let at: number | null = null;
      try {
        JSON.parse(text);
        valid++;
      } catch (err) {
        const m = /at position (\d+)/.exec((err as Error).message);
        at = m ? Number(m[1]) : -1;
      }
      const scan = scanJson(text);
      if (at === null) expect(scan.errorAt, text).toBeUndefined();
      else expect(scan.errorAt, text).toBeDefined();
      if (at !== null && at >= 0) {
        positioned++;
        expect(scan.errorAt, text).toBe(at);
      }
    }
    // The texts reach both sides.
    expect(valid).toBeGreaterThan(500);
    expect(positioned).toBeGreaterThan(10_000);
  });

  it('breaks where V8 names no position: a comment where a value belongs, a misspelt literal', () => {
    expect(scanJson('{\n  "a": // note\n  1\n}').errorAt).toBe(9);
    expect(scanJson('{"a": tru}').errorAt).toBe(9);
    expect(scanJson('{"a": NaN}').errorAt).toBe(6);
    expect(scanJson('{"a": /* c */ 1}').errorAt).toBe(6);
  });

  it('finds the keys an object gives twice, with their JSON path and both places; the same key in two objects is not one', () => {
    const text = '{\n  "company": {\n    "fraudAlert": { "reportingCode": 0, "reportingCode": 5 }\n  },\n  "list": [{ "a": 1, "b": 2 }, { "a": 1, "\\u0061": 2 }],\n  "company": {}\n}';
    expect(JSON.parse(text)).toEqual({ company: {}, list: [{ a: 1, b: 2 }, { a: 2 }] });
    const { errorAt, duplicates } = scanJson(text);
    expect(errorAt).toBeUndefined();
    expect(duplicates.map((d) => [d.key, d.path, lineAndColumn(text, d.offset), lineAndColumn(text, d.firstOffset)])).toEqual([
      ['reportingCode', '$.company.fraudAlert.reportingCode', { line: 3, column: 41 }, { line: 3, column: 21 }],
      ['a', '$.list[1].a', { line: 5, column: 42 }, { line: 5, column: 34 }],
      ['company', '$.company', { line: 6, column: 3 }, { line: 2, column: 3 }],
    ]);
    expect(scanJson('{"a": {"b": 1}, "c": {"b": 2}, "d": [{"b": 3}]}').duplicates).toEqual([]);
  });

  it('walks a deeply nested text without running out of stack', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(scanJson(deep)).toEqual({ duplicates: [] });
    expect(scanJson(`${'{"a":'.repeat(100_000)}1${'}'.repeat(99_999)}`).errorAt).toBe(500_001 + 99_999);
  });
});
