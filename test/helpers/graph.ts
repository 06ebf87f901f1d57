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
  };
}
