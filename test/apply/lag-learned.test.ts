import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Executor } from '../../src/apply/executor.js';
import { Journal, readRun } from '../../src/apply/journal.js';
import type { Operation } from '../../src/apply/operations.js';
import { VisibilityLag } from '../../src/apply/visibility-lag.js';
import { encodeBase32 } from '../../src/otp/base32.js';
import { buildOathSeed } from '../../src/source/seeds/oath-seed.js';
import { clockAtStepStart } from '../helpers/clock.js';
import { fakeGraph } from '../helpers/graph.js';
import { tempDir } from '../helpers/migration.js';

/**
 * A rehearsal at 30,000 users on a Graph with a long replication lag: the lag learned was forgotten
 * after four windows (a 429 wait outlasted that), so every wave was refused as often as the first;
 * the refused writes sent again showed nowhere (`148 retried` for 2,355 of them); a default refused
 * past the window failed with Graph's bare 400; and progress counted the same activations as waiting
 * for Graph and held back by the pace at once.
 */
const TENANT_ID = '7a1b2c3d-0000-4000-8000-0000000000d1';
const user = (i: number) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, userPrincipalName: `u${i}@example.com`, displayName: `U${i}` });

describe('the lag a run learns of Graph', () => {
  const tmp = tempDir('lag-learned');
  clockAtStepStart(30_000);
  afterAll(() => tmp.cleanup());

  it('is kept for the whole run: a later wave, minutes on, is still held', () => {
    const lag = new VisibilityLag(30_000);
    lag.refused(9_000, 0);
    const held = lag.holdMs(0);
    expect(held).toBeGreaterThan(9_000);
    // Past four windows (a 429 wait of two minutes between waves): before, 0, and the wave was refused again.
    expect(lag.holdMs(10 * 60_000)).toBe(held);
  });

  it('counts the writes sent again while Graph caught up, and one refused past the window says the run registered the phone and how to go on', async () => {
    // The phone shows after 20 s (200 s time-scaled by 10); the window is 1.5 s.
    const u = user(0);
    const g = fakeGraph({ tenant: { tenant: { id: TENANT_ID, size: 'S' }, users: [u] }, behaviour: { replicationLagSeconds: 200 }, timeScale: 10, requestLogLimit: 100_000 });
    const journal = await Journal.create(join(tmp.dir, 'late'), { t: 'run', id: 'late', kind: 'apply', created: new Date().toISOString(), planHash: 'x', options: {}, totalOps: 2 });
    const ex = new Executor({ client: g.client({ retry: { capMs: 200, consistencyMs: 1_500 } }), journal, concurrency: 4, context: { seeds: new Map(), policy: {}, now: Date.now } });
    const base = { user: u.userPrincipalName, userId: u.id, stateFingerprint: '', before: null };
    const mobile: Operation = { ...base, id: `${u.id}/phoneMethods/mobile`, kind: 'phone-create', resource: 'phoneMethods/mobile', after: { phoneNumber: '+1 4255550100', phoneType: 'mobile' }, dependsOn: [] };
    const def: Operation = { ...base, id: `${u.id}/signInPreferences`, kind: 'signin-update', resource: 'signInPreferences', after: { userPreferredMethodForSecondaryAuthentication: 'sms' }, dependsOn: [mobile.id] };
    const out = await ex.run([mobile, def]);
    await journal.close();
    const sends = g.operations().filter((o) => o.path.endsWith('signInPreferences'));
    expect(sends.length).toBeGreaterThanOrEqual(3);
    // Every send after the first was one Graph's lag refused: counted apart from throttling and retries.
    expect(ex.stats.caughtUp).toBe(sends.length - 1);
    expect(ex.stats.throttled).toBe(0);
    const said = /^400 .*registered.*: Graph did not show the phone this run registered \d+(\.\d)? s earlier within --consistency-window 1\.5 s: resume \(Graph will have caught up\), or raise --consistency-window$/;
    expect(out.get(def.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(said) });
    expect((await readRun(join(tmp.dir, 'late'))).ops.get(def.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(said) });
  }, 30_000);

  it('counts an activation under one reason at a time: waiting for Graph, or held back by the pace', async () => {
    const N = 6;
    const secret = Buffer.from('3132333435363738393031323334353637383930', 'hex');
    const users = Array.from({ length: N }, (_, i) => user(i + 1));
    const serial = (i: number) => `INV-${i}`;
    const devices = users.map((_, i) => ({ id: `11111111-0000-4000-8000-${String(i).padStart(12, '0')}`, serialNumber: serial(i), manufacturer: 'M', model: 'T', secretKey: encodeBase32(secret), timeIntervalInSeconds: 30, hashFunction: 'hmacsha1', status: 'available' }));
    // A token assigned shows on its user's method path after 1.5 s (15 s time-scaled by 10); the window is 4 s.
    const g = fakeGraph({
      tenant: { tenant: { id: TENANT_ID, size: 'S' }, users, hardwareOathDevices: devices, authenticationMethodsPolicy: { authenticationMethodConfigurations: [{ id: 'HardwareOath', state: 'enabled' }] } },
      behaviour: { replicationLagSeconds: 15 },
      timeScale: 10,
    });
    const seeds = new Map<string, ReturnType<typeof buildOathSeed>>();
    const ops: Operation[] = [];
    users.forEach((u, i) => {
      const seed = buildOathSeed({ serial: serial(i), type: 'totp', algorithm: 'sha1', digits: 6, period: 30, counter: null, source: 'seeds.csv', line: i + 2, manufacturer: 'M', model: 'T' }, Buffer.from(secret));
      seeds.set(serial(i).toLowerCase(), seed);
      const base = { user: u.userPrincipalName, userId: u.id, stateFingerprint: '', resource: `hardwareOathMethods/${serial(i)}` };
      const after = { serialNumber: serial(i), hashFunction: 'hmacsha1', timeIntervalInSeconds: 30, secretFingerprint: seed.fingerprint };
      const before = { id: devices[i]!.id, serialNumber: serial(i), status: 'available' };
      const assign: Operation = { ...base, id: `${u.id}/hardwareOathMethods/${serial(i)}/assign`, kind: 'token-assign', before, after: { ...after, deviceId: devices[i]!.id }, dependsOn: [] };
      ops.push(assign, { ...base, id: `${u.id}/hardwareOathMethods/${serial(i)}/activate`, kind: 'token-activate', before, after: { ...after, status: 'activated' }, dependsOn: [assign.id] });
    });
    const journal = await Journal.create(join(tmp.dir, 'paced', 'run'), { t: 'run', id: 'paced', kind: 'apply', created: new Date().toISOString(), planHash: 'x', options: {}, totalOps: ops.length });
    const ex = new Executor({ client: g.client({ retry: { capMs: 300, consistencyMs: 4_000 } }), journal, concurrency: 4, context: { seeds, policy: {}, now: Date.now }, activationPace: { activations: 2, windowMs: 1_000 } });
    let worst = 0;
    const sample = setInterval(() => {
      const s = ex.progress();
      const open = s.total - s.done - s.failed - s.skipped;
      worst = Math.max(worst, s.waitingForGraph + s.pacedWaiting - open);
    }, 10);
    ex.expect(ops.length, 0);
    const out = await ex.run(ops);
    clearInterval(sample);
    await journal.close();
    expect([...out.values()].every((o) => o.status === 'done')).toBe(true);
    // The lag and the pace were both met.
    expect(g.operations().filter((o) => o.path.endsWith('/activate')).map((o) => o.status)).toContain(404);
    expect(ex.stats.paced).toBeGreaterThan(0);
    // Never more activations named as waiting than are left (before: those paced were counted twice).
    expect(worst).toBeLessThanOrEqual(0);
  }, 60_000);
});
