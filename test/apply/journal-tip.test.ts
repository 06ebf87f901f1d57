import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { journalTip, splitHash } from '../../src/apply/journal.js';

/** journalTip as it was written before it read bytes: the journal split into lines, the torn tail dropped. */
function byLines(text: string): { lines: number; hash: string } | undefined {
  const lines = text.split('\n');
  lines.pop();
  const last = lines.length > 0 ? splitHash(lines.at(-1)!) : undefined;
  return last ? { lines: lines.length, hash: last.hash } : undefined;
}

describe('journalTip', () => {
  const root = mkdtempSync(join(tmpdir(), 'journal-tip-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const h = (c: string) => c.repeat(64);
  const cases: Record<string, string> = {
    empty: '',
    'no newline (a torn first line)': `{"t":"run","hash":"${h('a')}"}`,
    'one line': `{"t":"run","hash":"${h('a')}"}\n`,
    'two lines': `{"t":"run","hash":"${h('a')}"}\n{"t":"op","op":"x","hash":"${h('b')}"}\n`,
    'a torn line after the last whole one': `{"t":"run","hash":"${h('a')}"}\n{"t":"op","op":"x","hash":"${h('b')}"}\n{"t":"op","op":"y","ha`,
    'the last line before the chain (no hash)': `{"t":"run","hash":"${h('a')}"}\n{"t":"op","op":"x"}\n`,
    'an empty last line': `{"t":"run","hash":"${h('a')}"}\n\n`,
    'a newline alone': '\n',
    'characters of several bytes in the last line': `{"t":"run","hash":"${h('a')}"}\n{"t":"op","error":"Zoë ✓ 𝄞","hash":"${h('c')}"}\n`,
  };
  for (const [name, text] of Object.entries(cases)) {
    it(`reads the same as the journal split into lines: ${name}`, async () => {
      const dir = join(root, name.replace(/\W+/g, '-'));
      mkdirSync(dir);
      writeFileSync(join(dir, 'journal.jsonl'), text);
      expect(await journalTip(dir)).toEqual(byLines(text));
    });
  }
  it('counts the whole lines and gives the last one\'s hash', async () => {
    const dir = join(root, 'count');
    mkdirSync(dir);
    writeFileSync(join(dir, 'journal.jsonl'), cases['a torn line after the last whole one']!);
    expect(await journalTip(dir)).toEqual({ lines: 2, hash: h('b') });
  });
});
