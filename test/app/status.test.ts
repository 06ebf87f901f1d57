import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutoverStatus } from '../../src/app/status.js';
import { renderStatus } from '../../src/cli/views/status-table.js';
import { fakeGraph } from '../helpers/graph.js';
import { CONTOSO } from '../helpers/migration.js';
import { ROOT } from '../helpers/run-cli.js';

// Every read permission status could want, as an application: what Graph still refuses an app is staged rollout.
const APP = {
  appId: '11111111-2222-3333-4444-555555555555',
  appDisplayName: 'status app',
  roles: ['Organization.Read.All', 'User.Read.All', 'Policy.Read.All', 'Policy.Read.AuthenticationMethod', 'UserAuthenticationMethod.Read.All', 'GroupMember.Read.All', 'Group.Read.All', 'Domain.Read.All', 'Directory.Read.All'],
};

const contoso = () => JSON.parse(readFileSync(join(ROOT, 'fixtures/contoso/tenant.json'), 'utf8')) as Record<string, unknown>;

describe('cutoverStatus', () => {
  /** A black-box test: status under an app-only sign-in stopped at the rollout policies' 403, while doctor called it ready. */
  it('an application, which Graph lets read no staged rollout, is told the rest, and why no user shows switched by a rollout group', async () => {
    const g = fakeGraph({ tenant: { ...contoso(), identity: APP } });
    const s = await cutoverStatus({ source: CONTOSO, graph: g.client({ readOnly: true }), concurrency: 4 });
    expect(g.operations().some((o) => o.path.includes('featureRolloutPolicies') && o.status === 403)).toBe(true);
    expect(s.rollout_policy).toBeNull();
    expect(s.rollout_unread).toMatch(/^Graph refused to list the staged rollout policies \(403\): .*Policy\.Read\.HybridAuthentication.*no user is shown as switched by a rollout group/);
    expect(s.read_as).toBe('status app');
    expect(s.counts.users).toBe(40);
    expect(s.federation).toEqual([{ domain: 'contoso.com', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' }]);
    expect(renderStatus(s)).toMatch(/^ {2}staged rollout \(multiFactorAuthentication\): not read: Graph refused to list/m);
    // An admin signed in reads it: nothing to say.
    const admin = await cutoverStatus({ source: CONTOSO, graph: fakeGraph().client({ readOnly: true }), concurrency: 4 });
    expect(admin.rollout_unread).toBeNull();
    expect(renderStatus(admin)).toMatch(/^ {2}staged rollout \(multiFactorAuthentication\): no policy$/m);
  });

  /** SMS on for all users (a fresh tenant has it off), so the phones the Contoso tenant holds count as cloud methods. */
  const withSms = (accountEnabled: Record<string, boolean>) => {
    const t = contoso() as { users: { userPrincipalName: string; accountEnabled?: boolean }[] };
    for (const u of t.users) if (u.userPrincipalName in accountEnabled) u.accountEnabled = accountEnabled[u.userPrincipalName]!;
    return { ...t, authenticationMethodsPolicy: { authenticationMethodConfigurations: [{ id: 'Sms', state: 'enabled' }] } };
  };
  const rowText = (text: string, upn: string) => text.split('\n').find((l) => l.startsWith(upn))!;

  /** A black-box test: rupert, skipped by the plan, showed MIGRATED yes next to "not migrated". */
  it('a user disabled in MFA Server who holds a cloud phone: migrated, as the cloud has it, and the note says the plan skipped them, not that nothing is there', async () => {
    const s = await cutoverStatus({ source: CONTOSO, graph: fakeGraph({ tenant: withSms({ 'rupert@contoso.com': true }) }).client({ readOnly: true }), concurrency: 4 });
    const rupert = s.users.find((u) => u.user === 'rupert@contoso.com')!;
    expect(rupert).toMatchObject({ migrated: true, methods: ['mobile'], account_enabled: true, blocked: 'disabled in MFA Server: the plan skips them (USER-DISABLED) and migrates nothing; their cloud methods were in the tenant already' });
    const text = rowText(renderStatus(s), 'rupert@contoso.com');
    expect(text).toMatch(/^rupert@contoso\.com +yes +no +yes +mobile +disabled in MFA Server: the plan skips them \(USER-DISABLED\)/);
    expect(text).not.toMatch(/not migrated/);
    // With nothing in the cloud, the note says only that the plan skips them.
    expect(s.users.find((u) => u.user === 'ravi@contoso.com')).toMatchObject({ migrated: false, blocked: expect.stringMatching(/disabled in MFA Server: the plan skips them \(USER-DISABLED\) and migrates nothing$/) });
  });

  /** A black-box test: a migrated user whose Entra account is disabled was counted "migrated and ready to switch", and not said to be disabled. */
  it('a migrated user whose Entra account is disabled is said so and blocked, not ready: they cannot sign in', async () => {
    const read = (enabled: boolean) => cutoverStatus({ source: CONTOSO, graph: fakeGraph({ tenant: withSms({ 'igor@contoso.com': enabled }) }).client({ readOnly: true }), concurrency: 4 });
    const [on, off] = [await read(true), await read(false)];
    expect(on.users.find((u) => u.user === 'igor@contoso.com')).toMatchObject({ migrated: true, account_enabled: true, blocked: null });
    const igor = off.users.find((u) => u.user === 'igor@contoso.com')!;
    expect(igor).toMatchObject({ migrated: true, switched: false, account_enabled: false, blocked: 'account disabled in Entra (accountEnabled false): they cannot sign in; enable the account first' });
    expect([off.counts.ready, off.counts.blocked, off.counts.migrated]).toEqual([on.counts.ready - 1, on.counts.blocked + 1, on.counts.migrated]);
    const text = renderStatus(off);
    expect(rowText(text, 'igor@contoso.com')).toMatch(/^igor@contoso\.com \[account disabled\] +yes +no +yes +mobile +account disabled in Entra/);
    expect(text.split('\n')[1]).toContain(`${on.counts.ready - 1} migrated and ready to switch`);
    // A disabled account that is switched is said so on its row too, and blocks nothing (no MFA is asked of it).
    const fed = withSms({ 'igor@contoso.com': false }) as ReturnType<typeof withSms> & { domains: { federation?: { federatedIdpMfaBehavior?: string } }[] };
    for (const d of fed.domains) if (d.federation) d.federation.federatedIdpMfaBehavior = 'rejectMfaByFederatedIdp';
    const switched = await cutoverStatus({ source: CONTOSO, graph: fakeGraph({ tenant: fed }).client({ readOnly: true }), concurrency: 4 });
    expect(switched.users.find((u) => u.user === 'igor@contoso.com')).toMatchObject({ switched: true, account_enabled: false, blocked: null });
    expect(rowText(renderStatus(switched), 'igor@contoso.com')).toMatch(/^igor@contoso\.com \[account disabled\] +yes +yes \(federation\)/);
  });
});
