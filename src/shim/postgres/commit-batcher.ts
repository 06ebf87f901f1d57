/**
 * Group commit for the database's compare-and-sets: requests that arrive while a batch is in flight
 * gather, and go together as one statement (one round trip, one transaction, one WAL flush) when a
 * slot frees. An idle node sends a request at once (after the current event-loop turn, so that
 * requests read in the same turn share a batch); a busy one sends fewer, larger batches, which is
 * where a per-statement cost (node-postgres' CPU, PostgreSQL's parse-execute-commit) is saved.
 *
 * A batch holds at most one request per key (one user): two compare-and-sets of one row in one
 * statement would be decided by the join's order, not by the rules. A second request for a key
 * waits for the next batch.
 */
export interface CommitBatcherOptions {
  /** Batches in flight at once (default 2). */
  maxInFlight?: number;
  /** Requests in one batch at most (default 256). */
  maxBatch?: number;
}

/** One request's failure inside a batch that otherwise went through (the others are answered). */
export class BatchItemError {
  constructor(readonly error: unknown) {}
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export class CommitBatcher<T, R> {
  /** Waiting requests by key, keys in the order their oldest waiting request came. */
  readonly #waiting = new Map<string, Pending<T, R>[]>();
  #count = 0;
  #inFlight = 0;
  #scheduled = false;
  readonly #maxInFlight: number;
  readonly #maxBatch: number;

  /**
   * `run` sends one batch and answers each request, in the batch's order (a BatchItemError rejects
   * that request alone); it rejects when the whole batch failed (each request is then rejected with
   * its error).
   */
  constructor(
    private readonly run: (items: T[]) => Promise<(R | BatchItemError)[]>,
    private readonly keyOf: (item: T) => string,
    options: CommitBatcherOptions = {},
  ) {
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 2);
    this.#maxBatch = Math.max(1, options.maxBatch ?? 256);
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const key = this.keyOf(item);
      const list = this.#waiting.get(key);
      if (list) list.push({ item, resolve, reject });
      else this.#waiting.set(key, [{ item, resolve, reject }]);
      this.#count++;
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  /** Requests waiting (not yet sent). */
  get waiting(): number {
    return this.#count;
  }

  #flush(): void {
    while (this.#inFlight < this.#maxInFlight && this.#count > 0) this.#send(this.#take());
  }

  /** The next batch: the oldest waiting request of each key, in the order the keys came. */
  #take(): Pending<T, R>[] {
    const batch: Pending<T, R>[] = [];
    for (const [key, list] of this.#waiting) {
      if (batch.length === this.#maxBatch) break;
      batch.push(list.shift()!);
      // A key with more waiting keeps its place: its next request goes in the next batch.
      if (list.length === 0) this.#waiting.delete(key);
    }
    this.#count -= batch.length;
    return batch;
  }

  #send(batch: Pending<T, R>[]): void {
    this.#inFlight++;
    let settled: Promise<unknown>;
    try {
      settled = this.run(batch.map((p) => p.item)).then(
        (results) => {
          if (!Array.isArray(results) || results.length !== batch.length) {
            throw new Error(`a batch of ${batch.length} was answered with ${Array.isArray(results) ? results.length : 'no'} results`);
          }
          for (const [i, p] of batch.entries()) {
            const result = results[i] as R | BatchItemError;
            if (result instanceof BatchItemError) p.reject(result.error);
            else p.resolve(result);
          }
        },
      ).catch((err: unknown) => {
        // A request already answered ignores this (a promise settles once).
        for (const p of batch) p.reject(err);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
      settled = Promise.resolve();
    }
    void settled.finally(() => {
      this.#inFlight--;
      this.#flush();
    });
  }
}
