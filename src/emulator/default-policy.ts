import type * as GB from '@microsoft/microsoft-graph-types-beta';

/** A typed JSON object that carries its OData type, as Graph returns polymorphic items. */
export type WithODataType<T> = T & { '@odata.type': string };

export type MethodConfiguration = WithODataType<GB.AuthenticationMethodConfiguration> & Record<string, unknown>;

export interface AuthenticationMethodsPolicyJson extends Omit<GB.AuthenticationMethodsPolicy, 'authenticationMethodConfigurations'> {
  authenticationMethodConfigurations: MethodConfiguration[];
}

const ALL_USERS = { targetType: 'group', id: 'all_users', isRegistrationRequired: false } as const;
/** The id of the passkey profile a fresh tenant has (the emulator's; Graph's samples elide theirs). */
export const DEFAULT_PASSKEY_PROFILE = '00000000-0000-0000-0000-000000000001';

/** Graph's placeholder exclude target in Authenticator feature settings. */
const NO_GROUP = { targetType: 'group', id: '00000000-0000-0000-0000-000000000000' } as const;

function feature(state: GB.AdvancedConfigState): GB.AuthenticationMethodFeatureConfiguration {
  return { state, includeTarget: { targetType: 'group', id: 'all_users' }, excludeTarget: { ...NO_GROUP } };
}

/** The configurations of a new tenant, keyed by their canonical id (Graph's ids; compared case-insensitively). */
function defaultConfigurations(): MethodConfiguration[] {
  // Passkeys as v1.0 has them: one default profile (device-bound and synced passkeys), which the target allows.
  const fido2: WithODataType<GB.Fido2AuthenticationMethodConfiguration> & Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.fido2AuthenticationMethodConfiguration',
    id: 'Fido2',
    state: 'disabled',
    isSelfServiceRegistrationAllowed: true,
    isAttestationEnforced: false,
    keyRestrictions: { isEnforced: false, enforcementType: 'block', aaGuids: [] },
    defaultPasskeyProfile: DEFAULT_PASSKEY_PROFILE,
    passkeyProfiles: [
      {
        id: DEFAULT_PASSKEY_PROFILE,
        name: 'Default passkey profile',
        passkeyTypes: 'deviceBound,synced',
        attestationEnforcement: 'disabled',
        keyRestrictions: { isEnforced: false, enforcementType: 'block', aaGuids: [] },
      },
    ],
    includeTargets: [{ ...ALL_USERS, allowedPasskeyProfiles: [DEFAULT_PASSKEY_PROFILE] } as GB.PasskeyAuthenticationMethodTarget],
    excludeTargets: [],
  };
  const authenticator: WithODataType<GB.MicrosoftAuthenticatorAuthenticationMethodConfiguration> = {
    '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration',
    id: 'MicrosoftAuthenticator',
    state: 'enabled',
    isSoftwareOathEnabled: false,
    featureSettings: {
      displayAppInformationRequiredState: feature('default'),
      displayLocationInformationRequiredState: feature('default'),
      companionAppAllowedState: feature('default'),
      // Number matching is always on for push and can no longer be toggled (PATCH refuses it).
      numberMatchingRequiredState: feature('enabled'),
    },
    includeTargets: [{ ...ALL_USERS, authenticationMode: 'any' }],
    excludeTargets: [],
  };
  const sms: WithODataType<GB.SmsAuthenticationMethodConfiguration> = {
    '@odata.type': '#microsoft.graph.smsAuthenticationMethodConfiguration',
    id: 'Sms',
    state: 'disabled',
    includeTargets: [{ ...ALL_USERS, isUsableForSignIn: true }],
    excludeTargets: [],
  };
  const tap: WithODataType<GB.TemporaryAccessPassAuthenticationMethodConfiguration> = {
    '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration',
    id: 'TemporaryAccessPass',
    state: 'disabled',
    defaultLifetimeInMinutes: 60,
    defaultLength: 8,
    minimumLifetimeInMinutes: 60,
    maximumLifetimeInMinutes: 480,
    isUsableOnce: false,
    includeTargets: [{ ...ALL_USERS }],
    excludeTargets: [],
  };
  const hardwareOath: WithODataType<GB.HardwareOathAuthenticationMethodConfiguration> = {
    '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethodConfiguration',
    id: 'HardwareOath',
    state: 'disabled',
    includeTargets: [{ ...ALL_USERS }],
    excludeTargets: [],
  };
  const softwareOath: WithODataType<GB.SoftwareOathAuthenticationMethodConfiguration> = {
    '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethodConfiguration',
    id: 'SoftwareOath',
    state: 'disabled',
    includeTargets: [{ ...ALL_USERS }],
    excludeTargets: [],
  };
  const voice: WithODataType<GB.VoiceAuthenticationMethodConfiguration> = {
    '@odata.type': '#microsoft.graph.voiceAuthenticationMethodConfiguration',
    id: 'Voice',
    state: 'disabled',
    isOfficePhoneAllowed: false,
    includeTargets: [{ ...ALL_USERS }],
    excludeTargets: [],
  };
  const email: WithODataType<GB.EmailAuthenticationMethodConfiguration> = {
    '@odata.type': '#microsoft.graph.emailAuthenticationMethodConfiguration',
    id: 'Email',
    state: 'enabled',
    allowExternalIdToUseEmailOtp: 'default',
    includeTargets: [{ ...ALL_USERS }],
    excludeTargets: [],
  };
  const x509: WithODataType<GB.X509CertificateAuthenticationMethodConfiguration> = {
    '@odata.type': '#microsoft.graph.x509CertificateAuthenticationMethodConfiguration',
    id: 'X509Certificate',
    state: 'disabled',
    certificateUserBindings: [
      { x509CertificateField: 'PrincipalName', userProperty: 'onPremisesUserPrincipalName', priority: 1 },
      { x509CertificateField: 'RFC822Name', userProperty: 'userPrincipalName', priority: 2 },
      { x509CertificateField: 'SubjectKeyIdentifier', userProperty: 'certificateUserIds', priority: 3 },
    ],
    authenticationModeConfiguration: { x509CertificateAuthenticationDefaultMode: 'x509CertificateSingleFactor', rules: [] },
    issuerHintsConfiguration: { state: 'disabled' },
    includeTargets: [{ ...ALL_USERS }],
    excludeTargets: [],
  };
  return [fido2, authenticator, sms, tap, hardwareOath, softwareOath, voice, email, x509].map((c) => c as MethodConfiguration);
}

/** Graph's authentication methods policy of a tenant nobody has touched yet. */
export function defaultPolicy(lastModified: string): AuthenticationMethodsPolicyJson {
  return {
    id: 'authenticationMethodsPolicy',
    displayName: 'Authentication Methods Policy',
    description:
      'The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings',
    lastModifiedDateTime: lastModified,
    policyVersion: '1.5',
    policyMigrationState: 'preMigration',
    reconfirmationInDays: 0,
    registrationEnforcement: {
      authenticationMethodsRegistrationCampaign: {
        snoozeDurationInDays: 1,
        enforceRegistrationAfterAllowedSnoozes: true,
        state: 'default',
        excludeTargets: [],
        includeTargets: [{ id: 'all_users', targetType: 'group', targetedAuthenticationMethod: 'microsoftAuthenticator' }],
      },
    },
    reportSuspiciousActivitySettings: { state: 'default', includeTarget: { targetType: 'group', id: 'all_users' }, voiceReportingCode: 0 },
    systemCredentialPreferences: { state: 'default', includeTargets: [{ id: 'all_users', targetType: 'group' }], excludeTargets: [] },
    authenticationMethodConfigurations: defaultConfigurations(),
  };
}

export function defaultConfiguration(id: string): MethodConfiguration | undefined {
  return defaultConfigurations().find((c) => c.id?.toLowerCase() === id.toLowerCase());
}

/** The subtype name a configuration's @odata.type carries, e.g. 'smsAuthenticationMethodConfiguration'. */
export function configurationTypeName(config: MethodConfiguration): string {
  return config['@odata.type'].replace(/^#microsoft\.graph\./, '');
}
