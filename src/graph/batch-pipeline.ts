import pLimit, { type LimitFunction } from 'p-limit';
import type { GraphCall, GraphResponse, GraphVersion } from './graph-call.js';
import { bodyForRoot } from './graph-root.js';
import type { GraphTransport } from './graph-transport.js';
import { lowerKeys } from './graph-transport.js';
import { withoutEchoedSecrets } from './echoed-secrets.js';
import type { RetryPolicy } from './retry-policy.js';

/** Graph's limit of requests in one `$batch`. */
export const BATCH_LIMIT = 20;

/** What a lazily made request turned out to be when its batch was formed. */
export type Prepared = { call: GraphCall } | { deferMs: number } | { error: string };

export interface PipelineRequest {
  /** The version of the call (a batch holds one version only); a function must make calls of this version. */
  version: GraphVersion;
  /** The call, or a function making it when its batch is formed (an activation code must be fresh when sent). */
  call: GraphCall | (() => Prepared);
  /** The caller's key for the request, handed to `beforeSend` (a journal records it before it goes out). */
  tag?: string;
}

export type PipelineOutcome =
  /** Graph's final answer: a success, or an error retrying cannot change. `requestId`: see requestIdOf. */
  | { kind: 'answer'; response: GraphResponse; requestId?: string }
  /**
   * A write that may or may not have been applied (5xx, timeout, lost answer): the caller reads it
   * back. `existedAtFirstSend`: the first send of the request was answered "exists already", so
   * no send of this request made it (someone else did).
   */
  | { kind: 'unknown'; reason: string; requestId?: string; existedAtFirstSend?: true }
  /** The request's own function refused to make it (e.g. its seed is gone); nothing was sent. */
  | { kind: 'refused'; reason: string }
  /**
   * stop() was called before the request was sent (again): nothing more was sent. A write sent
   * before was answered 429 then (which Graph did not take), or was never sent.
   */
  | { kind: 'stopped' };

export interface PipelineStats {
  requests: number;
  batches: number;
  throttled: number;
  retried: number;
  /** `$batch` requests allowed in flight now (halved on throttling, grown back by one per clean batch). */
  concurrency: number;
  /** Until when (ms since the epoch) nothing is sent, waiting out Graph's Retry-After: progress says so. */
  pausedUntil: number;
}

export interface PipelineOptions {
  /** `$batch` requests in flight at most. */
  concurrency: number;
  /** Per `$batch` request: a hung connection counts as no answer. */
  timeoutMs?: number;
  /** Called with the tags of a batch's requests before it is sent; the batch waits for it (the journal's fsync). */
  beforeSend?: (tags: string[]) => Promise<void>;
  now?: () => number;
}

interface Entry {
  req: PipelineRequest;
  call?: GraphCall;
  attempts: number;
  /** A send of it was refused its access token (401), and it has been sent again with a new one. */
  renewedToken?: boolean;
  notBefore: number;
  resolve: (o: PipelineOutcome) => void;
  reject: (e: unknown) => void;
}

/** One item of a `$batch` answer: an id and a numeric status, as json-batching documents them. */
function isBatchItem(r: unknown): r is { id: string | number; status: number; headers?: Record<string, string>; body?: unknown } {
  if (r === null || typeof r !== 'object') return false;
  const { id, status } = r as { id?: unknown; status?: unknown };
  return (typeof id === 'string' || typeof id === 'number') && typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599;
}

/**
 * The one engine that sends requests to Graph: queued requests go out in `$batch` envelopes of up
 * to 20 of one version, with at most `concurrency` envelopes in flight (p-limit). Every item's
 * answer goes through the RetryPolicy: a throttled item waits its own Retry-After and meanwhile the
 * whole pipeline pauses (sending more only earns more 429s) and halves its concurrency; a read that
 * failed in passing is sent again after a backoff; a write whose outcome is unknown is handed back
 * as such, for the caller to read back before sending it again; one refused its access token
 * (401, the envelope or the item) is sent again at once with a new one. Reads and writes alike use it.
 */
export class BatchPipeline {
  readonly stats: PipelineStats;
  private readonly limit: LimitFunction;
  private readonly ready: Record<GraphVersion, Entry[]> = { 'v1.0': [], beta: [] };
  private readonly head: Record<GraphVersion, number> = { 'v1.0': 0, beta: 0 };
  private delayed: Entry[] = [];
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private pumpQueued = false;
  private cancelled: unknown;
  private stopping = false;
  private lastVersion: GraphVersion = 'beta';
  private readonly now: () => number;

  constructor(
    private readonly transport: GraphTransport,
    private readonly policy: RetryPolicy,
    private readonly opts: PipelineOptions,
  ) {
    this.limit = pLimit(opts.concurrency);
    this.now = opts.now ?? Date.now;
    this.stats = { requests: 0, batches: 0, throttled: 0, retried: 0, concurrency: opts.concurrency, pausedUntil: 0 };
  }

  /** Queues a request; settles once Graph's final answer is in (throttled and failed reads retried meanwhile). */
  submit(req: PipelineRequest): Promise<PipelineOutcome> {
    return new Promise((resolve, reject) => {
      if (this.cancelled !== undefined) return reject(this.cancelled);
      if (this.stopping) return resolve({ kind: 'stopped' });
      this.stats.requests++;
      this.ready[req.version].push({ req, attempts: 0, notBefore: 0, resolve, reject });
      this.schedulePump();
    });
  }

  /**
   * Gives up: every queued or waiting request is rejected with `reason`, no timer is left behind
   * (it would keep the process alive), and answers still in flight are dropped.
   */
  cancel(reason: unknown): void {
    if (this.cancelled !== undefined) return;
    this.cancelled = reason;
    this.clearTimer();
    const waiting = [...this.pending('v1.0'), ...this.pending('beta'), ...this.delayed];
    this.ready['v1.0'] = [];
    this.ready.beta = [];
    this.head['v1.0'] = 0;
    this.head.beta = 0;
    this.delayed = [];
    for (const e of waiting) e.reject(reason);
  }

  /**
   * Stops sending: requests not yet sent settle as `stopped` (now, and any submitted later);
   * batches in flight finish and their answers are handed back as usual (an interrupted run journals them).
   */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.clearTimer();
    const waiting = [...this.pending('v1.0'), ...this.pending('beta'), ...this.delayed];
    this.ready['v1.0'] = [];
    this.ready.beta = [];
    this.head['v1.0'] = 0;
    this.head.beta = 0;
    this.delayed = [];
    for (const e of waiting) e.resolve({ kind: 'stopped' });
  }

  /** Batches sent and not yet answered. */
  get inFlight(): number {
    return this.limit.activeCount;
  }

  /** Requests queued in the same tick go out together in full batches, not one by one. */
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pending(v: GraphVersion): Entry[] {
    return this.ready[v].slice(this.head[v]);
  }

  private pump(): void {
    if (this.cancelled !== undefined || this.stopping) return;
    const now = this.now();
    this.promoteDue(now);
    while (now >= this.pausedUntil && this.limit.activeCount + this.limit.pendingCount < this.limit.concurrency) {
      const batch = this.takeBatch(now);
      if (batch.length === 0) break;
      this.stats.batches++;
      void this.limit(() => this.sendBatch(batch)).finally(() => this.pump());
    }
    this.wakeLater(now);
  }

  /** Delayed requests whose time has come go to the front: they have waited longest. */
  private promoteDue(now: number): void {
    if (this.delayed.length === 0) return;
    const due: Entry[] = [];
    const later: Entry[] = [];
    for (const e of this.delayed) (e.notBefore <= now ? due : later).push(e);
    if (due.length === 0) return;
    this.delayed = later;
    for (const v of ['v1.0', 'beta'] as const) {
      const mine = due.filter((e) => e.req.version === v);
      if (mine.length === 0) continue;
      this.ready[v] = [...mine, ...this.pending(v)];
      this.head[v] = 0;
    }
  }

  /** Up to 20 requests of one version (the versions take turns), each made now if it is made lazily. */
  private takeBatch(now: number): Entry[] {
    const order: GraphVersion[] = this.lastVersion === 'beta' ? ['v1.0', 'beta'] : ['beta', 'v1.0'];
    for (const v of order) {
      const batch: Entry[] = [];
      const queue = this.ready[v];
      while (this.head[v] < queue.length && batch.length < BATCH_LIMIT) {
        const e = queue[this.head[v]++]!;
        const prepared = typeof e.req.call === 'function' ? e.req.call() : { call: e.req.call };
        if ('error' in prepared) e.resolve({ kind: 'refused', reason: prepared.error });
        else if ('deferMs' in prepared) {
          e.notBefore = now + prepared.deferMs;
          this.delayed.push(e);
        } else {
          e.call = prepared.call;
          batch.push(e);
        }
      }
      if (this.head[v] > 4096 && this.head[v] * 2 > queue.length) {
        this.ready[v] = queue.slice(this.head[v]);
        this.head[v] = 0;
      }
      if (batch.length > 0) {
        this.lastVersion = v;
        return batch;
      }
    }
    return [];
  }

  private async sendBatch(batch: Entry[]): Promise<void> {
    if (this.cancelled !== undefined) {
      for (const e of batch) e.reject(this.cancelled);
      return;
    }
    const tags = batch.flatMap((e) => (e.req.tag !== undefined ? [e.req.tag] : []));
    try {
      if (this.opts.beforeSend && tags.length > 0) await this.opts.beforeSend(tags);
    } catch (err) {
      for (const e of batch) e.reject(err);
      return;
    }
    const version = batch[0]!.req.version;
    const requests = batch.map((e, i) => {
      const c = e.call!;
      // A write in a batch carries a body and its Content-Type even when the action takes none (an
      // empty object, as json-batching.md says): Graph refuses the whole batch otherwise ("Write
      // request id : N does not contain Content-Type header or body"), as a review found rollback's
      // token deactivations would have had it.
      const body = c.body ?? (c.method === 'GET' || c.method === 'DELETE' ? undefined : {});
      // One header of a name whatever its case (a call's own Content-Type replaces the default).
      const headers: Record<string, string> = {};
      for (const [name, value] of [...(body !== undefined ? [['Content-Type', 'application/json'] as const] : []), ...Object.entries(c.headers ?? {})]) {
        for (const k of Object.keys(headers)) if (k.toLowerCase() === name.toLowerCase()) delete headers[k];
        headers[name] = value;
      }
      return { id: String(i + 1), method: c.method, url: c.path, ...(body !== undefined ? { body: bodyForRoot(body, this.transport.root) } : {}), ...(Object.keys(headers).length > 0 ? { headers } : {}) };
    });
    let answers: (GraphResponse | undefined)[] | undefined;
    let envelope: GraphResponse | undefined;
    let error: unknown;
    try {
      envelope = await this.transport.send<{ responses?: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[] }>(
        { method: 'POST', version, path: '/$batch', body: { requests } },
        this.opts.timeoutMs ?? 120_000,
      );
      const items = (envelope.body as { responses?: unknown } | null)?.responses;
      if (envelope.status >= 200 && envelope.status < 300) {
        // A success is Graph's answer only with its `responses` list: anything else (a proxy's HTML
        // page, a cut-off body) answered none of the items, which must not pass for done.
        const listed = Array.isArray(items) ? (items as unknown[]).filter(isBatchItem) : [];
        const byId = new Map(listed.map((r) => [String(r.id).toLowerCase(), r]));
        answers = requests.map((r) => {
          const a = byId.get(r.id);
          // An item Graph did not answer: as if the connection had been lost for it.
          return a
            ? { status: a.status, headers: lowerKeys(a.headers ?? {}), body: a.body ?? null }
            : { status: 0, headers: {}, body: { error: { code: 'missingBatchResponse', message: Array.isArray(items) ? `no answer for batch item ${r.id}` : `the $batch answer (HTTP ${envelope!.status}) has no responses list` } } };
        });
      }
    } catch (err) {
      error = err;
    }
    if (this.cancelled !== undefined) {
      for (const e of batch) e.reject(this.cancelled);
      return;
    }
    let throttled = false;
    let renewed = false;
    batch.forEach((e, i) => {
      e.attempts++;
      // A failed envelope stands for each of its items (a 429 on it throttles them all). An answer
      // that quotes a seed or activation code has them taken out before anything keeps it: the item's
      // own, or, for the envelope, every item's (it may quote the whole batch).
      const answer = answers ? answers[i] : envelope;
      const response = answer && withoutEchoedSecrets(answer, answers ? [e.call!.body] : batch.map((x) => x.call!.body));
      const renewedToken = e.renewedToken === true || (envelope !== undefined && this.transport.sentWithNewToken(envelope));
      const d = this.policy.decide({ call: e.call!, attempt: e.attempts, renewedToken, ...(response ? { response } : { error }) });
      const id = requestIdOf(response, envelope);
      const requestId = id ? { requestId: id } : {};
      switch (d.action) {
        case 'accept':
          e.resolve({ kind: 'answer', response: response!, ...requestId });
          break;
        case 'unknown':
          e.resolve({ kind: 'unknown', reason: d.reason, ...requestId, ...(d.exists && e.attempts === 1 ? { existedAtFirstSend: true as const } : {}) });
          break;
        case 'throw':
          e.reject(d.error);
          break;
        case 'retry':
          this.stats.retried++;
          if (this.stopping) {
            // Not sent again after stop(): Graph did not take it (a throttled write), or it only read.
            e.resolve({ kind: 'stopped' });
            break;
          }
          if (d.renewToken) {
            // The items were sent with the envelope's token: dropped once for the batch.
            if (!renewed) this.transport.renewToken(envelope!);
            renewed = true;
            e.renewedToken = true;
          }
          if (d.throttled) {
            throttled = true;
            this.stats.throttled++;
            this.pausedUntil = Math.max(this.pausedUntil, this.now() + d.afterMs);
            this.stats.pausedUntil = this.pausedUntil;
          }
          e.notBefore = this.now() + d.afterMs;
          this.delayed.push(e);
          break;
      }
    });
    if (throttled) this.limit.concurrency = Math.max(1, Math.floor(this.limit.concurrency / 2));
    else if (this.limit.concurrency < this.opts.concurrency) this.limit.concurrency++;
    this.stats.concurrency = this.limit.concurrency;
  }

  /** Pumps again when the earliest waiting request (or the pause) is due. */
  private wakeLater(now: number): void {
    let earliest = Infinity;
    if (this.head['v1.0'] < this.ready['v1.0'].length || this.head.beta < this.ready.beta.length) earliest = now;
    for (const e of this.delayed) if (e.notBefore < earliest) earliest = e.notBefore;
    if (earliest === Infinity) return;
    const due = Math.max(this.pausedUntil, earliest);
    // Work is ready but every slot is taken: a finishing batch pumps again.
    if (due <= now) return;
    if (this.timer && this.timerDue <= due) return;
    this.clearTimer();
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.pump();
    }, due - now);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
  }
}

/**
 * Graph's `request-id` for one answer, what Microsoft support traces a request by: the item's own
 * header, else the one in its error body (`innerError`), else the `$batch` envelope's.
 */
export function requestIdOf(item: GraphResponse | undefined, envelope: GraphResponse | undefined): string | undefined {
  const inner = (item?.body as { error?: { innerError?: Record<string, unknown> } } | null | undefined)?.error?.innerError?.['request-id'];
  return item?.headers['request-id'] ?? (typeof inner === 'string' ? inner : undefined) ?? envelope?.headers['request-id'];
}
