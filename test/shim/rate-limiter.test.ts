import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/shim/rate-limiter.js';

describe('rate limiter', () => {
  it('a clock that goes backwards refills nothing and owes nothing (a wall-clock step back made every caller wait for the step)', () => {
    let t = 1_000_000;
    const limiter = new RateLimiter(50, 100, () => t);
    expect(limiter.take('10.0.0.7')).toBe(0);
    t -= 120_000;
    for (let i = 0; i < 99; i++) expect(limiter.take('10.0.0.7')).toBe(0);
    // The burst is spent: one token is 20 ms away, as ever, not the step's 120 s.
    expect(limiter.take('10.0.0.7')).toBe(1);
    t += 1000;
    expect(limiter.take('10.0.0.7')).toBe(0);
  });
});
