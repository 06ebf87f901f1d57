import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Executor } from '../../src/apply/executor.js';
import { Journal, readRun } from '../../src/apply/journal.js';
import type { Operation } from '../../src/apply/operations.js';
import { fakeGraph } from '../helpers/graph.js';
import { tempDir } from '../helpers/migration.js';

/**
 * A black-box test at 20,000 users on a Graph with a replication lag (20 s, time-scaled) ran at a
 * quarter of its speed: each default method was sent 3.7 times on average, every refused send using
 * write quota, and the re-sends went out one to a `$batch`. The executor now learns the lag from the
 * refusals, holds a default until its method should show, and sends what was refused again in rounds.
 *
 * Here the emulator hides a new phone from the default-method check for 1 s (10 s time-scaled by 10);
 * the consistency window is 8 s. Two waves of 40 users, one executor (as apply runs its waves).
 */
const USERS = 80;
const WAVE = 40;
const TENANT = {
  tenant: { id: '7a1b2c3d-0000-4000-8000-0000000000c1', size: 'M' },
  users: Array.from({ length: USERS }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, userPrincipalName: `u${i}@example.com`, displayName: `U${i}` })),
};
const userId = (i: number) => TENANT.users[i]!.id;

function userOps(i: number): Operation[] {
  const base = { user: `u${i}@example.com`, userId: userId(i), stateFingerprint: '', before: null };
  const mobile: Operation = { ...base, id: `${userId(i)}/phoneMethods/mobile`, kind: 'phone-create', resource: 'phoneMethods/mobile', after: { phoneNumber: `+1 42555501${String(i).padStart(2, '0')}`, phoneType: 'mobile' }, dependsOn: [] };
  const def: Operation = { ...base, id: `${userId(i)}/signInPreferences`, kind: 'signin-update', resource: 'signInPreferences', after: { userPreferredMethodForSecondaryAuthentication: 'sms' }, dependsOn: [mobile.id] };
  return [mobile, def];
}

const isDefault = (path: string) => /signInPreferences$/.test(path);

describe('default methods on a Graph that shows a new phone only after a lag', () => {
  const tmp = tempDir('lag-defaults');
  afterAll(() => tmp.cleanup());

  it('are held until the phone should show (learned from the first refusals), and what is refused goes again in full batches', async () => {
    const g = fakeGraph({ tenant: TENANT, behaviour: { replicationLagSeconds: 10 }, timeScale: 10, requestLogLimit: 100_000 });
    const journal = await Journal.create(join(tmp.dir, 'run'), { t: 'run', id: 'run', kind: 'apply', created: new Date().toISOString(), planHash: 'x', options: {}, totalOps: USERS * 2 });
    const ex = new Executor({ client: g.client({ retry: { capMs: 2_000, consistencyMs: 8_000 } }), journal, concurrency: 4, context: { seeds: new Map(), policy: {}, now: Date.now } });
    const sendsByWave: number[] = [];
    for (let w = 0; w * WAVE < USERS; w++) {
      const before = g.operations().filter((o) => isDefault(o.path)).length;
      const out = await ex.run(Array.from({ length: WAVE }, (_, i) => userOps(w * WAVE + i)).flat());
      expect([...out.values()].every((o) => o.status === 'done')).toBe(true);
      sendsByWave.push(g.operations().filter((o) => isDefault(o.path)).length - before);
    }
    await journal.close();
    const view = await readRun(join(tmp.dir, 'run'));
    expect([...view.ops.values()].filter((r) => r.state === 'done')).toHaveLength(USERS * 2);

    const defaults = g.operations().filter((o) => isDefault(o.path));
    expect(defaults.filter((o) => o.status === 204)).toHaveLength(USERS);
    // The first wave taught the lag (its defaults were refused, a few times each at most); the
    // second's were held until their phones showed: sent once each, or nearly (code before: 3-5 times each).
    expect(defaults.filter((o) => o.status === 400).length).toBeGreaterThan(0);
    expect(sendsByWave[0]!).toBeLessThanOrEqual(WAVE * 6);
    expect(sendsByWave[1]!).toBeLessThanOrEqual(WAVE * 1.2);

    // Refused defaults were sent again together: the $batch requests carrying a re-send are full
    // (20) but for the last of a round, not one operation each.
    const refused = new Set<string>();
    const envelopes: number[] = [];
    for (const e of g.emu.requests()) {
      const items = e.items ?? [];
      const resends = items.filter((i) => isDefault(i.path) && refused.has(i.path));
      if (resends.length > 0) envelopes.push(items.length);
      for (const i of items) if (isDefault(i.path) && i.status === 400) refused.add(i.path);
    }
    expect(envelopes.length).toBeGreaterThan(0);
    const resent = defaults.length - USERS;
    expect(envelopes.length).toBeLessThanOrEqual(Math.ceil(resent / 20) + 8);
  }, 60_000);

  it('one Graph still refuses once the consistency window is over fails, as before, after a few tries at growing intervals', async () => {
    // The phone shows after 20 s (200 s time-scaled by 10); the window is 1.5 s.
    const g = fakeGraph({ tenant: TENANT, behaviour: { replicationLagSeconds: 200 }, timeScale: 10, requestLogLimit: 100_000 });
    const journal = await Journal.create(join(tmp.dir, 'late'), { t: 'run', id: 'late', kind: 'apply', created: new Date().toISOString(), planHash: 'x', options: {}, totalOps: 2 });
    const ex = new Executor({ client: g.client({ retry: { capMs: 200, consistencyMs: 1_500 } }), journal, concurrency: 4, context: { seeds: new Map(), policy: {}, now: Date.now } });
    const [mobile, def] = userOps(0);
    const out = await ex.run([mobile!, def!]);
    await journal.close();
    expect(out.get(mobile!.id)?.status).toBe('done');
    expect(out.get(def!.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^400 /) });
    expect((await readRun(join(tmp.dir, 'late'))).ops.get(def!.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/^400 /) });
    const sends = g.emu.requests().flatMap((e) => e.items ?? [e]).filter((i) => isDefault(i.path));
    expect(sends.every((i) => i.status === 400)).toBe(true);
    // 25, 50, 100, 200, 400 ms... apart: a handful of tries, the last before the window is over.
    expect(sends.length).toBeGreaterThanOrEqual(3);
    expect(sends.length).toBeLessThanOrEqual(8);
    const at = sends.map((i) => Date.parse(i.time));
    // The window (1.5 s), with room for a loaded CI machine; the tries are not spread over twice it.
    expect(at.at(-1)! - at[0]!).toBeLessThan(1_500 + 1_000);
  }, 30_000);
});
