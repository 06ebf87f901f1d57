import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, rollbackIn, tempDir } from '../helpers/migration.js';

const SMS = '/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms';

/** The plan enables SMS in a new tenant, whose SMS target has sign-in on (Graph's default). */
describe('apply: SMS the plan turns on is for MFA only', () => {
  const tmp = tempDir('sms-sign-in');
  afterAll(() => tmp.cleanup());

  it('writes isUsableForSignIn false, so migrated mobiles are not SMS sign-in ready; rollback restores the targets', async () => {
    const g = fakeGraph();
    const before = (await g.raw.get(SMS)).body;
    expect(before).toMatchObject({ state: 'disabled', includeTargets: [{ id: 'all_users', isUsableForSignIn: true }] });
    const { plan } = await planTo(g, join(tmp.dir, 'p.plan'));
    expect(plan.policy_changes.filter((c) => c.target.endsWith('/Sms')).map((c) => [c.property, c.rule])).toEqual([
      ['state', 'POL-SMS'],
      ['includeTargets', 'POL-SMS-SIGN-IN'],
    ]);
    const { outcome } = await applyFile(g, join(tmp.dir, 'p.plan'), join(tmp.dir, 'state'));
    expect(outcome.state).toBe('completed');
    expect((await g.raw.get(SMS)).body).toMatchObject({ state: 'enabled', includeTargets: [{ id: 'all_users', isUsableForSignIn: false }] });
    const mobileUser = plan.user_changes.find((c) => c.resource === 'phoneMethods/mobile' && c.action === 'create')!;
    const phones = (await g.raw.get(`/v1.0/users/${mobileUser.user_id}/authentication/phoneMethods`)).body.value as { phoneType: string; smsSignInState: string }[];
    expect(phones.find((p) => p.phoneType === 'mobile')!.smsSignInState).toBe('notAllowedByPolicy');

    const rolled = await rollbackIn(g, join(tmp.dir, 'state'), outcome.runId);
    expect(rolled.outcome.state).toBe('completed');
    expect((await g.raw.get(SMS)).body).toEqual(before);
  }, 60_000);
});
