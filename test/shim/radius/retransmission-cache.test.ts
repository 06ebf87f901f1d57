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
});
