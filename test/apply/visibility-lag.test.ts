import { describe, expect, it } from 'vitest';
import { growingStep, VisibilityLag } from '../../src/apply/visibility-lag.js';

describe('VisibilityLag: how long Graph takes to show what the run wrote, from its refusals', () => {
  it('holds nothing until a refusal is seen (a tenant without a lag is not slowed down)', () => {
    expect(new VisibilityLag(30_000).holdMs(0)).toBe(0);
  });

  it('holds a little longer than the longest age refused, at most half the window', () => {
    const lag = new VisibilityLag(30_000);
    lag.refused(1_000, 0);
    lag.refused(1_800, 10);
    lag.refused(400, 20);
    expect(lag.longestRefused(20)).toBe(1_800);
    expect(lag.holdMs(20)).toBeGreaterThan(1_800);
    expect(lag.holdMs(20)).toBeLessThan(2_500);
    lag.refused(40_000, 30);
    expect(lag.holdMs(30)).toBe(15_000);
  });

  it('holds at least as long as the shortest age taken: tries far apart taught too short a lag (refused at 0.9 s, taken at 2 s, Graph needs 1.5 s)', () => {
    const lag = new VisibilityLag(30_000);
    lag.shown(2_000, 0);
    lag.refused(900, 0);
    lag.shown(3_500, 10);
    expect(lag.holdMs(10)).toBe(2_000);
    // A lag that varies: taken sooner for one object than refused for another, the refusal rules.
    lag.shown(500, 20);
    expect(lag.holdMs(20)).toBeCloseTo(900 * 1.15 + 250);
  });

  it('forgets refusals after a while: a lag that shrank, or one slow object, does not hold every later send', () => {
    const lag = new VisibilityLag(30_000, 60_000);
    lag.refused(5_000, 0);
    lag.refused(1_000, 50_000);
    expect(lag.longestRefused(59_000)).toBe(5_000);
    expect(lag.longestRefused(61_000)).toBe(1_000);
    expect(lag.longestRefused(111_000)).toBeUndefined();
    expect(lag.holdMs(111_000)).toBe(0);
  });

  it('tries again at intervals that grow with each refusal, scaled to the window', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => growingStep(30_000, n))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(growingStep(3_000, 1)).toBe(50);
  });
});
