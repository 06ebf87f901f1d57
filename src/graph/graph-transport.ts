import { Client, GraphError, HTTPMessageHandler, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import type { GraphCall, GraphResponse, GraphVersion, HttpMethod } from './graph-call.js';
import { ForeignNextLinkError, ReadOnlyViolation } from './graph-errors.js';
import { bodyForRoot, GRAPH_CLOUD_HOSTS, isLoopback } from './graph-root.js';
import type { TokenSource } from './access-token.js';
import { PlainAnswer, plainAnsweringOf, type PlainAnswering } from '../model/plain-answer.js';

export interface TransportOptions {
  /** Graph root, e.g. https://graph.microsoft.com or the emulator's http://127.0.0.1:PORT (parseGraphRoot's). */
  root: string;
  tokens: TokenSource;
  /** Refuse every request that could write: GET only, and $batch whose items are all GET. */
  readOnly: boolean;
  /** Sends the HTTP requests instead of the global fetch (an in-process emulator). */
  fetch?: typeof fetch;
}

/** Header carrying an absolute URL (a nextLink) to send as it is; see RawUrlLink. */
const RAW_URL_HEADER = 'x-mfa-migrate-raw-url';
/** Header naming the request, so a failure without an HTTP answer can be thrown as it was; see RawUrlLink. */
const REQUEST_KEY_HEADER = 'x-mfa-migrate-request-key';

/**
 * Sends one request to Graph and returns its answer, once: no retry (that is RetryPolicy's, for
 * every caller alike). Built on @microsoft/microsoft-graph-client with a middleware chain of our
 * own: a read-only guard and fetch; the bearer token, from a TokenSource, is set on each request
 * (the SDK's own handler drops Authorization for hosts it does not know, such as the local
 * emulator), and which one each answer came to is kept, for renewToken(). Graph errors come back as
 * answers; what got no answer (refused write, network, timeout, no sign-in) is thrown.
 */
export class GraphTransport {
  readonly root: string;
  readonly readOnly: boolean;
  private readonly client: Client;
  /** Failures without an HTTP answer, by request key, until send() rethrows them. */
  private readonly failures = new Map<string, unknown>();
  private nextKey = 0;
  private readonly tokens: TokenSource;
  /** The access token each answer was sent with, and whether it was on trial then (weakly: answers are not kept for it). */
  private readonly sentWith = new WeakMap<GraphResponse, { token: string; onTrial: boolean }>();
  /** Tokens Graph refused (401). */
  private readonly refusedTokens = new Set<string>();
  /** New tokens, fetched after Graph refused the one before, until Graph answers a request sent with one otherwise than 401. */
  private readonly onTrial = new Set<string>();
  /** A token was refused: the next other token handed out is on trial. */
  private renewalDue = false;

  constructor(opts: TransportOptions) {
    this.root = opts.root;
    this.readOnly = opts.readOnly;
    this.tokens = opts.tokens;
    const chain: Middleware[] = [
      new RawUrlLink(this.failures),
      ...(opts.readOnly ? [new ReadOnlyLink()] : []),
      opts.fetch ? new FetchLink(opts.fetch) : new HTTPMessageHandler(),
    ];
    for (let i = 0; i < chain.length - 1; i++) chain[i]!.setNext?.(chain[i + 1]!);
    this.client = Client.initWithMiddleware({ middleware: chain[0]!, baseUrl: `${this.root}/`, defaultVersion: 'v1.0' });
  }

  /**
   * Graph refused the access token `answer` was sent with (401; for a `$batch` item, its envelope):
   * the token source drops it, unless it has already been replaced.
   */
  renewToken(answer: GraphResponse): void {
    const sent = this.sentWith.get(answer);
    if (sent === undefined) return;
    if (!this.refusedTokens.has(sent.token)) {
      this.refusedTokens.add(sent.token);
      this.onTrial.delete(sent.token);
      this.renewalDue = true;
    }
    this.tokens.refused?.(sent.token);
  }

  /**
   * `answer` came to a token fetched after Graph had refused another, which Graph had answered no
   * request with before (otherwise than 401), or to a token Graph had refused already: a 401 for it
   * is not the old token's, and a new token would fare no better.
   */
  sentWithNewToken(answer: GraphResponse): boolean {
    return this.sentWith.get(answer)?.onTrial === true;
  }

  /** One send of a call. A hung connection ends in a TimeoutError after `timeoutMs`. */
  send<T = unknown>(call: GraphCall, timeoutMs: number): Promise<GraphResponse<T>> {
    return this.sendRaw<T>(call.method, call.path, call.version, bodyForRoot(call.body, this.root), timeoutMs, call.headers);
  }

  /**
   * GET of an absolute URL Graph gave (an @odata.nextLink), sent exactly as given, with the access
   * token: so only to the Graph root's own scheme, host and port, or (behind a proxy root, whose
   * pages Graph still names by its own host) to a Microsoft Graph cloud over https. A page naming
   * anything else (a tampered answer) would have the token sent wherever it says.
   */
  sendUrl<T = unknown>(url: string, version: GraphVersion, timeoutMs: number, headers?: Readonly<Record<string, string>>): Promise<GraphResponse<T>> {
    let target: URL | undefined;
    try {
      target = new URL(url);
    } catch {
      target = undefined;
    }
    const root = new URL(this.root);
    const graphCloud = target?.protocol === 'https:' && target.port === '' && GRAPH_CLOUD_HOSTS.includes(target.hostname.toLowerCase());
    // The local emulator names its pages by the address it listens on (localhost, 0.0.0.0), which
    // may not be the loopback address the root was given as: its own port on loopback is it.
    const sameEmulator = target !== undefined && isLoopback(this.root) && (isLoopback(target.origin) || target.hostname === '0.0.0.0') && target.port === root.port && target.protocol === root.protocol;
    const origin = target?.origin;
    if (origin !== root.origin && !graphCloud && !sameEmulator) {
      return Promise.reject(new ForeignNextLinkError(this.root, origin ?? url.slice(0, 80)));
    }
    return this.sendRaw<T>('GET', url, version, undefined, timeoutMs, headers);
  }

  private async sendRaw<T>(method: HttpMethod, path: string, version: GraphVersion, body: unknown, timeoutMs: number, headers?: Readonly<Record<string, string>>): Promise<GraphResponse<T>> {
    const absolute = /^https?:\/\//.test(path);
    // Before the timer: a sign-in (a device code the admin types) is not the request's time.
    const token = await this.tokens.token();
    if (this.renewalDue && !this.refusedTokens.has(token)) {
      this.onTrial.add(token);
      this.renewalDue = false;
    }
    const onTrial = this.onTrial.has(token) || this.refusedTokens.has(token);
    const req = this.client.api(absolute ? '/' : path).version(version).header('Accept-Language', 'en-US').header('Authorization', `Bearer ${token}`);
    for (const [name, value] of Object.entries(headers ?? {})) req.header(name, value);
    // The timer is cleared as soon as the answer is in: AbortSignal.timeout would keep a timer and
    // its signal alive for the whole timeout after every request (tens of thousands in a large apply).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException(`no answer from Graph within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    req.option('signal', abort.signal);
    if (absolute) req.header(RAW_URL_HEADER, path);
    const key = String(this.nextKey++);
    req.header(REQUEST_KEY_HEADER, key);
    try {
      const raw = req.responseType('raw' as never);
      let res: Response;
      switch (method) {
        case 'GET':
          res = await raw.get();
          break;
        case 'DELETE':
          res = await raw.delete();
          break;
        case 'POST':
          res = await raw.post(body ?? {});
          break;
        case 'PATCH':
          res = await raw.patch(body ?? {});
          break;
        case 'PUT':
          res = await raw.put(body ?? {});
          break;
      }
      return this.sent(await toGraphResponse<T>(res), token, onTrial);
    } catch (err) {
      // The SDK turns an exception in the middleware chain into a GraphError of status -1 that
      // keeps only its text: throw the original instead of passing it off as a Graph answer.
      if (this.failures.has(key)) throw this.failures.get(key);
      if (err instanceof GraphError) {
        return this.sent({ status: err.statusCode, headers: headersOf(err.headers), body: (err.body ? safeJson(err.body) : { error: { code: err.code, message: err.message } }) as T }, token, onTrial);
      }
      throw err;
    } finally {
      this.failures.delete(key);
      clearTimeout(timer);
    }
  }

  private sent<T>(answer: GraphResponse<T>, token: string, onTrial: boolean): GraphResponse<T> {
    this.sentWith.set(answer, { token, onTrial });
    if (answer.status !== 401) this.onTrial.delete(token);
    return answer;
  }
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
 * re-encode it. Keeps what any later link threw, by request key, for send() to rethrow.
 */
class RawUrlLink extends Link {
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

/** GET, or a $batch whose requests are all GET. */
export function isReadOnlyRequest(url: string, method: string | undefined, body: unknown): boolean {
  const m = (method ?? 'GET').toUpperCase();
  if (m === 'GET') return true;
  if (m !== 'POST' || !/\/\$batch(\?|$)/.test(url)) return false;
  const items = (safeJson(String(body ?? '')) as { requests?: { method?: string }[] } | undefined)?.requests;
  return Array.isArray(items) && items.every((r) => (r.method ?? '').toUpperCase() === 'GET');
}

class ReadOnlyLink extends Link {
  async execute(context: Context): Promise<void> {
    const method = (context.options?.method ?? 'GET').toUpperCase();
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    if (!isReadOnlyRequest(url, method, context.options?.body)) {
      throw new ReadOnlyViolation(/\/\$batch(\?|$)/.test(url) ? 'a $batch holding a write' : `${method} ${new URL(url).pathname}`);
    }
    return this.next!.execute(context);
  }
}

/** Last in the chain when a fetch function was given (an in-process emulator): sends through it. */
class FetchLink extends Link {
  /** The fetch function's plain answering, when it carries one: looked up once, not per request. */
  private readonly plain: PlainAnswering | undefined;
  constructor(private readonly fetchImpl: typeof fetch) {
    super();
    this.plain = plainAnsweringOf(fetchImpl);
  }
  async execute(context: Context): Promise<void> {
    // The SDK hands a raw answer back untouched (responseType raw) and toGraphResponse alone reads it.
    context.response = this.plain ? ((await this.plain(context.request, context.options)) as unknown as Response) : await this.fetchImpl(context.request, context.options);
  }
}

async function toGraphResponse<T>(res: Response | PlainAnswer): Promise<GraphResponse<T>> {
  const text = res instanceof PlainAnswer ? res.text : await res.text();
  return { status: res.status, headers: headersOf(res.headers), body: (text ? safeJson(text) : null) as T };
}

export function headersOf(h: Headers | Record<string, string> | undefined): Record<string, string> {
  if (!h) return {};
  if (typeof (h as Headers).forEach === 'function') {
    const out: Record<string, string> = {};
    (h as Headers).forEach((v, k) => (out[k.toLowerCase()] = v));
    return out;
  }
  return lowerKeys(h as Record<string, string>);
}

export function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
