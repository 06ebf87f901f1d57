import { retryAfterMs } from '../graph/batch-scheduler.js';
import type { BatchRequestItem, GraphConnection, GraphResponse } from '../graph/graph-connection.js';
import type { Journal, OpRecord } from './journal.js';
import { buildRequest, resultOf, verifyOp, type RequestContext } from './op-requests.js';
import type { Operation } from './operations.js';

export interface ExecutorOptions {
  conn: GraphConnection;
  journal: Journal;
  context: Omit<RequestContext, 'results'>;
  /** $batch requests in flight at most; halved while Graph throttles, grown back after. */
  concurrency: number;
  /** Attempts of a 5xx / network failure before the operation fails. */
  maxAttempts?: number;
  maxBackoffMs?: number;
  /** Per-request timeout: a hung connection counts as an unknown outcome. */
  requestTimeoutMs?: number;
  onProgress?: (stats: ExecStats) => void;
}

export interface ExecStats {
  total: number;
  done: number;
  failed: number;
  skipped: number;
  throttled: number;
  retried: number;
  verified: number;
  batches: number;
  concurrency: number;
  startedAt: number;
}

type Status = 'waiting' | 'ready' | 'inflight' | 'verify' | 'done' | 'failed' | 'skipped';

interface Slot {
  op: Operation;
  status: Status;
  attempts: number;
  notBefore: number;
  error?: string;
}

/**
 * Runs operations through Graph $batch, at most 20 to a batch, every batch fully parallel: an
 * operation that depends on another (a user's alternate phone on the mobile, the default method on
 * the methods) goes out once that one is done.
 * Throttled items wait their own Retry-After and pause the whole run meanwhile; the number of
 * batches in flight halves on throttling and grows back after. A write whose outcome is unknown
 * (5xx, timeout, reset) is read back before it is sent again, so nothing is created twice. Every
 * batch is journaled `started` before it is sent and with its outcomes after.
 */
export class Executor {
  readonly stats: ExecStats;
  private readonly slots = new Map<string, Slot>();
  /** Results (created token ids) by operation id: kept across steps, few (one per token). */
  private readonly results = new Map<string, Record<string, unknown>>();
  private readonly dependents = new Map<string, string[]>();
  private readonly ready: string[] = [];
  /** Failures and skips decided here, not by a response: journaled with the next batch or at the end. */
  private unjournaled: OpRecord[] = [];
  private inflight = 0;
  private limit: number;
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private finish!: () => void;
  private fail!: (e: unknown) => void;
  private stopped = false;

  constructor(private readonly opts: ExecutorOptions) {
    this.limit = opts.concurrency;
    this.stats = { total: 0, done: 0, failed: 0, skipped: 0, throttled: 0, retried: 0, verified: 0, batches: 0, concurrency: opts.concurrency, startedAt: Date.now() };
  }

  /** Results (device ids) known from earlier runs of the same operations. */
  seedResults(prior: ReadonlyMap<string, OpRecord>): void {
    for (const [id, r] of prior) if (r.result) this.results.set(id, r.result);
  }

  /**
   * Runs the operations to the end: each is done, failed (reported, the run goes on) or skipped
   * (a dependency failed). `prior` holds journal states of a resumed run: done operations are not
   * sent again, `started` ones are read back first.
   */
  async run(ops: Operation[], prior: ReadonlyMap<string, OpRecord> = new Map()): Promise<Map<string, { status: Status; error?: string }>> {
    this.stats.total += ops.length;
    // A run is one step (the policy, a wave): what earlier steps settled is not needed again, and
    // keeping it would hold every operation of a 100,000-user apply.
    this.slots.clear();
    this.dependents.clear();
    this.ready.length = 0;
    this.stopped = false;
    for (const op of ops) {
      const p = prior.get(op.id);
      const status: Status = p?.state === 'done' ? 'done' : p?.state === 'started' ? 'verify' : 'waiting';
      this.slots.set(op.id, { op, status, attempts: 0, notBefore: 0 });
      if (status === 'done') this.stats.done++;
      for (const d of op.dependsOn) this.dependents.set(d, [...(this.dependents.get(d) ?? []), op.id]);
    }
    const done = new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
    });
    for (const op of ops) {
      const s = this.slots.get(op.id)!;
      if (s.status === 'verify') void this.verify(s);
      else if (s.status === 'waiting') this.promote(s);
    }
    this.pump();
    await done;
    await this.flushUnjournaled();
    const out = new Map<string, { status: Status; error?: string }>();
    for (const op of ops) {
      const s = this.slots.get(op.id)!;
      out.set(op.id, { status: s.status, ...(s.error ? { error: s.error } : {}) });
    }
    return out;
  }

  private promote(s: Slot): void {
    // Only a waiting operation moves: a ready one's dependencies are all done already.
    if (s.status !== 'waiting') return;
    const deps = s.op.dependsOn.map((d) => this.slots.get(d));
    const failedDep = s.op.dependsOn.find((d) => ['failed', 'skipped'].includes(this.slots.get(d)?.status ?? ''));
    if (failedDep) {
      const error = `skipped: ${failedDep} did not succeed`;
      this.settle(s, 'skipped', error);
      this.unjournaled.push({ op: s.op.id, state: 'skipped', error });
      return;
    }
    // Ready when every dependency is done (batches carry no dependsOn: see takeBatch).
    if (deps.every((d) => !d || d.status === 'done')) {
      s.status = 'ready';
      this.ready.push(s.op.id);
    }
  }

  private pump(): void {
    if (this.stopped) return;
    const now = Date.now();
    while (this.inflight < this.limit && now >= this.pausedUntil) {
      const batch = this.takeBatch(now);
      if (batch.length === 0) break;
      this.inflight++;
      void this.send(batch)
        .catch((err) => this.abort(err))
        .finally(() => {
          this.inflight--;
          this.pump();
        });
    }
    this.checkFinished();
    this.wake(now);
  }

  /**
   * Up to 20 ready operations whose dependencies are all done. Batches are always fully parallel:
   * Graph refuses a batch that mixes dependsOn chains ("Batch should be either fully sequential or
   * fully parallel"), and one chain of a single user's few operations would leave a batch mostly
   * empty; an operation goes out in the batch after the one that completes its dependency.
   */
  private takeBatch(now: number): { slot: Slot; item: BatchRequestItem }[] {
    const batch: { slot: Slot; item: BatchRequestItem }[] = [];
    const deferred: string[] = [];
    while (this.ready.length > 0 && batch.length < 20) {
      const id = this.ready.shift()!;
      const s = this.slots.get(id)!;
      if (s.status !== 'ready') continue;
      if (s.notBefore > now) {
        deferred.push(id);
        continue;
      }
      const built = buildRequest(s.op, { ...this.opts.context, results: this.results });
      if ('error' in built) {
        this.settle(s, 'failed', built.error);
        this.unjournaled.push({ op: s.op.id, state: 'failed', error: built.error });
        continue;
      }
      if ('waitMs' in built) {
        s.notBefore = now + built.waitMs;
        deferred.push(id);
        continue;
      }
      const item: BatchRequestItem = { ...built.request, id: String(batch.length + 1) };
      s.status = 'inflight';
      batch.push({ slot: s, item });
    }
    this.ready.unshift(...deferred);
    return batch;
  }

  private async send(batch: { slot: Slot; item: BatchRequestItem }[]): Promise<void> {
    this.stats.batches++;
    await this.opts.journal.ops(batch.map(({ slot }) => ({ op: slot.op.id, state: 'started', before: slot.op.before })));
    let responses: GraphResponse[];
    try {
      responses = await this.opts.conn.batch(
        batch.map((b) => b.item),
        'beta',
        this.opts.requestTimeoutMs ?? 60_000,
      );
    } catch (err) {
      // The batch may or may not have reached Graph: read every write back before resending it.
      for (const { slot } of batch) this.toVerify(slot, `batch failed: ${(err as Error).message}`);
      return;
    }
    const records: OpRecord[] = [];
    let throttled = false;
    responses.forEach((res, i) => {
      const { slot } = batch[i]!;
      if (res.status >= 200 && res.status < 300) {
        const result = resultOf(slot.op, res.body);
        if (result) this.results.set(slot.op.id, result);
        this.settle(slot, 'done');
        records.push({ op: slot.op.id, state: 'done', ...(result ? { result } : {}) });
      } else if (res.status === 429) {
        throttled = true;
        this.stats.throttled++;
        const wait = retryAfterMs(res.headers['retry-after']) ?? this.backoff(slot.attempts);
        slot.notBefore = Date.now() + wait;
        this.pausedUntil = Math.max(this.pausedUntil, slot.notBefore);
        this.requeue(slot);
        records.push({ op: slot.op.id, state: 'pending' });
      } else if (res.status === 424) {
        // A dependency in this batch failed or was throttled: wait for it.
        slot.status = 'waiting';
        this.promote(slot);
        records.push({ op: slot.op.id, state: 'pending' });
      } else if (res.status >= 500 || res.status === 0) {
        this.toVerify(slot, errorText(res));
      } else if (res.status === 409 || (res.status === 400 && /already|exists|conflict/i.test(errorText(res)))) {
        // It may have been applied by an earlier attempt whose answer was lost.
        this.toVerify(slot, errorText(res), true);
      } else {
        this.settle(slot, 'failed', errorText(res));
        records.push({ op: slot.op.id, state: 'failed', error: errorText(res) });
      }
    });
    records.push(...this.takeUnjournaled());
    await this.opts.journal.ops(records);
    if (throttled) this.limit = Math.max(1, Math.floor(this.limit / 2));
    else if (this.limit < this.opts.concurrency) this.limit++;
    this.stats.concurrency = this.limit;
    this.opts.onProgress?.(this.stats);
  }

  private toVerify(slot: Slot, error: string, conflict = false): void {
    slot.error = error;
    slot.status = 'verify';
    void this.verify(slot, conflict);
  }

  private async verify(slot: Slot, conflict = false): Promise<void> {
    this.stats.verified++;
    let v: { done: boolean; result?: Record<string, unknown> };
    try {
      v = await verifyOp(slot.op, this.opts.conn, { results: this.results });
    } catch (err) {
      // The read failed too (network down): read again later; the slot stays unsettled meanwhile.
      slot.attempts++;
      if (slot.attempts >= (this.opts.maxAttempts ?? 8) * 2) {
        await this.fail1(slot, `${slot.error ?? 'write failed'}; outcome unknown: ${(err as Error).message}`);
      } else {
        setTimeout(() => void this.verify(slot, conflict), this.backoff(slot.attempts)).unref?.();
      }
      return;
    }
    if (v.done) {
      if (v.result) this.results.set(slot.op.id, v.result);
      this.settle(slot, 'done');
      await this.opts.journal.ops([{ op: slot.op.id, state: 'done', ...(v.result ? { result: v.result } : {}) }]);
    } else if (conflict || slot.attempts + 1 >= (this.opts.maxAttempts ?? 8)) {
      await this.fail1(slot, slot.error ?? 'failed');
    } else {
      // Not applied: safe to send again.
      slot.attempts++;
      slot.notBefore = Date.now() + this.backoff(slot.attempts);
      this.requeue(slot);
    }
    this.pump();
  }

  private takeUnjournaled(): OpRecord[] {
    const out = this.unjournaled;
    this.unjournaled = [];
    return out;
  }

  private async flushUnjournaled(): Promise<void> {
    await this.opts.journal.ops(this.takeUnjournaled());
  }

  private async fail1(slot: Slot, error: string): Promise<void> {
    this.settle(slot, 'failed', error);
    await this.opts.journal.ops([{ op: slot.op.id, state: 'failed', error }]);
    this.pump();
  }

  private requeue(slot: Slot): void {
    this.stats.retried++;
    slot.status = 'ready';
    this.ready.push(slot.op.id);
  }

  private settle(slot: Slot, status: 'done' | 'failed' | 'skipped', error?: string): void {
    if (slot.status === 'done' || slot.status === 'failed' || slot.status === 'skipped') return;
    slot.status = status;
    if (error && status !== 'done') slot.error = error;
    if (status === 'done') this.stats.done++;
    else if (status === 'failed') this.stats.failed++;
    else this.stats.skipped++;
    for (const next of this.dependents.get(slot.op.id) ?? []) {
      const n = this.slots.get(next);
      if (n) this.promote(n);
    }
  }

  private checkFinished(): void {
    if (this.inflight > 0) return;
    for (const s of this.slots.values()) if (s.status !== 'done' && s.status !== 'failed' && s.status !== 'skipped') return;
    if (this.timer) clearTimeout(this.timer);
    this.finish();
  }

  private wake(now: number): void {
    if (this.timer || this.inflight >= this.limit) return;
    let earliest = Infinity;
    for (const id of this.ready) {
      const s = this.slots.get(id);
      if (s?.status === 'ready') earliest = Math.min(earliest, s.notBefore);
      if (earliest <= now) break;
    }
    if (earliest === Infinity) return;
    const due = Math.max(this.pausedUntil, earliest);
    if (due <= now && this.inflight > 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, due - now),
    );
  }


  private abort(err: unknown): void {
    this.stopped = true;
    this.fail(err);
  }

  private backoff(attempt: number): number {
    const cap = this.opts.maxBackoffMs ?? 30_000;
    return Math.random() * Math.min(cap, 250 * 2 ** attempt);
  }
}

function errorText(res: GraphResponse): string {
  const e = (res.body as { error?: { code?: string; message?: string } } | null)?.error;
  return `${res.status}${e?.code ? ` ${e.code}` : ''}${e?.message ? `: ${e.message}` : ''}`;
}
