import type * as Graph from '@microsoft/microsoft-graph-types-beta';
import { describe, expect, it } from 'vitest';
import type { PolicyChange } from '../../src/mapping/policy-rules.js';
import { enabledDefaultsFor, phoneUsable, userPolicy } from '../../src/model/policy-view.js';
import { policyAfter, policyTargetGroups } from '../../src/model/method-policy.js';

const config = (id: string, state: string, include: unknown[], extra: Record<string, unknown> = {}) => ({ id, state, includeTargets: include, ...extra });
const policy = (...configs: ReturnType<typeof config>[]): Graph.AuthenticationMethodsPolicy => ({ authenticationMethodConfigurations: configs as Graph.AuthenticationMethodConfiguration[] });
const change = (target: string, property: string, after: unknown): PolicyChange => ({ target: `authenticationMethodConfigurations/${target}`, property, before: null, after, rule: 'POL-VOICE', because: '', setting: '' });
const everyone = [{ id: 'all_users', targetType: 'group' }];

describe('policyAfter / userPolicy', () => {
  it('reads a method as the plan leaves it: its changes override what the tenant has', () => {
    const view = policyAfter(policy(config('Voice', 'disabled', everyone)), [change('Voice', 'state', 'enabled'), change('Voice', 'includeTargets', [{ id: 'g1', targetType: 'group' }])]);
    expect(userPolicy(view, 'u1', ['g1']).voice).toBe(true);
    expect(userPolicy(view, 'u2', []).voice).toBe(false);
    expect(policyTargetGroups(view)).toEqual(['g1']);
  });

  it('a disabled method is nobody’s, whatever it targets', () => {
    const view = policyAfter(policy(config('Sms', 'disabled', everyone)), []);
    expect(userPolicy(view, 'u1', []).sms).toBe(false);
  });

  it('a user target names the user; an exclude target wins over an include', () => {
    const view = policyAfter(policy(config('MicrosoftAuthenticator', 'enabled', [{ id: 'u1', targetType: 'user' }, { id: 'g1', targetType: 'group' }], { excludeTargets: [{ id: 'g2', targetType: 'group' }] })), []);
    expect(userPolicy(view, 'u1', []).authenticator).toBe(true);
    expect(userPolicy(view, 'u3', ['g1']).authenticator).toBe(true);
    expect(userPolicy(view, 'u3', ['g1', 'g2']).authenticator).toBe(false);
    expect(userPolicy(view, 'u1', ['g2']).authenticator).toBe(false);
    // Ids compare case aside, as Graph's do.
    expect(userPolicy(view, 'U1', []).authenticator).toBe(true);
    expect(userPolicy(view, 'u3', ['G1']).authenticator).toBe(true);
    // Groups to read: the group targets, not the user one.
    expect(policyTargetGroups(view)).toEqual(['g1', 'g2']);
  });

  it('office phones need voice and isOfficePhoneAllowed; a mobile is usable by voice or SMS', () => {
    const withOffice = userPolicy(policyAfter(policy(config('Voice', 'enabled', everyone, { isOfficePhoneAllowed: true })), []), 'u', []);
    const without = userPolicy(policyAfter(policy(config('Voice', 'enabled', everyone)), []), 'u', []);
    const smsOnly = userPolicy(policyAfter(policy(config('Sms', 'enabled', everyone)), []), 'u', []);
    expect([phoneUsable(withOffice, 'office'), phoneUsable(without, 'office'), phoneUsable(without, 'alternateMobile')]).toEqual([true, false, true]);
    expect([phoneUsable(smsOnly, 'mobile'), phoneUsable(smsOnly, 'alternateMobile')]).toEqual([true, false]);
  });

  it('software OATH tokens count through Authenticator’s OATH codes only for users Authenticator targets', () => {
    const view = policyAfter(policy(config('MicrosoftAuthenticator', 'enabled', [{ id: 'g1', targetType: 'group' }], { isSoftwareOathEnabled: true })), []);
    expect(userPolicy(view, 'u', ['g1']).softwareOath).toBe(true);
    expect(userPolicy(view, 'u', []).softwareOath).toBe(false);
  });

  it('the oath default is enabled by the kind of token the user holds', () => {
    const p = userPolicy(policyAfter(policy(config('SoftwareOath', 'enabled', everyone), config('HardwareOath', 'disabled', everyone)), []), 'u', []);
    expect(enabledDefaultsFor(p, { hardware: true, software: false }).has('oath')).toBe(false);
    expect(enabledDefaultsFor(p, { hardware: true, software: true }).has('oath')).toBe(true);
    expect(enabledDefaultsFor(p, { hardware: false, software: false }).has('oath')).toBe(true);
  });
});
