import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/apply/executor.js';
import { runFederationStep } from '../../src/apply/federation-step.js';
import { Journal, readRun } from '../../src/apply/journal.js';
import type { Operation } from '../../src/apply/operations.js';
import { tempDir } from '../helpers/migration.js';

const fed = (domain: string, switches = 0): Operation => ({
  id: `cutover/domains/${domain}/federationConfiguration`,
  kind: 'federation-update',
  resource: `domains/${domain}/federationConfiguration`,
  after: { federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' },
  before: null,
  stateFingerprint: '',
  dependsOn: ['cutover/featureRolloutPolicy'],
  requires: { domain, switches },
});

/** The last step sends a domain's federation change only while what it rests on holds. */
describe('runFederationStep', () => {
  const dirs: ReturnType<typeof tempDir>[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

  async function step(ops: Operation[], done: Record<string, number>, unswitched: (d: string[]) => Promise<ReadonlyMap<string, readonly string[]>>, outsiders?: (d: string[]) => Promise<ReadonlyMap<string, string>>) {
    const tmp = tempDir('fedstep');
    dirs.push(tmp);
    const runDir = join(tmp.dir, 'runs', 'r');
    const journal = await Journal.create(runDir, { t: 'run', id: 'r', kind: 'apply', created: '', planHash: 'p', options: {}, totalOps: ops.length });
    const sent: Operation[] = [];
    const executor = { run: async (ready: Operation[]) => new Map(ready.map((o) => (sent.push(o), [o.id, { status: 'done' as const }]))) } as unknown as Executor;
    const now = await runFederationStep(ops, new Map(Object.entries(done)), new Map(), executor, journal, unswitched, ...(outsiders ? [outsiders] : []));
    await journal.close();
    return { now, sent, journaled: (await readRun(runDir)).ops };
  }

  it('sends a domain whose switches are done and whose counted users are all switched now, without waiting on its dependencies', async () => {
    const asked: string[][] = [];
    const { now, sent } = await step([fed('a.example', 2)], { 'a.example': 2 }, async (d) => (asked.push(d), new Map([['a.example', []]])));
    expect(asked).toEqual([['a.example']]);
    expect(sent.map((o) => [o.id, o.dependsOn])).toEqual([['cutover/domains/a.example/federationConfiguration', []]]);
    expect(now.get('cutover/domains/a.example/federationConfiguration')?.status).toBe('done');
  });

  it('skips, and journals why, a domain with a switch not done, or a counted user not switched now; the others go on', async () => {
    const ops = [fed('a.example', 2), fed('b.example'), fed('c.example')];
    const { now, sent, journaled } = await step(ops, { 'a.example': 1 }, async (d) => new Map(d.map((x) => [x, x === 'b.example' ? ['alice@b.example'] : []])));
    expect(sent.map((o) => o.id)).toEqual(['cutover/domains/c.example/federationConfiguration']);
    expect(now.get(ops[0]!.id)).toEqual({ status: 'skipped', error: '1 of the 2 switch(es) of a.example did not succeed: its federation is left as it is' });
    expect(now.get(ops[1]!.id)?.error).toMatch(/^1 user\(s\) of b\.example the plan counts switched by staged rollout are not switched now \(alice@b\.example\): its federation is left as it is/);
    expect(journaled.get(ops[1]!.id)).toMatchObject({ state: 'skipped', error: now.get(ops[1]!.id)?.error });
  });

  it('sends nothing when the check cannot be made, saying so', async () => {
    const { now, sent } = await step([fed('a.example')], {}, () => Promise.reject(new Error('Graph said 503')));
    expect(sent).toEqual([]);
    expect(now.get(fed('a.example').id)).toEqual({ status: 'skipped', error: 'cannot check that the users of a.example are switched (Graph said 503): its federation is left as it is; resume to try again' });
  });

  it('skips a domain whose tenant users outside the plan would be switched with no method now, saying who; the others go on', async () => {
    const ops = [fed('a.example'), fed('b.example')];
    const none = async (d: string[]) => new Map(d.map((x) => [x, [] as string[]]));
    const { now, sent } = await step(ops, {}, none, async () => new Map([['a.example', '1 tenant user(s) of a.example outside the plan ... (admin@a.example)']]));
    expect(sent.map((o) => o.id)).toEqual([ops[1]!.id]);
    expect(now.get(ops[0]!.id)).toEqual({ status: 'skipped', error: '1 tenant user(s) of a.example outside the plan ... (admin@a.example): its federation is left as it is; give them a method (or disable the accounts no one uses) and resume, or make a new plan' });
    // That read failing sends nothing either.
    const failed = await step([fed('a.example')], {}, none, () => Promise.reject(new Error('Graph said 503')));
    expect(failed.sent).toEqual([]);
    expect(failed.now.get(ops[0]!.id)?.error).toMatch(/^cannot check that the users of a\.example are switched \(Graph said 503\)/);
  });
});
