import { describe, expect, it } from 'vitest';
import { planOptionsText } from '../../src/plan/options-text.js';

/** Found by an auditor's black-box test: the report's Options line left out the cutover (a forced federation among them). */
describe('planOptionsText', () => {
  const g = (name: string, id: string) => ({ displayName: name, id });
  it('says every option that shapes the plan, the cutover included', () => {
    const o = {
      default_method: 'if-unset',
      prune: false,
      include_email: true,
      target_group: g('all users', 'all_users'),
      scope_group: g('Wave 1', 'g1'),
      rollout_groups: [g('MFA Staged Rollout', 'g2'), g('Rollout 2', 'g3')],
      federated_mfa: 'reject' as const,
      force_federation: true,
      campaign_group: g('SMS users', 'g4'),
    };
    expect(planOptionsText(o, true)).toEqual([
      'default method if-unset',
      'prune no',
      'include email yes',
      'target all users (all_users)',
      'scope group Wave 1 (g1)',
      'rollout groups MFA Staged Rollout (g2), Rollout 2 (g3)',
      'federated MFA reject (forced: --force-federation)',
      'campaign group SMS users (g4)',
    ]);
    expect(planOptionsText({ default_method: 'never', prune: true, include_email: false, target_group: g('all users', 'all_users') }, false)).toEqual(['default method never', 'prune yes', 'include email no', 'target all users']);
  });
});
