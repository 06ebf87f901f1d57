import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '../../fixtures/generate-export.js';
import { CutoverRefusedError, type PlanRequest } from '../../src/app/plan.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, tempDir } from '../helpers/migration.js';
import { writes, type Snapshot } from '../helpers/tenant-checks.js';

/**
 * Staged rollout's documented limits at their real size, against the emulator (which enforces them as
 * Graph documents them): a group is added to the policy while it holds at most 200 users, and never
 * holds more than 50,000.
 */
const tmp = tempDir('cutover-limits');
afterAll(() => tmp.cleanup());

interface Generated {
  source: string;
  tenant: Record<string, any>;
  upns: string[];
}

async function generated(name: string, users: number): Promise<Generated> {
  const source = join(tmp.dir, name);
  await generateExport({ out: source, users, tokenShare: 0, deviceShare: 0, backupShare: 0, tenantMethodShare: 0, seed: 9, tenant: true });
  const tenant = JSON.parse(readFileSync(join(source, 'tenant.json'), 'utf8')) as Record<string, any>;
  const upns = (tenant.users as { userPrincipalName: string }[]).map((u) => u.userPrincipalName);
  // Staged rollout has no application permission: an admin signs in, one of the tenant's who is no
  // user of the export (Graph refuses a signed-in user's writes to their own phone and email methods).
  const admin = `migration-admin@${upns[0]!.split('@')[1]!}`;
  tenant.users.push({ userPrincipalName: admin, displayName: 'Migration Admin' });
  tenant.identity = { userPrincipalName: admin };
  // Federated: staged rollout moves users of federated domains (a managed domain's are on Entra MFA already).
  tenant.domains = [{ id: 'bench.contoso.com', federation: { displayName: 'Bench AD FS', issuerUri: 'http://sts.bench.contoso.com/adfs/services/trust', passiveSignInUri: 'https://sts.bench.contoso.com/adfs/ls/' } }];
  return { source, tenant, upns };
}

const request = (g: Generated, rolloutGroups: string[]): Partial<PlanRequest> => ({ source: g.source, tokens: [], seeds: { pskcMac: 'fail' }, rolloutGroups });

describe('a group is added to staged rollout while small, its users after', () => {
  let gen: Generated;
  beforeAll(async () => {
    gen = await generated('first-add', 250);
    gen.tenant.groups = [
      { displayName: 'Rollout', members: [] },
      { displayName: 'Big', members: gen.upns.slice(0, 201) },
    ];
  });

  it('a group of 201 users not yet in the policy is refused by the plan', async () => {
    const g = fakeGraph({ tenant: gen.tenant });
    const err = await planTo(g, join(tmp.dir, 'big.plan'), request(gen, ['Big'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CutoverRefusedError);
    expect((err as Error).message).toMatch(/--rollout-group "Big" has 201 members: staged rollout takes a group only while it has at most 200/);
  });

  it('an empty group takes more than 200 users: attached first, its users added after', async () => {
    const g = fakeGraph({ tenant: gen.tenant });
    const file = join(tmp.dir, 'rollout.plan');
    const { plan } = await planTo(g, file, request(gen, ['Rollout']));
    const adds = plan.user_changes.filter((c) => c.resource.startsWith('rolloutGroup/') && c.action === 'create').length;
    expect(adds).toBeGreaterThan(200);
    const { outcome } = await applyFile(g, file, join(tmp.dir, 'state-rollout'), { batchSize: 100 });
    expect(outcome.state).toBe('completed');
    const s = g.emu.snapshot() as Snapshot;
    const group = s.groups.find((x: Snapshot) => x.displayName === 'Rollout');
    expect(group.members).toHaveLength(adds);
    expect(s.featureRolloutPolicies[0].appliesTo).toEqual([group.id]);
    const log = writes(g.emu.requests()).map((w) => w.path);
    const attach = log.findIndex((p) => p.endsWith('/appliesTo/$ref'));
    const firstAdd = log.findIndex((p) => p.endsWith('/members/$ref'));
    expect(attach).toBeGreaterThanOrEqual(0);
    expect(attach).toBeLessThan(firstAdd);
  });
});

describe('a group over the limit is split across the next group', () => {
  it('a group attached with 49,990 users takes 10 more; the next named group takes the rest, and apply never passes 50,000', async () => {
    const gen = await generated('split', 40);
    const extra = Array.from({ length: 49_990 }, (_, i) => ({ userPrincipalName: `filler${i}@bench.contoso.com`, displayName: `Filler ${i}` }));
    gen.tenant.users = [...gen.tenant.users, ...extra];
    gen.tenant.groups = [
      { id: 'aaaaaaaa-0000-4000-8000-000000000001', displayName: 'Nearly full', members: [] },
      { id: 'aaaaaaaa-0000-4000-8000-000000000002', displayName: 'Next', members: [] },
    ];
    gen.tenant.featureRolloutPolicies = [{ displayName: 'MFA waves', feature: 'multiFactorAuthentication', isEnabled: true, appliesTo: ['aaaaaaaa-0000-4000-8000-000000000001'] }];
    const g = fakeGraph({ tenant: gen.tenant });
    // The fillers join the group after loading, as a bulk import would (the tenant file checks each
    // member against those before it: 50,000 of them would take seconds).
    const fillers = new Set(extra.map((u) => u.userPrincipalName));
    g.emu.state.groups[0]!.members.push(...g.emu.state.users.filter((u) => fillers.has(u.userPrincipalName)).map((u) => u.id));
    const file = join(tmp.dir, 'split.plan');
    const { plan } = await planTo(g, file, request(gen, ['Nearly full', 'Next']));
    expect(plan.cutover!.rollout_groups.map((x) => [x.displayName, x.attached, x.members_before, x.added])).toEqual([
      ['Nearly full', true, 49_990, 10],
      ['Next', false, 0, plan.cutover!.switched.by_plan - 10],
    ]);
    const { outcome } = await applyFile(g, file, join(tmp.dir, 'state-split'), { batchSize: 200 });
    expect(outcome.state).toBe('completed');
    const s = g.emu.snapshot() as Snapshot;
    expect(s.groups.map((x: Snapshot) => [x.displayName, x.members.length])).toEqual([
      ['Nearly full', 50_000],
      ['Next', plan.cutover!.switched.by_plan - 10],
    ]);
  }, 120_000);
});
