import { createInProcessEmulator, startEmulator, type EmulatorOptions, type InProcessEmulator, type RunningEmulator } from '../../src/emulator/index.js';

export interface Reply {
  status: number;
  headers: Headers;
  // Test code reads whatever JSON Graph returned.
  body: any;
}

/** A tiny Graph client over real HTTP (fetch), as the tool's own Graph layer will talk to the emulator. */
export class GraphClient {
  constructor(
    readonly baseUrl: string,
    /** null: send no Authorization header. */
    readonly token: string | null = 'test-token',
    /** The transport: the global fetch (real HTTP), or an in-process emulator's. */
    readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** The same client with another bearer token (null: none). */
  as(token: string | null): GraphClient {
    return new GraphClient(this.baseUrl, token, this.fetchImpl);
  }

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const url = path.startsWith('http') ? path : `${this.baseUrl}${path}`;
    const res = await this.fetchImpl(url, {
      method,
      headers: {
        ...(this.token !== null ? { Authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  get(path: string, headers?: Record<string, string>): Promise<Reply> {
    return this.call('GET', path, undefined, headers);
  }
  post(path: string, body?: unknown): Promise<Reply> {
    return this.call('POST', path, body);
  }
  patch(path: string, body: unknown): Promise<Reply> {
    return this.call('PATCH', path, body);
  }
  delete(path: string): Promise<Reply> {
    return this.call('DELETE', path);
  }
}

/** Starts an emulator on port 0; throttling is off unless a test asks for it. */
export async function start(options: EmulatorOptions = {}): Promise<{ emu: RunningEmulator; graph: GraphClient }> {
  const emu = await startEmulator({ throttle: 'off', ...options });
  return { emu, graph: new GraphClient(emu.url) };
}

/** An emulator with no socket: the client's requests go through its fetch. Throttling is off unless asked for. */
export function inProcess(options: EmulatorOptions = {}): { emu: InProcessEmulator; graph: GraphClient } {
  const emu = createInProcessEmulator({ throttle: 'off', ...options });
  return { emu, graph: new GraphClient(emu.url, 'test-token', emu.fetch) };
}

export const ALICE = 'alice@contoso.com';

/** A minimal valid tenant document with `n` users u0..u{n-1}@example.com. */
export function tenantWithUsers(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenant: { id: '11111111-2222-3333-4444-555555555555', size: 'S' },
    users: Array.from({ length: n }, (_, i) => ({ userPrincipalName: `u${i}@example.com`, displayName: `User ${i}` })),
    ...extra,
  };
}

export function expectGraphError(reply: Reply, status: number, code: string): void {
  if (reply.status !== status || reply.body?.error?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${reply.status} ${JSON.stringify(reply.body).slice(0, 500)}`);
  }
  const inner = reply.body.error.innerError;
  if (typeof reply.body.error.message !== 'string' || !inner?.['request-id'] || !inner?.date || !inner?.['client-request-id']) {
    throw new Error(`not Graph's error shape: ${JSON.stringify(reply.body)}`);
  }
}

/** A call to the emulator's own /_emulator endpoints (no token needed unless the emulator has --token). */
export async function introspect(emu: { url: string; fetch?: typeof fetch }, path: string, init: RequestInit = {}): Promise<Reply> {
  const res = await (emu.fetch ?? fetch)(`${emu.url}/_emulator/${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}
