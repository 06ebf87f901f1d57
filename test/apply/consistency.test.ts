import { join } from 'node:path';
import { Executor } from '../../src/apply/executor.js';
import { Journal } from '../../src/apply/journal.js';
import type { Operation } from '../../src/apply/operations.js';
import { encodeBase32 } from '../../src/otp/base32.js';
import { buildOathSeed } from '../../src/source/seeds/oath-seed.js';
import { afterAll, describe, expect, it } from 'vitest';
import { generateExport } from '../../fixtures/generate-export.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, tempDir } from '../helpers/migration.js';
import { expectNoDuplicateCreates, expectPlanApplied, writes, type Snapshot } from '../helpers/tenant-checks.js';
import { clockAtStepStart } from '../helpers/clock.js';

/**
 * Entra is eventually consistent: a token or a staged rollout policy just created may answer 404 to
 * the next request for a while (found by a review of the Graph layer). The emulator's
 * replicationLagSeconds hides new objects for 2.5 s here (25 s time-scaled by 10: long enough that a
 * loaded machine still sends what depends on a new object within it); the client's consistency
 * window is 4 s, so that what depends on a new object meets its 404s first.
 * Activations answered 404 must not use up the activation pace (200 per 5 minutes): a run of these
 * stalled for the pace's five minutes before they were given back.
 * An activation's code is sent only with 5 s of its 30 s time step left (src/apply/activation-code.ts):
 * begun late in a step, the activations waited past the lag and met no 404. The clock (Date, which the
 * client's codes and the emulator's check both read; the lag runs on performance.now()) starts each
 * run at the beginning of a step.
 */
const WINDOW = { capMs: 300, consistencyMs: 4_000 };

describe.concurrent('apply against a Graph that is eventually consistent', () => {
  const tmp = tempDir('consistency');
  clockAtStepStart(30_000);
  afterAll(() => tmp.cleanup());

  for (const tokenPath of ['single', 'bulk'] as const) {
    it(`${tokenPath} token path: what depends on a new token waits out its 404s; a create whose answer was lost is not sent again before it could show (no serial twice)`, async () => {
      const source = join(tmp.dir, `export-${tokenPath}`);
      await generateExport({ out: source, users: 30, tokenShare: 0.6, deviceShare: 0, backupShare: 0, tenantMethodShare: 0, seed: 5, tenant: true });
      const g = fakeGraph({ tenant: join(source, 'tenant.json'), behaviour: { replicationLagSeconds: 25 }, timeScale: 10, faultRate: 0.08, seed: 3, requestLogLimit: 1_000_000 });
      const planFile = join(tmp.dir, `${tokenPath}.plan`);
      const { plan } = await planTo(g, planFile, { source, tokens: [join(source, 'tokens', 'seeds.pskc')], seeds: { pskcMac: 'fail' } });
      g.emu.clearRequests();
      const applied = await applyFile(g, planFile, join(tmp.dir, `state-${tokenPath}`), { tokenPath, batchSize: 1000, graph: g.client({ retry: WINDOW }) });
      expect(applied.outcome.state).toBe('completed');
      const state: Snapshot = g.emu.snapshot();
      expectPlanApplied(plan, state);
      expectNoDuplicateCreates(g.emu.requests(), state);
      // The lag was met: requests about a new token were answered 404 before they went through.
      expect(writes(g.emu.requests()).filter((w) => w.status === 404).length).toBeGreaterThan(0);
      // A default method set moments after its phone was registered or its token activated was refused, and set later.
      const defaults = writes(g.emu.requests()).filter((w) => /signInPreferences$/.test(w.path));
      expect(defaults.map((w) => w.status)).toContain(400);
    }, 120_000);
  }

  it('the rollout group is attached to a staged rollout policy created a moment before', async () => {
    const g = fakeGraph({ behaviour: { replicationLagSeconds: 25 }, timeScale: 10 });
    const planFile = join(tmp.dir, 'rollout.plan');
    await planTo(g, planFile, { rolloutGroups: ['MFA Staged Rollout'] });
    g.emu.clearRequests();
    const applied = await applyFile(g, planFile, join(tmp.dir, 'state-rollout'), { graph: g.client({ retry: WINDOW }) });
    expect(applied.outcome.state).toBe('completed');
    const attaches = writes(g.emu.requests()).filter((w) => /appliesTo\/\$ref$/.test(w.path));
    expect(attaches.map((w) => w.status)).toContain(404);
    expect(attaches.at(-1)!.status).toBe(204);
    const [policy] = (g.emu.snapshot() as Snapshot).featureRolloutPolicies;
    expect(policy.appliesTo).toHaveLength(1);
  });

  it("a token of the inventory assigned a moment ago is activated once its user's method shows (a review: the activation's 404 failed it at once)", async () => {
    const serial = 'INV-1';
    const secret = Buffer.from('3132333435363738393031323334353637383930', 'hex');
    const user = { id: '00000000-0000-4000-8000-000000000001', userPrincipalName: 'u1@example.com', displayName: 'U1' };
    const device = { id: '11111111-0000-4000-8000-000000000001', serialNumber: serial, manufacturer: 'M', model: 'T', secretKey: encodeBase32(secret), timeIntervalInSeconds: 30, hashFunction: 'hmacsha1', status: 'available' };
    const g = fakeGraph({
      tenant: { tenant: { id: '7a1b2c3d-0000-4000-8000-0000000000aa', size: 'S' }, users: [user], hardwareOathDevices: [device], authenticationMethodsPolicy: { authenticationMethodConfigurations: [{ id: 'HardwareOath', state: 'enabled' }] } },
      behaviour: { replicationLagSeconds: 25 },
      timeScale: 10,
    });
    const seed = buildOathSeed({ serial, type: 'totp', algorithm: 'sha1', digits: 6, period: 30, counter: null, source: 'seeds.csv', line: 2, manufacturer: 'M', model: 'T' }, Buffer.from(secret));
    const base = { user: user.userPrincipalName, userId: user.id, stateFingerprint: '', resource: `hardwareOathMethods/${serial}` };
    const after = { serialNumber: serial, hashFunction: 'hmacsha1', timeIntervalInSeconds: 30, secretFingerprint: seed.fingerprint };
    const assign: Operation = { ...base, id: `${user.id}/hardwareOathMethods/${serial}/assign`, kind: 'token-assign', before: { id: device.id, serialNumber: serial, status: 'available' }, after: { ...after, deviceId: device.id }, dependsOn: [] };
    const activate: Operation = { ...base, id: `${user.id}/hardwareOathMethods/${serial}/activate`, kind: 'token-activate', before: { id: device.id, serialNumber: serial, status: 'available' }, after: { ...after, status: 'activated' }, dependsOn: [assign.id] };
    const journal = await Journal.create(join(tmp.dir, 'assign-lag', 'run'), { t: 'run', id: 'assign-lag', kind: 'apply', created: new Date().toISOString(), planHash: 'x', options: {}, totalOps: 2 });
    const ex = new Executor({ client: g.client({ retry: WINDOW }), journal, concurrency: 2, context: { seeds: new Map([[serial.toLowerCase(), seed]]), policy: {}, now: Date.now } });
    const out = await ex.run([assign, activate]);
    await journal.close();
    expect([out.get(assign.id)?.status, out.get(activate.id)?.status]).toEqual(['done', 'done']);
    const activations = g.operations().filter((o) => o.path.endsWith('/activate'));
    expect(activations.map((o) => o.status)).toContain(404);
    expect(activations.at(-1)!.status).toBe(204);
  });
});
