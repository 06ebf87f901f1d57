import { z } from 'zod';
import { errors, GraphError } from './graph-error.js';
import type { ApiVersion } from './graph-request.js';
import { TAP_MINUTES } from '../model/tap-lifetime.js';

/**
 * What a PATCH of the authentication methods policy or of one method configuration may carry.
 * Unknown properties are refused as Graph's OData layer refuses them; values are checked against the
 * enums and ranges of the Graph schema. Booleans also accept "true"/"false": Graph's own documented
 * sample for the voice configuration sends `"isOfficePhoneAllowed": "false"`.
 */
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const targetType = z.enum(['user', 'group', 'unknownFutureValue']);
const includeTarget = z.strictObject({ id: z.string().min(1), targetType, isRegistrationRequired: bool.optional() });
const excludeTarget = z.strictObject({ id: z.string().min(1), targetType });
const simpleTarget = z.strictObject({ id: z.string().min(1), targetType });
const featureTarget = z.strictObject({
  id: z.string().nullable().optional(),
  targetType: z.enum(['group', 'administrativeUnit', 'role', 'unknownFutureValue']).nullable().optional(),
});
const advancedState = z.enum(['default', 'enabled', 'disabled', 'unknownFutureValue']);
const featureConfiguration = z.strictObject({
  state: advancedState.optional(),
  includeTarget: featureTarget.nullable().optional(),
  excludeTarget: featureTarget.nullable().optional(),
});
/** A TAP lifetime on its own; how the three hold together is checked on the merged configuration (tap-configuration.ts). */
const minutes = z.number().int().min(TAP_MINUTES.min).max(TAP_MINUTES.max);
const keyRestrictions = z.strictObject({
  isEnforced: bool.optional(),
  enforcementType: z.enum(['allow', 'block', 'unknownFutureValue']).optional(),
  aaGuids: z.array(z.string()).optional(),
});
/** passkeyTypes is a flags enum: members joined by commas. */
const passkeyTypes = z.string().regex(/^(deviceBound|synced|unknownFutureValue)(,(deviceBound|synced|unknownFutureValue))*$/, 'must be deviceBound, synced or both ("deviceBound,synced")');
const passkeyProfile = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  passkeyTypes: passkeyTypes.optional(),
  attestationEnforcement: z.enum(['disabled', 'registrationOnly', 'unknownFutureValue']).optional(),
  keyRestrictions: keyRestrictions.nullable().optional(),
});

const base = {
  '@odata.type': z.string(),
  id: z.string().optional(),
  state: z.enum(['enabled', 'disabled']).optional(),
  excludeTargets: z.array(excludeTarget).optional(),
};

/** Per configuration subtype (keyed by the @odata.type name), the properties a PATCH may set. */
const CONFIGURATION_PATCH: Record<string, z.ZodType> = {
  fido2AuthenticationMethodConfiguration: z.strictObject({
    ...base,
    isAttestationEnforced: bool.optional(),
    isSelfServiceRegistrationAllowed: bool.optional(),
    keyRestrictions: keyRestrictions.optional(),
    // Passkey profiles (v1.0): each target names the profiles it may use.
    defaultPasskeyProfile: z.string().nullable().optional(),
    passkeyProfiles: z.array(passkeyProfile).optional(),
    includeTargets: z.array(includeTarget.extend({ allowedPasskeyProfiles: z.array(z.string()).nullable().optional() })).optional(),
  }),
  microsoftAuthenticatorAuthenticationMethodConfiguration: z.strictObject({
    ...base,
    isSoftwareOathEnabled: bool.optional(),
    featureSettings: z
      .strictObject({
        displayAppInformationRequiredState: featureConfiguration.optional(),
        displayLocationInformationRequiredState: featureConfiguration.optional(),
        companionAppAllowedState: featureConfiguration.optional(),
      })
      .optional(),
    includeTargets: z
      .array(includeTarget.extend({ authenticationMode: z.enum(['deviceBasedPush', 'push', 'any']).optional() }))
      .optional(),
  }),
  smsAuthenticationMethodConfiguration: z.strictObject({
    ...base,
    // A target sent without isUsableForSignIn is taken as on: SMS sign-in is Graph's default for SMS
    // ("Use for sign-in" is on by default), so a client must turn it off explicitly.
    includeTargets: z.array(includeTarget.extend({ isUsableForSignIn: bool.default(true) })).optional(),
  }),
  voiceAuthenticationMethodConfiguration: z.strictObject({
    ...base,
    isOfficePhoneAllowed: bool.optional(),
    includeTargets: z.array(includeTarget).optional(),
  }),
  temporaryAccessPassAuthenticationMethodConfiguration: z.strictObject({
    ...base,
    defaultLength: z.number().int().min(8).max(48).optional(),
    defaultLifetimeInMinutes: minutes.optional(),
    minimumLifetimeInMinutes: minutes.optional(),
    maximumLifetimeInMinutes: minutes.optional(),
    isUsableOnce: bool.optional(),
    includeTargets: z.array(includeTarget).optional(),
  }),
  softwareOathAuthenticationMethodConfiguration: z.strictObject({ ...base, includeTargets: z.array(includeTarget).optional() }),
  hardwareOathAuthenticationMethodConfiguration: z.strictObject({ ...base, includeTargets: z.array(includeTarget).optional() }),
  emailAuthenticationMethodConfiguration: z.strictObject({
    ...base,
    allowExternalIdToUseEmailOtp: z.enum(['default', 'enabled', 'disabled', 'unknownFutureValue']).optional(),
    includeTargets: z.array(includeTarget).optional(),
  }),
  x509CertificateAuthenticationMethodConfiguration: z.strictObject({
    ...base,
    // Certificate-based authentication is outside this tool's scope: its complex settings are taken as given.
    authenticationModeConfiguration: z.looseObject({}).optional(),
    certificateUserBindings: z.array(z.looseObject({})).optional(),
    crlValidationConfiguration: z.looseObject({}).optional(),
    issuerHintsConfiguration: z.looseObject({}).optional(),
    certificateAuthorityScopes: z.array(z.looseObject({})).optional(),
    includeTargets: z.array(includeTarget).optional(),
  }),
};

export const NUMBER_MATCHING_MESSAGE =
  "Persistance of policy failed with error: Microsoft Authenticator's number matching feature can no longer be toggled as part of featureSettings.";

/**
 * Checks a PATCH body for the configuration whose subtype is `typeName` and returns the values to merge.
 * Throws GraphError with Graph's code and message when the body is refused.
 */
export function validateConfigurationPatch(typeName: string, body: unknown): Record<string, unknown> {
  if (!isPlainObject(body)) throw errors.badRequest('The request body must be a JSON object.');
  const odataType = body['@odata.type'];
  if (typeof odataType !== 'string') {
    throw errors.badRequest(
      `The '@odata.type' property must be included in the request body, e.g. '#microsoft.graph.${typeName}'.`,
    );
  }
  if (odataType.replace(/^#?microsoft\.graph\./, '').toLowerCase() !== typeName.toLowerCase()) {
    throw errors.badRequest(`The '@odata.type' '${odataType}' does not match the configuration's type '#microsoft.graph.${typeName}'.`);
  }
  const features = body['featureSettings'];
  if (isPlainObject(features) && 'numberMatchingRequiredState' in features) {
    throw new GraphError(400, 'badRequest', NUMBER_MATCHING_MESSAGE);
  }
  const schema = CONFIGURATION_PATCH[typeName];
  if (!schema) throw errors.badRequest(`Configurations of type '${typeName}' cannot be updated by the emulator.`);
  return parseOrThrow(schema, body, typeName);
}

const policyPatch = (version: ApiVersion) =>
  z.strictObject({
    '@odata.type': z.string().optional(),
    '@odata.context': z.string().optional(),
    // Read-only properties: accepted and ignored, as Graph does.
    id: z.string().optional(),
    displayName: z.string().nullable().optional(),
    description: z.string().nullable().optional(),
    lastModifiedDateTime: z.string().nullable().optional(),
    policyVersion: z.string().nullable().optional(),
    policyMigrationState: z.enum(['preMigration', 'migrationInProgress', 'migrationComplete', 'unknownFutureValue']).optional(),
    reconfirmationInDays: z.number().int().min(0).max(365).nullable().optional(),
    registrationEnforcement: z
      .strictObject({
        authenticationMethodsRegistrationCampaign: z
          .strictObject({
            snoozeDurationInDays: z.number().int().min(0).max(14).optional(),
            enforceRegistrationAfterAllowedSnoozes: bool.nullable().optional(),
            state: advancedState.optional(),
            // The one method a campaign asks for: "The value must be microsoftAuthenticator" (the
            // target's reference and type docs). Nullable, as the CSDL has it.
            includeTargets: z
              .array(z.strictObject({ id: z.string().min(1), targetType, targetedAuthenticationMethod: z.literal('microsoftAuthenticator').nullable().optional() }))
              .optional(),
            excludeTargets: z.array(excludeTarget).optional(),
          })
          .nullable()
          .optional(),
      })
      .nullable()
      .optional(),
    // Beta's only: the v1.0 schema (CSDL) has neither report-suspicious-activity settings nor
    // system-preferred MFA on the policy, nor the platform settings.
    ...(version === 'beta'
      ? {
          reportSuspiciousActivitySettings: z
            .strictObject({ state: advancedState.optional(), includeTarget: simpleTarget.optional(), voiceReportingCode: z.number().int().min(0).max(9).nullable().optional() })
            .nullable()
            .optional(),
          systemCredentialPreferences: z
            .strictObject({ state: advancedState.optional(), includeTargets: z.array(simpleTarget).optional(), excludeTargets: z.array(excludeTarget).optional() })
            .nullable()
            .optional(),
          microsoftAuthenticatorPlatformSettings: z.strictObject({ enforceAppPIN: z.looseObject({}).optional() }).optional(),
        }
      : {}),
  });

/**
 * The policy PATCH schema of each API version, built once: building it for every PATCH cost more than
 * the parse, and zod compiles a schema's fast path on its first parses only.
 */
const POLICY_PATCH: Record<ApiVersion, z.ZodType> = { 'v1.0': policyPatch('v1.0'), beta: policyPatch('beta') };

const READ_ONLY_POLICY_PROPERTIES = ['@odata.type', '@odata.context', 'id', 'displayName', 'description', 'lastModifiedDateTime', 'policyVersion'];

/** Checks a PATCH of the policy itself; returns the writable values to merge. */
export function validatePolicyPatch(version: ApiVersion, body: unknown): Record<string, unknown> {
  if (!isPlainObject(body)) throw errors.badRequest('The request body must be a JSON object.');
  if ('authenticationMethodConfigurations' in body) {
    throw errors.badRequest(
      "The navigation property 'authenticationMethodConfigurations' cannot be updated with the policy; PATCH each configuration instead.",
    );
  }
  const parsed = parseOrThrow(POLICY_PATCH[version], body, 'authenticationMethodsPolicy');
  for (const key of READ_ONLY_POLICY_PROPERTIES) delete parsed[key];
  return parsed;
}

function parseOrThrow(schema: z.ZodType, body: Record<string, unknown>, typeName: string): Record<string, unknown> {
  const result = schema.safeParse(body);
  if (result.success) return result.data as Record<string, unknown>;
  const unknownKey = result.error.issues.find((i) => i.code === 'unrecognized_keys');
  if (unknownKey && unknownKey.code === 'unrecognized_keys') {
    const path = unknownKey.path.map(String);
    throw errors.unknownProperty([...path, unknownKey.keys[0] ?? ''].join('.'), typeName);
  }
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  throw errors.badRequest(`Invalid value for property '${path}': ${issue?.message ?? 'invalid'}.`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** PATCH semantics: objects merge property by property, everything else (arrays included) is replaced. */
export function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (isPlainObject(value) && isPlainObject(current)) mergePatch(current, value);
    else target[key] = structuredClone(value);
  }
}
