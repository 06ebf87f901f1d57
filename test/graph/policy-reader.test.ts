import { describe, expect, it } from 'vitest';
import { changedSince } from '../../src/apply/rollback-inverses.js';
import type { Operation } from '../../src/apply/operations.js';
import { findStale } from '../../src/apply/staleness.js';
import { policyAsRead, readHardwareOathPolicy, savedAsRead } from '../../src/graph/policy-reader.js';
import type { TenantSnapshot } from '../../src/model/tenant.js';
import { stateFingerprint } from '../../src/plan/fingerprint.js';
import { fakeGraph } from '../helpers/graph.js';

const TARGET = 'authenticationMethodConfigurations/MicrosoftAuthenticator';
const G = '11111111-1111-4111-8111-111111111111';
/** A target as Graph reads it (its own GET samples), and as the tool keeps it. */
const asGraphReads = { id: G, targetType: 'group', isRegistrationRequired: false, authenticationMode: 'any', outlookMobileAllowedState: 'default', displayAppInformationRequiredState: 'default', numberMatchingRequiredState: 'default' };
const asKept = { id: G, targetType: 'group', isRegistrationRequired: false, authenticationMode: 'any' };

const tenantWith = (targets: unknown[]): TenantSnapshot => ({
  tenant: { id: 't', displayName: '' },
  policy: policyAsRead({ authenticationMethodConfigurations: [{ id: 'MicrosoftAuthenticator', state: 'enabled', includeTargets: targets } as never] }),
  users: new Map(),
  hardwareTokens: new Map(),
});

describe("Authenticator's targets Graph reads with properties the schema dropped", () => {
  it('are read without them, and only Authenticator\'s include targets lose them', () => {
    expect((tenantWith([asGraphReads]).policy.authenticationMethodConfigurations![0] as { includeTargets: unknown[] }).includeTargets).toEqual([asKept]);
    expect(savedAsRead('authenticationMethodConfigurations/Sms', 'includeTargets', [asGraphReads])).toEqual([asGraphReads]);
    expect(savedAsRead(TARGET, 'state', 'enabled')).toBe('enabled');
  });

  it('saved with them by an earlier version (a plan, a run), match the tenant as read now: neither stale nor changed since the run (a review)', () => {
    const tenant = tenantWith([asGraphReads]);
    const change = { target: TARGET, property: 'includeTargets', before: [asGraphReads], after: [asGraphReads, { ...asKept, id: 'all_users' }], rule: 'POL-AUTHENTICATOR' as const, because: '', setting: '', state_fingerprint: stateFingerprint([asGraphReads]) };
    expect(findStale([], [change], tenant)).toEqual([]);
    // Changed for real since: still stale.
    expect(findStale([], [change], tenantWith([{ ...asGraphReads, authenticationMode: 'push' }]))).toHaveLength(1);
    const undo = { id: 'rollback/policy', kind: 'policy-config', resource: TARGET, before: { includeTargets: [asGraphReads] }, after: { includeTargets: [] }, dependsOn: [] } as unknown as Operation;
    expect(changedSince(undo, tenant)).toBeUndefined();
    expect(changedSince(undo, tenantWith([{ ...asGraphReads, id: 'all_users' }]))).toBe('includeTargets changed since the run');
  });
});

describe('readHardwareOathPolicy: what tells whether a refused activation may wait for the policy', () => {
  it("reads the HardwareOath method's state and the policy's lastModifiedDateTime, which moves when a method's configuration changes", async () => {
    const g = fakeGraph();
    const before = await readHardwareOathPolicy(g.client({ readOnly: true }));
    expect(before.enabled).toBe(false);
    expect(before.lastModified).toBeLessThanOrEqual(Date.now());
    const at = Date.now();
    await g.raw.patch('/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/hardwareOath', { '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethodConfiguration', state: 'enabled' });
    const after = await readHardwareOathPolicy(g.client({ readOnly: true }));
    expect(after.enabled).toBe(true);
    expect(after.lastModified).toBeGreaterThanOrEqual(at - 1);
  });

  it('a policy read with no lastModifiedDateTime has none (the wait is then counted from the first refusal)', async () => {
    const client = { get: async () => ({ authenticationMethodConfigurations: [{ id: 'HardwareOath', state: 'enabled' }], lastModifiedDateTime: null }) } as never;
    expect(await readHardwareOathPolicy(client)).toEqual({ enabled: true });
  });
});
