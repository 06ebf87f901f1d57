import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { userOperations } from '../../src/apply/operations.js';
import type { PlanUser } from '../../src/plan/plan-file.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, tempDir } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

const tmp = tempDir('bulk-by-id');
afterAll(() => tmp.cleanup());

/** diana's token in the sample's Entra upload CSV. */
const DIANA = { serialNumber: '20010007', secretKey: 'IQXDAR3LZFFAIXFFSARVWEMANLLHJNFF', timeIntervalInSeconds: 60, hashFunction: 'hmacsha1', manufacturer: 'Contoso Tokens', model: 'CT-160' };

describe('the bulk token path and tokens already in the inventory', () => {
  it('assigns a token the inventory holds twice by the id the plan chose, and activates it (a rehearsal: by serial, Graph refused it every time)', async () => {
    const g = fakeGraph();
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await g.raw.post('/beta/directory/authenticationMethodDevices/hardwareOathDevices', DIANA);
      expect(res.status).toBe(201);
      ids.push((res.body as { id: string }).id);
    }
    const file = join(tmp.dir, 'p.plan');
    const users = join(tmp.dir, 'users.txt');
    writeFileSync(users, 'diana@contoso.com\n');
    const { plan } = await planTo(g, file, { users });
    expect(plan.findings.filter((f) => f.code === 'token-duplicate-in-tenant').map((f) => f.user)).toEqual(['diana@contoso.com']);
    const chosen = (plan.user_changes.find((c) => c.user === 'diana@contoso.com' && c.resource === 'hardwareOathMethods/20010007')?.before as { id: string }).id;
    expect(ids).toContain(chosen);

    const { outcome } = await applyFile(g, file, join(tmp.dir, 'state'), { tokenPath: 'bulk' });
    expect(outcome.users.find((u) => u.upn === 'diana@contoso.com')?.outcome).toBe('done');
    const devices = (g.emu.snapshot() as Snapshot).hardwareOathDevices as Snapshot[];
    const diana = (g.emu.snapshot() as Snapshot).users.find((u: Snapshot) => u.userPrincipalName === 'diana@contoso.com');
    expect(devices.filter((d) => d.serialNumber === '20010007').map((d) => [d.id === chosen, d.status, d.assignedTo?.id ?? d.assignedToId ?? null])).toEqual(
      expect.arrayContaining([
        [true, 'activated', diana.id],
        [false, 'available', null],
      ]),
    );
  });

  it('keeps the layout of runs begun before (bulk: by serial), so that they resume on what they journaled', () => {
    const u: PlanUser = {
      upn: 'a@x.com',
      userId: 'u1',
      changes: [{ resource: 'hardwareOathMethods/S1', action: 'update', before: { id: 'd1', assignedTo: null, status: 'available' }, after: { serialNumber: 'S1' }, rule: 'OATH-ASSIGN', because: '', state_fingerprint: 'x' } as never],
    };
    expect(userOperations(u, 'bulk').map((o) => o.kind)).toEqual(['token-assign-activate']);
    expect(userOperations(u, 'bulk-by-id').map((o) => [o.kind, (o.after as { deviceId?: string }).deviceId])).toEqual([
      ['token-assign', 'd1'],
      ['token-activate', undefined],
    ]);
  });
});
