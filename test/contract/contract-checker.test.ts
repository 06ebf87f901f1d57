import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadContract, type ContractRequest, type Rule } from './contract-checker.js';
import { findCsdl, schemaText, SCHEMA_FILE } from './extract-v1-schema.js';

const contract = loadContract();
const req = (method: string, version: 'v1.0' | 'beta', path: string, body: unknown = null, query = ''): ContractRequest => ({ method, version, path, query, body });
const rules = (r: ContractRequest): Rule[] => contract.check(r).map((v) => v.rule);
const USER = 'alice@contoso.com';
const TOKEN = { serialNumber: '1', manufacturer: 'Contoso', model: 'T', secretKey: '[redacted fingerprint=0123456789abcdef]', timeIntervalInSeconds: 30, hashFunction: 'hmacsha1' };

describe('the v1.0 extract', () => {
  it.skipIf(!findCsdl())('is what extract-v1-schema.ts makes of the CSDL (regenerate after the CSDL changes)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaText(findCsdl()!));
  });
});

describe('the contract checker accepts what Graph documents', () => {
  it.each([
    req('GET', 'v1.0', 'users', null, '%24select=id%2CuserPrincipalName%2CaccountEnabled&%24top=999'),
    req('GET', 'v1.0', "users('%24x%40contoso.com')", null, '%24select=id'),
    req('GET', 'v1.0', 'organization', null, '%24select=id%2CdisplayName'),
    req('GET', 'v1.0', 'groups/g1/transitiveMembers', null, '%24select=id%2CuserPrincipalName'),
    req('POST', 'v1.0', `users/${USER}/authentication/phoneMethods`, { phoneType: 'mobile', phoneNumber: '+1 *******01' }),
    req('PATCH', 'v1.0', `users/${USER}/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7`, { phoneNumber: '+1 *******01' }),
    req('DELETE', 'v1.0', `users/${USER}/authentication/emailMethods/3ddfcfc8-9383-446f-83cc-3ab9be4be18f`),
    req('POST', 'v1.0', `users/${USER}/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7/enableSmsSignIn`),
    req('PATCH', 'v1.0', 'policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms', { '@odata.type': '#microsoft.graph.smsAuthenticationMethodConfiguration', state: 'enabled', includeTargets: [{ id: 'all_users', targetType: 'group', isUsableForSignIn: true }] }),
    req('PATCH', 'v1.0', 'policies/authenticationMethodsPolicy', { registrationEnforcement: { authenticationMethodsRegistrationCampaign: { state: 'enabled', includeTargets: [{ id: 'g', targetType: 'group', targetedAuthenticationMethod: 'microsoftAuthenticator' }] } } }),
    req('POST', 'v1.0', 'groups/g1/members/$ref', { '@odata.id': 'https://graph.microsoft.com/v1.0/directoryObjects/u1' }),
    req('DELETE', 'v1.0', 'groups/g1/members/u1/$ref'),
    req('POST', 'v1.0', 'policies/featureRolloutPolicies', { displayName: 'MFA', feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: false }),
    req('POST', 'v1.0', 'policies/featureRolloutPolicies/p1/appliesTo/$ref', { '@odata.id': 'https://graph.microsoft.com/v1.0/directoryObjects/g1' }),
    req('PATCH', 'v1.0', 'domains/contoso.com/federationConfiguration/f1', { federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' }),
    req('GET', 'beta', 'directory/authenticationMethodDevices/hardwareOathDevices', null, "%24filter=serialNumber+eq+'1'"),
    req('POST', 'beta', 'directory/authenticationMethodDevices/hardwareOathDevices', { ...TOKEN, assignTo: { id: 'u1' } }),
    req('PATCH', 'beta', 'directory/authenticationMethodDevices/hardwareOathDevices', { '@context': '#$delta', value: [{ '@contentId': '1', ...TOKEN }] }),
    req('POST', 'beta', `users/${USER}/authentication/hardwareOathMethods`, { device: { id: 'd1' } }),
    req('POST', 'beta', `users/${USER}/authentication/hardwareOathMethods/d1/activate`, { verificationCode: '[redacted]', displayName: 'Token' }),
    req('POST', 'beta', `users/${USER}/authentication/hardwareOathMethods/d1/deactivate`),
    req('POST', 'beta', `users/${USER}/authentication/hardwareOathMethods/assignAndActivateBySerialNumber`, { serialNumber: '1', verificationCode: '[redacted]' }),
    req('PATCH', 'beta', `users/${USER}/authentication/signInPreferences`, { userPreferredMethodForSecondaryAuthentication: 'oath' }),
    req('PATCH', 'beta', 'policies/authenticationMethodsPolicy/authenticationMethodConfigurations/HardwareOath', { '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethodConfiguration', state: 'enabled' }),
  ])('$method $version $path', (r) => {
    expect(contract.check(r)).toEqual([]);
  });
});

describe('the contract checker refuses what Graph does not have', () => {
  it('a deliberately wrong body: an unknown property, at any depth', () => {
    expect(rules(req('POST', 'v1.0', `users/${USER}/authentication/phoneMethods`, { phoneType: 'mobile', phoneNumber: '+1 1', smsSignInEnabled: true }))).toEqual(['unknown-property']);
    const nested = contract.check(req('PATCH', 'v1.0', 'policies/authenticationMethodsPolicy', { registrationEnforcement: { authenticationMethodsRegistrationCampaign: { includeTargets: [{ id: 'g', targetType: 'group', method: 'x' }] } } }));
    expect(nested).toEqual([expect.objectContaining({ rule: 'unknown-property', message: expect.stringContaining('$.registrationEnforcement.authenticationMethodsRegistrationCampaign.includeTargets[0].method') })]);
    expect(rules(req('POST', 'beta', 'directory/authenticationMethodDevices/hardwareOathDevices', { ...TOKEN, assignedUser: 'u1' }))).toEqual(['unknown-property']);
    expect(rules(req('POST', 'beta', `users/${USER}/authentication/hardwareOathMethods/d1/activate`, { code: '1' }))).toEqual(['unknown-property']);
    expect(rules(req('PATCH', 'beta', 'directory/authenticationMethodDevices/hardwareOathDevices', { '@context': '#$delta', value: [{ ...TOKEN, colour: 'red' }] }))).toEqual(['unknown-property']);
    // The number-matching toggle is beta-only schema: v1.0's Authenticator feature settings do not have it.
    expect(rules(req('PATCH', 'v1.0', 'policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator', { '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration', featureSettings: { numberMatchingRequiredState: { state: 'enabled' } } }))).toEqual(['unknown-property']);
  });

  it('an enum value the schema does not list', () => {
    const v = contract.check(req('POST', 'v1.0', `users/${USER}/authentication/phoneMethods`, { phoneType: 'cell', phoneNumber: '+1 1' }));
    expect(v).toEqual([expect.objectContaining({ rule: 'enum-value', message: expect.stringMatching(/'cell' is not a member of microsoft\.graph\.authenticationPhoneType/) })]);
    expect(rules(req('POST', 'beta', 'directory/authenticationMethodDevices/hardwareOathDevices', { ...TOKEN, hashFunction: 'HMACSHA1' }))).toEqual(['enum-value']);
    expect(rules(req('PATCH', 'beta', `users/${USER}/authentication/signInPreferences`, { userPreferredMethodForSecondaryAuthentication: 'phoneCall' }))).toEqual(['enum-value']);
    // multiFactorAuthentication is in v1.0's stagedFeatureName, not in the beta types package's.
    // (and v1.0 takes that request, so beta is the wrong version for it anyway)
    expect(rules(req('POST', 'beta', 'policies/featureRolloutPolicies', { displayName: 'MFA', feature: 'multiFactorAuthentication', isEnabled: true }))).toEqual(['enum-value', 'beta-where-v1']);
    expect(rules(req('PATCH', 'v1.0', 'domains/contoso.com/federationConfiguration/f1', { federatedIdpMfaBehavior: 'reject' }))).toEqual(['enum-value']);
  });

  it('a path that does not exist on that version', () => {
    const v = contract.check(req('GET', 'v1.0', 'directory/authenticationMethodDevices/hardwareOathDevices'));
    expect(v).toEqual([expect.objectContaining({ rule: 'unknown-path', message: expect.stringContaining("'authenticationMethodDevices'") })]);
    expect(rules(req('GET', 'v1.0', `users/${USER}/authentication/hardwareOathMethods`))).toEqual(['unknown-path']);
    expect(rules(req('GET', 'v1.0', `users/${USER}/authentication/signInPreferences`))).toEqual(['unknown-path']);
    expect(rules(req('GET', 'v1.0', 'widgets'))).toEqual(['unknown-path']);
    expect(rules(req('POST', 'v1.0', `users/${USER}/authentication/phoneMethods/x/enableSmsSignOn`))).toEqual(['unknown-path']);
    expect(rules(req('GET', 'beta', `users/${USER}/authentication/hardwareOathDevices`))).toEqual(['unknown-path']);
    expect(rules(req('POST', 'beta', `users/${USER}/authentication/hardwareOathMethods/d1/activateNow`, {}))).toEqual(['unknown-path']);
    // A path the docs have, with a method they do not document for it.
    expect(rules(req('POST', 'beta', `users/${USER}/authentication/hardwareOathMethods/assignAndActivateBySerial`, {}))).toEqual(['method']);
  });

  it('a method the target does not take, a null where the schema forbids it, a type mismatch, an unknown $select', () => {
    expect(rules(req('PATCH', 'v1.0', `users/${USER}/authentication/phoneMethods`, { phoneNumber: '+1 1' }))).toEqual(['method']);
    expect(rules(req('GET', 'v1.0', `users/${USER}/authentication/phoneMethods/x/enableSmsSignIn`))).toEqual(['method']);
    expect(rules(req('PUT', 'beta', `users/${USER}/authentication/signInPreferences`, {}))).toEqual(['method']);
    expect(rules(req('PATCH', 'v1.0', 'policies/featureRolloutPolicies/p1', { isEnabled: null }))).toEqual(['not-nullable']);
    expect(rules(req('POST', 'beta', 'directory/authenticationMethodDevices/hardwareOathDevices', { ...TOKEN, timeIntervalInSeconds: '30' }))).toEqual(['value-type']);
    expect(rules(req('PATCH', 'v1.0', 'policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms', { '@odata.type': '#microsoft.graph.userAuthenticationMethod', state: 'enabled' }))).toEqual(['value-type']);
    expect(rules(req('GET', 'v1.0', 'users', null, '%24select=id%2CshoeSize'))).toEqual(['unknown-select']);
    expect(rules(req('POST', 'v1.0', 'groups/g1/members/$ref', { '@odata.id': 'x', extra: 1 }))).toEqual(['unknown-property']);
  });

  it('a write sent to beta that v1.0 takes as it is (v1.0 where the endpoint exists)', () => {
    const v = contract.check(req('POST', 'beta', `users/${USER}/authentication/phoneMethods`, { phoneType: 'mobile', phoneNumber: '+1 *******01' }));
    expect(v).toEqual([expect.objectContaining({ rule: 'beta-where-v1' })]);
    expect(rules(req('PATCH', 'beta', 'policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms', { '@odata.type': '#microsoft.graph.smsAuthenticationMethodConfiguration', state: 'enabled' }))).toEqual(['beta-where-v1']);
    // Beta reads are not refused for that: v1.0 reads can return less (no hardware OATH methods).
    expect(rules(req('GET', 'beta', `users/${USER}/authentication/methods`))).toEqual([]);
  });
});
