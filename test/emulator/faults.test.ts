import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { start, type GraphClient } from './helpers.js';

let emu: RunningEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

async function statuses(graph: GraphClient, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await graph.get('/v1.0/users/alice@contoso.com')).status);
  return out;
}

describe('faults', () => {
  it('answers a seeded share of requests with 500/502/503/504, the same for the same seed', async () => {
    let graph: GraphClient;
    ({ emu, graph } = await start({ faultRate: 0.3, seed: 7 }));
    const first = await statuses(graph, 60);
    await emu.stop();
    ({ emu, graph } = await start({ faultRate: 0.3, seed: 7 }));
    expect(await statuses(graph, 60)).toEqual(first);
    const faults = first.filter((s) => s !== 200);
    expect(faults.length).toBeGreaterThan(5);
    expect(faults.length).toBeLessThan(35);
    expect(new Set(faults).size).toBeGreaterThan(1);
    for (const s of faults) expect([500, 502, 503, 504]).toContain(s);
    const r = await graph.get('/v1.0/users/alice@contoso.com');
    if (r.status !== 200) expect(r.body.error.innerError['request-id']).toBeTruthy();
    // Another seed, another sequence.
    await emu.stop();
    ({ emu, graph } = await start({ faultRate: 0.3, seed: 8 }));
    expect(await statuses(graph, 60)).not.toEqual(first);
  });

  it('applies some faulted writes before failing, so a client must re-read before retrying', async () => {
    let graph: GraphClient;
    ({ emu, graph } = await start({ faultRate: 1, seed: 3 }));
    const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj'];
    for (const u of users) {
      const r = await graph.post(`/v1.0/users/${u}@contoso.com/authentication/emailMethods`, { emailAddress: `${u}@example.com` });
      expect(r.status).toBeGreaterThanOrEqual(500);
    }
    const state = emu.snapshot() as { users: { userPrincipalName: string; methods: { email: unknown[] } }[] };
    const applied = users.filter((u) => state.users.find((x) => x.userPrincipalName === `${u}@contoso.com`)!.methods.email.length === 1);
    // About half, and neither none nor all (deterministic for the seed).
    expect(applied.length).toBeGreaterThan(0);
    expect(applied.length).toBeLessThan(users.length);
  });

  it('faults $batch items one by one, not the envelope', async () => {
    let graph: GraphClient;
    ({ emu, graph } = await start({ faultRate: 0.5, seed: 11 }));
    const requests = Array.from({ length: 20 }, (_, i) => ({ id: `${i}`, method: 'GET', url: '/users/alice@contoso.com' }));
    const r = await graph.post('/v1.0/$batch', { requests });
    expect(r.status).toBe(200);
    const codes = r.body.responses.map((x: { status: number }) => x.status);
    expect(codes).toContain(200);
    expect(codes.some((c: number) => c >= 500)).toBe(true);
  });

  it('adds latency per HTTP request', async () => {
    let graph: GraphClient;
    ({ emu, graph } = await start({ latencyMs: 120 }));
    const t = performance.now();
    await graph.get('/v1.0/users/alice@contoso.com');
    expect(performance.now() - t).toBeGreaterThanOrEqual(115);
  });
});
