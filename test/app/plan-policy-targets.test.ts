import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePlan } from '../../src/app/plan.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { StalePlanError } from '../../src/apply/run-apply.js';
import { applyFile, contosoRequest, planTo, resumeIn, rollbackIn, testDir } from '../helpers/migration.js';
import { policyOperations } from '../../src/apply/operations.js';
import { verifyOp } from '../../src/apply/op-verify.js';
import { planFileOf } from '../../src/app/plan.js';

const HEADER = 'username,enabled,phone_country_code,phone,phone_extension,backup_country_code,backup_phone,backup_extension,default_method';
const WAVE1 = '57d7fdeb-317f-5188-8dfd-bed4ed377a46'; // alice, bob, carol, grace, niaj
const ALL = 'a30a9385-f524-51d1-a72f-a44b8c6422b7'; // Wave 1 (nested), dave, erin, frank, ...


/** An export of the rows given (tenant users of the Contoso emulator tenant), with no settings.json: only the users' own methods drive the policy. */
function exportOf(rows: string[]): string {
  const t = testDir('policy-targets');
  writeFileSync(join(t.dir, 'users.csv'), [HEADER, ...rows, ''].join('\n'));
  return t.dir;
}

async function plan(g: FakeGraph, source: string, over: Record<string, unknown> = {}): Promise<Plan> {
  return (await makePlan({ ...contosoRequest(source, []), ...over, graph: g.client({ readOnly: true }) })).built.plan;
}

const statusOf = (p: Plan, upn: string) => p.users.find((s) => s.user === upn)!;
const findingsOf = (p: Plan, upn: string, code: string) => p.findings.filter((f) => f.user === upn && f.code === code);
const defaultSet = (p: Plan, upn: string) => p.user_changes.find((c) => c.user === upn && c.resource === 'signInPreferences' && c.action !== 'no-op')?.after?.userPreferredMethodForSecondaryAuthentication;

describe('what each user can sign in with is judged by the policy as the plan leaves it', () => {
  it('a phone migrated for a user whose default is the mobile app turns voice on: Microsoft says migrated methods cannot be used unless enabled', async () => {
    const g = fakeGraph();
    // The emulator's default policy, as a new tenant's: voice and SMS off.
    const p = await plan(g, exportOf(['carol@contoso.com,1,1,4255550103,,,,,mobile_app']), { rolloutGroups: ['MFA Staged Rollout'] });
    const voice = p.policy_changes.find((c) => /\/Voice$/.test(c.target) && c.property === 'state');
    expect(voice).toMatchObject({ after: 'enabled', rule: 'POL-VOICE' });
    expect(voice!.because).toMatch(/1 migrating user\(s\) will have a phone/);
    expect(statusOf(p, 'carol@contoso.com').methods_after).toEqual(['mobilePhone']);
    expect(findingsOf(p, 'carol@contoso.com', 'method-not-enabled')).toEqual([]);
    // Switched: she has a method she can use.
    expect(p.user_changes.some((c) => c.user === 'carol@contoso.com' && c.resource.startsWith('rolloutGroup/') && c.action === 'create')).toBe(true);
  });

  it('--target-group: a user outside the group gets no method from it, is not switched, and no default points at a method the policy keeps from them', async () => {
    const g = fakeGraph();
    const source = exportOf(['bob@contoso.com,1,1,4255550102,,,,,text_message', 'dave@contoso.com,1,1,4255550104,,,,,text_message']);
    const p = await plan(g, source, { targetGroup: 'MFA Migration Wave 1', rolloutGroups: ['MFA Staged Rollout'] });
    expect(p.policy_changes.find((c) => /\/Sms$/.test(c.target) && c.property === 'includeTargets')?.after).toEqual([expect.objectContaining({ id: WAVE1 })]);

    // bob is in Wave 1: SMS and voice are his.
    expect(statusOf(p, 'bob@contoso.com').methods_after).toEqual(['mobilePhone']);
    expect(defaultSet(p, 'bob@contoso.com')).toBe('sms');
    // dave is not: his phone is written, but he cannot use it.
    expect(p.user_changes.some((c) => c.user === 'dave@contoso.com' && c.resource === 'phoneMethods/mobile' && c.action === 'create')).toBe(true);
    expect(statusOf(p, 'dave@contoso.com').methods_after).toEqual([]);
    expect(defaultSet(p, 'dave@contoso.com')).toBeUndefined();
    const [notEnabled] = findingsOf(p, 'dave@contoso.com', 'method-not-enabled');
    expect(notEnabled).toMatchObject({ severity: 'warning', rule: 'POL-USER-NOT-TARGETED' });
    expect(notEnabled!.message).toMatch(/mobile phone/);
    expect(findingsOf(p, 'dave@contoso.com', 'not-switched')).toHaveLength(1);
    expect(p.user_changes.some((c) => c.user === 'dave@contoso.com' && c.resource.startsWith('rolloutGroup/'))).toBe(false);
    expect(p.summary.user_status?.no_usable_method).toBe(1);
  });

  it('a nested group counts: a member of a group inside the target group is targeted', async () => {
    const g = fakeGraph();
    const p = await plan(g, exportOf(['carol@contoso.com,1,1,4255550103,,,,,phone_call']), { targetGroup: 'MFA Migration All' });
    expect(p.policy_changes.find((c) => /\/Voice$/.test(c.target) && c.property === 'includeTargets')?.after).toEqual([expect.objectContaining({ id: ALL })]);
    expect(statusOf(p, 'carol@contoso.com').methods_after).toEqual(['mobilePhone']);
    expect(defaultSet(p, 'carol@contoso.com')).toBe('voiceMobile');
  });

  it('an exclude target wins over all users: the excluded user cannot use the method the policy already enables', async () => {
    const g = fakeGraph();
    const patched = await g.raw.patch('/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Voice', {
      '@odata.type': '#microsoft.graph.voiceAuthenticationMethodConfiguration',
      state: 'enabled',
      includeTargets: [{ id: 'all_users', targetType: 'group' }],
      excludeTargets: [{ id: WAVE1, targetType: 'group' }],
    });
    expect(patched.status).toBeLessThan(300);
    const p = await plan(g, exportOf(['carol@contoso.com,1,1,4255550103,,,,,phone_call', 'dave@contoso.com,1,1,4255550104,,,,,phone_call']));
    // Voice is on for all users already: the plan leaves it alone.
    expect(p.policy_changes.filter((c) => /\/Voice$/.test(c.target))).toEqual([]);
    expect(statusOf(p, 'dave@contoso.com').methods_after).toEqual(['mobilePhone']);
    expect(defaultSet(p, 'dave@contoso.com')).toBe('voiceMobile');
    expect(statusOf(p, 'carol@contoso.com').methods_after).toEqual([]);
    expect(defaultSet(p, 'carol@contoso.com')).toBeUndefined();
    expect(findingsOf(p, 'carol@contoso.com', 'default-method-unset')[0]?.message).toMatch(/the authentication methods policy does not enable voiceMobile/);
  });

  it('a default the tenant has and keeps (if-unset) that the policy keeps from the user is said', async () => {
    const g = fakeGraph();
    const niaj = '9e5966d4-89a7-50b5-acaa-03fb97b912a4'; // Microsoft Authenticator registered, in Wave 1
    expect((await g.raw.patch(`/beta/users/${niaj}/authentication/signInPreferences`, { userPreferredMethodForSecondaryAuthentication: 'push' })).status).toBeLessThan(300);
    expect(
      (
        await g.raw.patch('/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator', {
          '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration',
          excludeTargets: [{ id: WAVE1, targetType: 'group' }],
        })
      ).status,
    ).toBeLessThan(300);
    const p = await plan(g, exportOf(['niaj@contoso.com,1,1,4255550114,,,,,mobile_app']));
    expect(defaultSet(p, 'niaj@contoso.com')).toBeUndefined();
    const [unusable] = findingsOf(p, 'niaj@contoso.com', 'default-method-unusable');
    expect(unusable?.message).toMatch(/the tenant's default push is kept, but the authentication methods policy does not let the user use it/);
  });

  it('a saved plan records the memberships it judged by, so apply re-derives it as made', async () => {
    const g = fakeGraph();
    const source = exportOf(['bob@contoso.com,1,1,4255550102,,,,,text_message', 'dave@contoso.com,1,1,4255550104,,,,,text_message']);
    const t = testDir('policy-targets-apply');
    const file = join(t.dir, 'wave.plan');
    await planTo(g, file, { ...contosoRequest(source, []), targetGroup: 'MFA Migration Wave 1' });
    const applied = await applyFile(g, file, join(t.dir, 'state'));
    expect(applied.outcome.state).toBe('completed');
    expect(applied.outcome.counts.failed).toBe(0);
    expect(applied.outcome.counts.done).toBeGreaterThan(0);
  });

  it('apply reads the memberships and method targets again: a user taken out of the target group since is stale, a target changed since refuses the plan', async () => {
    const source = exportOf(['bob@contoso.com,1,1,4255550102,,,,,text_message', 'carol@contoso.com,1,1,4255550103,,,,,text_message']);
    const t = testDir('policy-targets-stale');
    const file = join(t.dir, 'wave.plan');

    const g = fakeGraph();
    const bobId = ((await g.raw.get('/v1.0/users/bob@contoso.com')).body as { id: string }).id;
    await planTo(g, file, { ...contosoRequest(source, []), targetGroup: 'MFA Migration Wave 1' });
    expect((await g.raw.delete(`/v1.0/groups/${WAVE1}/members/${bobId}/$ref`)).status).toBe(204);
    const err = (await applyFile(g, file, join(t.dir, 's1')).catch((e: unknown) => e)) as StalePlanError;
    expect(err).toBeInstanceOf(StalePlanError);
    expect(err.stale).toEqual([expect.objectContaining({ user: 'bob@contoso.com', target: 'policy target groups', planned: WAVE1, now: '(none)' })]);
    // --skip-stale leaves bob out and writes carol.
    const skipped = await applyFile(g, file, join(t.dir, 's2'), { skipStale: true });
    expect(skipped.outcome.users.find((u) => u.upn === 'bob@contoso.com')?.outcome).toBe('skipped');
    expect(skipped.outcome.counts.failed).toBe(0);

    const h = fakeGraph();
    await planTo(h, file, { ...contosoRequest(source, []), targetGroup: 'MFA Migration Wave 1' });
    expect(
      (await h.raw.patch('/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/HardwareOath', { '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethodConfiguration', state: 'enabled', includeTargets: [{ id: WAVE1, targetType: 'group' }] }))
        .status,
    ).toBeLessThan(300);
    const tenantWide = (await applyFile(h, file, join(t.dir, 's3'), { skipStale: true }).catch((e: unknown) => e)) as StalePlanError;
    expect(tenantWide).toBeInstanceOf(StalePlanError);
    expect(tenantWide.stale.map((s) => s.target)).toEqual(expect.arrayContaining(['authenticationMethodConfigurations/HardwareOath.state', 'authenticationMethodConfigurations/HardwareOath.includeTargets']));
  });

  it("Authenticator's targets read with properties the schema dropped (numberMatchingRequiredState ...) are written back without them, and the change reads back done (a review: Graph refuses them in a PATCH)", async () => {
    const g = fakeGraph({ behaviour: { authenticatorTargetLegacyProperties: true } });
    const on = await g.raw.patch('/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator', {
      '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration',
      state: 'enabled',
      includeTargets: [{ id: WAVE1, targetType: 'group', isRegistrationRequired: false, authenticationMode: 'any' }],
    });
    expect(on.status).toBeLessThan(300);
    const read = await g.raw.get('/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator');
    expect((read.body as { includeTargets: Record<string, unknown>[] }).includeTargets[0]).toMatchObject({ id: WAVE1, numberMatchingRequiredState: 'default' });

    const source = exportOf(['carol@contoso.com,1,1,4255550103,,,,,mobile_app']);
    const t = testDir('policy-targets-legacy');
    const file = join(t.dir, 'p.plan');
    const { plan: made, made: madePlan } = await planTo(g, file, { ...contosoRequest(source, []), targetGroup: 'MFA Migration All' });
    const change = made.policy_changes.find((c) => /\/MicrosoftAuthenticator$/.test(c.target) && c.property === 'includeTargets');
    expect(change?.after).toEqual([expect.objectContaining({ id: WAVE1 }), expect.objectContaining({ id: ALL })]);

    const applied = await applyFile(g, file, join(t.dir, 's'));
    expect(applied.outcome.counts.failed).toBe(0);
    expect(applied.outcome.state).toBe('completed');
    const sent = g.operations().filter((o) => o.method === 'PATCH' && o.path.endsWith('/MicrosoftAuthenticator')) as unknown as { body: { includeTargets: Record<string, unknown>[] } }[];
    expect(sent.at(-1)?.body.includeTargets.map((x) => Object.keys(x).sort())).toEqual([
      ['authenticationMode', 'id', 'isRegistrationRequired', 'targetType'],
      ['authenticationMode', 'id', 'isRegistrationRequired', 'targetType'],
    ]);
    const targetsNow = async () => ((await g.raw.get('/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator')).body as { includeTargets: { id: string }[] }).includeTargets.map((x) => x.id);
    expect(await targetsNow()).toEqual([WAVE1, ALL]);
    // Graph reads the targets the run wrote back with the dropped properties: a read-back finds the change
    // done, and rollback does not take them for a change made since the run.
    const policyOp = policyOperations(planFileOf(madePlan).policy).find((o) => o.resource.endsWith('/MicrosoftAuthenticator'))!;
    expect(await verifyOp(policyOp, g.client())).toMatchObject({ done: true });
    const back = await rollbackIn(g, join(t.dir, 's'), applied.outcome.runId);
    expect(back.outcome.counts.failed).toBe(0);
    expect(back.outcome.changedSince).toEqual([]);
    expect(await targetsNow()).toEqual([WAVE1]);
  });

  /** Voice and SMS on, for the group given (all users when none). */
  async function phonesOnFor(g: FakeGraph, group?: string) {
    for (const id of ['Voice', 'Sms']) {
      const res = await g.raw.patch(`/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/${id}`, {
        '@odata.type': `#microsoft.graph.${id === 'Voice' ? 'voice' : 'sms'}AuthenticationMethodConfiguration`,
        state: 'enabled',
        includeTargets: [{ id: group ?? 'all_users', targetType: 'group' }],
      });
      expect(res.status).toBeLessThan(300);
    }
  }

  it('a plan that changes nothing of the policy is not called stale for the target group it recorded (apply reads the same groups the plan did)', async () => {
    const g = fakeGraph();
    await phonesOnFor(g);
    const source = exportOf(['bob@contoso.com,1,1,4255550102,,,,,text_message', 'dave@contoso.com,1,1,4255550104,,,,,text_message']);
    const t = testDir('policy-targets-same');
    const file = join(t.dir, 'p.plan');
    const { plan: made } = await planTo(g, file, { ...contosoRequest(source, []), targetGroup: 'MFA Migration Wave 1' });
    expect(made.policy_changes.filter((c) => /\/(Voice|Sms)$/.test(c.target))).toEqual([]);
    const applied = await applyFile(g, file, join(t.dir, 's'));
    expect(applied.outcome.state).toBe('completed');
  });

  it('a resume reads again what each wave was judged by: a user taken out of the group since is stale; a method target changed since refuses the resume', async () => {
    const source = exportOf(['alice@contoso.com,1,1,4255550101,,,,,phone_call', 'bob@contoso.com,1,1,4255550102,,,,,phone_call']);
    const t = testDir('policy-targets-resume');
    const file = join(t.dir, 'p.plan');

    const g = fakeGraph();
    await phonesOnFor(g, WAVE1);
    await planTo(g, file, { ...contosoRequest(source, []) });
    const first = await applyFile(g, file, join(t.dir, 's1'), { batchSize: 1, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    const bobId = ((await g.raw.get('/v1.0/users/bob@contoso.com')).body as { id: string }).id;
    expect((await g.raw.delete(`/v1.0/groups/${WAVE1}/members/${bobId}/$ref`)).status).toBe(204);
    const resumed = await resumeIn(g, join(t.dir, 's1'));
    expect(resumed.outcome.users.find((u) => u.upn === 'bob@contoso.com')?.outcome).toBe('skipped');

    const h = fakeGraph();
    await phonesOnFor(h, WAVE1);
    await planTo(h, file, { ...contosoRequest(source, []) });
    expect((await applyFile(h, file, join(t.dir, 's2'), { batchSize: 1, waves: 1 })).outcome.state).toBe('stopped');
    await phonesOnFor(h, ALL);
    const refused = (await resumeIn(h, join(t.dir, 's2')).catch((e: unknown) => e)) as StalePlanError;
    expect(refused).toBeInstanceOf(StalePlanError);
    // (Voice's targets are the plan's own change: its step is done; SMS's were the plan's to judge by.)
    expect(refused.stale.map((s) => s.target)).toEqual(['authenticationMethodConfigurations/Sms.includeTargets']);
  });
});
