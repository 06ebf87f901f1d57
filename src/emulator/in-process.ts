import { Emulator } from './emulator.js';
import { HttpExchange, MAX_BODY_BYTES } from './http-exchange.js';
import { resolveOptions, type EmulatorOptions } from './options.js';
import type { RequestLogEntry } from './request-log.js';
import { snapshotState } from './snapshot.js';
import type { EmulatorState } from './state.js';
import { PLAIN_ANSWER, PlainAnswer, type PlainAnswering } from '../model/plain-answer.js';

/**
 * The Graph root an in-process emulator answers for. Port 0 is never listened on, so a client that
 * was not given the emulator's fetch fails at once instead of reaching anything real.
 */
export const IN_PROCESS_URL = 'http://127.0.0.1:0';

/** The emulator without a socket: the same Graph (rules, throttling, faults, log) behind a fetch function. */
export interface InProcessEmulator {
  url: string;
  /** Graph over this emulator: pass it to the Graph client instead of the global fetch. */
  fetch: typeof fetch;
  readonly state: EmulatorState;
  snapshot(): Record<string, unknown>;
  requests(): RequestLogEntry[];
  clearRequests(): void;
  reset(tenant?: Record<string, unknown>): void;
}

export function createInProcessEmulator(options: EmulatorOptions = {}): InProcessEmulator {
  const emulator = new Emulator(resolveOptions(options));
  emulator.baseUrl = IN_PROCESS_URL;
  const exchange = new HttpExchange(emulator);
  /** The answer as the Response would carry it: its status, headers and body (null when it has none). */
  const answer = async (input: string | URL | Request, init?: RequestInit): Promise<{ status: number; headers: Record<string, string>; body: string | null }> => {
    let req = plainRequest(input, init);
    if (!req) {
      const request = input instanceof Request ? input : new Request(input, init);
      const headers: Record<string, string> = {};
      request.headers.forEach((v, k) => (headers[k] = v));
      req = { url: new URL(request.url), method: request.method, headers, signal: init?.signal ?? request.signal, body: request.body ? Buffer.from(await request.arrayBuffer()) : undefined };
    }
    const { url, signal, body: bytes } = req;
    signal?.throwIfAborted();
    const out = await exchange.handle({
      method: req.method,
      url: `${url.pathname}${url.search}`,
      headers: req.headers,
      body: bytes && bytes.length > MAX_BODY_BYTES ? null : bytes,
    });
    signal?.throwIfAborted();
    const empty = out.status === 204 || out.status === 304;
    return { status: out.status, headers: out.headers, body: empty ? null : (out.body ?? null) };
  };
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const { status, headers, body } = await answer(input, init);
    return new Response(body, { status, headers });
  };
  // The Graph client's way in (model/plain-answer.ts): the same answer, without a Response.
  const plain: PlainAnswering = async (input, init) => {
    const { status, headers, body } = await answer(input, init);
    return new PlainAnswer(status, new Headers(headers), body ?? '');
  };
  Object.assign(fetchImpl, { [PLAIN_ANSWER]: plain });
  return {
    url: IN_PROCESS_URL,
    fetch: fetchImpl as typeof fetch,
    get state() {
      return emulator.state;
    },
    snapshot: () => snapshotState(emulator.state),
    requests: () => emulator.log.entries(),
    clearRequests: () => emulator.log.clear(),
    reset: (tenant) => emulator.reset(tenant),
  };
}

interface PlainRequest {
  url: URL;
  method: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  signal: AbortSignal | null | undefined;
  body: Buffer | undefined;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const METHODS = new Set(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']);
/** Characters a header value may not hold (Headers refuses them). */
const BAD_VALUE = /[\0\r\n]/;
/** HTTP white space around a value, which Headers strips. */
const EDGE_SPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

/**
 * What `new Request(input, init)` would give the emulator, read straight from the common call (a URL,
 * a text or no body, headers as a plain object: the Graph client's, and tests'), without building a
 * Request and reading its body back as a stream, a good part of each in-process request's CPU. Anything
 * else (a Request, a Headers object, a binary body, a method or header Request would refuse or
 * change) is undefined, and goes through Request as before.
 */
function plainRequest(input: string | URL | Request, init: RequestInit | undefined): PlainRequest | undefined {
  if (typeof input !== 'string' && !(input instanceof URL)) return undefined;
  const body = init?.body;
  if (body !== undefined && body !== null && typeof body !== 'string') return undefined;
  const method = (init?.method ?? 'GET').toUpperCase();
  if (!METHODS.has(method) || (method === 'GET' && typeof body === 'string')) return undefined;
  const given = init?.headers;
  if (given !== undefined && (Object.getPrototypeOf(given) !== Object.prototype || Array.isArray(given))) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries((given ?? {}) as Record<string, unknown>)) {
    if (!TOKEN.test(name) || typeof value !== 'string' || BAD_VALUE.test(value)) return undefined;
    const key = name.toLowerCase();
    const v = value.replace(EDGE_SPACE, '');
    headers[key] = key in headers ? `${headers[key]}, ${v}` : v;
  }
  // A text body without a type is sent as Request sends it.
  if (typeof body === 'string' && !('content-type' in headers)) headers['content-type'] = 'text/plain;charset=UTF-8';
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return undefined;
  }
  if (url.username !== '' || url.password !== '') return undefined;
  return { url, method, headers, signal: init?.signal, body: typeof body === 'string' ? Buffer.from(body, 'utf8') : undefined };
}
