import { createInProcessEmulator, type EmulatorOptions, type InProcessEmulator } from '../../src/emulator/index.js';
import { connectGraph } from '../../src/graph/connect.js';
import type { GraphClient } from '../../src/graph/graph-client.js';
import type { RetryPolicyOptions } from '../../src/graph/retry-policy.js';

/** An in-process emulator (no socket) and Graph clients on it: the fake Graph of in-process tests. */
export interface FakeGraph {
  emu: InProcessEmulator;
  client(opts?: { readOnly?: boolean; concurrency?: number; retry?: RetryPolicyOptions; timeoutMs?: number }): GraphClient;
  /** Every Graph operation the emulator executed: direct requests and $batch items. */
  operations(): { method: string; path: string; status: number }[];
  /** Raw HTTP on the emulator (an admin in the portal, a test's own set-up). */
  raw: RawGraph;
}

export interface RawReply {
  status: number;
  // Test code reads whatever JSON Graph returned.
  body: any;
}

export interface RawGraph {
  call(method: string, path: string, body?: unknown): Promise<RawReply>;
  get(path: string): Promise<RawReply>;
  post(path: string, body?: unknown): Promise<RawReply>;
  patch(path: string, body: unknown): Promise<RawReply>;
  delete(path: string): Promise<RawReply>;
}

function rawGraph(emu: InProcessEmulator): RawGraph {
  const call = async (method: string, path: string, body?: unknown): Promise<RawReply> => {
    const res = await emu.fetch(`${emu.url}${path}`, {
      method,
      headers: { Authorization: 'Bearer test-token', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return { call, get: (p) => call('GET', p), post: (p, b) => call('POST', p, b), patch: (p, b) => call('PATCH', p, b), delete: (p) => call('DELETE', p) };
}

/**
 * An admin clears a user's default method where Graph cannot (its PATCH of signInPreferences takes only
 * a method, and the emulator refuses null as Graph documents no other value): in the emulator's state.
 */
export function clearDefaultMethod(emu: InProcessEmulator, user: string): void {
  const found = emu.state.findUser(user);
  if (!found) throw new Error(`no user ${user} in the emulator`);
  found.signInPreferences.userPreferredMethodForSecondaryAuthentication = null;
}

export function fakeGraph(options: EmulatorOptions = {}): FakeGraph {
  const emu = createInProcessEmulator({ throttle: 'off', ...options });
  return {
    emu,
    client: (o = {}) =>
      connectGraph({
        graphUrl: emu.url,
        fetch: emu.fetch,
        readOnly: o.readOnly ?? false,
        concurrency: o.concurrency ?? 4,
        ...(o.retry ? { retry: o.retry } : {}),
        ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
      }),
    operations: () => emu.requests().flatMap((e) => (e.items ?? [e]) as { method: string; path: string; status: number }[]),
    raw: rawGraph(emu),
  };
}
