import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { operations, planJson, timeless, writesIn } from '../plan/helpers.js';

/**
 * The plan's Graph reads under throttling: a tiny resource-unit budget (30 RU a window instead of
 * 3,500) and a time scale of 20 (0.5 s windows) make the Contoso plan's ~130 reads meet 429s in
 * a second or two.
 */
describe('mfa-migrate plan under Graph throttling', () => {
  let calm: RunningEmulator;
  let throttled: RunningEmulator;
  beforeAll(async () => {
    [calm, throttled] = await Promise.all([
      startEmulator({ port: 0, throttle: 'off' }),
      startEmulator({ port: 0, throttle: 'S', throttleLimits: { resourceUnits: 30 }, timeScale: 20 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([calm?.stop(), throttled?.stop()]);
  });

  it('honours Retry-After and plans exactly what it plans unthrottled', async () => {
    const [a, b] = await Promise.all([planJson(calm.url), planJson(throttled.url)]);
    expect(b.result.code).toBe(0);
    expect(b.result.stderr).not.toMatch(/error/i);
    expect(timeless(b.plan)).toEqual(timeless(a.plan));

    const log = throttled.requests();
    const ops = operations(log);
    const refused = ops.filter((o) => o.status === 429);
    const answered = ops.filter((o) => o.status !== 429);
    // Throttling happened, and every read was eventually answered.
    expect(refused.length).toBeGreaterThan(0);
    expect(answered.length).toBe(operations(calm.requests()).length);
    expect(answered.every((o) => o.status === 200 || o.status === 404)).toBe(true);
    // Each 429 was retried: the same request was answered later.
    for (const r of refused) expect(answered.some((o) => o.path === r.path && o.time >= r.time)).toBe(true);
    // A client that retried before Retry-After would be refused again and again (early retries
    // are refused, uncharged, until the announced time); this one waits, so a request meets a
    // refusal or two at most.
    const refusals = new Map<string, number>();
    for (const r of refused) refusals.set(r.path, (refusals.get(r.path) ?? 0) + 1);
    expect(Math.max(...refusals.values())).toBeLessThanOrEqual(3);
    expect(writesIn(log)).toEqual([]);
  });
});
