import { isUnreachable, ReadOnlyViolation, retryAfterMs, type BatchRequestItem, type GraphConnection, type GraphResponse, type GraphVersion } from './graph-connection.js';

export interface SchedulerOptions {
  version: GraphVersion;
  /** Batches in flight at most (the scheduler halves it while Graph throttles, then grows it back). */
  concurrency: number;
  /** Attempts per request before its last response is returned as it is. */
  maxAttempts?: number;
  /** Cap of the exponential backoff for 5xx and network failures, in ms. */
  maxBackoffMs?: number;
  now?: () => number;
}

export interface SchedulerStats {
  requests: number;
  batches: number;
  throttled: number;
  retried: number;
}

interface Pending {
  req: Omit<BatchRequestItem, 'id'>;
  attempts: number;
  notBefore: number;
  resolve: (r: GraphResponse) => void;
  reject: (e: unknown) => void;
}

/**
 * Sends independent, idempotent requests (reads) through Graph $batch, 20 to a batch: each item
 * throttled with 429 is retried after its own Retry-After, the whole scheduler pauses while
 * Graph throttles (sending more only earns more 429s), and 5xx or network failures are retried
 * with capped exponential backoff and jitter.
 */
export class BatchScheduler {
  readonly stats: SchedulerStats = { requests: 0, batches: 0, throttled: 0, retried: 0 };
  /** Requests ready to go, oldest first (a head index keeps taking from the front cheap). */
  private ready: Pending[] = [];
  private head = 0;
  /** Requests waiting for their Retry-After or backoff. */
  private delayed: Pending[] = [];
  private active = 0;
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private cancelled: unknown;
  private pumpQueued = false;
  private limit: number;
  private readonly now: () => number;

  constructor(
    private readonly conn: GraphConnection,
    private readonly opts: SchedulerOptions,
  ) {
    this.limit = opts.concurrency;
    this.now = opts.now ?? Date.now;
  }

  /** Queues one request; resolves with its final response (throttled ones once retried). */
  send(req: Omit<BatchRequestItem, 'id'>): Promise<GraphResponse> {
    return new Promise((resolve, reject) => {
      if (this.cancelled !== undefined) return reject(this.cancelled);
      this.stats.requests++;
      this.ready.push({ req, attempts: 0, notBefore: 0, resolve, reject });
      // Requests queued in the same tick go out together in full batches, not one by one.
      if (!this.pumpQueued) {
        this.pumpQueued = true;
        queueMicrotask(() => {
          this.pumpQueued = false;
          this.pump();
        });
      }
    });
  }

  /**
   * Gives up: every queued or waiting request is rejected with `reason`, no retry timer is left
   * behind (it would keep the process alive), and answers still in flight are dropped. For a
   * caller that has already failed and needs none of the answers.
   */
  cancel(reason: unknown): void {
    if (this.cancelled !== undefined) return;
    this.cancelled = reason;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = [...this.ready.slice(this.head), ...this.delayed];
    this.ready = [];
    this.head = 0;
    this.delayed = [];
    for (const p of waiting) p.reject(reason);
  }

  private pump(): void {
    if (this.cancelled !== undefined) return;
    const now = this.now();
    if (this.delayed.length > 0) {
      // Due retries go first: they have waited longest.
      const due = this.delayed.filter((p) => p.notBefore <= now);
      if (due.length > 0) {
        this.delayed = this.delayed.filter((p) => p.notBefore > now);
        this.ready = [...due, ...this.ready.slice(this.head)];
        this.head = 0;
      }
    }
    while (this.active < this.limit && now >= this.pausedUntil && this.head < this.ready.length) {
      const batch = this.ready.slice(this.head, this.head + 20);
      this.head += batch.length;
      if (this.head > 4096 && this.head * 2 > this.ready.length) {
        this.ready = this.ready.slice(this.head);
        this.head = 0;
      }
      this.active++;
      void this.sendBatch(batch).finally(() => {
        this.active--;
        this.pump();
      });
    }
    this.wakeLater(now);
  }

  /** Re-runs pump when the earliest waiting request (or the pause) is due. */
  private wakeLater(now: number): void {
    if (this.active >= this.limit) return;
    let earliest = this.head < this.ready.length ? now : Infinity;
    for (const p of this.delayed) earliest = Math.min(earliest, p.notBefore);
    if (earliest === Infinity) return;
    const due = Math.max(this.pausedUntil, earliest);
    if (due <= now) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, due - now);
  }

  private async sendBatch(items: Pending[]): Promise<void> {
    this.stats.batches++;
    let responses: GraphResponse[];
    try {
      responses = await this.conn.batch(
        items.map((p, i) => ({ ...p.req, id: String(i + 1) })),
        this.opts.version,
      );
    } catch (err) {
      // A refused write is a bug of the caller, and an address nobody listens at is not a passing
      // failure (the connection already retried what is): neither is retried here.
      if (err instanceof ReadOnlyViolation || isUnreachable(err) || this.cancelled !== undefined) for (const p of items) p.reject(this.cancelled ?? err);
      else for (const p of items) this.retryOrFail(p, undefined, err);
      return;
    }
    if (this.cancelled !== undefined) {
      for (const p of items) p.reject(this.cancelled);
      return;
    }
    let throttled = false;
    responses.forEach((res, i) => {
      const p = items[i]!;
      if (res.status === 429) {
        throttled = true;
        this.stats.throttled++;
        const wait = retryAfterMs(res.headers['retry-after']) ?? this.backoff(p.attempts);
        p.attempts++;
        p.notBefore = this.now() + wait;
        // Sending more while Graph throttles only earns more 429s: hold every batch until then.
        this.pausedUntil = Math.max(this.pausedUntil, p.notBefore);
        this.requeue(p, res);
      } else if (res.status >= 500 || res.status === 0) {
        this.retryOrFail(p, res);
      } else {
        p.resolve(res);
      }
    });
    if (throttled) this.limit = Math.max(1, Math.floor(this.limit / 2));
    else if (this.limit < this.opts.concurrency) this.limit++;
  }

  private retryOrFail(p: Pending, res: GraphResponse | undefined, err?: unknown): void {
    p.attempts++;
    p.notBefore = this.now() + this.backoff(p.attempts);
    this.requeue(p, res, err);
  }

  private requeue(p: Pending, res: GraphResponse | undefined, err?: unknown): void {
    if (p.attempts >= (this.opts.maxAttempts ?? 8)) {
      if (res) p.resolve(res);
      else p.reject(err);
      return;
    }
    this.stats.retried++;
    this.delayed.push(p);
  }

  /** Capped exponential backoff with full jitter. */
  private backoff(attempt: number): number {
    const cap = this.opts.maxBackoffMs ?? 30_000;
    return Math.random() * Math.min(cap, 250 * 2 ** attempt);
  }
}

export { retryAfterMs } from './graph-connection.js';
