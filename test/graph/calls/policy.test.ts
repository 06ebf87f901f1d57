import { describe, expect, it } from 'vitest';
import { patchMethodConfiguration } from '../../../src/graph/calls/policy.js';

describe('patchMethodConfiguration', () => {
  it("sends a v1.0 configuration's targets with v1.0's properties only: a target list saved as Graph read it (an earlier plan, a run's before) carries Authenticator's dropped ones", () => {
    const read = { id: 'all_users', targetType: 'group', isRegistrationRequired: false, authenticationMode: 'any', numberMatchingRequiredState: 'default', outlookMobileAllowedState: 'default' };
    const call = patchMethodConfiguration('MicrosoftAuthenticator', { state: 'enabled', includeTargets: [read], excludeTargets: [{ id: 'g', targetType: 'group', isRegistrationRequired: false }] });
    expect(call).toMatchObject({ method: 'PATCH', version: 'v1.0' });
    expect(call.body).toEqual({
      '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration',
      state: 'enabled',
      includeTargets: [{ id: 'all_users', targetType: 'group', isRegistrationRequired: false, authenticationMode: 'any' }],
      excludeTargets: [{ id: 'g', targetType: 'group' }],
    });
    // Each configuration keeps its own target type's property; another's is not v1.0's for it.
    expect((patchMethodConfiguration('Sms', { includeTargets: [{ id: 'x', targetType: 'group', isUsableForSignIn: true, authenticationMode: 'any' }] }).body as { includeTargets: unknown[] }).includeTargets).toEqual([{ id: 'x', targetType: 'group', isUsableForSignIn: true }]);
  });

  it('leaves a beta configuration (HardwareOath) as given: beta reads and writes the same shape', () => {
    const targets = [{ id: 'x', targetType: 'group', isRegistrationRequired: false, extra: 1 }];
    expect(patchMethodConfiguration('HardwareOath', { includeTargets: targets })).toMatchObject({ version: 'beta', body: { includeTargets: targets } });
  });
});
