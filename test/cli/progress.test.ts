import { afterEach, describe, expect, it, vi } from 'vitest';
import { emptyStats, type ApplyProgressEvent } from '../../src/apply/run-apply.js';
import { Progress } from '../../src/cli/progress.js';

/** A stderr that is not a terminal: progress comes as whole lines. */
function pipe(): { write: (t: string) => boolean; lines: () => string[] } {
  let text = '';
  return { write: (t: string) => ((text += t), true), lines: () => text.split('\n').filter(Boolean) };
}

const event = (phase: ApplyProgressEvent['phase'], over: Partial<ApplyProgressEvent> = {}, stats: Partial<ReturnType<typeof emptyStats>> = {}): ApplyProgressEvent => ({
  phase,
  users: 0,
  usersTotal: 0,
  stats: { ...emptyStats(), startedAt: Date.now() - 10_000, ...stats },
  ...over,
});

afterEach(() => vi.useRealTimers());

describe('Progress without a terminal', () => {
  it("shows apply's pre-flight as users checked, every few seconds and when done", () => {
    vi.useFakeTimers();
    const out = pipe();
    const p = new Progress('apply', out, 5000);
    p.apply(event('preflight', { users: 0, usersTotal: 8000 }));
    p.apply(event('preflight', { users: 500, usersTotal: 8000 }));
    vi.advanceTimersByTime(6000);
    p.apply(event('preflight', { users: 4000, usersTotal: 8000 }));
    p.apply(event('preflight', { users: 8000, usersTotal: 8000 }));
    expect(out.lines()).toEqual(['apply pre-flight: users checked: 0/8000', 'apply pre-flight: users checked: 4000/8000', 'apply pre-flight: users checked: 8000/8000']);
  });

  it('shows a rollback (no users, no waves) at its start, then once a minute with its rate and ETA, and at the end', () => {
    vi.useFakeTimers();
    const out = pipe();
    const p = new Progress('rollback', out);
    p.apply(event('running', {}, { total: 1000, done: 10 }));
    vi.advanceTimersByTime(61_000);
    p.apply(event('running', {}, { total: 1000, done: 400, startedAt: Date.now() - 40_000 }));
    p.apply(event('running', {}, { total: 1000, done: 410 }));
    p.apply(event('done', {}, { total: 1000, done: 1000, failed: 0 }));
    expect(out.lines()).toEqual([
      'rollback: 10/1000 operations, 1.0 ops/s, failed 0, ETA 16m30s',
      'rollback: 400/1000 operations, 10.0 ops/s, failed 0, ETA 1m00s',
      'rollback: 1000/1000 operations, throttled 0, failed 0',
    ]);
  });

  it("apply's wave lines still name the users", () => {
    const out = pipe();
    new Progress('apply', out).apply(event('wave', { wave: 1, waves: 2, users: 0, usersTotal: 40 }, { total: 100 }));
    expect(out.lines()).toEqual([expect.stringMatching(/^apply: wave 1\/2: 0\/100 operations, users 0\/40, /)]);
  });
});
