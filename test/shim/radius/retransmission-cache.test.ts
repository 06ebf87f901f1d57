import { describe, expect, it } from 'vitest';
import { RetransmissionCache } from '../../../src/shim/radius/retransmission-cache.js';

describe('RADIUS retransmission cache', () => {
  it('keeps answers for the window it is given, and under a flood forgets the oldest rather than growing without bound', () => {
    let now = 0;
    const cache = new RetransmissionCache(30_000, () => now, 3);
    cache.begin('a');
    expect(cache.lookup('a')).toBeNull();
    cache.finish('a', Buffer.from('answer-a'));
    expect(cache.lookup('a')).toEqual(Buffer.from('answer-a'));
    for (const k of ['b', 'c', 'd']) cache.begin(k);
    expect(cache.size).toBe(3);
    expect(cache.lookup('a')).toBeUndefined();
    expect(cache.lookup('b')).toBeNull();
    now = 30_000;
    expect(cache.lookup('b')).toBeUndefined();
  });

  it('under a flood forgets the oldest entry still kept: not one forgotten, expired or begun again since', () => {
    let now = 0;
    const cache = new RetransmissionCache(30_000, () => now, 3);
    for (const k of ['a', 'b', 'c']) cache.begin(k);
    cache.forget('b');
    cache.begin('d'); // room left by b: nothing goes
    expect(['a', 'c', 'd'].map((k) => cache.lookup(k))).toEqual([null, null, null]);
    cache.begin('e'); // a, the oldest kept, goes
    expect(cache.lookup('a')).toBeUndefined();
    expect(['c', 'd', 'e'].map((k) => cache.lookup(k))).toEqual([null, null, null]);

    // c expires and is begun again: its first entry's place in the order is not the new one's.
    now = 10_000;
    cache.begin('f'); // d, e, f... c goes (oldest)
    expect(cache.lookup('c')).toBeUndefined();
    now = 30_000;
    expect(cache.lookup('d')).toBeUndefined(); // expired (begun at 0)
    cache.begin('d');
    now = 30_001;
    cache.begin('g'); // kept: e (at 0, expired but not yet pruned), f (10,000), d (30,000): e goes
    expect(cache.lookup('e')).toBeUndefined();
    cache.begin('h'); // f goes, not d's new entry
    expect(cache.lookup('f')).toBeUndefined();
    expect(['d', 'g', 'h'].map((k) => cache.lookup(k))).toEqual([null, null, null]);
    cache.finish('d', Buffer.from('answer-d'));
    expect(cache.lookup('d')).toEqual(Buffer.from('answer-d'));
  });

  it('keeps its order to about twice its entries while requests are forgotten behind a kept one (a review: a flood of failures held every slot for the window)', () => {
    let now = 0;
    const cache = new RetransmissionCache(30_000, () => now);
    cache.begin('first-kept');
    for (let i = 0; i < 100_000; i++) {
      if (i % 1000 === 0) now++;
      cache.begin(`failed-${i}`);
      cache.forget(`failed-${i}`);
    }
    expect(cache.size).toBe(1);
    expect(cache.slots).toBeLessThan(2 * cache.size + 4097 + 1);
    expect(cache.lookup('first-kept')).toBeNull();
    // Begun again and expired by lookup: the same bound.
    for (let i = 0; i < 20_000; i++) cache.begin(`kept-${i % 10}`);
    expect(cache.size).toBe(11);
    expect(cache.slots).toBeLessThanOrEqual(2 * cache.size + 4097);
  });

  it('prunes what expired, and keeps the oldest of the rest first in line', () => {
    let now = 0;
    const cache = new RetransmissionCache(30_000, () => now, 10_000);
    for (let i = 0; i < 9_000; i++) cache.begin(`old${i}`);
    now = 20_000;
    for (let i = 0; i < 1_000; i++) cache.begin(`new${i}`);
    now = 30_000;
    cache.prune();
    expect(cache.size).toBe(1_000);
    for (let i = 0; i < 9_000; i++) cache.begin(`more${i}`);
    expect(cache.size).toBe(10_000);
    cache.begin('last'); // new0 is now the oldest kept
    expect(cache.lookup('new0')).toBeUndefined();
    expect(cache.lookup('new1')).toBeNull();
    expect(cache.lookup('last')).toBeNull();
  });
});
