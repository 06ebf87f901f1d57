import { describe, expect, it } from 'vitest';
import { rolloutReach, rolloutScope } from '../../src/model/rollout-reach.js';
import type { TenantRolloutPolicy } from '../../src/model/tenant.js';

/** Whom staged rollout switches: the one judgement plan and apply share. */

const G1 = '0B5E8C7E-58A4-4C1E-9D7E-2F4A1C3B9E01';
const G2 = 'c1454b73-4610-5b76-8c1f-369a14e89526';
const policy = (over: Partial<TenantRolloutPolicy>): TenantRolloutPolicy => ({ id: 'p1', displayName: 'Pilot', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G1], ...over });

describe('rolloutReach', () => {
  it('compares group ids whatever their case (Graph answers a GUID in either)', () => {
    const reach = rolloutReach(policy({}), []);
    expect(reach([G1.toLowerCase()])).toBe(true);
    expect(rolloutReach(policy({ appliesTo: [G1.toLowerCase()] }), [G2.toUpperCase()])([G2, 'other'])).toBe(true);
    expect(reach([G2])).toBe(false);
  });

  it('a disabled policy switches no one, unless the plan attaches groups (and so enables it)', () => {
    expect(rolloutReach(policy({ isEnabled: false }), [])([G1])).toBe(false);
    expect(rolloutScope(policy({ isEnabled: false }), [])).toEqual([]);
    expect(rolloutReach(policy({ isEnabled: false }), [G2])([G1])).toBe(true);
    expect(rolloutReach(null, [G2])([G2])).toBe(true);
    expect(rolloutReach(null, [])([G2])).toBe(false);
  });

  it('a policy for the whole organisation switches everyone once enabled, by the plan or before it', () => {
    expect(rolloutScope(policy({ isAppliedToOrganization: true }), [])).toBe('organisation');
    expect(rolloutReach(policy({ isAppliedToOrganization: true }), [])([])).toBe(true);
    expect(rolloutReach(policy({ isEnabled: false, isAppliedToOrganization: true }), [G2])([])).toBe(true);
    expect(rolloutReach(policy({ isEnabled: false, isAppliedToOrganization: true }), [])([])).toBe(false);
  });
});
