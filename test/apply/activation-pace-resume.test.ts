import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Executor } from '../../src/apply/executor.js';
import { Journal } from '../../src/apply/journal.js';
import type { Operation } from '../../src/apply/operations.js';
import type { OathSeed } from '../../src/model/export-data.js';
import { Secret } from '../../src/model/secret.js';
import { serialKey } from '../../src/model/serial.js';
import { encodeBase32 } from '../../src/otp/base32.js';
import { fakeGraph } from '../helpers/graph.js';
import { tempDir } from '../helpers/migration.js';
import { clockAtStepStart } from '../helpers/clock.js';

const bytes = (i: number) => Buffer.alloc(20, i + 1);
const users = Array.from({ length: 2 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, userPrincipalName: `u${i}@example.com`, displayName: `U${i}` }));
const seeds = new Map<string, OathSeed>(users.map((_, i) => [serialKey(`T${i}`), { serial: `T${i}`, secret: new Secret(bytes(i)), fingerprint: new Secret(bytes(i)).fingerprint() } as OathSeed]));
const TENANT = {
  tenant: { id: '7a1b2c3d-0000-4000-8000-0000000000fe', size: 'S' },
  users: users.map((u, i) => ({ ...u, methods: { hardwareOath: [`T${i}`] } })),
  hardwareOathDevices: users.map((_, i) => ({ id: `11111111-0000-4000-8000-${String(i).padStart(12, '0')}`, serialNumber: `T${i}`, manufacturer: 'M', model: 'X', secretKey: encodeBase32(bytes(i)), timeIntervalInSeconds: 30, hashFunction: 'hmacsha1', status: 'assigned' })),
  authenticationMethodsPolicy: { authenticationMethodConfigurations: [{ id: 'HardwareOath', state: 'enabled' }] },
};
const activate = (i: number): Operation => ({
  id: `${users[i]!.id}/hardwareOathMethods/T${i}/activate`,
  kind: 'token-activate',
  user: users[i]!.userPrincipalName,
  userId: users[i]!.id,
  resource: `hardwareOathMethods/T${i}`,
  before: { id: TENANT.hardwareOathDevices[i]!.id, assignedTo: users[i]!.id },
  after: { serialNumber: `T${i}`, hashFunction: 'hmacsha1', timeIntervalInSeconds: 30, secretFingerprint: seeds.get(serialKey(`T${i}`))!.fingerprint, status: 'activated' },
  stateFingerprint: '',
  dependsOn: [],
});

/**
 * Found by a review: the pace's memory was the executor's only, so a resume sent a second full quota at once.
 * An activation begun with less than 5 s of its time step left waits for the next step (src/apply/activation-code.ts),
 * by when the earlier run's activations (400 ms window) no longer count and nothing is paced: the clock (Date) starts
 * at the beginning of a step.
 */
describe('the activation pace across a resume', () => {
  const tmp = tempDir('pace-resume');
  clockAtStepStart(30_000);
  afterAll(() => tmp.cleanup());

  it('activations an earlier run sent within the window count: the next one waits for the window', async () => {
    const run = async (name: string, activationsSent?: number[]) => {
      const g = fakeGraph({ tenant: TENANT });
      const journal = await Journal.create(join(tmp.dir, name), { t: 'run', id: name, kind: 'apply', created: new Date().toISOString(), planHash: 'x', options: {}, totalOps: 0 });
      const ex = new Executor({ client: g.client({ retry: { capMs: 20 } }), journal, concurrency: 4, context: { seeds, policy: {}, now: Date.now }, activationPace: { activations: 2, windowMs: 400 }, ...(activationsSent ? { activationsSent } : {}) });
      const out = await ex.run([activate(0)]);
      await journal.close();
      return { status: out.get(activate(0).id)?.status, paced: ex.stats.paced };
    };
    expect(await run('fresh')).toEqual({ status: 'done', paced: 0 });
    const resumed = await run('resumed', [Date.now(), Date.now()]);
    expect(resumed.status).toBe('done');
    expect(resumed.paced).toBeGreaterThan(0);
    // Sent before the window began: they no longer count.
    expect((await run('long-ago', [Date.now() - 10_000, Date.now() - 10_000])).paced).toBe(0);
  });

  it("reports the pace for progress: the run's activations left, the window, and when the next may go (a rehearsal's ETA and wait line lacked them)", async () => {
    const g = fakeGraph({ tenant: TENANT });
    const journal = await Journal.create(join(tmp.dir, 'reported'), { t: 'run', id: 'reported', kind: 'apply', created: new Date().toISOString(), planHash: 'x', options: {}, totalOps: 0 });
    const sent = [Date.now() - 100, Date.now()];
    const ex = new Executor({ client: g.client({ retry: { capMs: 20 } }), journal, concurrency: 4, context: { seeds, policy: {}, now: Date.now }, activationPace: { activations: 2, windowMs: 400 }, activationsSent: sent });
    // The whole run's: this step sends one of the three left.
    ex.expectActivations(3);
    const running = ex.run([activate(0)]);
    await new Promise((r) => setTimeout(r, 50));
    const held = structuredClone(ex.progress());
    const out = await running;
    await journal.close();
    expect(out.get(activate(0).id)?.status).toBe('done');
    expect(held.pacedWaiting).toBe(1);
    expect(held.activationPace).toEqual({ activations: 2, windowMs: 400, left: 3, inWindow: 2, firstFreeAt: sent[0]! + 400, next: { count: 2, at: sent[1]! + 400 } });
    expect(ex.progress().activationPace?.left).toBe(2);
  });
});
