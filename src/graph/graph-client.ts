import pLimit, { type LimitFunction } from 'p-limit';
import { isSuccess, type GraphCall, type GraphResponse } from './graph-call.js';
import { GraphRequestError, GraphUnreachableError, isUnreachable } from './graph-errors.js';
import { BatchPipeline, type PipelineOptions, type PipelineOutcome } from './batch-pipeline.js';
import { GraphTransport } from './graph-transport.js';
import { DEFAULT_CAP_MS, defaultRetryPolicy, exponentialBackoff, type Backoff, type RetryPolicy, type RetryPolicyOptions } from './retry-policy.js';
import { UserError } from '../model/user-error.js';
import { identityOf, type TokenIdentity, type TokenSource } from './access-token.js';

export interface GraphClientOptions {
  /** A Graph root as parseGraphRoot returns it. */
  root: string;
  tokens: TokenSource;
  /** Refuse every write before it is sent (plan, doctor, status). */
  readOnly: boolean;
  /** `$batch` requests in flight for batched reads. */
  concurrency: number;
  fetch?: typeof fetch;
  retry?: RetryPolicyOptions;
  /** Per request; a hung connection counts as no answer. */
  timeoutMs?: number;
}

/**
 * Microsoft Graph for the rest of the tool: direct requests and batched reads with one retry
 * policy, pipelines for writes, and the identity of the access token. Everything it sends is a
 * GraphCall made by src/graph/calls.
 */
export class GraphClient {
  readonly root: string;
  readonly readOnly: boolean;
  readonly policy: RetryPolicy;
  /** The policy's backoff, for callers that wait between their own tries (apply's read-back and resend). */
  readonly backoff: Backoff;
  /** How long an object Graph has just created may not be found yet (RetryPolicyOptions.consistencyMs). */
  readonly consistencyMs: number;
  private readonly transport: GraphTransport;
  private readonly tokens: TokenSource;
  private readonly timeoutMs: number;
  private readonly readPipelines = new Map<number, BatchPipeline>();
  /** Direct requests in flight at most (the batched reads have their pipeline's): a caller's Promise.all stays bounded. */
  private readonly direct: LimitFunction;

  constructor(private readonly opts: GraphClientOptions) {
    this.root = opts.root;
    this.readOnly = opts.readOnly;
    this.tokens = opts.tokens;
    this.backoff = exponentialBackoff(opts.retry);
    this.consistencyMs = opts.retry?.consistencyMs ?? opts.retry?.capMs ?? DEFAULT_CAP_MS;
    this.policy = defaultRetryPolicy(opts.retry, this.backoff);
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.direct = pLimit(Math.max(1, opts.concurrency));
    this.transport = new GraphTransport({ root: opts.root, tokens: opts.tokens, readOnly: opts.readOnly, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  }

  /** Who the access token says we are (tenant, app, user, permissions). */
  async identity(): Promise<TokenIdentity> {
    return identityOf(await this.tokens.token());
  }

  /**
   * One request sent directly (not batched), retried as the policy says: a read until it has a final
   * answer; a write is sent once and its answer (or an unknown outcome) handed back.
   */
  async request<T = unknown>(call: GraphCall): Promise<GraphResponse<T>> {
    return this.direct(() => this.withPolicy<T>(call, () => this.transport.send<T>(call, this.timeoutMs)));
  }

  /** A read that must succeed: the body, or GraphRequestError naming `what`. */
  async get<T>(call: GraphCall, what: string): Promise<T> {
    const res = await this.request<T>(call);
    if (!isSuccess(res)) throw new GraphRequestError(what, res);
    return res.body;
  }

  /** Every item of a collection, following @odata.nextLink until there is none. */
  async *pages<T>(call: GraphCall, what: string): AsyncGenerator<T> {
    yield* this.pagesFrom<T>(call, await this.request<{ value?: T[]; '@odata.nextLink'?: string }>(call), what);
  }

  /** Every item of a collection whose first page has been read (a batched read): the rest followed through @odata.nextLink. */
  async *pagesFrom<T>(call: GraphCall, first: GraphResponse<{ value?: T[]; '@odata.nextLink'?: string }>, what: string): AsyncGenerator<T> {
    let res = first;
    for (;;) {
      if (!isSuccess(res)) throw new GraphRequestError(what, res);
      for (const item of res.body?.value ?? []) yield item;
      const next = res.body?.['@odata.nextLink'];
      if (!next) return;
      res = await this.direct(() => this.withPolicy(call, () => this.transport.sendUrl<{ value?: T[]; '@odata.nextLink'?: string }>(next, call.version, this.timeoutMs, call.headers)));
    }
  }

  /**
   * A read batched with others (`$batch`, 20 to an envelope, `concurrency` envelopes in flight):
   * the final answer once throttling and passing failures are retried.
   */
  async read<T = unknown>(call: GraphCall, concurrency = this.opts.concurrency): Promise<GraphResponse<T>> {
    let pipeline = this.readPipelines.get(concurrency);
    if (!pipeline) this.readPipelines.set(concurrency, (pipeline = new BatchPipeline(this.transport, this.policy, { concurrency, timeoutMs: this.timeoutMs })));
    const out = await pipeline.submit({ version: call.version, call }).catch((err: unknown) => {
      throw this.translate(err);
    });
    if (out.kind !== 'answer') throw new Error(`a read ended as ${out.kind}`);
    return out.response as GraphResponse<T>;
  }

  /** Stops every batched read still waiting (after one has failed for good). */
  cancelReads(reason: unknown): void {
    for (const p of this.readPipelines.values()) p.cancel(reason);
    this.readPipelines.clear();
  }

  /** A pipeline for writes, with its own concurrency and a hook run (and awaited) before each batch is sent. */
  writer(opts: PipelineOptions): BatchPipeline {
    return new BatchPipeline(this.transport, this.policy, { timeoutMs: this.timeoutMs, ...opts });
  }

  /** Sends one write (or a read) through a write pipeline's rules without batching it: for a single step. */
  async write(call: GraphCall): Promise<PipelineOutcome> {
    const pipeline = this.writer({ concurrency: 1 });
    return pipeline.submit({ version: call.version, call }).catch((err: unknown) => {
      throw this.translate(err);
    });
  }

  private async withPolicy<T>(call: GraphCall, send: () => Promise<GraphResponse<T>>): Promise<GraphResponse<T>> {
    let renewedToken = false;
    for (let attempt = 1; ; attempt++) {
      let response: GraphResponse<T> | undefined;
      let error: unknown;
      try {
        response = await send();
      } catch (err) {
        error = err;
      }
      const d = this.policy.decide({ call, attempt, renewedToken: renewedToken || (response !== undefined && this.transport.sentWithNewToken(response)), ...(response ? { response } : { error }) });
      switch (d.action) {
        case 'accept':
          return response!;
        case 'throw':
          throw this.translate(d.error);
        case 'unknown':
          // A direct write with an unknown outcome: hand back what came, the caller reads it back.
          if (response) return response;
          throw this.translate(error);
        case 'retry':
          if (d.renewToken) {
            this.transport.renewToken(response!);
            renewedToken = true;
          }
          if (d.afterMs > 0) await new Promise((r) => setTimeout(r, d.afterMs));
      }
    }
  }

  /** Errors the admin can act on become UserErrors; the rest pass as they are. */
  private translate(err: unknown): unknown {
    if (isUnreachable(err) || (err instanceof TypeError && /fetch failed/.test(err.message))) return new GraphUnreachableError(this.root, err);
    if (err instanceof Error && err.name === 'TimeoutError') return new UserError(`Graph at ${this.root} did not answer in time: ${err.message}`, 1, { cause: err });
    return err;
  }
}
