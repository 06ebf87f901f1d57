import { monotonicMs } from './monotonic-clock.js';

/**
 * Per-client token bucket: `burst` requests at once, refilled at `perSecond`. Buckets that have
 * refilled completely are forgotten by prune(), so memory follows the number of active clients.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    public perSecond: number,
    public burst: number,
    /** Monotonic: a wall-clock step back made every bucket owe the step's worth of tokens (429 to every known caller). */
    private readonly now: () => number = monotonicMs,
  ) {}

  get enabled(): boolean {
    return this.perSecond > 0;
  }

  /** Takes one token; returns 0 when allowed, else the seconds until the next token (for Retry-After). */
  take(client: string): number {
    if (!this.enabled) return 0;
    const now = this.now();
    let bucket = this.#buckets.get(client);
    if (!bucket) {
      bucket = { tokens: this.burst, at: now };
      this.#buckets.set(client, bucket);
    } else {
      // Never less than nothing elapsed, whatever clock was injected.
      bucket.tokens = Math.min(this.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.perSecond);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }

  prune(): void {
    const now = this.now();
    for (const [client, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.#buckets.delete(client);
    }
  }

  get size(): number {
    return this.#buckets.size;
  }
}
