/**
 * The failure budget of one source (end-user address) across all users (issue 17 item 8): a source
 * that keeps failing is first slowed down, then refused, whichever users it names, so one address
 * can neither guess its way through the user list nor lock everybody out. Failures are remembered
 * for `windowMs` (a sliding window). From half the budget on, answers to that source are delayed;
 * at the budget its requests are refused without being checked until its oldest failure ages out.
 * Kept in memory per process, like the rate limit: each node of a cluster counts its own.
 */
export interface SourceBudgetRules {
  /** Failures one source may have within the window across all users (0: no budget). */
  maxFails: number;
  windowMs: number;
  /** Delay of each answer once half the budget is spent. */
  slowDownMs: number;
}

export type BudgetCheck = { kind: 'ok'; delayMs: number } | { kind: 'refused'; retryAfterSeconds: number };

export class SourceBudget {
  readonly #failures = new Map<string, number[]>();

  constructor(
    readonly rules: SourceBudgetRules,
    private readonly now: () => number = Date.now,
  ) {}

  #recent(source: string, nowMs: number): number[] | undefined {
    const times = this.#failures.get(source);
    if (!times) return undefined;
    let drop = 0;
    while (drop < times.length && nowMs - times[drop]! >= this.rules.windowMs) drop++;
    if (drop > 0) times.splice(0, drop);
    if (times.length === 0) {
      this.#failures.delete(source);
      return undefined;
    }
    return times;
  }

  /** Whether `source` may try another code now, and how long its answer is held back. */
  check(source: string): BudgetCheck {
    if (this.rules.maxFails <= 0) return { kind: 'ok', delayMs: 0 };
    const nowMs = this.now();
    const times = this.#recent(source, nowMs);
    const n = times?.length ?? 0;
    if (n >= this.rules.maxFails) {
      return { kind: 'refused', retryAfterSeconds: Math.max(1, Math.ceil((times![0]! + this.rules.windowMs - nowMs) / 1000)) };
    }
    return { kind: 'ok', delayMs: n >= Math.ceil(this.rules.maxFails / 2) ? this.rules.slowDownMs : 0 };
  }

  /** Counts a failure of `source`. */
  failed(source: string): void {
    if (this.rules.maxFails <= 0) return;
    const nowMs = this.now();
    const times = this.#recent(source, nowMs) ?? [];
    times.push(nowMs);
    if (times.length > this.rules.maxFails) times.splice(0, times.length - this.rules.maxFails);
    this.#failures.set(source, times);
  }

  /** Forgets sources whose failures have all aged out (called now and then). */
  prune(): void {
    const nowMs = this.now();
    for (const source of [...this.#failures.keys()]) this.#recent(source, nowMs);
  }

  get size(): number {
    return this.#failures.size;
  }
}
