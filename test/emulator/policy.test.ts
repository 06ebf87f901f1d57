import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { expectGraphError, start, type GraphClient } from './helpers.js';

let emu: RunningEmulator;
let graph: GraphClient;
beforeAll(async () => ({ emu, graph } = await start()));
afterAll(() => emu.stop());

const POLICY = '/v1.0/policies/authenticationMethodsPolicy';
const CONFIGS = `${POLICY}/authenticationMethodConfigurations`;
/** The Contoso tenant's "MFA Migration Wave 1" group. */
const WAVE1 = () => emu.state.groups.find((g) => g.props['displayName'] === 'MFA Migration Wave 1')!.id;

describe('authentication methods policy', () => {
  it("returns Graph's defaults with the configurations expanded", async () => {
    const r = await graph.get(POLICY);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: 'authenticationMethodsPolicy', policyMigrationState: 'preMigration' });
    expect(r.body.registrationEnforcement.authenticationMethodsRegistrationCampaign.includeTargets[0]).toEqual({
      id: 'all_users',
      targetType: 'group',
      targetedAuthenticationMethod: 'microsoftAuthenticator',
    });
    const byId = Object.fromEntries(r.body.authenticationMethodConfigurations.map((c: { id: string }) => [c.id, c]));
    expect(Object.keys(byId).sort()).toEqual(
      ['Email', 'Fido2', 'HardwareOath', 'MicrosoftAuthenticator', 'Sms', 'SoftwareOath', 'TemporaryAccessPass', 'Voice', 'X509Certificate'].sort(),
    );
    expect(byId.Sms).toMatchObject({ '@odata.type': '#microsoft.graph.smsAuthenticationMethodConfiguration', state: 'disabled' });
    expect(byId.Voice).toMatchObject({ state: 'disabled', isOfficePhoneAllowed: false });
    expect(byId.HardwareOath.state).toBe('disabled');
    expect(byId.MicrosoftAuthenticator).toMatchObject({ state: 'enabled', includeTargets: [{ id: 'all_users', authenticationMode: 'any' }] });
    // Those two exist in the beta schema only (the v1.0 CSDL's authenticationMethodsPolicy has neither).
    expect(r.body).not.toHaveProperty('reportSuspiciousActivitySettings');
    expect(r.body).not.toHaveProperty('systemCredentialPreferences');
    const beta = (await graph.get(POLICY.replace('/v1.0/', '/beta/'))).body;
    expect(beta.reportSuspiciousActivitySettings.state).toBe('default');
    expect(beta.systemCredentialPreferences.state).toBe('default');
    // And a v1.0 PATCH of them is refused, as Graph refuses a property its schema lacks (a review: a regression to v1.0 passed every test).
    expect((await graph.patch(POLICY, { reportSuspiciousActivitySettings: { state: 'enabled' } })).status).toBe(400);
    expect((await graph.patch(POLICY, { systemCredentialPreferences: { state: 'enabled' } })).status).toBe(400);
  });

  it('gets a configuration by id case-insensitively', async () => {
    const r = await graph.get(`${CONFIGS}/hardwareoath`);
    expect(r.status).toBe(200);
    expect(r.body.id).toBe('HardwareOath');
    expectGraphError(await graph.get(`${CONFIGS}/Carrier`), 404, 'Request_ResourceNotFound');
  });

  it('updates a configuration with @odata.type and answers 204', async () => {
    const r = await graph.patch(`${CONFIGS}/voice`, {
      '@odata.type': '#microsoft.graph.voiceAuthenticationMethodConfiguration',
      state: 'enabled',
      // Graph's own sample sends the boolean as a string.
      isOfficePhoneAllowed: 'true',
    });
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
    const after = await graph.get(`${CONFIGS}/Voice`);
    expect(after.body).toMatchObject({ state: 'enabled', isOfficePhoneAllowed: true, includeTargets: [{ id: 'all_users' }] });
  });

  it('refuses a PATCH without @odata.type', async () => {
    const r = await graph.patch(`${CONFIGS}/Sms`, { state: 'enabled' });
    expectGraphError(r, 400, 'BadRequest');
    expect((await graph.get(`${CONFIGS}/Sms`)).body.state).toBe('disabled');
  });

  it('refuses unknown properties and bad values', async () => {
    const unknown = await graph.patch(`${CONFIGS}/Sms`, { '@odata.type': '#microsoft.graph.smsAuthenticationMethodConfiguration', colour: 'blue' });
    expectGraphError(unknown, 400, 'BadRequest');
    expect(unknown.body.error.message).toContain("The property 'colour' does not exist on type 'microsoft.graph.smsAuthenticationMethodConfiguration'");
    const badState = await graph.patch(`${CONFIGS}/Sms`, { '@odata.type': '#microsoft.graph.smsAuthenticationMethodConfiguration', state: 'on' });
    expectGraphError(badState, 400, 'BadRequest');
    const wrongType = await graph.patch(`${CONFIGS}/Sms`, { '@odata.type': '#microsoft.graph.voiceAuthenticationMethodConfiguration', state: 'enabled' });
    expectGraphError(wrongType, 400, 'BadRequest');
  });

  it("refuses toggling number matching with Graph's message", async () => {
    const r = await graph.patch(`${CONFIGS}/MicrosoftAuthenticator`, {
      '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration',
      featureSettings: { numberMatchingRequiredState: { state: 'enabled', includeTarget: { targetType: 'group', id: 'all_users' } } },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe(
      "Persistance of policy failed with error: Microsoft Authenticator's number matching feature can no longer be toggled as part of featureSettings.",
    );
  });

  it('merges nested settings and replaces target lists', async () => {
    const r = await graph.patch(`${CONFIGS}/MicrosoftAuthenticator`, {
      '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration',
      isSoftwareOathEnabled: true,
      featureSettings: { displayAppInformationRequiredState: { state: 'enabled' } },
      includeTargets: [{ id: WAVE1(), targetType: 'group', isRegistrationRequired: false, authenticationMode: 'push' }],
    });
    expect(r.status).toBe(204);
    const after = (await graph.get(`${CONFIGS}/MicrosoftAuthenticator`)).body;
    expect(after.isSoftwareOathEnabled).toBe(true);
    expect(after.featureSettings.displayAppInformationRequiredState).toMatchObject({ state: 'enabled', includeTarget: { id: 'all_users' } });
    expect(after.featureSettings.displayLocationInformationRequiredState.state).toBe('default');
    expect(after.includeTargets).toEqual([
      { id: WAVE1(), targetType: 'group', isRegistrationRequired: false, authenticationMode: 'push' },
    ]);
  });

  it('resets a configuration to its default on DELETE', async () => {
    await graph.patch(`${CONFIGS}/Email`, { '@odata.type': '#microsoft.graph.emailAuthenticationMethodConfiguration', state: 'disabled' });
    expect((await graph.delete(`${CONFIGS}/Email`)).status).toBe(204);
    expect((await graph.get(`${CONFIGS}/Email`)).body.state).toBe('enabled');
  });

  it('updates the policy itself and refuses unknown or invalid settings', async () => {
    const r = await graph.patch(POLICY, {
      policyMigrationState: 'migrationInProgress',
      registrationEnforcement: { authenticationMethodsRegistrationCampaign: { snoozeDurationInDays: 3, state: 'enabled' } },
    });
    expect(r.status).toBe(200);
    expect(r.body.policyMigrationState).toBe('migrationInProgress');
    expect(r.body.registrationEnforcement.authenticationMethodsRegistrationCampaign).toMatchObject({
      snoozeDurationInDays: 3,
      state: 'enabled',
      includeTargets: [{ id: 'all_users' }],
    });
    expectGraphError(await graph.patch(POLICY, { policyMigrationState: 'done' }), 400, 'BadRequest');
    expectGraphError(
      await graph.patch(POLICY, { registrationEnforcement: { authenticationMethodsRegistrationCampaign: { snoozeDurationInDays: 15 } } }),
      400,
      'BadRequest',
    );
    expectGraphError(await graph.patch(POLICY, { mood: 'calm' }), 400, 'BadRequest');
    // Beta-only setting is refused on v1.0 and accepted on beta.
    expectGraphError(await graph.patch(POLICY, { microsoftAuthenticatorPlatformSettings: { enforceAppPIN: {} } }), 400, 'BadRequest');
    expect((await graph.patch('/beta/policies/authenticationMethodsPolicy', { microsoftAuthenticatorPlatformSettings: { enforceAppPIN: {} } })).status).toBe(200);
  });
});

describe('policy targets, the passkey configuration and the registration campaign', () => {
  it('has passkeys (FIDO2) as v1.0 has them: a default passkey profile the all-users target may use', async () => {
    const fido2 = (await graph.get(`${CONFIGS}/Fido2`)).body;
    expect(fido2).toMatchObject({
      '@odata.type': '#microsoft.graph.fido2AuthenticationMethodConfiguration',
      state: 'disabled',
      isSelfServiceRegistrationAllowed: true,
      defaultPasskeyProfile: expect.any(String),
    });
    expect(fido2.passkeyProfiles).toEqual([expect.objectContaining({ id: fido2.defaultPasskeyProfile, passkeyTypes: 'deviceBound,synced', attestationEnforcement: 'disabled' })]);
    expect(fido2.includeTargets).toEqual([{ id: 'all_users', targetType: 'group', isRegistrationRequired: false, allowedPasskeyProfiles: [fido2.defaultPasskeyProfile] }]);
  });

  it('enables passkeys for a group, refusing unknown groups and passkey profiles', async () => {
    emu.reset();
    const type = { '@odata.type': '#microsoft.graph.fido2AuthenticationMethodConfiguration' };
    const profile = (await graph.get(`${CONFIGS}/Fido2`)).body.defaultPasskeyProfile;
    const ok = await graph.patch(`${CONFIGS}/Fido2`, { ...type, state: 'enabled', includeTargets: [{ id: WAVE1(), targetType: 'group', allowedPasskeyProfiles: [profile] }] });
    expect(ok.status).toBe(204);
    const unknownGroup = await graph.patch(`${CONFIGS}/Fido2`, { ...type, includeTargets: [{ id: 'MFA Migration Wave 1', targetType: 'group' }] });
    expectGraphError(unknownGroup, 400, 'BadRequest');
    expect(unknownGroup.body.error.message).toMatch(/no group 'MFA Migration Wave 1'/);
    expectGraphError(await graph.patch(`${CONFIGS}/Fido2`, { ...type, includeTargets: [{ id: WAVE1(), targetType: 'group', allowedPasskeyProfiles: ['nope'] }] }), 400, 'BadRequest');
    expectGraphError(await graph.patch(`${CONFIGS}/Fido2`, { ...type, defaultPasskeyProfile: 'nope' }), 400, 'BadRequest');
    expectGraphError(await graph.patch(`${CONFIGS}/Fido2`, { ...type, passkeyProfiles: [{ id: 'p', name: 'p', passkeyTypes: 'cloud' }] }), 400, 'BadRequest');
    // Refused patches changed nothing.
    expect((await graph.get(`${CONFIGS}/Fido2`)).body).toMatchObject({ state: 'enabled', includeTargets: [{ id: WAVE1() }] });
  });

  it("sets the Authenticator registration campaign's include targets to a group, refusing unknown ones", async () => {
    emu.reset();
    const campaign = (includeTargets: unknown[]) => ({ registrationEnforcement: { authenticationMethodsRegistrationCampaign: { state: 'enabled', includeTargets } } });
    const r = await graph.patch(POLICY, campaign([{ id: WAVE1(), targetType: 'group', targetedAuthenticationMethod: 'microsoftAuthenticator' }]));
    expect(r.status).toBe(200);
    expect(r.body.registrationEnforcement.authenticationMethodsRegistrationCampaign).toMatchObject({ state: 'enabled', includeTargets: [{ id: WAVE1(), targetType: 'group' }] });
    expectGraphError(await graph.patch(POLICY, campaign([{ id: '99999999-9999-9999-9999-999999999999', targetType: 'group' }])), 400, 'BadRequest');
    expectGraphError(await graph.patch(POLICY, campaign([{ id: WAVE1(), targetType: 'user' }])), 400, 'BadRequest');
    // The campaign asks for Microsoft Authenticator only ("The value must be microsoftAuthenticator").
    for (const method of ['sms', 'fido2', 'MicrosoftAuthenticator', '']) {
      const refused = await graph.patch(POLICY, campaign([{ id: 'all_users', targetType: 'group', targetedAuthenticationMethod: method }]));
      expectGraphError(refused, 400, 'BadRequest');
      expect(refused.body.error.message, method).toMatch(/^Invalid value for property 'registrationEnforcement\.authenticationMethodsRegistrationCampaign\.includeTargets\.0\.targetedAuthenticationMethod'/);
    }
    expect((await graph.get(POLICY)).body.registrationEnforcement.authenticationMethodsRegistrationCampaign.includeTargets).toEqual([{ id: WAVE1(), targetType: 'group', targetedAuthenticationMethod: 'microsoftAuthenticator' }]);
  });
});
