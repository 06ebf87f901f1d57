import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Executor } from '../../src/apply/executor.js';
import { Journal, readRun } from '../../src/apply/journal.js';
import type { Operation } from '../../src/apply/operations.js';
import type { OathSeed } from '../../src/model/export-data.js';
import { Secret } from '../../src/model/secret.js';
import { serialKey } from '../../src/model/serial.js';
import { connectGraph } from '../../src/graph/connect.js';
import { fakeGraph } from '../helpers/graph.js';
import { tempDir } from '../helpers/migration.js';

const N = 3;
const bytes = (i: number) => Buffer.alloc(20, i + 1);
const TENANT = {
  tenant: { id: '7a1b2c3d-0000-4000-8000-0000000000ff', size: 'S' },
  users: Array.from({ length: N }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, userPrincipalName: `u${i}@example.com`, displayName: `U${i}` })),
  authenticationMethodsPolicy: { authenticationMethodConfigurations: [{ id: 'HardwareOath', state: 'enabled' }] },
};
const seeds = new Map<string, OathSeed>(Array.from({ length: N }, (_, i) => [serialKey(`T${i}`), { serial: `T${i}`, secret: new Secret(bytes(i)), fingerprint: new Secret(bytes(i)).fingerprint() } as OathSeed]));

function ops(): Operation[] {
  const tokens = TENANT.users.map((_, i) => ({ serialNumber: `T${i}`, hashFunction: 'hmacsha1', timeIntervalInSeconds: 30, secretFingerprint: seeds.get(serialKey(`T${i}`))!.fingerprint }));
  const bulk: Operation = { id: 'tokens/x', kind: 'token-bulk-create', resource: 'hardwareOathDevices', before: null, after: { tokens }, stateFingerprint: '', dependsOn: [] };
  const aa = TENANT.users.map((u, i): Operation => ({ id: `${u.id}/hardwareOathMethods/T${i}/assign-activate`, kind: 'token-assign-activate', user: u.userPrincipalName, userId: u.id, resource: `hardwareOathMethods/T${i}`, before: null, after: { ...tokens[i], created: true }, stateFingerprint: '', dependsOn: [bulk.id] }));
  return [bulk, ...aa];
}

describe('a bulk token create applied in part, answered 500 (found by a review)', () => {
  it('is sent again without the tokens it made, and the run is credited with every token it made (rollback deletes them)', async () => {
    const tmp = tempDir('bulk-partial');
    const g = fakeGraph({ tenant: TENANT });
    let tripped = false;
    const wrapped: typeof fetch = async (url, init) => {
      const body = init?.body ? JSON.parse(String(init.body)) : undefined;
      const item = body?.requests?.find((r: { method: string; url: string }) => r.method === 'PATCH' && /hardwareOathDevices$/.test(r.url));
      if (item && !tripped) {
        tripped = true;
        item.body.value = item.body.value.slice(0, 1); // Graph applied only the first device...
        const res = await g.emu.fetch(url, { ...init, body: JSON.stringify(body) });
        const j = (await res.json()) as { responses: { id: string; status: number; body: unknown }[] };
        for (const r of j.responses) {
          if (r.id === item.id) {
            r.status = 500;
            r.body = { error: { code: 'InternalServerError', message: 'boom' } };
          }
        }
        return new Response(JSON.stringify(j), { status: 200, headers: { 'content-type': 'application/json' } }); // ...then failed
      }
      return g.emu.fetch(url, init);
    };
    const client = connectGraph({ graphUrl: g.emu.url, fetch: wrapped, readOnly: false, concurrency: 4, retry: { capMs: 20 } });
    const journal = await Journal.create(join(tmp.dir, 'r'), { t: 'run', id: 'r', kind: 'apply', created: new Date().toISOString(), planHash: 'x', options: {}, totalOps: 0 });
    const ex = new Executor({ client, journal, concurrency: 4, context: { seeds, policy: {}, now: Date.now } });
    const out = await ex.run(ops());
    await journal.close();
    const inv = await g.raw.get(`/beta/directory/authenticationMethodDevices/hardwareOathDevices`);
    const serials = inv.body.value.map((d: { serialNumber?: string; device?: { serialNumber?: string } }) => d.serialNumber ?? d.device?.serialNumber);
    expect(serials.filter((s: string) => s === 'T0')).toHaveLength(1);
    expect([...out.values()].every((o) => o.status === 'done')).toBe(true);
    const view = await readRun(join(tmp.dir, 'r'));
    expect(Object.keys((view.ops.get('tokens/x')?.result?.devices ?? {}) as Record<string, string>).sort()).toEqual(['T0', 'T1', 'T2']);
    tmp.cleanup();
  });
});
