import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { BatchScheduler, retryAfterMs } from '../../src/graph/batch-scheduler.js';
import { GraphConnection, ReadOnlyViolation } from '../../src/graph/graph-connection.js';

const TENANT = '7a1b2c3d-0000-4000-8000-000000000001';
const tenantOf = (n: number) => ({
  tenant: { id: TENANT, size: 'S' },
  users: Array.from({ length: n }, (_, i) => ({ userPrincipalName: `u${i}@example.com`, displayName: `User ${i}` })),
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const operations = (emu: RunningEmulator) => emu.requests().flatMap((e) => e.items ?? [e]);

describe('BatchScheduler over HTTP', () => {
  let emu: RunningEmulator | undefined;
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
  });

  it('waits out Retry-After when Graph throttles, and every read is answered in the end', async () => {
    // 100 RU per 0.5 s window: 300 reads need three windows.
    emu = await startEmulator({ port: 0, tenant: tenantOf(300), throttle: 'S', throttleLimits: { resourceUnits: 100 }, timeScale: 20 });
    const scheduler = new BatchScheduler(new GraphConnection({ graphUrl: emu.url, readOnly: true }), { version: 'v1.0', concurrency: 4 });
    const responses = await Promise.all(Array.from({ length: 300 }, (_, i) => scheduler.send({ method: 'GET', url: `/users/u${i}@example.com?$select=id,userPrincipalName` })));
    expect(responses.map((r) => r.status)).toEqual(Array(300).fill(200));
    expect(responses.map((r) => (r.body as { userPrincipalName: string }).userPrincipalName)).toEqual(Array.from({ length: 300 }, (_, i) => `u${i}@example.com`));

    const ops = operations(emu);
    const refused = ops.filter((o) => o.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(scheduler.stats).toMatchObject({ requests: 300, throttled: refused.length });
    expect(ops.filter((o) => o.status === 200)).toHaveLength(300);
    // Early retries would be refused again and again; this scheduler waits, so a request is
    // refused twice at most (once by the budget, once more if a fresh window fills before it).
    const perPath = new Map<string, number>();
    for (const r of refused) perPath.set(r.path, (perPath.get(r.path) ?? 0) + 1);
    expect(Math.max(...perPath.values())).toBeLessThanOrEqual(2);
  });

  it('sends requests queued together in full batches of 20', async () => {
    emu = await startEmulator({ port: 0, tenant: tenantOf(45), throttle: 'off' });
    const scheduler = new BatchScheduler(new GraphConnection({ graphUrl: emu.url, readOnly: true }), { version: 'v1.0', concurrency: 4 });
    const responses = await Promise.all(Array.from({ length: 45 }, (_, i) => scheduler.send({ method: 'GET', url: `/users/u${i}@example.com?$select=id` })));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(emu.requests().map((e) => e.items?.length)).toEqual([20, 20, 5]);
    expect(scheduler.stats.batches).toBe(3);
  });

  it('retries 5xx answers with backoff until they succeed', async () => {
    emu = await startEmulator({ port: 0, tenant: tenantOf(100), throttle: 'off', faultRate: 0.25, seed: 7 });
    const scheduler = new BatchScheduler(new GraphConnection({ graphUrl: emu.url, readOnly: true }), { version: 'v1.0', concurrency: 4, maxBackoffMs: 20 });
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => scheduler.send({ method: 'GET', url: `/users/u${i}@example.com?$select=id` })));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const faults = operations(emu).filter((o) => o.status >= 500);
    expect(faults.length).toBeGreaterThan(5);
    expect(scheduler.stats.retried).toBe(faults.length);
  });

  it('never retries a write refused by a read-only connection, and sends nothing', async () => {
    emu = await startEmulator({ port: 0, tenant: tenantOf(1), throttle: 'off' });
    const scheduler = new BatchScheduler(new GraphConnection({ graphUrl: emu.url, readOnly: true }), { version: 'v1.0', concurrency: 2 });
    const write = scheduler.send({ method: 'PATCH', url: '/users/u0@example.com', body: { displayName: 'x' } });
    await expect(write).rejects.toBeInstanceOf(ReadOnlyViolation);
    expect(scheduler.stats.retried).toBe(0);
    expect(emu.requests()).toEqual([]);
    // The scheduler goes on with reads.
    expect((await scheduler.send({ method: 'GET', url: '/users/u0@example.com' })).status).toBe(200);
    expect(operations(emu).map((o) => o.method)).toEqual(['GET']);
  });

  it('throws the network error (not a fake status) at once when nothing listens at the Graph address', async () => {
    const port = await closedPort();
    const conn = new GraphConnection({ graphUrl: `http://127.0.0.1:${port}`, readOnly: true });
    const started = Date.now();
    const direct = await conn.request('GET', '/organization').catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(TypeError);
    expect(((direct as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    const scheduler = new BatchScheduler(conn, { version: 'v1.0', concurrency: 2 });
    const failed = await scheduler.send({ method: 'GET', url: '/users/u@example.com' }).catch((e: unknown) => e);
    expect(((failed as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect(scheduler.stats.retried).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('retries connections cut off mid-request, and cancel() stops the retries at once', async () => {
    // A server that accepts and drops every connection: a passing network failure.
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const conn = new GraphConnection({ graphUrl: `http://127.0.0.1:${port}`, readOnly: true, readAttempts: 1 });
      // Backoff of up to a minute per retry: only cancel() can end these quickly.
      const scheduler = new BatchScheduler(conn, { version: 'v1.0', concurrency: 2, maxBackoffMs: 60_000 });
      const pending = Array.from({ length: 30 }, (_, i) => scheduler.send({ method: 'GET', url: `/users/u${i}@example.com` }).catch((e: unknown) => e));
      await new Promise((r) => setTimeout(r, 300));
      expect(scheduler.stats.retried).toBeGreaterThan(0);
      const reason = new Error('the plan failed');
      scheduler.cancel(reason);
      expect(await Promise.all(pending)).toEqual(Array(30).fill(reason));
      await expect(scheduler.send({ method: 'GET', url: '/users' })).rejects.toBe(reason);
    } finally {
      server.close();
    }
  });

  it('reads Retry-After as seconds (whole or fractional) or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('0.125')).toBe(125);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    const date = retryAfterMs(new Date(Date.now() + 5000).toUTCString())!;
    expect(date).toBeGreaterThan(3000);
    expect(date).toBeLessThanOrEqual(5000);
  });
});
