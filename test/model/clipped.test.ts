import { describe, expect, it } from 'vitest';
import { clipped } from '../../src/model/clipped.js';

describe('clipped', () => {
  it('keeps a value of up to 120 characters whole, a UPN of the longest kind among them', () => {
    const upn = `${'a'.repeat(64)}@${'b'.repeat(44)}.com`;
    expect(upn).toHaveLength(113);
    expect(clipped(upn)).toBe(upn);
    expect(clipped('x'.repeat(120))).toBe('x'.repeat(120));
  });

  it('cuts a longer one to its first 96 characters and says how long it was, never halving a character', () => {
    expect(clipped('7'.repeat(5000))).toBe(`${'7'.repeat(96)}... (5000 characters)`);
    const emoji = '\u{1F600}'.repeat(130);
    const out = clipped(emoji);
    expect(out).toBe(`${'\u{1F600}'.repeat(96)}... (130 characters)`);
    // No lone surrogate: no character halved.
    expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    // 70 such characters are 140 UTF-16 units but 70 characters: not cut.
    expect(clipped('\u{1F600}'.repeat(70))).toBe('\u{1F600}'.repeat(70));
  });
});
