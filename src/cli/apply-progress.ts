import cliProgress from 'cli-progress';
import type { ExecStats } from '../apply/executor.js';

export interface ApplyProgressEvent {
  phase: string;
  wave?: number;
  waves?: number;
  users: number;
  usersTotal: number;
  stats: ExecStats;
}

/**
 * Apply progress on stderr: a live bar on a terminal (users and operations done of total, ops/s,
 * throttled count, ETA), plain lines every few seconds otherwise (logs, CI).
 */
export class ApplyProgress {
  private bar: cliProgress.SingleBar | undefined;
  private lastLine = 0;
  private readonly tty = process.stderr.isTTY === true;

  update(e: ApplyProgressEvent): void {
    const s = e.stats;
    const elapsed = (Date.now() - s.startedAt) / 1000;
    const finished = s.done + s.failed + s.skipped;
    const rate = elapsed > 0 ? finished / elapsed : 0;
    const eta = rate > 0 ? Math.round((s.total - finished) / rate) : 0;
    const payload = {
      users: e.users,
      usersTotal: e.usersTotal,
      wave: e.wave !== undefined ? ` wave ${e.wave}/${e.waves}` : '',
      rate: rate.toFixed(1),
      throttled: s.throttled,
      failed: s.failed,
      etaText: formatDuration(eta),
    };
    if (this.tty) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          {
            format: 'apply [{bar}] {value}/{total} ops | users {users}/{usersTotal}{wave} | {rate} ops/s | throttled {throttled} | failed {failed} | ETA {etaText}',
            hideCursor: true,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(Math.max(1, s.total), finished, payload);
      }
      this.bar.setTotal(Math.max(1, s.total));
      this.bar.update(finished, payload);
      return;
    }
    const now = Date.now();
    if (now - this.lastLine < 5000 && e.phase !== 'done') return;
    this.lastLine = now;
    process.stderr.write(
      `apply: ${finished}/${s.total} operations, users ${e.users}/${e.usersTotal}${payload.wave}, ${payload.rate} ops/s, throttled ${s.throttled}, failed ${s.failed}, ETA ${payload.etaText}\n`,
    );
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
