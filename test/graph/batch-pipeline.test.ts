import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectGraph } from '../../src/graph/connect.js';
import type { GraphCall } from '../../src/graph/graph-call.js';
import { deactivateToken, unassignToken } from '../../src/graph/calls/hardware-oath.js';
import { fakeGraph } from '../helpers/graph.js';

const TENANT = '7a1b2c3d-0000-4000-8000-000000000001';
const tenantOf = (n: number) => ({
  tenant: { id: TENANT, size: 'S' },
  users: Array.from({ length: n }, (_, i) => ({ userPrincipalName: `u${i}@example.com`, displayName: `User ${i}` })),
});
const getUser = (i: number): GraphCall => ({ method: 'GET', version: 'v1.0', path: `/users/u${i}@example.com?$select=id,userPrincipalName` });

describe('BatchPipeline: reads', () => {
  it('waits out Retry-After when Graph throttles, and every read is answered in the end', async () => {
    // 100 RU per 0.5 s window: 300 reads need three windows.
    const g = fakeGraph({ tenant: tenantOf(300), throttle: 'S', throttleLimits: { resourceUnits: 100 }, timeScale: 20 });
    const client = g.client({ readOnly: true });
    const responses = await Promise.all(Array.from({ length: 300 }, (_, i) => client.read(getUser(i))));
    expect(responses.map((r) => r.status)).toEqual(Array(300).fill(200));
    expect(responses.map((r) => (r.body as { userPrincipalName: string }).userPrincipalName)).toEqual(Array.from({ length: 300 }, (_, i) => `u${i}@example.com`));
    const refused = g.operations().filter((o) => o.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(g.operations().filter((o) => o.status === 200)).toHaveLength(300);
    // Early retries would be refused again and again; the pipeline waits, so a request is refused
    // twice at most (once by the budget, once more if a fresh window fills before it).
    const perPath = new Map<string, number>();
    for (const r of refused) perPath.set(r.path, (perPath.get(r.path) ?? 0) + 1);
    expect(Math.max(...perPath.values())).toBeLessThanOrEqual(2);
  });

  it('sends requests queued together in full batches of 20, one version to a batch', async () => {
    const g = fakeGraph({ tenant: tenantOf(45) });
    const client = g.client({ readOnly: true });
    const reads = [...Array.from({ length: 45 }, (_, i) => client.read(getUser(i))), client.read({ method: 'GET', version: 'beta', path: '/users/u1@example.com/authentication/methods' })];
    expect((await Promise.all(reads)).every((r) => r.status === 200)).toBe(true);
    expect(g.emu.requests().map((e) => [e.path, e.items?.length])).toEqual([
      ['/v1.0/$batch', 20],
      ['/beta/$batch', 1],
      ['/v1.0/$batch', 20],
      ['/v1.0/$batch', 5],
    ]);
  });

  it('retries 5xx answers with backoff until they succeed', async () => {
    const g = fakeGraph({ tenant: tenantOf(100), faultRate: 0.25, seed: 7 });
    const client = g.client({ readOnly: true, retry: { capMs: 20 } });
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => client.read(getUser(i))));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(g.operations().filter((o) => o.status >= 500).length).toBeGreaterThan(5);
  });

  it('sends a write that takes no body with an empty one and its Content-Type, as Graph requires in a batch; a DELETE with neither (a review: Graph refuses the whole batch otherwise)', async () => {
    const g = fakeGraph({ tenant: tenantOf(1) });
    const client = g.client();
    const answers = await Promise.all([client.write(deactivateToken('u0@example.com', 'nope')), client.write(unassignToken('u0@example.com', 'nope'))]);
    expect(answers.map((r) => (r.kind === 'answer' ? r.response.status : r.kind))).toEqual([404, 404]);
    const items = g.emu.requests().flatMap((r) => r.items ?? []);
    expect(items.map((i) => [i.method, i.body])).toEqual([
      ['POST', {}],
      ['DELETE', null],
    ]);
  });

  it('never sends a write through a read-only client, and goes on with reads', async () => {
    const g = fakeGraph({ tenant: tenantOf(1) });
    const client = g.client({ readOnly: true });
    await expect(client.read({ method: 'PATCH', version: 'v1.0', path: '/users/u0@example.com', body: { displayName: 'x' } })).rejects.toThrow(/refused to send a \$batch holding a write/);
    expect(g.emu.requests()).toEqual([]);
    expect((await client.read(getUser(0))).status).toBe(200);
    expect(g.operations().map((o) => o.method)).toEqual(['GET']);
  });

  it('reports an address nobody listens at at once, not after retries', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const client = connectGraph({ graphUrl: `http://127.0.0.1:${port}`, readOnly: true, concurrency: 2 });
    const started = Date.now();
    await expect(client.read(getUser(0))).rejects.toThrow(`cannot reach Graph at http://127.0.0.1:${port}`);
    await expect(client.request(getUser(0))).rejects.toThrow(/cannot reach Graph/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('retries connections cut off mid-request, and cancelReads() stops the retries at once', async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      // Backoff of up to a minute per retry: only cancelling can end these quickly.
      const client = connectGraph({ graphUrl: `http://127.0.0.1:${port}`, readOnly: true, concurrency: 2, retry: { capMs: 60_000, baseMs: 5_000 } });
      const pending = Array.from({ length: 30 }, (_, i) => client.read(getUser(i)).catch((e: unknown) => e));
      await new Promise((r) => setTimeout(r, 300));
      const reason = new Error('the plan failed');
      client.cancelReads(reason);
      expect(await Promise.all(pending)).toEqual(Array(30).fill(reason));
    } finally {
      server.close();
    }
  });
});

describe('BatchPipeline: a success that is not a $batch answer (a review: a proxy answering 200 with a page)', () => {
  /** The emulator behind a fetch whose first `count` `$batch` answers are a 200 with an HTML page, as a web filter sends. */
  const behindProxy = (count: number) => {
    const g = fakeGraph({ tenant: tenantOf(2) });
    let left = count;
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.endsWith('/$batch') && left-- > 0) return new Response('<html><body>Access to this site is logged</body></html>', { status: 200, headers: { 'content-type': 'text/html' } });
      return g.emu.fetch(input, init);
    };
    return { g, client: connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 2, retry: { capMs: 5 } }) };
  };

  it('hands back a write as unknown, never as done, and sends nothing else for it', async () => {
    const { g, client } = behindProxy(1);
    const outcome = await client.writer({ concurrency: 1 }).submit({ version: 'v1.0', call: { method: 'POST', version: 'v1.0', path: '/users/u0@example.com/authentication/phoneMethods', body: { phoneNumber: '+1 4255550100', phoneType: 'mobile' } } });
    expect(outcome.kind).toBe('unknown');
    expect(g.operations()).toEqual([]);
  });

  it('tries a read again, and its answer is Graph\'s', async () => {
    const { g, client } = behindProxy(1);
    const res = await client.read(getUser(1));
    expect(res.status).toBe(200);
    expect((res.body as { userPrincipalName: string }).userPrincipalName).toBe('u1@example.com');
    expect(g.operations()).toHaveLength(1);
  });
});

describe('BatchPipeline: an answer that quotes the request (a security review: a proxy echoing bodies)', () => {
  it("takes the item's own seed and activation code out of a failed answer, in any letter case and however quoted", async () => {
    const g = fakeGraph({ tenant: tenantOf(1) });
    // A seed with no digit (no pattern can tell it from a word), and a six-digit code.
    const seed = 'RIKJXIKBJCPDGCVP';
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.endsWith('/$batch')) return g.emu.fetch(input, init);
      const { requests } = JSON.parse(String(init!.body)) as { requests: { id: string; body?: { secretKey?: string; verificationCode?: string } }[] };
      const responses = requests.map((r) => ({ id: r.id, status: 400, body: { error: { code: 'invalidRequest', message: `secret key ${String(r.body?.secretKey).toLowerCase()} not accepted; verificationCode '${r.body?.verificationCode}' rejected; ${String(r.body?.secretKey)}` } } }));
      return new Response(JSON.stringify({ responses }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const client = connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 1 });
    const outcome = await client.writer({ concurrency: 1 }).submit({ version: 'beta', call: { method: 'POST', version: 'beta', path: '/directory/authenticationMethodDevices/hardwareOathDevices', body: { serialNumber: 'S1', secretKey: seed, verificationCode: '353572' } } });
    expect(outcome.kind).toBe('answer');
    const text = JSON.stringify(outcome);
    expect(text).not.toMatch(/rikjxikbjcpdgcvp/i);
    expect(text).not.toContain('353572');
    expect(text).toContain("secret key [redacted] not accepted; verificationCode '[redacted]' rejected; [redacted]");
  });
});

describe('BatchPipeline: a failed $batch that quotes the whole batch (a review)', () => {
  it("takes every item's seed and code out of the envelope's answer each item is given", async () => {
    const g = fakeGraph({ tenant: tenantOf(1) });
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.endsWith('/$batch')) return g.emu.fetch(input, init);
      return new Response(JSON.stringify({ error: { code: 'BadRequest', message: `rejected: ${String(init!.body)}` } }), { status: 400, headers: { 'content-type': 'application/json' } });
    };
    const client = connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 1 });
    const writer = client.writer({ concurrency: 1 });
    const device = (serial: string, secretKey: string, verificationCode: string) => ({ version: 'beta' as const, call: { method: 'POST' as const, version: 'beta' as const, path: '/directory/authenticationMethodDevices/hardwareOathDevices', body: { serialNumber: serial, secretKey, verificationCode } } });
    const outcomes = await Promise.all([writer.submit(device('S1', 'RIKJXIKBJCPDGCVP', '353572')), writer.submit(device('S2', 'QWERTYUIOPASDFGH', '918273'))]);
    const text = JSON.stringify(outcomes);
    for (const secret of ['RIKJXIKBJCPDGCVP', 'QWERTYUIOPASDFGH', '353572', '918273']) expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
  });
});

describe('BatchPipeline: writes', () => {
  const phone = (i: number): GraphCall => ({ method: 'POST', version: 'v1.0', path: `/users/u${i}@example.com/authentication/phoneMethods`, body: { phoneNumber: `+1 42555501${String(i).padStart(2, '0')}`, phoneType: 'mobile' } });

  it('calls beforeSend with a batch\'s tags and waits for it before sending', async () => {
    const g = fakeGraph({ tenant: tenantOf(25) });
    const log: string[] = [];
    const pipeline = g.client().writer({
      concurrency: 2,
      beforeSend: async (tags) => {
        log.push(`journal ${tags.length} (sent so far: ${g.emu.requests().length})`);
        await new Promise((r) => setTimeout(r, 5));
      },
    });
    const outcomes = await Promise.all(Array.from({ length: 25 }, (_, i) => pipeline.submit({ version: 'v1.0', call: phone(i), tag: `op${i}` })));
    expect(outcomes.every((o) => o.kind === 'answer' && o.response.status === 201)).toBe(true);
    expect(log).toEqual(['journal 20 (sent so far: 0)', 'journal 5 (sent so far: 0)']);
  });

  it('says until when it waits out a Retry-After (stats.pausedUntil), which progress tells (a black-box test: the bar only froze)', async () => {
    // 20 writes per 1 s window: 60 writes wait twice.
    const g = fakeGraph({ tenant: tenantOf(60), throttle: 'S', throttleLimits: { appWrites: 20 }, timeScale: 150 });
    const pipeline = g.client().writer({ concurrency: 2 });
    let waitedMs = 0;
    const watch = setInterval(() => (waitedMs = Math.max(waitedMs, pipeline.stats.pausedUntil - Date.now())), 10);
    try {
      const outcomes = await Promise.all(Array.from({ length: 60 }, (_, i) => pipeline.submit({ version: 'v1.0', call: phone(i) })));
      expect(outcomes.every((o) => o.kind === 'answer' && o.response.status === 201)).toBe(true);
    } finally {
      clearInterval(watch);
    }
    expect(pipeline.stats.throttled).toBeGreaterThan(0);
    expect(waitedMs).toBeGreaterThan(0);
    expect(waitedMs).toBeLessThanOrEqual(1000);
    // Over once everything is answered.
    expect(pipeline.stats.pausedUntil).toBeLessThanOrEqual(Date.now());
  });

  it('hands back a write whose answer was a 5xx as unknown (never sends it again itself)', async () => {
    const g = fakeGraph({ tenant: tenantOf(40), faultRate: 0.3, seed: 3 });
    const pipeline = g.client().writer({ concurrency: 2 });
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => pipeline.submit({ version: 'v1.0', call: phone(i) })));
    const unknown = outcomes.filter((o) => o.kind === 'unknown').length;
    expect(unknown).toBeGreaterThan(3);
    expect(unknown).toBe(g.operations().filter((o) => o.status >= 500).length);
    expect(g.operations()).toHaveLength(40);
  });

  it('makes a lazily made request when its batch forms: deferred, refused, or sent', async () => {
    const g = fakeGraph({ tenant: tenantOf(3) });
    const pipeline = g.client().writer({ concurrency: 1 });
    let calls = 0;
    const deferred = pipeline.submit({ version: 'v1.0', call: () => (++calls === 1 ? { deferMs: 30 } : { call: phone(0) }) });
    const refused = pipeline.submit({ version: 'v1.0', call: () => ({ error: 'the seed is gone' }) });
    expect(await refused).toEqual({ kind: 'refused', reason: 'the seed is gone' });
    expect(await deferred).toMatchObject({ kind: 'answer', response: { status: 201 } });
    expect(calls).toBe(2);
  });

  it('stop(): what was not sent settles as stopped; batches in flight are answered as usual', async () => {
    const g = fakeGraph({ tenant: tenantOf(60), latencyMs: 50 });
    const pipeline = g.client().writer({ concurrency: 1 });
    const all = Array.from({ length: 60 }, (_, i) => pipeline.submit({ version: 'v1.0', call: phone(i) }));
    await new Promise((r) => setTimeout(r, 10));
    pipeline.stop();
    const outcomes = await Promise.all(all);
    expect(outcomes.filter((o) => o.kind === 'answer')).toHaveLength(20);
    expect(outcomes.filter((o) => o.kind === 'stopped')).toHaveLength(40);
    expect(g.operations()).toHaveLength(20);
    expect(await pipeline.submit({ version: 'v1.0', call: phone(0) })).toEqual({ kind: 'stopped' });
  });
});

/** From a review: a call's own headers (Prefer, for the staged rollout's evolvable enum) must reach Graph however the call is sent. */
describe('a GraphCall with headers', () => {
  it('sends them on a direct call, on every page after the first, and inside $batch (one header of a name, whatever its case)', async () => {
    const g = fakeGraph({ tenant: tenantOf(5) });
    const direct: string[] = [];
    const batched: Record<string, string>[] = [];
    const fetch: typeof g.emu.fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      if (url.includes('$batch')) {
        const text = init?.body ? String(init.body) : await (input as Request).clone().text();
        for (const r of (JSON.parse(text) as { requests: { headers?: Record<string, string> }[] }).requests) batched.push(r.headers ?? {});
      } else if (/^\/(v1\.0|beta)\//.test(new URL(url).pathname)) direct.push(`${new URL(url).pathname}${new URL(url).search.includes('skiptoken') ? ' (next page)' : ''} ${headers.get('prefer') ?? 'no prefer'}`);
      return g.emu.fetch(input, init);
    };
    const client = connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4 });
    const prefer = { Prefer: 'include-unknown-enum-members' };
    const pageCall: GraphCall = { method: 'GET', version: 'v1.0', path: '/users?$top=2&$select=id', headers: prefer };
    const ids: string[] = [];
    for await (const u of client.pages<{ id: string }>(pageCall, 'users')) ids.push(u.id);
    expect(ids).toHaveLength(5);
    expect(direct.filter((d) => d.includes('(next page)')).length).toBeGreaterThanOrEqual(2);
    expect(direct.every((d) => d.endsWith(' include-unknown-enum-members')), direct.join('\n')).toBe(true);
    // Reads queued together go in a $batch; a write with a body keeps its Content-Type, the call's own winning.
    await Promise.all([0, 1].map((i) => client.read({ ...getUser(i), headers: prefer })));
    await client.write({ method: 'PATCH', version: 'v1.0', path: '/users/u0@example.com', body: { displayName: 'U' }, headers: { ...prefer, 'content-type': 'application/json' } });
    expect(batched.length).toBeGreaterThanOrEqual(3);
    for (const h of batched) {
      expect(h['Prefer']).toBe('include-unknown-enum-members');
      expect(Object.keys(h).filter((k) => k.toLowerCase() === 'content-type').length).toBeLessThanOrEqual(1);
    }
  });
});
