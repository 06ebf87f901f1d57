import { describe, expect, it } from 'vitest';
import { joinedChunks, TEXT_CHUNK } from '../../src/io/text-chunks.js';

describe('joinedChunks', () => {
  it('gives parts.join(sep) exactly, for none, one, empty and many parts', () => {
    const cases: string[][] = [[], [''], ['a'], ['', ''], ['a', '', 'b'], Array.from({ length: 5000 }, (_, i) => `part ${i} → ${'x'.repeat(i % 97)}`)];
    for (const parts of cases) {
      for (const sep of ['', '\n', ', ']) expect([...joinedChunks(parts, sep)].join('')).toBe(parts.join(sep));
    }
  });

  it('hands on chunks of about TEXT_CHUNK characters, not the whole text at the end', () => {
    const part = 'y'.repeat(1000);
    const chunks = [...joinedChunks(Array.from({ length: 1000 }, () => part), '\n')];
    expect(chunks.length).toBeGreaterThan(10);
    // Each but the last holds at least a chunk's worth, and at most one part more.
    for (const c of chunks.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(TEXT_CHUNK);
      expect(c.length).toBeLessThan(TEXT_CHUNK + part.length + 1);
    }
  });

  it('asks for the parts as it goes (a generator of parts is never drawn in whole before the first chunk)', () => {
    let made = 0;
    function* parts(): Generator<string> {
      for (let i = 0; i < 1000; i++) {
        made++;
        yield 'z'.repeat(1000);
      }
    }
    const it = joinedChunks(parts(), '');
    it.next();
    expect(made).toBeLessThan(100);
  });
});
