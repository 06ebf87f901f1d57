import { monotonicMs } from './monotonic-clock.js';

/**
 * The failure budget of one source (end-user address) across all users (issue 17 item 8): a source
 * that keeps failing is first slowed down, then refused, whichever users it names, so one address
 * can neither guess its way through the user list nor lock everybody out. Failures are remembered
 * for `windowMs` (a sliding window). From half the budget on, answers to that source are delayed;
 * at the budget its requests are refused without being checked until its oldest failure ages out.
 * Kept in memory per process, like the rate limit: each node of a cluster counts its own.
 *
 * A verification in flight holds a place in its source's budget until it is settled (counted as a
 * failure, or given back): checked only against failures already answered, requests sent in
 * parallel were all verified (60 wrong codes at once with a budget of 30). A request that finds
 * the budget taken up by failures and requests in flight waits for one of those to settle, then is
 * verified or refused as the budget then stands; so parallel requests never get more codes checked
 * than the budget, and a busy source's right codes wait instead of being refused.
 */
export interface SourceBudgetRules {
  /** Failures one source may have within the window across all users (0: no budget). */
  maxFails: number;
  windowMs: number;
  /** Delay of each answer once half the budget is spent. */
  slowDownMs: number;
}

/** A place in the budget, held while the verification runs: settle it once, with whether it failed. */
export interface BudgetPlace {
  kind: 'ok';
  /** How long a rejected answer is held back. */
  delayMs: number;
  settle(failed: boolean): void;
}

export type BudgetCheck = BudgetPlace | { kind: 'refused'; retryAfterSeconds: number };

const UNLIMITED: BudgetPlace = Object.freeze({ kind: 'ok', delayMs: 0, settle: () => {} });

/** A source's verifications in flight, and the requests waiting for one of them to settle (in arrival order). */
interface InFlight {
  count: number;
  waiting: ((check: BudgetCheck) => void)[];
}

export class SourceBudget {
  readonly #failures = new Map<string, number[]>();
  readonly #inFlight = new Map<string, InFlight>();

  constructor(
    public rules: SourceBudgetRules,
    /** Monotonic: the window is kept in memory only, and a wall-clock step must not stretch or end it. */
    private readonly now: () => number = monotonicMs,
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

  /**
   * A place for one verification from `source`, or its refusal; a promise when it must wait for a
   * verification of the source in flight (synchronous otherwise, the common case).
   */
  reserve(source: string): BudgetCheck | Promise<BudgetCheck> {
    if (this.rules.maxFails <= 0) return UNLIMITED;
    const flight = this.#inFlight.get(source);
    // Behind the requests already waiting: they go first.
    const now = flight && flight.waiting.length > 0 ? undefined : this.#take(source);
    return now ?? new Promise<BudgetCheck>((resolve) => this.#inFlight.get(source)!.waiting.push(resolve));
  }

  /** The budget as it stands: a place, a refusal, or undefined when requests in flight hold the rest (then one is). */
  #take(source: string): BudgetCheck | undefined {
    const nowMs = this.now();
    const times = this.#recent(source, nowMs);
    const failed = times?.length ?? 0;
    if (failed >= this.rules.maxFails) {
      return { kind: 'refused', retryAfterSeconds: Math.max(1, Math.ceil((times![0]! + this.rules.windowMs - nowMs) / 1000)) };
    }
    let flight = this.#inFlight.get(source);
    const held = failed + (flight?.count ?? 0);
    if (held >= this.rules.maxFails) return undefined;
    if (!flight) this.#inFlight.set(source, (flight = { count: 0, waiting: [] }));
    flight.count++;
    let settled = false;
    return {
      kind: 'ok',
      // Slowed as it would be if the ones in flight had failed before it (as they would one by one).
      delayMs: held >= Math.ceil(this.rules.maxFails / 2) ? this.rules.slowDownMs : 0,
      settle: (didFail) => {
        if (settled) return;
        settled = true;
        this.#settle(source, didFail);
      },
    };
  }

  #settle(source: string, failed: boolean): void {
    if (failed) this.#failed(source);
    const flight = this.#inFlight.get(source)!;
    flight.count--;
    while (flight.waiting.length > 0) {
      const check = this.#take(source);
      if (!check) break; // still held by others in flight: the next to settle lets the next waiter go
      flight.waiting.shift()!(check);
    }
    if (flight.count === 0 && flight.waiting.length === 0) this.#inFlight.delete(source);
  }

  /** Counts a failure of `source`. */
  #failed(source: string): void {
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
