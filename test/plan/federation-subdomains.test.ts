import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CutoverRefusedError, makePlan, type PlanRequest } from '../../src/app/plan.js';
import { cutoverStatus } from '../../src/app/status.js';
import { renderStatus } from '../../src/cli/views/status-table.js';
import { renderApplySummary } from '../../src/cli/views/apply-summary.js';
import { runReport } from '../../src/app/report.js';
import { renderRunReportMarkdown } from '../../src/report/render-run-report.js';
import { StalePlanError } from '../../src/apply/run-apply.js';
import { SavedPlan } from '../../src/plan/plan-file.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, CONTOSO, contosoRequest, planTo, testDir } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';
import { contosoTenant, type ContosoTenant } from './helpers.js';

/**
 * A subdomain added under a federated root (eu.contoso.com under contoso.com, Graph `isRoot: false`)
 * takes the root's federation: rejecting the IdP's MFA on contoso.com moves every eu.contoso.com user
 * to Entra MFA too (entra-docs "Change subdomain authentication type"). A promoted subdomain
 * (`isRoot: true`) has a federation of its own.
 */

const FINAL = { rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject' as const };
const EVE = 'eve@eu.contoso.com';
const APAC_FEDERATION = '7c0c3f0e-4d7f-4b4e-9a51-0a4e5c6d7e8f';

type Tenant = ContosoTenant & { domains: Record<string, unknown>[] };

/** Contoso with eu.contoso.com a subdomain of contoso.com (not promoted) holding eve, enabled, with no method, outside the export. */
function withSubdomain(): Tenant {
  const tenant = contosoTenant() as Tenant;
  tenant.domains.push({ id: 'eu.contoso.com' });
  tenant.users.push({ id: '5e0e5e0e-0000-4000-8000-00000000e5e0', userPrincipalName: EVE, displayName: 'Eve EU' } as ContosoTenant['users'][number]);
  return tenant;
}

/** Moves a tenant user to another UPN (bob@contoso.com to bob@eu.contoso.com). */
function moveUser(tenant: Tenant, from: string, to: string): void {
  const u = tenant.users.find((x) => x.userPrincipalName === from)!;
  u.userPrincipalName = to;
  (u as { mail?: string }).mail = to;
}

/** An export of alice and bob alone, bob's username `bobUpn`. */
function aliceAndBob(dir: string, bobUpn = 'bob@contoso.com'): string {
  const source = join(dir, 'ab');
  mkdirSync(source, { recursive: true });
  const rows = readFileSync(join(CONTOSO, 'users.csv'), 'utf8').split('\n').slice(0, 3);
  rows[2] = rows[2]!.replace(/^bob@contoso\.com/, bobUpn);
  writeFileSync(join(source, 'users.csv'), `${rows.join('\n')}\n`);
  return source;
}

const refusal = async (g: FakeGraph, over: Partial<PlanRequest>) => {
  const err = await makePlan({ ...contosoRequest(), ...over, graph: g.client({ readOnly: true }) }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CutoverRefusedError);
  return (err as CutoverRefusedError).reasons;
};

const behaviourOf = (g: FakeGraph, domain: string) => ((g.emu.snapshot() as Snapshot).domains as Snapshot[]).find((d) => d.id === domain)?.federatedIdpMfaBehavior;

describe("the final step of a federated domain reaches its subdomains that are not roots", () => {
  it('a user of eu.contoso.com outside the export with no cloud method refuses the step of contoso.com, named (one listing per domain name)', async () => {
    const g = fakeGraph({ tenant: withSubdomain() });
    const reasons = await refusal(g, FINAL);
    const outside = reasons.filter((r) => r.includes('outside the export'));
    expect(outside).toEqual([expect.stringMatching(/^--federated-mfa reject: 3 tenant user\(s\) of contoso\.com outside the export .*: admin@contoso\.com, eve@eu\.contoso\.com, helpdesk@contoso\.com\. /)]);
    // eu.contoso.com has no federation of its own: no step of its own, nor a refusal for the want of one.
    expect(reasons.join('\n')).not.toMatch(/eu\.contoso\.com is federated/);
    const listings = g.operations().filter((o) => decodeURIComponent(o.path).includes('endswith(userPrincipalName'));
    expect(listings.map((o) => decodeURIComponent(o.path).match(/'@([^']+)'/)![1])).toEqual(['contoso.com', 'eu.contoso.com']);
  });

  it('--force-federation names eve in federation-forced; the plan names the subdomain the step reaches and records it (2.18)', async () => {
    const t = testDir('fed-sub-forced');
    const g = fakeGraph({ tenant: withSubdomain() });
    const file = join(t.dir, 'final.plan');
    const { plan } = await planTo(g, file, { ...FINAL, forceFederation: true });
    expect(plan.findings.filter((f) => f.code === 'federation-forced').map((f) => f.message)).toContain(
      'contoso.com: --force-federation: 3 tenant user(s) of the domain outside the export have no cloud MFA method they can use and will meet Entra MFA when it applies, with nothing to sign in with: admin@contoso.com, eve@eu.contoso.com, helpdesk@contoso.com',
    );
    expect(plan.cutover!.federation).toEqual([expect.objectContaining({ domain: 'contoso.com', planned: true, subdomains: ['eu.contoso.com'] })]);
    expect(plan.cutover_changes.filter((c) => c.target.startsWith('domains/')).map((c) => [c.target, c.because])).toEqual([
      ['domains/contoso.com/federationConfiguration', expect.stringMatching(/^the final step for contoso\.com: Entra does the MFA of every user of the domain and of its subdomain\(s\) eu\.contoso\.com, which take its federation/)],
    ]);
    const saved = await SavedPlan.open(file);
    expect(saved.header.cutover_seen!.federatedDomains.find((d) => d.id === 'contoso.com')!.subdomains).toEqual(['eu.contoso.com']);
    expect(saved.header.cutover_seen!.domainUsers![0]!.users.map((u) => u.userPrincipalName)).toContain(EVE);
  });

  it('a plan user on eu.contoso.com counts under contoso.com: the step patches contoso.com (eu.contoso.com has no federation configuration)', async () => {
    const t = testDir('fed-sub-user');
    const tenant = withSubdomain();
    moveUser(tenant, 'bob@contoso.com', 'bob@eu.contoso.com');
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'ab.plan');
    const { plan } = await planTo(g, file, { ...contosoRequest(aliceAndBob(t.dir, 'bob@eu.contoso.com'), []), ...FINAL, forceFederation: true });
    expect(plan.cutover!.federation).toEqual([expect.objectContaining({ domain: 'contoso.com', planned: true, users: 2, unswitched: 0, subdomains: ['eu.contoso.com'] })]);
    const change = plan.cutover_changes.find((c) => c.target.startsWith('domains/'))!;
    expect(change).toMatchObject({ target: 'domains/contoso.com/federationConfiguration', switches: 2 });
    const { outcome } = await applyFile(g, file, join(t.dir, 'state'));
    expect(outcome.federationDone).toEqual(['contoso.com']);
    expect(behaviourOf(g, 'contoso.com')).toBe('rejectMfaByFederatedIdp');
    expect(g.operations().filter((o) => o.method === 'PATCH' && o.path.includes('/domains/')).map((o) => o.path)).toEqual([expect.stringMatching(/\/domains\/contoso\.com\/federationConfiguration\//)]);
  });

  it('a promoted subdomain (isRoot true) with a federation of its own is a domain of its own: its own step, its own users', async () => {
    const t = testDir('fed-sub-promoted');
    const tenant = withSubdomain();
    tenant.domains.push({ id: 'apac.contoso.com', isRoot: true, federation: { id: APAC_FEDERATION, displayName: 'APAC AD FS', issuerUri: 'http://sts.apac.contoso.com/adfs/services/trust', passiveSignInUri: 'https://sts.apac.contoso.com/adfs/ls/' } });
    moveUser(tenant, 'bob@contoso.com', 'bob@apac.contoso.com');
    const g = fakeGraph({ tenant });
    const { plan } = await planTo(g, join(t.dir, 'ab.plan'), { ...contosoRequest(aliceAndBob(t.dir, 'bob@apac.contoso.com'), []), ...FINAL, forceFederation: true });
    expect(plan.cutover!.federation.map((f) => [f.domain, f.users, f.subdomains])).toEqual([
      ['contoso.com', 1, ['eu.contoso.com']],
      ['apac.contoso.com', 1, undefined],
    ]);
    expect(plan.cutover_changes.filter((c) => c.target.startsWith('domains/')).map((c) => [c.target, (c.after as { id: string }).id])).toEqual([
      ['domains/contoso.com/federationConfiguration', '1a72dea7-5ea5-52f2-b6fe-45661bf854b3'],
      ['domains/apac.contoso.com/federationConfiguration', APAC_FEDERATION],
    ]);
  });
});

/** A black-box test: after a forced federation the summary said "every user of the domain meets Entra MFA" and named none of those outside the plan it moved with no method. */
describe('after a forced federation of a root with a subdomain', () => {
  it('plan names the subdomains whose users it reads with the root; apply names the users outside the plan it moved with no cloud method, and the subdomains', async () => {
    const t = testDir('fed-sub-outsiders');
    const g = fakeGraph({ tenant: withSubdomain() });
    const file = join(t.dir, 'final.plan');
    const read: string[] = [];
    await planTo(g, file, { ...FINAL, forceFederation: true, onDomainUsers: (what) => read.push(what) });
    expect(read).toContain('Reading the 3 user(s) of contoso.com (with eu.contoso.com) outside the plan');
    const { outcome } = await applyFile(g, file, join(t.dir, 'state'));
    expect(outcome.federationDone).toEqual(['contoso.com']);
    expect(outcome.outsidersMovedByFederation).toEqual([{ domain: 'contoso.com', users: ['admin@contoso.com', EVE, 'helpdesk@contoso.com'] }]);
    expect(outcome.federationSubdomains).toEqual({ 'contoso.com': ['eu.contoso.com'] });
    const summary = renderApplySummary(outcome, t.dir, undefined);
    const done = "\n  federation of contoso.com (with eu.contoso.com): done: it rejects the federated IdP's MFA now, so its users meet Entra MFA, 5 of them with no cloud MFA method they can use (below) (allow up to 24 hours)\n";
    const outside = '\n  3 tenant user(s) outside the plan moved to Entra MFA by the federation of contoso.com (with eu.contoso.com) (--force-federation) with no cloud MFA method they can use, as the plan read them: admin@contoso.com, eve@eu.contoso.com, helpdesk@contoso.com. Give them a method now (or disable the accounts no one uses)\n';
    expect(summary).toContain(done);
    expect(summary).toContain(outside);
    expect(summary).toContain('\n  2 user(s) moved to Entra MFA by the federation of contoso.com (with eu.contoso.com) (--force-federation)');
    expect(summary).not.toContain('every user of the domain meets Entra MFA');
    expect(summary.indexOf(outside)).toBeGreaterThan(summary.indexOf(done));
    // The run's evidence names them too, on the federation's operation (report 1.10); every other operation names none.
    const report = await runReport(outcome.runId, join(t.dir, 'state'));
    const fed = report.shared.find((o) => o.target.startsWith('domains/contoso.com/'))!;
    expect(fed).toMatchObject({ state: 'done', moved_without_method: ['admin@contoso.com', EVE, 'helpdesk@contoso.com'] });
    expect([...report.policy, ...report.shared, ...report.users.flatMap((u) => u.operations)].filter((o) => o.moved_without_method.length > 0)).toEqual([fed]);
    expect(renderRunReportMarkdown(report)).toContain('moved to Entra MFA with no cloud MFA method they can use (--force-federation), 3 tenant user(s) outside the plan: admin@contoso.com, eve@eu.contoso.com, helpdesk@contoso.com');
  });

  it("the federation not set (a switch failed): the report's operation names no one moved", async () => {
    const t = testDir('fed-sub-outsiders-left');
    const g = fakeGraph({ tenant: withSubdomain() });
    // A token of grace's serial with another seed: her activation fails, so contoso.com's step is skipped.
    await g.raw.post('/beta/directory/authenticationMethodDevices/hardwareOathDevices', { serialNumber: '20010001', manufacturer: 'Other', model: 'T', secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', timeIntervalInSeconds: 30, hashFunction: 'hmacsha1' });
    const file = join(t.dir, 'final.plan');
    await planTo(g, file, { ...FINAL, forceFederation: true });
    const { outcome } = await applyFile(g, file, join(t.dir, 'state'));
    expect(outcome.federationDone).toEqual([]);
    expect(outcome.outsidersMovedByFederation).toBeUndefined();
    expect(renderApplySummary(outcome, t.dir, undefined)).not.toContain('outside the plan moved');
    const report = await runReport(outcome.runId, join(t.dir, 'state'));
    expect(report.shared.find((o) => o.target.startsWith('domains/contoso.com/'))).toMatchObject({ state: 'skipped', moved_without_method: [] });
  });
});

describe("apply's re-check of a root's subdomains", () => {
  it('a subdomain added since the plan makes it stale, even with --skip-stale: its users were not judged', async () => {
    const t = testDir('fed-sub-added');
    const g = fakeGraph({ tenant: withSubdomain() });
    const file = join(t.dir, 'final.plan');
    await planTo(g, file, { ...FINAL, forceFederation: true });
    g.emu.state.domains.push({ id: 'us.contoso.com', isDefault: false, isInitial: false, isVerified: true, supportedServices: ['Email'], isRoot: false, federation: null });
    const err = await applyFile(g, file, join(t.dir, 'state'), { skipStale: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StalePlanError);
    expect((err as Error).message).toContain('the subdomains that take the federation of contoso.com changed since the plan (us.contoso.com added, or made a subdomain of it, whose users the plan did not judge): make a new plan');
    expect(behaviourOf(g, 'contoso.com')).toBe('acceptIfMfaDoneByFederatedIdp');
  });

  it('a subdomain promoted since the plan makes it stale too', async () => {
    const t = testDir('fed-sub-promoted-since');
    const g = fakeGraph({ tenant: withSubdomain() });
    const file = join(t.dir, 'final.plan');
    await planTo(g, file, { ...FINAL, forceFederation: true });
    g.emu.state.domains.find((d) => d.id === 'eu.contoso.com')!.isRoot = true;
    const err = await applyFile(g, file, join(t.dir, 'state'), { skipStale: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StalePlanError);
    expect((err as Error).message).toContain('(eu.contoso.com promoted (or removed), no longer moved by its federation)');
  });

  it('a user of the subdomain outside the export enabled since with no method makes it stale, named', async () => {
    const t = testDir('fed-sub-appeared');
    const tenant = withSubdomain();
    // eve's account is disabled when the plan reads the domain: the federation moves no one who cannot sign in.
    (tenant.users.find((u) => u.userPrincipalName === EVE) as { accountEnabled?: boolean }).accountEnabled = false;
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'final.plan');
    const { plan } = await planTo(g, file, { ...FINAL, forceFederation: true });
    expect(plan.findings.map((f) => f.message).join('\n')).not.toContain(EVE);
    g.emu.state.findUser(EVE)!.props['accountEnabled'] = true;
    const err = await applyFile(g, file, join(t.dir, 'state'), { skipStale: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StalePlanError);
    expect((err as Error).message).toMatch(/1 tenant user\(s\) of contoso\.com outside the plan, .*: 1 not among those the plan read, with no cloud MFA method \(eve@eu\.contoso\.com\) \(since the plan\)/);
    expect(behaviourOf(g, 'contoso.com')).toBe('acceptIfMfaDoneByFederatedIdp');
  });
});

describe('status', () => {
  it("shows a subdomain's user switched by the federation of its root, and the root with its subdomains", async () => {
    const t = testDir('fed-sub-status');
    const tenant = withSubdomain();
    moveUser(tenant, 'bob@contoso.com', 'bob@eu.contoso.com');
    const contoso = tenant.domains.find((d) => d.id === 'contoso.com') as { federation: { federatedIdpMfaBehavior: string } };
    contoso.federation.federatedIdpMfaBehavior = 'rejectMfaByFederatedIdp';
    const g = fakeGraph({ tenant });
    const s = await cutoverStatus({ source: aliceAndBob(t.dir, 'bob@eu.contoso.com'), graph: g.client({ readOnly: true }), concurrency: 4 });
    expect(s.users.map((u) => [u.user, u.switched_by])).toEqual([
      ['alice@contoso.com', 'federation'],
      ['bob@eu.contoso.com', 'federation'],
    ]);
    expect(s.federation).toEqual([{ domain: 'contoso.com', federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp', subdomains: ['eu.contoso.com'] }]);
    expect(renderStatus(s)).toContain('federated domain contoso.com: federatedIdpMfaBehavior rejectMfaByFederatedIdp (and its subdomains eu.contoso.com, which take its federation)');
  });
});
