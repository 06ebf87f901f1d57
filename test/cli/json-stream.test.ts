import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeJsonStreamed } from '../../src/cli/json-stream.js';

async function written(value: Record<string, unknown>): Promise<string> {
  let text = '';
  const out = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      setImmediate(done); // a slow reader: backpressure is exercised
    },
  });
  await writeJsonStreamed(out, value);
  return text;
}

describe('writeJsonStreamed', () => {
  const tricky = ['},{"serial":"x"}', '"quoted" \\ back\\slash', 'line\nbreak\ttab', 'ünïcödé ✓ \u2028', '', '{}', '[1,2]'];

  it('writes the same value JSON.stringify would, one array element per line, for any number of elements', async () => {
    const tokens = Array.from({ length: 1000 }, (_, i) => ({ serial: tricky[i % tricky.length]! + i, user: i % 3 ? `u${i}@x.com` : null, digits: 6, counter: i % 2 ? null : i, ok: i % 5 === 0 }));
    const value = { source: 'dir', users: 3, tokens, errors: [], warnings: [{ file: 'a', line: null, message: tricky.join('|') }] };
    const text = await written(value);
    expect(JSON.parse(text)).toEqual(value);
    const tokenLines = text.split('\n').filter((l) => l.startsWith('    {"serial":'));
    expect(tokenLines).toHaveLength(tokens.length);
    tokenLines.forEach((l, i) => expect(JSON.parse(l.replace(/,$/, ''))).toEqual(tokens[i]));
  });

  it('writes nested and mixed elements one per line too', async () => {
    const items = [{ a: { b: [1, 2] } }, 'text },{"a":1}', 7, null, [1, { c: 'd' }], { e: 'f' }, { g: new Date(0) }];
    const text = await written({ items: [...items, ...items] });
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify({ items: [...items, ...items] })));
    expect(text.split('\n').filter((l) => l.startsWith('    '))).toHaveLength(items.length * 2);
  });
});
