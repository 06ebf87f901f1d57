import { z } from 'zod';
import { parseSecretKey } from './oath-secret.js';
import { PHONE_NUMBER_RE, PHONE_TYPES } from './phone-number.js';
import { GUID_RE } from './prng.js';
import { EMAIL_ADDRESS } from '../model/email-address.js';
import { PREFERRED_METHODS } from './state.js';

/**
 * The tenant file: the emulated directory as JSON (documented in docs/emulator.md). Loading checks the
 * shape (unknown keys are errors, so typos do not pass silently) and then the rules Graph would enforce,
 * and reports every problem with its JSON path.
 */
const guid = z.string().regex(GUID_RE, 'must be a GUID');
const isoDate = z.iso.datetime({ offset: true });
const phoneNumber = z.string().regex(PHONE_NUMBER_RE, "must be in Graph's format '+{country code} {number}' with optional 'x{extension}'");
const secretKey = z.string().superRefine((value, ctx) => {
  const parsed = parseSecretKey(value);
  if ('reason' in parsed) ctx.addIssue({ code: 'custom', message: parsed.reason });
});

/** Any case, as the admin center's HMACSHA1 / HMACSHA256 spelling. */
const hashFunction = z
  .string()
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(['hmacsha1', 'hmacsha256'], 'must be hmacsha1 or hmacsha256 (any case)'));

const legacyTokenSchema = z.strictObject({
  id: guid.optional(),
  serialNumber: z.string().min(1),
  manufacturer: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  displayName: z.string().nullable().optional(),
  secretKey: secretKey.optional(),
  timeIntervalInSeconds: z.union([z.literal(30), z.literal(60)]).optional(),
  hashFunction: hashFunction.optional(),
  status: z.enum(['assigned', 'activated', 'failedActivation']).optional(),
  lastUsedDateTime: isoDate.nullable().optional(),
});

const userSchema = z.strictObject({
  id: guid.optional(),
  userPrincipalName: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must look like name@domain'),
  displayName: z.string().min(1),
  accountEnabled: z.boolean().optional(),
  givenName: z.string().nullable().optional(),
  surname: z.string().nullable().optional(),
  mail: z.string().nullable().optional(),
  userType: z.enum(['Member', 'Guest']).optional(),
  jobTitle: z.string().nullable().optional(),
  mobilePhone: z.string().nullable().optional(),
  officeLocation: z.string().nullable().optional(),
  preferredLanguage: z.string().nullable().optional(),
  businessPhones: z.array(z.string()).optional(),
  department: z.string().nullable().optional(),
  usageLocation: z.string().nullable().optional(),
  employeeId: z.string().nullable().optional(),
  createdDateTime: isoDate.nullable().optional(),
  onPremisesSyncEnabled: z.boolean().nullable().optional(),
  onPremisesImmutableId: z.string().nullable().optional(),
  onPremisesUserPrincipalName: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must look like name@domain').nullable().optional(),
  onPremisesSamAccountName: z.string().min(1).nullable().optional(),
  onPremisesDomainName: z.string().min(1).nullable().optional(),
  otherMails: z.array(z.string()).optional(),
  methods: z
    .strictObject({
      phone: z.array(z.strictObject({ id: z.string().optional(), phoneType: z.enum(PHONE_TYPES), phoneNumber })).optional(),
      email: z.array(z.strictObject({ id: z.string().optional(), emailAddress: z.string().regex(EMAIL_ADDRESS, 'must be an email address') })).optional(),
      microsoftAuthenticator: z
        .array(
          z.strictObject({
            id: guid.optional(),
            displayName: z.string().min(1),
            deviceTag: z.string().nullable().optional(),
            phoneAppVersion: z.string().nullable().optional(),
            clientAppName: z.enum(['microsoftAuthenticator', 'outlookMobile']).optional(),
            createdDateTime: isoDate.nullable().optional(),
          }),
        )
        .optional(),
      softwareOath: z
        .array(z.strictObject({ id: guid.optional(), secretKey: secretKey.optional(), createdDateTime: isoDate.nullable().optional() }))
        .optional(),
      // A string names an inventory device (id or serial); an object is a token the user holds that the inventory
      // does not list (uploaded through the admin center's CSV route).
      hardwareOath: z.array(z.union([z.string().min(1), legacyTokenSchema])).optional(),
    })
    .optional(),
  signInPreferences: z
    .strictObject({
      userPreferredMethodForSecondaryAuthentication: z.enum(PREFERRED_METHODS).nullable().optional(),
      isSystemPreferredAuthenticationMethodEnabled: z.boolean().optional(),
    })
    .optional(),
});

const groupSchema = z.strictObject({
  id: guid.optional(),
  displayName: z.string().min(1),
  description: z.string().nullable().optional(),
  mail: z.string().nullable().optional(),
  mailEnabled: z.boolean().optional(),
  mailNickname: z.string().nullable().optional(),
  securityEnabled: z.boolean().optional(),
  // 'DynamicMembership' makes a dynamic group (membershipRule required); 'Unified' a Microsoft 365 group.
  groupTypes: z.array(z.enum(['Unified', 'DynamicMembership'])).optional(),
  membershipRule: z.string().min(1).nullable().optional(),
  membershipRuleProcessingState: z.enum(['On', 'Paused']).nullable().optional(),
  // 'HiddenMembership': only callers granted Member.Read.Hidden may list the members.
  visibility: z.enum(['Public', 'Private', 'HiddenMembership']).nullable().optional(),
  createdDateTime: isoDate.nullable().optional(),
  /** Users (id or UPN), groups (id) and contacts (id). For a dynamic group: the members its rule gives now. */
  members: z.array(z.string().min(1)).optional(),
});

/** Organizational contacts (orgContact): directory objects that can be group members but never sign in. */
const contactSchema = z.strictObject({
  id: guid.optional(),
  displayName: z.string().min(1),
  mail: z.string().nullable().optional(),
});

const deviceSchema = z.strictObject({
  id: guid.optional(),
  serialNumber: z.string().min(1),
  manufacturer: z.string().min(1),
  model: z.string().min(1),
  displayName: z.string().nullable().optional(),
  secretKey,
  timeIntervalInSeconds: z.union([z.literal(30), z.literal(60)]),
  hashFunction: hashFunction.optional(),
  status: z.enum(['available', 'assigned', 'activated', 'failedActivation']).optional(),
  assignedTo: z.strictObject({ id: z.string().min(1), displayName: z.string().nullable().optional() }).nullable().optional(),
  lastUsedDateTime: isoDate.nullable().optional(),
});

/** Who signs in: an application with `roles`, or (with `userPrincipalName`) an admin with delegated `scopes`. */
const identitySchema = z.strictObject({
  appId: guid.optional(),
  appDisplayName: z.string().min(1).optional(),
  roles: z.array(z.string().min(1)).optional(),
  userPrincipalName: z.string().min(1).optional(),
  scopes: z.array(z.string().min(1)).optional(),
});

/** Switches for how Graph behaves (src/emulator/behaviour.ts). */
const behaviourSchema = z.strictObject({
  inventoryShape: z.enum(['device', 'method']).optional(),
  betaAvailable: z.boolean().optional(),
  hardwareOathPropagationSeconds: z.number().min(0).optional(),
  hardwareOathEnabledSecondsBeforeStart: z.number().min(0).nullable().optional(),
  hardwareOathPropagationRefusal: z.strictObject({ status: z.union([z.literal(400), z.literal(403)]), code: z.string().min(1), message: z.string().min(1) }).optional(),
  replicationLagSeconds: z.number().min(0).optional(),
  authenticatorTargetLegacyProperties: z.boolean().optional(),
  maskedPhoneNumbers: z.boolean().optional(),
  activationRateLimit: z.strictObject({ activations: z.number().int().min(1), windowSeconds: z.number().positive() }).nullable().optional(),
  stagedRolloutLimits: z
    .strictObject({ groupsPerFeature: z.number().int().min(1), membersPerGroup: z.number().int().min(1), membersAtFirstAdd: z.number().int().min(1) })
    .optional(),
});

export const STAGED_FEATURES = [
  'passthroughAuthentication',
  'seamlessSso',
  'passwordHashSync',
  'emailAsAlternateId',
  'unknownFutureValue',
  'certificateBasedAuthentication',
  'multiFactorAuthentication',
] as const;

/** A staged rollout policy; `appliesTo` lists group ids. */
const featureRolloutPolicySchema = z.strictObject({
  id: guid.optional(),
  displayName: z.string().min(1),
  description: z.string().nullable().optional(),
  feature: z.enum(STAGED_FEATURES),
  isEnabled: z.boolean(),
  isAppliedToOrganization: z.boolean().optional(),
  appliesTo: z.array(z.string().min(1)).optional(),
});

export const FEDERATED_IDP_MFA_BEHAVIORS = ['acceptIfMfaDoneByFederatedIdp', 'enforceMfaByFederatedIdp', 'rejectMfaByFederatedIdp', 'unknownFutureValue'] as const;
export const PROMPT_LOGIN_BEHAVIORS = ['translateToFreshPasswordAuthentication', 'nativeSupport', 'disabled', 'unknownFutureValue'] as const;
export const AUTHENTICATION_PROTOCOLS = ['wsFed', 'saml', 'unknownFutureValue'] as const;

/** A domain's federation with an on-premises identity provider (internalDomainFederation). */
const federationSchema = z.strictObject({
  id: guid.optional(),
  displayName: z.string().min(1),
  issuerUri: z.string().min(1),
  passiveSignInUri: z.string().min(1),
  metadataExchangeUri: z.string().nullable().optional(),
  activeSignInUri: z.string().nullable().optional(),
  signOutUri: z.string().nullable().optional(),
  passwordResetUri: z.string().nullable().optional(),
  signingCertificate: z.string().nullable().optional(),
  nextSigningCertificate: z.string().nullable().optional(),
  preferredAuthenticationProtocol: z.enum(AUTHENTICATION_PROTOCOLS).nullable().optional(),
  promptLoginBehavior: z.enum(PROMPT_LOGIN_BEHAVIORS).nullable().optional(),
  isSignedAuthenticationRequestRequired: z.boolean().nullable().optional(),
  federatedIdpMfaBehavior: z.enum(FEDERATED_IDP_MFA_BEHAVIORS).nullable().optional(),
});

/**
 * A domain of the tenant; with `federation` it is federated (authenticationType Federated). A
 * subdomain of another domain listed is not a root unless `isRoot: true` (promoted): it takes its
 * root's authentication and federation, and cannot have a `federation` of its own.
 */
const domainSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9.-]+\.[a-z0-9-]+$/i, 'must be a domain name'),
  isRoot: z.boolean().optional(),
  isDefault: z.boolean().optional(),
  isInitial: z.boolean().optional(),
  isVerified: z.boolean().optional(),
  supportedServices: z.array(z.string()).optional(),
  federation: federationSchema.optional(),
});

export const tenantDocumentSchema = z.strictObject({
  $schema: z.string().optional(),
  tenant: z.strictObject({ id: guid, size: z.enum(['S', 'M', 'L']).optional(), displayName: z.string().min(1).nullable().optional() }),
  identity: identitySchema.optional(),
  behaviour: behaviourSchema.optional(),
  users: z.array(userSchema).optional(),
  groups: z.array(groupSchema).optional(),
  contacts: z.array(contactSchema).optional(),
  featureRolloutPolicies: z.array(featureRolloutPolicySchema).optional(),
  domains: z.array(domainSchema).optional(),
  hardwareOathDevices: z.array(deviceSchema).optional(),
  authenticationMethodsPolicy: z.looseObject({}).optional(),
});

export type TenantDocument = z.input<typeof tenantDocumentSchema>;
/** A tenant document after parsing (hash names lower-cased). */
export type ParsedTenantDocument = z.output<typeof tenantDocumentSchema>;
