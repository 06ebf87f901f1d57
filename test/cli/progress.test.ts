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

/** A stderr that is a terminal: the bar is drawn in place; `text` is all it was sent. */
function terminal() {
  let text = '';
  const tty = { isTTY: true, columns: 400, write: (t: string) => ((text += t), true), cursorTo: () => true, clearLine: () => true, moveCursor: () => true, on: () => tty, removeListener: () => tty };
  return { tty, text: () => text };
}

/** The bar's last frame drawn (frames are redrawn in place). */
const lastFrame = (text: string) => text.slice(text.lastIndexOf('apply ['));

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

  it('once Graph throttles the run, counts its rate from the first 429, not from the burst before it (a scale test read an ETA of 19 s for a minute)', () => {
    vi.useFakeTimers();
    const out = pipe();
    const p = new Progress('rollback', out);
    const startedAt = Date.now();
    // A burst of 6,000 in 5 s, then the quota: 400 a second.
    vi.advanceTimersByTime(5000);
    p.apply(event('running', {}, { total: 60_000, done: 6000, throttled: 1, startedAt }));
    vi.advanceTimersByTime(61_000);
    p.apply(event('running', {}, { total: 60_000, done: 6000 + 61 * 400, throttled: 40, startedAt }));
    // 29,600 left at 400 a second: 74 s (from the start, 460.6 a second and 64 s).
    expect(out.lines().at(-1)).toBe('rollback: 30400/60000 operations, 400.0 ops/s, failed 0, ETA 1m14s');
  });

  it("apply's wave lines still name the users", () => {
    const out = pipe();
    new Progress('apply', out).apply(event('wave', { wave: 1, waves: 2, users: 0, usersTotal: 40 }, { total: 100 }));
    expect(out.lines()).toEqual([expect.stringMatching(/^apply: wave 1\/2: 0\/100 operations, users 0\/40, /)]);
  });

  it('a resume shows no rate until it has sent something: the operations done before are not its (a black-box review read "73/124 operations, 0.0 ops/s")', () => {
    const out = pipe();
    const p = new Progress('apply', out);
    p.apply(event('wave', { wave: 3, waves: 4, users: 30, usersTotal: 40 }, { total: 124, done: 73, doneBefore: 73 }));
    expect(out.lines()).toEqual(['apply: wave 3/4: 73/124 operations, users 30/40, - ops/s, throttled 0, failed 0, ETA -']);
    // Once it has sent some, their rate: 10 in the 10 s since it started.
    p.apply(event('wave', { wave: 4, waves: 4, users: 35, usersTotal: 40 }, { total: 124, done: 83, doneBefore: 73 }));
    expect(out.lines().at(-1)).toBe('apply: wave 4/4: 83/124 operations, users 35/40, 1.0 ops/s, throttled 0, failed 0, ETA 41s');
  });

  it('says what a wave is waiting for: the policy to propagate, Graph to show what the run just created, the activation pace', () => {
    const out = pipe();
    const p = new Progress('apply', out);
    p.apply(event('wave', { wave: 1, waves: 2, users: 0, usersTotal: 40 }, { total: 100, waitingForGraph: 3 }));
    p.apply(event('wave', { wave: 2, waves: 2, users: 20, usersTotal: 40 }, { total: 100, waitingForPolicy: 2, policyWaitUntil: Date.parse('2026-12-05T10:20:00Z'), paced: 9, pacedWaiting: 5 }));
    expect(out.lines()).toEqual([
      expect.stringMatching(/^apply: wave 1\/2: .*, 3 waiting for Graph to show what the run just created, ETA /),
      expect.stringMatching(/^apply: wave 2\/2: .*, 2 waiting for the policy to reach them \(given up at 10:20 UTC at the latest\), 5 activation\(s\) held back by the pace, ETA /),
    ]);
  });
});

describe('Progress at the activation pace (a 30,000-user rehearsal: 4,434 activations at 200 per 5 minutes read "ETA 21m54s", then 41h40m)', () => {
  const pace = { activations: 200, windowMs: 300_000 };

  it('never shows an ETA below what the pace needs for the activations left, the rest at the rate', () => {
    vi.useFakeTimers();
    const out = pipe();
    // 1,000 a second elsewhere: the rate alone says 20 s; 22 windows after the first 200 are 110 minutes.
    new Progress('apply', out).apply(event('wave', { wave: 1, waves: 60, usersTotal: 30_000 }, { total: 30_000, done: 10_000, startedAt: Date.now() - 10_000, activationPace: { ...pace, left: 4434, inWindow: 0 } }));
    expect(out.lines().at(-1)).toMatch(/, ETA 1h50m$/);
    // A pass after a paced wait (a low rate): the pace's floor, not what is left at that rate.
    const resumed = pipe();
    new Progress('apply', resumed).apply(event('wave', { wave: 2, waves: 60, usersTotal: 30_000 }, { total: 30_000, done: 26_000, doneBefore: 25_800, startedAt: Date.now() - 300_000, activationPace: { ...pace, left: 4000, inWindow: 200, firstFreeAt: Date.now() + 60_000 } }));
    // 1 min until the window frees, then 19 more windows: 1h36m.
    expect(resumed.lines().at(-1)).toMatch(/, ETA 1h36m$/);
    // Activations the window lets go now: the rate alone, as before.
    const few = pipe();
    new Progress('apply', few).apply(event('wave', { wave: 1, waves: 1, usersTotal: 100 }, { total: 1000, done: 100, startedAt: Date.now() - 10_000, activationPace: { ...pace, left: 150, inWindow: 0 } }));
    expect(few.lines().at(-1)).toMatch(/, ETA 1m30s$/);
  });

  it('says at what rate activations are paced and when the next may go', () => {
    const out = pipe();
    const at = Date.parse('2026-12-05T13:42:10Z');
    new Progress('apply', out).apply(event('wave', { wave: 3, waves: 9, usersTotal: 900 }, { total: 9000, done: 100, pacedWaiting: 180, activationPace: { ...pace, left: 4000, inWindow: 200, firstFreeAt: at - 5000, next: { count: 200, at } } }));
    expect(out.lines().at(-1)).toContain(', 180 activation(s) held back by the pace (activations paced at 200 per 5 min: next 200 at 13:42:10 UTC), ETA ');
  });
});

describe("Progress of a rollback's reads before it sends anything (a black-box test at 20,000 users met 22-38 s of silence)", () => {
  const reading = (what: string, done = 0, total = 0) => event('reading', { reading: { what, done, total } });

  it('without a terminal: a line as each step starts, then every few seconds while it lasts; the operations\' first line follows at once', () => {
    vi.useFakeTimers();
    const out = pipe();
    const p = new Progress('rollback', out, 5000);
    p.apply(reading('reading the journals'));
    p.apply(reading('reading the journals'));
    p.apply(reading("reading the run's users", 1, 100));
    p.apply(reading("reading the run's users", 20, 100));
    vi.advanceTimersByTime(6000);
    p.apply(reading("reading the run's users", 60, 100));
    p.apply(reading("reading the run's users", 100, 100));
    p.apply(event('running', {}, { total: 10, done: 0 }));
    expect(out.lines()).toEqual(['rollback: reading the journals', "rollback: reading the run's users: 1/100", "rollback: reading the run's users: 60/100", 'rollback: 0/10 operations, - ops/s, failed 0, ETA -']);
  });

  it('on a terminal: what it is doing, and n of N where there is a count', () => {
    const { tty, text } = terminal();
    const p = new Progress('rollback', tty);
    try {
      p.apply(reading('checking the hash chain'));
      p.apply(reading('reading the methods of the users the undos change (Graph)', 5, 10));
    } finally {
      p.stop();
    }
    expect(text()).toContain('rollback: checking the hash chain...');
    expect(text()).toMatch(/rollback: reading the methods of the users the undos change \(Graph\) \[[^\]]*\] 5\/10/);
  });
});

describe('Progress while Graph throttles the run (a black-box test: the bar froze, then read "0.0 ops/s | ETA -")', () => {
  it('on a terminal: keeps the wave, says how long it waits, and keeps the rate and ETA through a pause', () => {
    vi.useFakeTimers();
    const { tty, text } = terminal();
    const p = new Progress('apply', tty);
    const startedAt = Date.now();
    const at = (done: number, over: Partial<ReturnType<typeof emptyStats>> = {}) => event('running', { wave: 3, waves: 40, users: 1000, usersTotal: 20_000 }, { total: 40_000, done, startedAt, ...over });
    try {
      vi.advanceTimersByTime(5000);
      p.apply(at(2000));
      vi.advanceTimersByTime(1000);
      p.apply(at(2400, { throttled: 1, throttledUntil: Date.now() + 12_000 }));
      vi.advanceTimersByTime(500);
      expect(lastFrame(text())).toMatch(/ wave 3\/40 \| 400\.0 ops\/s \| throttled 1 \| failed 0 \| waiting 12 s: Graph throttled the run \(429 Retry-After\) \| ETA 1m34s/);
      // Ten seconds into the wait, nothing sent since the 429: the rate before it stands.
      vi.advanceTimersByTime(9500);
      p.apply(at(2400, { throttled: 1, throttledUntil: Date.now() + 2000 }));
      vi.advanceTimersByTime(500);
      expect(lastFrame(text())).toMatch(/ wave 3\/40 \| 400\.0 ops\/s \| .* \| waiting 2 s: Graph throttled the run \(429 Retry-After\) \| ETA 1m34s/);
      // Sending again: the rate since the first 429, the pause counted in (800 in 20 s), and no wait said.
      vi.advanceTimersByTime(9500);
      p.apply(at(3200, { throttled: 1, throttledUntil: Date.now() - 1000 }));
      vi.advanceTimersByTime(500);
      expect(lastFrame(text())).toMatch(/ wave 3\/40 \| 40\.0 ops\/s \| throttled 1 \| failed 0 \| ETA 15m20s/);
      expect(lastFrame(text())).not.toContain('waiting');
    } finally {
      p.stop();
    }
  });

  it('without a terminal: a rollback\'s minute line keeps its last rate and says it waits, rather than "0.0 ops/s, ETA -"', () => {
    vi.useFakeTimers();
    const out = pipe();
    const p = new Progress('rollback', out);
    const startedAt = Date.now();
    vi.advanceTimersByTime(5000);
    p.apply(event('running', {}, { total: 40_000, done: 2000, startedAt }));
    vi.advanceTimersByTime(1000);
    p.apply(event('running', {}, { total: 40_000, done: 2400, throttled: 1, throttledUntil: Date.now() + 120_000, startedAt }));
    vi.advanceTimersByTime(60_000);
    p.apply(event('running', {}, { total: 40_000, done: 2400, throttled: 1, throttledUntil: Date.now() + 60_000, startedAt }));
    expect(out.lines().at(-1)).toBe('rollback: 2400/40000 operations, 400.0 ops/s, failed 0, ETA 1m34s, waiting 60 s: Graph throttled the run (429 Retry-After)');
  });
});

describe('Progress on a terminal, stopped by a signal', () => {
  it('shows the cursor and wraps lines again before the signal ends the process (Ctrl-C during validate left the terminal without them)', () => {
    let text = '';
    const tty = { isTTY: true, columns: 100, write: (t: string) => ((text += t), true), cursorTo: () => true, clearLine: () => true, moveCursor: () => true, on: () => tty, removeListener: () => tty };
    const before = process.listeners('SIGINT');
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    try {
      const p = new Progress('validate', tty);
      p.count(10, 100);
      const added = process.listeners('SIGINT').filter((l) => !before.includes(l));
      expect(added).toHaveLength(1);
      expect(text).toContain('\x1b[?25l'); // the bar hid the cursor
      (added[0] as (s: NodeJS.Signals) => void)('SIGINT');
      expect(text).toContain('\x1b[?25h'); // shown again
      expect(kill).toHaveBeenCalledWith(process.pid, 'SIGINT');
      // Nothing left behind: the signal's default (the process ends) applies once raised again.
      expect(process.listeners('SIGINT')).toEqual(before);
    } finally {
      kill.mockRestore();
      for (const l of process.listeners('SIGINT')) if (!before.includes(l)) process.removeListener('SIGINT', l);
    }
  });

  it('leaves SIGINT to a command that handles it (apply)', () => {
    const mine = () => undefined;
    process.on('SIGINT', mine);
    try {
      const tty = { isTTY: true, columns: 100, write: () => true, cursorTo: () => true, clearLine: () => true, moveCursor: () => true, on: () => tty, removeListener: () => tty };
      const p = new Progress('apply', tty);
      p.count(1, 2);
      expect(process.listeners('SIGINT')).toEqual([mine]);
      p.stop();
    } finally {
      process.removeListener('SIGINT', mine);
    }
  });
});
