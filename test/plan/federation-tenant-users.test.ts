import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CutoverRefusedError, makePlan, type PlanRequest } from '../../src/app/plan.js';
import { readPlanSources } from '../../src/app/plan-check.js';
import { SavedPlan } from '../../src/plan/plan-file.js';
import { firstDifference } from '../../src/plan/rederive.js';
import { renderPlanTerminal } from '../../src/plan/render-terminal.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { CONTOSO, contosoRequest, planTo, testDir } from '../helpers/migration.js';
import { contosoTenant, userId, type ContosoTenant } from './helpers.js';

/**
 * The federation's final step moves every tenant user of the domain to Entra MFA, not only the
 * export's (a black-box round: a two-user export flipped contoso.com, and 31 tenant users of it were
 * switched with no cloud method; with the whole export, admin@ and helpdesk@ were switched unsaid).
 */

const ROLLOUT = 'MFA Staged Rollout';
const FINAL = { rolloutGroups: [ROLLOUT], federatedMfa: 'reject' as const };

/** An export of alice and bob alone (the first two rows of the Contoso users.csv). */
function aliceAndBob(dir: string): string {
  const source = join(dir, 'ab');
  mkdirSync(source, { recursive: true });
  writeFileSync(join(source, 'users.csv'), `${readFileSync(join(CONTOSO, 'users.csv'), 'utf8').split('\n').slice(0, 3).join('\n')}\n`);
  return source;
}

const refusal = async (g: FakeGraph, over: Partial<PlanRequest>) => {
  const err = await makePlan({ ...contosoRequest(), ...over, graph: g.client({ readOnly: true }) }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CutoverRefusedError);
  return (err as CutoverRefusedError).reasons;
};

const forcedOutside = (messages: string[]) => messages.filter((m) => m.includes('tenant user(s) of the domain outside the export'));

/** Where a saved plan differs from planning it again (apply's check): undefined when it does not. */
const rederived = async (file: string) => {
  const saved = await SavedPlan.open(file);
  return (await firstDifference(saved, await readPlanSources(saved)))?.where;
};

/**
 * The tenant's contoso.com users outside the export's `names` who are enabled and have no method they
 * can use once an alice-and-bob plan is applied: none at all, or hana's activated token, which the
 * policy leaves disabled (that plan turns on what alice and bob use: SMS and voice).
 */
function methodlessOutside(tenant: ContosoTenant, names: readonly string[]): string[] {
  return (tenant.users as (ContosoTenant['users'][number] & { accountEnabled?: boolean })[])
    .filter((u) => u.userPrincipalName.endsWith('@contoso.com') && u.accountEnabled !== false && (!u.methods || u.userPrincipalName === 'hana@contoso.com') && !names.includes(u.userPrincipalName))
    .map((u) => u.userPrincipalName)
    .sort();
}

describe('the final step reads the tenant users of the domain outside the export', () => {
  it('a two-user export is refused: the federation would switch the tenant\'s other users of the domain with no cloud method (first five named, and the count)', async () => {
    const t = testDir('fed-ab');
    const tenant = contosoTenant();
    const g = fakeGraph({ tenant });
    const reasons = await refusal(g, { ...contosoRequest(aliceAndBob(t.dir), []), ...FINAL });
    const expected = methodlessOutside(tenant, ['alice@contoso.com', 'bob@contoso.com']);
    expect(expected).toEqual(expect.arrayContaining(['admin@contoso.com', 'helpdesk@contoso.com']));
    const outside = reasons.filter((r) => r.includes('outside the export'));
    expect(outside).toEqual([
      `--federated-mfa reject: ${expected.length} tenant user(s) of contoso.com outside the export (enabled, not switched by staged rollout) have no cloud MFA method they can use: rejecting the federated IdP's MFA moves them to Entra MFA with nothing to sign in with (whoever has their password could register one): ${expected.slice(0, 5).join(', ')} and ${expected.length - 5} more. Give them a method first (or migrate them with the export, or disable the accounts no one uses), and plan again (or --force-federation)`,
    ]);
    // Users with a method (niaj's Authenticator) and users whose Entra account is disabled (rupert) are not among them.
    expect(outside[0]).not.toMatch(/niaj@|rupert@/);
  });

  it('--force-federation plans it all the same, listing them in federation-forced; the saved plan records them and plans again as it was made', async () => {
    const t = testDir('fed-ab-forced');
    const tenant = contosoTenant();
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'ab.plan');
    const { plan } = await planTo(g, file, { ...contosoRequest(aliceAndBob(t.dir), []), ...FINAL, forceFederation: true });
    expect(plan.cutover_changes.map((c) => c.target)).toContain('domains/contoso.com/federationConfiguration');
    const expected = methodlessOutside(tenant, ['alice@contoso.com', 'bob@contoso.com']);
    expect(forcedOutside(plan.findings.map((f) => f.message))).toEqual([
      `contoso.com: --force-federation: ${expected.length} tenant user(s) of the domain outside the export have no cloud MFA method they can use and will meet Entra MFA when it applies, with nothing to sign in with: ${expected.slice(0, 20).join(', ')}${expected.length > 20 ? ` and ${expected.length - 20} more (every one is in plan --format json's cutover.federation[].outside_without_method and in the plan report)` : ''}`,
    ]);
    const fed = plan.cutover!.federation.find((f) => f.domain === 'contoso.com')!;
    expect(fed.planned).toBe(true);
    expect(fed.outside_without_method).toEqual(expected);
    expect(fed.outside_export).toBeGreaterThan(expected.length);
    const saved = await SavedPlan.open(file);
    expect(saved.header.format_version).toBe('2.21');
    const recorded = saved.header.cutover_seen!.domainUsers!;
    expect(recorded.map((d) => d.domain)).toEqual(['contoso.com']);
    expect(recorded[0]!.users.map((u) => u.userPrincipalName)).toEqual(expect.arrayContaining(['admin@contoso.com', 'helpdesk@contoso.com', 'niaj@contoso.com']));
    expect(recorded[0]!.users.find((u) => u.userPrincipalName === 'niaj@contoso.com')).toMatchObject({ authenticator: true });
    expect(await rederived(file)).toBeUndefined();
    // Those outside the export are read by their methods alone: the listing gave the rest (a 7,662-user domain was looked up again by id, 511 requests).
    const outsideIds = recorded[0]!.users.map((u) => u.id);
    expect(g.operations().filter((o) => decodeURIComponent(o.path).includes('$filter=id in ('))).toEqual([]);
    for (const uid of outsideIds) {
      const theirs = g.operations().filter((o) => o.path.includes(`/users/${uid}`)).map((o) => o.path.slice(o.path.indexOf(uid) + uid.length));
      expect(theirs.filter((p) => p === '' || p.startsWith('?') || p.endsWith('/signInPreferences'))).toEqual([]);
      expect(theirs.filter((p) => p === '/authentication/methods')).toHaveLength(1);
    }
  });

  it('with the whole export, --force-federation names admin@ and helpdesk@ (enabled, no method, not in the export) beside judy and zoe; a plain plan is refused for them', async () => {
    const t = testDir('fed-full');
    const g = fakeGraph({ tenant: contosoTenant() });
    const reasons = await refusal(g, FINAL);
    expect(reasons.filter((r) => r.includes('outside the export'))).toEqual([expect.stringMatching(/^--federated-mfa reject: 2 tenant user\(s\) of contoso\.com outside the export .*: admin@contoso\.com, helpdesk@contoso\.com\. /)]);
    const { plan } = await planTo(g, join(t.dir, 'full.plan'), { ...FINAL, forceFederation: true });
    expect(plan.findings.filter((f) => f.code === 'federation-forced').map((f) => f.message)).toEqual([
      expect.stringMatching(/: judy@contoso\.com, zoe@contoso\.com$/),
      'contoso.com: --force-federation: 2 tenant user(s) of the domain outside the export have no cloud MFA method they can use and will meet Entra MFA when it applies, with nothing to sign in with: admin@contoso.com, helpdesk@contoso.com',
    ]);
    expect(plan.cutover!.federation).toEqual([expect.objectContaining({ domain: 'contoso.com', planned: true, outside_export: 2 })]);
    expect(renderPlanTerminal(plan, { color: false, showPhoneNumbers: false })).toContain('\n  federation of contoso.com: 2 tenant user(s) of the domain outside the export, switched by the federation\n');
  });

  it('users outside the export with a cloud method are counted, not refused; users switched already by staged rollout are neither (their methods not even read)', async () => {
    const t = testDir('fed-method');
    const tenant = contosoTenant() as ContosoTenant & { featureRolloutPolicies?: unknown[] };
    // helpdesk@ has a phone; admin@ has nothing, but a group of theirs is attached to the enabled staged rollout policy already.
    (tenant.users.find((u) => u.userPrincipalName === 'helpdesk@contoso.com') as { methods?: unknown }).methods = { phone: [{ phoneType: 'mobile', phoneNumber: '+1 4255550190' }] };
    const pilot = '0b5e8c7e-58a4-4c1e-9d7e-2f4a1c3b9e01';
    tenant.groups.push({ id: pilot, displayName: 'Earlier pilot', members: [userId(tenant, 'admin@contoso.com')] });
    tenant.featureRolloutPolicies = [{ displayName: 'Earlier pilot', feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: false, appliesTo: [pilot] }];
    const g = fakeGraph({ tenant });
    const { plan } = await planTo(g, join(t.dir, 'full.plan'), { ...FINAL, forceFederation: true });
    expect(forcedOutside(plan.findings.map((f) => f.message))).toEqual([]);
    // helpdesk@ alone: admin@ is on Entra MFA already, whatever the federation does.
    expect(plan.cutover!.federation).toEqual([expect.objectContaining({ domain: 'contoso.com', planned: true, outside_export: 1 })]);
    const methodReads = (upn: string) => g.operations().filter((o) => o.path.includes(`/users/${userId(tenant, upn)}/authentication/methods`)).length;
    expect([methodReads('helpdesk@contoso.com'), methodReads('admin@contoso.com')]).toEqual([1, 0]);
    // One paged listing of the domain, an advanced query.
    expect(g.operations().filter((o) => decodeURIComponent(o.path).includes("endswith(userPrincipalName,'@contoso.com')"))).toHaveLength(1);
  });

  it('a saved plan that sets the federation without the record of them (made before 2.16, or the record taken out) is not the plan its sources give', async () => {
    const t = testDir('fed-old');
    const g = fakeGraph({ tenant: contosoTenant() });
    const file = join(t.dir, 'full.plan');
    await planTo(g, file, { ...FINAL, forceFederation: true });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const header = JSON.parse(lines[0]!) as { format_version: string; cutover_seen: { domainUsers?: unknown } };
    delete header.cutover_seen.domainUsers;
    for (const version of ['2.15', '2.16', '2.17', '2.18']) {
      const edited = join(t.dir, `v${version}.plan`);
      writeFileSync(edited, `${[JSON.stringify({ ...header, format_version: version }), ...lines.slice(1)].join('\n')}\n`);
      expect(await rederived(edited)).toMatch(/^it sets a domain's federation to reject the federated IdP's MFA without a record of the domain's tenant users outside the plan \(cutover_seen\.domainUsers, from format 2\.16\)/);
    }
  });

  it('the plan users\' methods are read once, and the domain is listed once', async () => {
    const t = testDir('fed-cost');
    const tenant = contosoTenant();
    const g = fakeGraph({ tenant });
    await planTo(g, join(t.dir, 'full.plan'), { ...FINAL, forceFederation: true });
    const methodReads = (upn: string) => g.operations().filter((o) => o.path.includes(`/users/${userId(tenant, upn)}/authentication/methods`)).length;
    expect(methodReads('alice@contoso.com')).toBe(1);
    expect(g.operations().filter((o) => decodeURIComponent(o.path).includes('endswith(userPrincipalName'))).toHaveLength(1);
  });
});
