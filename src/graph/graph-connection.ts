import type { TokenCredential } from '@azure/identity';
import { Client, GraphError, HTTPMessageHandler, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { createCredential, GRAPH_SCOPE, isLoopback, type AuthOptions } from './auth.js';
import { UserError } from '../model/user-error.js';

export type GraphVersion = 'v1.0' | 'beta';

export interface ConnectionOptions extends AuthOptions {
  /** Graph root, e.g. https://graph.microsoft.com or the emulator's http://127.0.0.1:PORT. */
  graphUrl: string;
  /** Refuse every request that could write: GET only, and $batch whose items are all GET. */
  readOnly: boolean;
  /** Attempts of a read throttled, answered 5xx or cut off (default 8). */
  readAttempts?: number;
  /** Token for a loopback Graph (the emulator); defaults to a placeholder. */
  loopbackToken?: string;
  /** Sends the HTTP requests instead of the global fetch: an in-process emulator's (tests); no credential is used. */
  fetch?: typeof fetch;
}

/** A response from Graph, direct or a $batch item. */
export interface GraphResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

/** A plan (or any read-only command) tried to write: refused before anything was sent. */
export class ReadOnlyViolation extends Error {
  constructor(what: string) {
    super(`refused to send ${what}: this command only reads from Graph`);
    this.name = 'ReadOnlyViolation';
  }
}

export interface BatchRequestItem {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  dependsOn?: string[];
}

/** Attempts of a read throttled, answered 5xx or cut off, and the cap of the backoff between them. */
const READ_ATTEMPTS = 8;
const READ_BACKOFF_CAP_MS = 10_000;

/** Header carrying an absolute URL (a nextLink) to send as it is; see RawUrlMiddleware. */
const RAW_URL_HEADER = 'x-mfa-migrate-raw-url';
/** Header naming the request, so a failure without an HTTP answer can be handed back as thrown; see RawUrlMiddleware. */
const REQUEST_KEY_HEADER = 'x-mfa-migrate-request-key';

/**
 * The only code that speaks HTTP to Microsoft Graph. Built on @microsoft/microsoft-graph-client
 * with a middleware chain of our own: bearer tokens from @azure/identity (the SDK's own handler
 * drops Authorization for hosts it does not know, such as the local emulator), a read-only
 * guard, the SDK's retry handler for throttled or unavailable direct requests, and fetch.
 */
export class GraphConnection {
  readonly root: string;
  readonly readOnly: boolean;
  private readonly readAttempts: number;
  private readonly client: Client;
  /** Failures without an HTTP answer (refused write, network, timeout), by request key, until request() rethrows them. */
  private readonly failures = new Map<string, unknown>();
  private nextKey = 0;

  constructor(opts: ConnectionOptions, credential?: TokenCredential) {
    this.root = opts.graphUrl.replace(/\/+$/, '');
    this.readOnly = opts.readOnly;
    this.readAttempts = opts.readAttempts ?? READ_ATTEMPTS;
    const loopback = isLoopback(this.root) || opts.fetch !== undefined;
    if (!loopback && !this.root.startsWith('https://')) {
      throw new Error(`--graph-url ${this.root}: Graph must be reached over https (plain http only to a loopback emulator)`);
    }
    const token = loopback ? staticToken(opts.loopbackToken ?? 'mfa-migrate-emulator') : tokenFrom(credential ?? createCredential(opts));
    const chain: Middleware[] = [
      new RawUrlMiddleware(this.failures),
      new BearerMiddleware(token),
      ...(opts.readOnly ? [new ReadOnlyGuard()] : []),
      // No SDK RetryHandler: it retries only 429/503/504, and waits a second or more per retry
      // without Retry-After. request() retries reads itself; writes are the caller's (read back first).
      opts.fetch ? new FetchHandler(opts.fetch) : new HTTPMessageHandler(),
    ];
    for (let i = 0; i < chain.length - 1; i++) chain[i]!.setNext?.(chain[i + 1]!);
    this.client = Client.initWithMiddleware({ middleware: chain[0]!, baseUrl: `${this.root}/`, defaultVersion: 'v1.0' });
  }

  /**
   * Sends a request; Graph errors come back as a response (status + error body), not thrown. A read
   * (GET, or a $batch of GETs) throttled, answered 5xx or cut off is sent again: after its
   * Retry-After when Graph gives one, else after a capped exponential backoff with full jitter.
   * Writes are never resent here: a write whose answer was lost is read back by the caller first.
   * A request that got no HTTP answer in the end throws what stopped it: ReadOnlyViolation, the
   * network error (fetch's TypeError, cause ECONNREFUSED...) or the timeout.
   */
  async request<T = unknown>(method: BatchRequestItem['method'], path: string, version: GraphVersion = 'v1.0', body?: unknown, timeoutMs = 120_000): Promise<GraphResponse<T>> {
    const items = (body as { requests?: { method?: string }[] } | undefined)?.requests;
    const read = method === 'GET' || (method === 'POST' && path === '/$batch' && Array.isArray(items) && items.every((r) => r.method === 'GET'));
    for (let attempt = 1; ; attempt++) {
      const last = !read || attempt >= this.readAttempts;
      let wait: number | undefined;
      try {
        const res = await this.requestOnce<T>(method, path, version, body, timeoutMs);
        if (last || !(res.status === 429 || res.status >= 500)) return res;
        wait = retryAfterMs(res.headers['retry-after']);
      } catch (err) {
        // Not worth retrying: a write refused here, no route to Graph, no sign-in.
        if (last || err instanceof ReadOnlyViolation || err instanceof SignInError || isUnreachable(err)) throw err;
      }
      await new Promise((r) => setTimeout(r, wait ?? Math.random() * Math.min(READ_BACKOFF_CAP_MS, 100 * 2 ** attempt)));
    }
  }

  private async requestOnce<T>(method: BatchRequestItem['method'], path: string, version: GraphVersion, body: unknown, timeoutMs: number): Promise<GraphResponse<T>> {
    const absolute = /^https?:\/\//.test(path);
    const req = this.client.api(absolute ? '/' : path).version(version).header('Accept-Language', 'en-US');
    // A hung connection (a pulled cable) must end in an error, not wait forever. The timer is
    // cleared as soon as the answer is in: AbortSignal.timeout would keep a timer and its signal
    // alive for the whole timeout after every request (tens of thousands in a large apply).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException(`no answer from Graph within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    req.option('signal', abort.signal);
    if (absolute) req.header(RAW_URL_HEADER, path);
    const key = String(this.nextKey++);
    req.header(REQUEST_KEY_HEADER, key);
    try {
      let res: Response;
      switch (method) {
        case 'GET':
          res = await req.responseType('raw' as never).get();
          break;
        case 'DELETE':
          res = await req.responseType('raw' as never).delete();
          break;
        case 'POST':
          res = await req.responseType('raw' as never).post(body ?? {});
          break;
        case 'PATCH':
          res = await req.responseType('raw' as never).patch(body ?? {});
          break;
        case 'PUT':
          res = await req.responseType('raw' as never).put(body ?? {});
          break;
      }
      return await toGraphResponse<T>(res);
    } catch (err) {
      // The SDK turns an exception in the middleware chain into a GraphError of status -1 that
      // keeps only its text: throw the original instead of passing it off as a Graph answer.
      if (this.failures.has(key)) throw this.failures.get(key);
      if (err instanceof GraphError) {
        return { status: err.statusCode, headers: headersOf(err.headers), body: (err.body ? safeJson(err.body) : { error: { code: err.code, message: err.message } }) as T };
      }
      throw err;
    } finally {
      this.failures.delete(key);
      clearTimeout(timer);
    }
  }

  /** GET that throws GraphRequestError unless the status is 2xx. */
  async get<T>(path: string, version: GraphVersion = 'v1.0'): Promise<T> {
    const res = await this.request<T>('GET', path, version);
    if (res.status < 200 || res.status >= 300) throw new GraphRequestError('GET', path, res);
    return res.body;
  }

  /** Every item of a collection, following @odata.nextLink whole until there is none. */
  async *pages<T>(path: string, version: GraphVersion = 'v1.0'): AsyncGenerator<T> {
    let next: string | undefined = path;
    while (next) {
      const page: { value?: T[]; '@odata.nextLink'?: string } = await this.get(next, version);
      for (const item of page.value ?? []) yield item;
      next = page['@odata.nextLink'];
    }
  }

  /** One JSON batch of at most 20 requests; the responses in request order (Graph returns any order). */
  async batch(items: BatchRequestItem[], version: GraphVersion = 'v1.0', timeoutMs?: number): Promise<GraphResponse[]> {
    if (items.length > 20) throw new Error(`a $batch holds at most 20 requests, got ${items.length}`);
    const requests = items.map((i) => ({
      id: i.id,
      method: i.method,
      url: i.url,
      ...(i.body !== undefined ? { body: i.body, headers: { 'Content-Type': 'application/json', ...i.headers } } : i.headers ? { headers: i.headers } : {}),
      ...(i.dependsOn?.length ? { dependsOn: i.dependsOn } : {}),
    }));
    const res = await this.request<{ responses?: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[] }>('POST', '/$batch', version, { requests }, timeoutMs);
    if (res.status !== 200 || !Array.isArray(res.body?.responses)) throw new GraphRequestError('POST', '/$batch', res);
    const byId = new Map(res.body.responses.map((r) => [String(r.id).toLowerCase(), r]));
    return items.map((i) => {
      const r = byId.get(i.id.toLowerCase());
      if (!r) return { status: 0, headers: {}, body: { error: { code: 'missingBatchResponse', message: `no response for batch item ${i.id}` } } };
      return { status: r.status, headers: lowerKeys(r.headers ?? {}), body: r.body ?? null };
    });
  }
}

export class GraphRequestError extends UserError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly response: GraphResponse,
  ) {
    const e = (response.body as { error?: { code?: string; message?: string } } | null)?.error;
    super(`${method} ${path.replace(/\?.*$/, '')} failed: ${response.status}${e?.code ? ` ${e.code}` : ''}${e?.message ? `: ${e.message}` : ''}`);
    this.name = 'GraphRequestError';
  }
}

type TokenSource = () => Promise<string>;

function staticToken(token: string): TokenSource {
  return async () => token;
}

/**
 * No access token for Graph: wrong or expired credentials, no sign-in reachable, a consent missing.
 * The message is the identity library's first line (it names the AADSTS code, never the secret).
 */
export class SignInError extends UserError {
  constructor(cause: unknown) {
    const first = (cause === undefined ? '' : cause instanceof Error ? cause.message : String(cause)).split('\n')[0]!.trim();
    super(`cannot sign in to Microsoft Graph: ${first || 'the credential gave no access token'}`, 1, { cause });
    this.name = 'SignInError';
  }
}

/** Access tokens from the credential, reused until five minutes before they expire. */
function tokenFrom(credential: TokenCredential): TokenSource {
  let cached: { token: string; expires: number } | undefined;
  return async () => {
    if (cached && cached.expires - Date.now() > 5 * 60_000) return cached.token;
    let t: Awaited<ReturnType<TokenCredential['getToken']>>;
    try {
      t = await credential.getToken(GRAPH_SCOPE);
    } catch (err) {
      throw new SignInError(err);
    }
    if (!t) throw new SignInError(undefined);
    cached = { token: t.token, expires: t.expiresOnTimestamp };
    return t.token;
  };
}

abstract class Link implements Middleware {
  protected next?: Middleware;
  setNext(next: Middleware): void {
    this.next = next;
  }
  abstract execute(context: Context): Promise<void>;
}

/**
 * First in the chain. Sends an absolute URL (a nextLink) exactly as Graph gave it: the SDK would
 * re-encode it. Keeps what any later link threw, by request key, for request() to rethrow.
 */
class RawUrlMiddleware extends Link {
  constructor(private readonly failures: Map<string, unknown>) {
    super();
  }
  async execute(context: Context): Promise<void> {
    const headers = context.options?.headers as Record<string, string> | undefined;
    const raw = headers?.[RAW_URL_HEADER];
    if (raw !== undefined) {
      delete headers![RAW_URL_HEADER];
      context.request = raw;
    }
    const key = headers?.[REQUEST_KEY_HEADER];
    if (key !== undefined) delete headers![REQUEST_KEY_HEADER];
    try {
      return await this.next!.execute(context);
    } catch (err) {
      if (key !== undefined) this.failures.set(key, err);
      throw err;
    }
  }
}

/** Last in the chain when a fetch function was given (an in-process emulator): sends through it. */
class FetchHandler extends Link {
  constructor(private readonly fetchImpl: typeof fetch) {
    super();
  }
  async execute(context: Context): Promise<void> {
    context.response = await this.fetchImpl(context.request, context.options);
  }
}

class BearerMiddleware extends Link {
  constructor(private readonly token: TokenSource) {
    super();
  }
  async execute(context: Context): Promise<void> {
    const options = (context.options ??= {});
    const headers = (options.headers ??= {}) as Record<string, string>;
    headers.Authorization = `Bearer ${await this.token()}`;
    return this.next!.execute(context);
  }
}

/**
 * Nothing listens at the address, or the name does not resolve: a wrong --graph-url or a stopped
 * emulator, not a passing fault, so it is reported at once rather than retried. A reset, a
 * timeout or an unreachable network (a pulled cable) is retried.
 */
export function isUnreachable(err: unknown): boolean {
  const code = ((err as { cause?: { code?: string } } | null)?.cause?.code ?? (err as { code?: string } | null)?.code) as string | undefined;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND';
}

/** GET, or a $batch whose requests are all GET. */
export function isReadOnlyRequest(url: string, method: string | undefined, body: unknown): boolean {
  const m = (method ?? 'GET').toUpperCase();
  if (m === 'GET') return true;
  if (m !== 'POST' || !/\/\$batch(\?|$)/.test(url)) return false;
  const items = (safeJson(String(body ?? '')) as { requests?: { method?: string }[] } | undefined)?.requests;
  return Array.isArray(items) && items.every((r) => (r.method ?? '').toUpperCase() === 'GET');
}

class ReadOnlyGuard extends Link {
  async execute(context: Context): Promise<void> {
    const method = (context.options?.method ?? 'GET').toUpperCase();
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    if (!isReadOnlyRequest(url, method, context.options?.body)) {
      throw new ReadOnlyViolation(/\/\$batch(\?|$)/.test(url) ? 'a $batch holding a write' : `${method} ${new URL(url).pathname}`);
    }
    return this.next!.execute(context);
  }
}

async function toGraphResponse<T>(res: Response): Promise<GraphResponse<T>> {
  const text = await res.text();
  return { status: res.status, headers: headersOf(res.headers), body: (text ? safeJson(text) : null) as T };
}

function headersOf(h: Headers | Record<string, string> | undefined): Record<string, string> {
  if (!h) return {};
  if (typeof (h as Headers).forEach === 'function') {
    const out: Record<string, string> = {};
    (h as Headers).forEach((v, k) => (out[k.toLowerCase()] = v));
    return out;
  }
  return lowerKeys(h as Record<string, string>);
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

/** Retry-After in ms: seconds (integer or decimal, as the emulator sends when time-scaled) or an HTTP date. */
export function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
