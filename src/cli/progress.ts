import cliProgress from 'cli-progress';
import type { ApplyProgressEvent } from '../apply/run-apply.js';

/** Where progress goes: stderr (stdout carries the command's output). */
interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** The ETA's rate, once Graph throttles the run: over this long at most (a Retry-After is seconds to minutes). */
const RATE_WINDOW_MS = 5 * 60_000;

/** Files smaller than this (about a second's reading) are read without a progress line. */
const PROGRESS_FROM_BYTES = 16 * 1024 * 1024;

/**
 * Progress on stderr, the one renderer of the tool: on a terminal a bar (a counter, or apply's
 * operations with users, rate, throttling and ETA) redrawn in place; otherwise plain lines: a
 * counter every few seconds, apply one line per wave. Its figures never go backwards.
 */
export class Progress {
  private bar: cliProgress.SingleBar | undefined;
  /** The bar's format: a new one (apply's pre-flight, then its operations) starts a new bar. */
  private barFormat: string | undefined;
  private lastLine = 0;
  private lastWave: number | undefined;
  private shown = 0;
  /** When Graph first throttled the run, and how many operations had been sent then. */
  private throttledFrom: { at: number; sent: number } | undefined;
  /** Since then: operations sent by each report's time, over the last RATE_WINDOW_MS. */
  private readonly samples: { at: number; sent: number }[] = [];
  /** The last rate above 0: it stands while the run waits (a pause sends nothing). */
  private lastRate = 0;
  /** The read step last shown (a rollback's): a new one always gets its line. */
  private lastStep: string | undefined;
  private readonly tty: boolean;
  /** Takes off what guardTerminal set up. */
  private unguard: (() => void) | undefined;

  constructor(
    private readonly label: string,
    private readonly stream: ProgressStream = process.stderr,
    private readonly intervalMs = 5000,
  ) {
    this.tty = stream.isTTY === true;
  }

  /** A counter: `label: done/total`. */
  count(done: number, total: number, label = this.label): void {
    if (this.tty) return this.draw(done, total, { detail: '' }, `${label} [{bar}] {value}/{total}{detail}`);
    const now = Date.now();
    if (now - this.lastLine < this.intervalMs && done < total) return;
    this.lastLine = now;
    this.stream.write(`${label}: ${done}/${total}\n`);
  }

  /**
   * A step before anything is sent, `what` it is doing and `done` of `total` (a rollback's reads of the
   * run and the tenant): on a terminal a counter; otherwise a line when it starts, then every few
   * seconds while it lasts (the next step's line says it ended). `total` 0: nothing to count.
   */
  step(what: string, done: number, total: number): void {
    const label = `${this.label}: ${what}`;
    const first = what !== this.lastStep;
    this.lastStep = what;
    if (this.tty) return total === 0 ? (first ? this.draw(0, 1, { detail: '' }, `${label}...`) : undefined) : this.count(done, total, label);
    const now = Date.now();
    if (!first && (total === 0 || now - this.lastLine < this.intervalMs)) return;
    this.lastLine = now;
    this.stream.write(total === 0 ? `${label}\n` : `${label}: ${done}/${total}\n`);
  }

  /** Bytes of a file read, in MB, under `label`: nothing for a file under 16 MB, read in a moment. */
  bytes(read: number, total: number, label: string): void {
    if (total < PROGRESS_FROM_BYTES) return;
    this.count(read === total ? Math.ceil(total / 1e6) : Math.floor(read / 1e6), Math.ceil(total / 1e6), label);
  }

  /**
   * Operations a second, for the ETA: since the start, until Graph throttles the run; from then on,
   * since its first 429 (over the last RATE_WINDOW_MS at most), pauses included, as that is the pace
   * the rest will go at. Taken from the start, the burst before the quota ran out had the ETA a tenth
   * of the time left (a scale test). Until that window is 10 s long, and when nothing was sent in it
   * (a pause longer than the window), the last rate found stands: a scale test read "0.0 ops/s | ETA -"
   * ten seconds into the first Retry-After.
   */
  private rateOf(s: ApplyProgressEvent['stats']): number {
    const now = Date.now();
    const sent = s.done - s.doneBefore + s.failed;
    if (s.throttled > 0 && this.throttledFrom === undefined) this.throttledFrom = { at: now, sent };
    const throttled = this.throttledFrom;
    const elapsed = (now - s.startedAt) / 1000;
    let rate = elapsed > 1 ? sent / elapsed : 0;
    if (throttled) {
      this.samples.push({ at: now, sent });
      while (this.samples.length > 1 && this.samples[0]!.at < now - RATE_WINDOW_MS) this.samples.shift();
      // The first 429 while it is within the window, else the oldest report within it.
      const from = throttled.at >= now - RATE_WINDOW_MS ? throttled : this.samples[0]!;
      const windowed = now - from.at >= 10_000 ? (sent - from.sent) / ((now - from.at) / 1000) : 0;
      rate = windowed > 0 ? windowed : this.lastRate > 0 ? this.lastRate : rate;
    }
    if (rate > 0) this.lastRate = rate;
    return rate;
  }

  /** While the run waits out Graph's throttling: for how long, said (the bar only froze). */
  private throttleWait(s: ApplyProgressEvent['stats']): string {
    const left = (s.throttledUntil ?? 0) - Date.now();
    return left > 0 ? ` | waiting ${Math.ceil(left / 1000)} s: Graph throttled the run (429 Retry-After)` : '';
  }

  /** Apply's progress: operations of the whole run (all waves) from the first frame. */
  apply(e: ApplyProgressEvent): void {
    // A step before anything is sent (a rollback's reads): what it is doing, n of N.
    if (e.phase === 'reading' && e.reading) return this.step(e.reading.what, e.reading.done, e.reading.total);
    if (this.lastStep !== undefined) {
      // The steps are over: the operations' own first line is not held back by the last step's.
      this.lastStep = undefined;
      this.lastLine = 0;
    }
    const s = e.stats;
    const finished = Math.max(this.shown, s.done + s.failed + s.skipped);
    this.shown = finished;
    const rate = this.rateOf(s);
    const throttleWait = this.throttleWait(s);
    const eta = etaOf(s, finished, rate);
    const wave = e.wave !== undefined ? ` wave ${e.wave}/${e.waves}` : '';
    const waits = `${throttleWait}${s.waitingForPolicy > 0 && s.policyWaitUntil ? ` | ${s.waitingForPolicy} waiting for the policy to reach them (given up at ${new Date(s.policyWaitUntil).toISOString().slice(11, 16)} UTC at the latest)` : ''}${s.waitingForGraph > 0 ? ` | ${s.waitingForGraph} waiting for Graph to show what the run just created` : ''}${s.pacedWaiting > 0 ? ` | ${s.pacedWaiting} activation(s) held back by the pace${paceText(s.activationPace)}` : ''}`;
    // No rate before this process has measured one (a resume's first line counts the earlier pass's done, not sent by it): `-`, not 0.0.
    const payload = { users: e.users, usersTotal: e.usersTotal, wave, rate: rate > 0 ? rate.toFixed(1) : '-', throttled: s.throttled, failed: s.failed, etaText: eta !== undefined ? formatDuration(eta) : throttleWait ? 'waiting' : '-', waits };
    // The pre-flight reads every selected user again before anything is written: users checked.
    if (e.phase === 'preflight') return this.count(e.users, e.usersTotal, `${this.label} pre-flight: users checked`);
    // A rollback has no users or waves: operations only.
    const users = e.usersTotal > 0 ? ` | users ${e.users}/${e.usersTotal}` : '';
    if (this.tty) {
      return this.draw(finished, s.total, { ...payload, users }, `${this.label} [{bar}] {value}/{total} ops{users}{wave} | {rate} ops/s | throttled {throttled} | failed {failed}{waits} | ETA {etaText}`);
    }
    // Without a terminal: a line when a wave starts and when the run ends.
    if (e.phase === 'wave' && e.wave !== this.lastWave) {
      this.lastWave = e.wave;
      this.lastLine = Date.now();
      this.stream.write(`${this.label}:${wave}: ${finished}/${s.total} operations${users.replace(' |', ',')}, ${payload.rate} ops/s, throttled ${s.throttled}, failed ${s.failed}${waits.replaceAll(' |', ',')}, ETA ${payload.etaText}\n`);
    } else if (e.phase === 'running' && (waits || e.usersTotal === 0) && Date.now() - this.lastLine >= 60_000) {
      // A long wait within a wave (the policy propagating, the pace) says so once a minute; so does
      // a rollback, which has no waves to mark its way.
      this.lastLine = Date.now();
      this.stream.write(`${this.label}${wave ? `:${wave}` : ''}: ${finished}/${s.total} operations${e.usersTotal === 0 ? `, ${payload.rate} ops/s, failed ${s.failed}, ETA ${payload.etaText}` : ''}${waits.replaceAll(' |', ',')}\n`);
    } else if (e.phase === 'done') {
      this.stream.write(`${this.label}: ${finished}/${s.total} operations${users.replace(' |', ',')}, throttled ${s.throttled}, failed ${s.failed}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.unguard?.();
    this.unguard = undefined;
  }

  /**
   * The bar hides the cursor and turns line wrapping off; a Ctrl-C (or exit) that never reaches
   * stop() left the terminal so. A signal no command handles itself stops the bar, then is raised
   * again, so that the process ends as the signal would have ended it.
   */
  private guardTerminal(): void {
    if (this.unguard) return;
    const onExit = (): void => this.stop();
    const onSignal = (sig: NodeJS.Signals): void => {
      this.stop();
      process.kill(process.pid, sig);
    };
    const signals = (['SIGINT', 'SIGTERM'] as const).filter((s) => process.listenerCount(s) === 0);
    for (const s of signals) process.once(s, onSignal);
    process.once('exit', onExit);
    this.unguard = () => {
      for (const s of signals) process.removeListener(s, onSignal);
      process.removeListener('exit', onExit);
    };
  }

  private draw(value: number, total: number, payload: Record<string, unknown>, format: string): void {
    if (this.bar && format !== this.barFormat) this.stop();
    if (!this.bar) {
      this.barFormat = format;
      this.bar = new cliProgress.SingleBar({ format, hideCursor: true, stream: this.stream as NodeJS.WriteStream, etaBuffer: 50 }, cliProgress.Presets.shades_classic);
      this.guardTerminal();
      this.bar.start(Math.max(1, total), value, payload);
      return;
    }
    this.bar.setTotal(Math.max(1, total));
    this.bar.update(value, payload);
  }
}

/**
 * Seconds left: what is left at the rate found; with token activations left beyond what the pace lets
 * go now, no less than the pace needs for them (a 30,000-user rehearsal read "ETA 21m54s" with 4,434
 * activations, ~110 minutes at 200 per 5 minutes), and the rest at the rate (a rate taken over the
 * pace's waits read 41h40m).
 */
function etaOf(s: ApplyProgressEvent['stats'], finished: number, rate: number, now = Date.now()): number | undefined {
  const left = Math.max(0, s.total - finished);
  const floor = paceFloorMs(s.activationPace, now);
  if (floor === undefined) return rate > 0 ? Math.round(left / rate) : undefined;
  const others = Math.max(0, left - (s.activationPace?.left ?? 0));
  return Math.round(Math.max(floor / 1000, rate > 0 ? others / rate : 0));
}

/**
 * How long the pace needs for the activations left (ms), past those the window lets go now: the
 * window's first slot frees at firstFreeAt (one window from now when it is empty: those that go now
 * hold it), then a full window's worth each window. Undefined: the pace holds nothing back.
 */
function paceFloorMs(p: ApplyProgressEvent['stats']['activationPace'], now: number): number | undefined {
  if (p?.left === undefined || p.activations <= 0) return undefined;
  const beyond = p.left - Math.max(0, p.activations - p.inWindow);
  if (beyond <= 0) return undefined;
  const firstFree = Math.max(0, (p.firstFreeAt ?? now + p.windowMs) - now);
  return firstFree + (Math.ceil(beyond / p.activations) - 1) * p.windowMs;
}

/** The pace's wait, said: at what rate, and when the next may go (a rehearsal read only "held back by the pace" for minutes). */
function paceText(p: ApplyProgressEvent['stats']['activationPace']): string {
  if (!p) return '';
  const rate = `activations paced at ${p.activations} per ${formatDuration(Math.round(p.windowMs / 1000)).replace(/^(\d+)m00s$/, '$1 min')}`;
  return p.next ? ` (${rate}: next ${p.next.count} at ${new Date(p.next.at).toISOString().slice(11, 19)} UTC)` : ` (${rate})`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
