import { Emulator } from './emulator.js';
import { HttpExchange, MAX_BODY_BYTES } from './http-exchange.js';
import { resolveOptions, type EmulatorOptions } from './options.js';
import type { RequestLogEntry } from './request-log.js';
import { snapshotState } from './snapshot.js';
import type { EmulatorState } from './state.js';

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
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const signal = init?.signal ?? request.signal;
    signal?.throwIfAborted();
    const url = new URL(request.url);
    const bytes = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((v, k) => (headers[k] = v));
    const out = await exchange.handle({
      method: request.method,
      url: `${url.pathname}${url.search}`,
      headers,
      body: bytes && bytes.length > MAX_BODY_BYTES ? null : bytes,
    });
    signal?.throwIfAborted();
    const empty = out.status === 204 || out.status === 304;
    return new Response(empty ? null : (out.body ?? null), { status: out.status, headers: out.headers });
  };
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
