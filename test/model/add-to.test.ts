import { describe, expect, it } from 'vitest';
import { addTo } from '../../src/model/add-to.js';

describe('addTo', () => {
  it('keeps each key its own list, in the order added, and grows the list it holds rather than replacing it', () => {
    const m = new Map<string, number[]>();
    addTo(m, 'a', 1);
    const first = m.get('a');
    addTo(m, 'b', 2);
    addTo(m, 'a', 3);
    expect(m.get('a')).toBe(first);
    expect([...m]).toEqual([
      ['a', [1, 3]],
      ['b', [2]],
    ]);
  });
});
