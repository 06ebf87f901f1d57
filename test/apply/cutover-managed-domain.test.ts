import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cutoverStatus } from '../../src/app/status.js';
import { SavedPlan } from '../../src/plan/plan-file.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, tempDir } from '../helpers/migration.js';
import { writes, type Snapshot } from '../helpers/tenant-checks.js';
import { contosoTenant, userId } from '../plan/helpers.js';

/**
 * Users of the managed contoso.onmicrosoft.com beside the federated contoso.com (a cutover black-box
 * test saw them added to the rollout group, and shown not switched before): Entra authenticates a
 * managed domain's users and does their MFA already, so staged rollout changes nothing for them.
 */
const ROLLOUT = 'MFA Staged Rollout';
const MANAGED = 'contoso.onmicrosoft.com';
const KIM = 'c10d0000-0000-4000-8000-000000000001';
const LOU = 'c10d0000-0000-4000-8000-000000000002';
const MAX = 'c10d0000-0000-4000-8000-000000000003';
const SVC = 'c10d0000-0000-4000-8000-000000000004';
const MOBILE = '3179e48a-750b-4051-897c-87b9720928f7';
const tmp = tempDir('cutover-managed');
afterAll(() => tmp.cleanup());
let n = 0;
const fresh = () => join(tmp.dir, `case${++n}`);

/** Contoso with two cloud-only users of its managed initial domain: lou, with no method, in the (unattached) rollout group. */
const cloud = (id: string, name: string) => ({ id, userPrincipalName: `${name}@${MANAGED}`, displayName: name, accountEnabled: true });
function managedTenant() {
  const doc = contosoTenant();
  doc.users.push(cloud(KIM, 'kim'), cloud(LOU, 'lou'));
  doc.groups.find((g) => g.displayName === ROLLOUT)!.members.push(LOU);
  return doc;
}

/** An export of kim (a phone), lou (none) and alice of the federated domain (a phone). */
function managedExport(): string {
  const source = join(fresh(), 'export');
  mkdirSync(source, { recursive: true });
  const rows = [`kim@${MANAGED},true,1,4255550301,phone_call`, `lou@${MANAGED},true,,,phone_call`, 'alice@contoso.com,true,1,4255550101,phone_call'];
  writeFileSync(join(source, 'users.csv'), `username,enabled,phone_country_code,phone,default_method\n${rows.join('\n')}\n`);
  return source;
}

const rolloutMembers = (g: FakeGraph) => (g.emu.snapshot() as Snapshot).groups.find((x: Snapshot) => x.displayName === ROLLOUT).members as string[];

describe('a managed domain\'s users in the cutover', () => {
  it('are switched already: none is added to a rollout group, one with no method is warned of (not refused), apply leaves them out, status shows them switched by the managed domain', async () => {
    const doc = managedTenant();
    const g = fakeGraph({ tenant: doc });
    const source = managedExport();
    const file = `${fresh()}.plan`;
    // Before the fix: refused, attaching the group switching lou with no method, and kim added to it.
    const { plan } = await planTo(g, file, { source, tokens: [], rolloutGroups: [ROLLOUT] });
    const adds = plan.user_changes.filter((c) => c.resource.startsWith('rolloutGroup/') && c.action === 'create').map((c) => c.user);
    expect(adds).toEqual(['alice@contoso.com']);
    expect(plan.cutover!.switched).toEqual({ already: 1, by_plan: 1, not_switched: 1 });
    expect(plan.findings.filter((f) => f.rule === 'CUTOVER-MANAGED-DOMAIN').map((f) => [f.code, f.user])).toEqual([
      ['switched-without-method', `lou@${MANAGED}`],
      ['switched-managed-domain', undefined],
    ]);
    expect(plan.findings.find((f) => f.code === 'switched-managed-domain')!.message).toMatch(/^1 user\(s\) of contoso\.onmicrosoft\.com, a managed domain, are on Entra MFA already/);
    expect(plan.findings.some((f) => f.code === 'not-switched')).toBe(false);
    // The saved plan records the managed domains it counted so (format 2.17), and apply plans it again alike.
    const saved = await SavedPlan.open(file);
    expect(saved.header.format_version).toBe('2.21');
    expect(saved.header.cutover_seen?.managedDomains).toEqual([MANAGED]);

    const { outcome } = await applyFile(g, file, `${fresh()}-state`);
    expect(outcome.state).toBe('completed');
    expect(rolloutMembers(g).sort()).toEqual([LOU, userId(doc, 'alice@contoso.com')].sort());
    expect(rolloutMembers(g)).not.toContain(KIM);

    const status = await cutoverStatus({ source, graph: g.client({ readOnly: true }), concurrency: 4 });
    const row = (upn: string) => status.users.find((r) => r.user === upn);
    expect(status.managed_domains).toEqual([MANAGED]);
    expect(row(`kim@${MANAGED}`)).toMatchObject({ migrated: true, switched: true, switched_by: 'managed domain', blocked: null });
    // In the rollout group too, but the domain is what switches her, and leaving the group would not switch her back.
    expect(row(`lou@${MANAGED}`)).toMatchObject({
      switched: true,
      switched_by: 'managed domain',
      blocked: 'switched to Entra MFA (managed domain) with no cloud MFA method at all: they cannot complete MFA (migrate a method: their domain is managed, and Entra does the MFA of every user of it)',
    });
    expect(row('alice@contoso.com')).toMatchObject({ switched: true, switched_by: ROLLOUT });
    expect(status.counts).toMatchObject({ users: 3, switched: 3, ready: 0 });
  });

  it('a managed domain made federated between plan and apply makes the plan stale, even with --skip-stale: its users would meet the IdP\'s MFA', async () => {
    const g = fakeGraph({ tenant: managedTenant() });
    const file = `${fresh()}.plan`;
    await planTo(g, file, { source: managedExport(), tokens: [], rolloutGroups: [ROLLOUT] });
    // An admin federates the domain (Entra Connect, or a POST of its federationConfiguration).
    const domain = g.emu.state.domains.find((d) => d.id === MANAGED)!;
    domain.federation = { id: 'f0000000-0000-4000-8000-00000000000a', displayName: 'IdP', issuerUri: 'http://sts.example/adfs/services/trust', passiveSignInUri: 'https://sts.example/adfs/ls/', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' };
    const before = writes(g.emu.requests()).length;
    const stale = /domains\/contoso\.onmicrosoft\.com\/federationConfiguration: the plan counted the users of contoso\.onmicrosoft\.com switched to Entra MFA as a managed domain's .* it is federated now/;
    await expect(applyFile(g, file, `${fresh()}-state`)).rejects.toThrow(stale);
    await expect(applyFile(g, file, `${fresh()}-state`, { skipStale: true })).rejects.toThrow(stale);
    expect(writes(g.emu.requests())).toHaveLength(before);
    // Managed again: it goes ahead.
    domain.federation = null;
    expect((await applyFile(g, file, `${fresh()}-state`)).outcome.state).toBe('completed');
  });

  it('a member of a managed domain outside the run, with no method, in a group the run attaches: the domain made federated since makes the plan stale too', async () => {
    const doc = managedTenant();
    // max: outside the export, no method, in the rollout group; the plan does not refuse attaching it for him.
    doc.users.push(cloud(MAX, 'max'));
    doc.groups.find((g) => g.displayName === ROLLOUT)!.members.push(MAX);
    const g = fakeGraph({ tenant: doc });
    const file = `${fresh()}.plan`;
    const { plan } = await planTo(g, file, { source: managedExport(), tokens: [], rolloutGroups: [ROLLOUT] });
    expect(plan.cutover_changes.map((c) => c.target)).toContain(`featureRolloutPolicies/multiFactorAuthentication/appliesTo/${doc.groups.find((x) => x.displayName === ROLLOUT)!.id}`);
    expect(plan.findings.find((f) => f.code === 'switched-without-method' && !f.user)!.message).toMatch(/their domain being managed\), .*: max@contoso\.onmicrosoft\.com$/);
    g.emu.state.domains.find((d) => d.id === MANAGED)!.federation = { id: 'f0000000-0000-4000-8000-00000000000b', displayName: 'IdP', issuerUri: 'http://sts.example/adfs/services/trust', passiveSignInUri: 'https://sts.example/adfs/ls/', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' };
    const before = writes(g.emu.requests()).length;
    // A run of alice alone: no user of the domain is the run's, but the attach switches max (and lou) all the same.
    await expect(applyFile(g, file, `${fresh()}-state`, { users: ['alice@contoso.com'] })).rejects.toThrow(/domains\/contoso\.onmicrosoft\.com\/federationConfiguration: the plan counted the users of contoso\.onmicrosoft\.com switched to Entra MFA as a managed domain's .*nor refused a staged rollout step that switches one of them with no cloud MFA method; it is federated now/);
    expect(writes(g.emu.requests())).toHaveLength(before);
  });

  it('beside the federation\'s final step of contoso.com: the managed domain\'s users are neither the step\'s users nor its tenant users outside the export, at plan or apply', async () => {
    const doc = managedTenant();
    // svc, outside the export: no method; svc2: a phone, deleted after the plan. Neither is a user of contoso.com.
    doc.users.push(cloud(SVC, 'svc'), { ...cloud('c10d0000-0000-4000-8000-000000000005', 'svc2'), methods: { phone: [{ phoneType: 'mobile', phoneNumber: '+1 4255550199' }] } } as (typeof doc.users)[number]);
    const g = fakeGraph({ tenant: doc });
    const file = `${fresh()}.plan`;
    // Forced: contoso.com's tenant users outside this three-user export (admin@, helpdesk@, ...) have no method.
    const { plan } = await planTo(g, file, { source: managedExport(), tokens: [], rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    expect(plan.cutover!.switched).toEqual({ already: 1, by_plan: 1, not_switched: 1 });
    // One federated domain, whose users of the plan are alice alone, switched by it: kim and lou are no user of it.
    expect(plan.cutover!.federation).toEqual([expect.objectContaining({ domain: 'contoso.com', planned: true, users: 1, unswitched: 0 })]);
    const fed = plan.cutover!.federation[0]!;
    const forced = plan.findings.filter((f) => f.code === 'federation-forced').map((f) => f.message);
    expect(forced).toEqual([expect.stringMatching(/^contoso\.com: --force-federation: \d+ tenant user\(s\) of the domain outside the export /)]);
    expect(forced[0]).not.toContain(MANAGED);
    expect(forced[0]).toContain('admin@contoso.com');
    const saved = await SavedPlan.open(file);
    const recorded = saved.header.cutover_seen!.domainUsers!;
    expect(recorded.map((d) => d.domain)).toEqual(['contoso.com']);
    expect(recorded[0]!.users.filter((u) => !u.userPrincipalName.endsWith('@contoso.com'))).toEqual([]);
    expect(recorded[0]!.users.length).toBeGreaterThanOrEqual(fed.outside_export!);
    expect(saved.header.cutover_seen!.managedDomains).toEqual([MANAGED]);
    // The federation change waits for alice's switch alone.
    expect(plan.cutover_changes.find((c) => c.target === 'domains/contoso.com/federationConfiguration')).toMatchObject({ switches: 1 });

    // svc2 loses her phone: a managed domain's user, whom the federation of contoso.com does not move.
    expect((await g.raw.delete(`/v1.0/users/c10d0000-0000-4000-8000-000000000005/authentication/phoneMethods/${MOBILE}`)).status).toBe(204);
    const { outcome } = await applyFile(g, file, `${fresh()}-state`);
    expect(outcome.state).toBe('completed');
    expect(outcome.federationDone).toEqual(['contoso.com']);
    expect(rolloutMembers(g)).not.toContain(KIM);
    // The listings read contoso.com's users alone, never the managed domain's.
    expect(g.operations().filter((o) => decodeURIComponent(o.path).includes(`endswith(userPrincipalName,'@${MANAGED}')`))).toEqual([]);
  });
});

