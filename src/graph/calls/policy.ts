import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import type { GraphCall, GraphVersion } from '../graph-call.js';
import { ownValue } from '../../model/own-value.js';

const POLICY = '/policies/authenticationMethodsPolicy';

/**
 * The authentication methods policy, read on beta: the v1.0 representation has no HardwareOath
 * configuration and no reportSuspiciousActivitySettings, both of which the plan compares.
 */
export const getPolicy = (): GraphCall => ({ method: 'GET', version: 'beta', path: POLICY });

const CONFIG_TYPES: Record<string, string> = {
  voice: 'voiceAuthenticationMethodConfiguration',
  sms: 'smsAuthenticationMethodConfiguration',
  microsoftauthenticator: 'microsoftAuthenticatorAuthenticationMethodConfiguration',
  hardwareoath: 'hardwareOathAuthenticationMethodConfiguration',
  softwareoath: 'softwareOathAuthenticationMethodConfiguration',
  temporaryaccesspass: 'temporaryAccessPassAuthenticationMethodConfiguration',
  email: 'emailAuthenticationMethodConfiguration',
  fido2: 'fido2AuthenticationMethodConfiguration',
  x509certificate: 'x509CertificateAuthenticationMethodConfiguration',
};

/** Method configurations v1.0 does not have: written on beta. */
const BETA_ONLY_CONFIGS = new Set(['hardwareoath']);

/** `#microsoft.graph.<type>` of a method configuration (required in every PATCH of one). */
export function configODataType(id: string): string {
  const t = ownValue(CONFIG_TYPES, id.toLowerCase());
  if (!t) throw new Error(`no known @odata.type for authentication method configuration ${id}`);
  return `#microsoft.graph.${t}`;
}

export function configVersion(id: string): GraphVersion {
  return BETA_ONLY_CONFIGS.has(id.toLowerCase()) ? 'beta' : 'v1.0';
}

/** The properties v1.0's schema gives a method configuration's include targets (authenticationMethodTarget and its subtypes). */
const V1_INCLUDE_TARGET = ['id', 'targetType', 'isRegistrationRequired'];
const V1_INCLUDE_TARGET_EXTRA: Record<string, string[]> = {
  microsoftauthenticator: ['authenticationMode'],
  sms: ['isUsableForSignIn'],
  fido2: ['allowedPasskeyProfiles'],
};
/** excludeTarget's properties in v1.0's schema. */
const V1_EXCLUDE_TARGET = ['id', 'targetType'];

/**
 * Targets as v1.0's schema has them. Graph reads some with properties the schema has dropped (Authenticator's
 * outlookMobileAllowedState, displayAppInformationRequiredState and numberMatchingRequiredState, in its own
 * GET samples) and refuses a PATCH carrying them: a target list written back as read would fail.
 */
function v1Targets(value: unknown, keep: readonly string[]): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((t: unknown) => (t !== null && typeof t === 'object' && !Array.isArray(t) ? Object.fromEntries(Object.entries(t).filter(([k]) => keep.includes(k) || k === '@odata.type')) : t));
}

/** PATCH of one method configuration's properties. */
export function patchMethodConfiguration(id: string, properties: Record<string, unknown>): GraphCall {
  const version = configVersion(id);
  const body: Record<string, unknown> = { '@odata.type': configODataType(id), ...properties };
  if (version === 'v1.0') {
    if ('includeTargets' in body) body.includeTargets = v1Targets(body.includeTargets, [...V1_INCLUDE_TARGET, ...(V1_INCLUDE_TARGET_EXTRA[id.toLowerCase()] ?? [])]);
    if ('excludeTargets' in body) body.excludeTargets = v1Targets(body.excludeTargets, V1_EXCLUDE_TARGET);
  }
  return { method: 'PATCH', version, path: `${POLICY}/authenticationMethodConfigurations/${encodeURIComponent(id)}`, body };
}

export const getMethodConfiguration = (id: string): GraphCall => ({ method: 'GET', version: configVersion(id), path: `${POLICY}/authenticationMethodConfigurations/${encodeURIComponent(id)}` });

/** The registration campaign's properties v1.0's schema has (beta adds more, e.g. enforceRegistrationAfterAllowedSnoozes). */
const V1_CAMPAIGN = new Set(['excludeTargets', 'includeTargets', 'snoozeDurationInDays', 'state']);
const V1_CAMPAIGN_TARGET = new Set(['id', 'targetType', 'targetedAuthenticationMethod', '@odata.type']);

/**
 * PATCH of the registration campaign (a complex property: sent whole, as read plus the changes). On
 * v1.0 when every property it carries is v1.0's; otherwise on beta, since leaving a beta-only
 * property out of the whole would reset it.
 */
export function patchRegistrationCampaign(changes: Record<string, unknown>, policy: AuthenticationMethodsPolicy): GraphCall {
  // A complex property is replaced whole by a PATCH: the current value with the changes applied.
  const campaign: Record<string, unknown> = { ...(policy.registrationEnforcement?.authenticationMethodsRegistrationCampaign ?? {}), ...changes };
  const targets = [...((campaign.includeTargets as unknown[] | undefined) ?? []), ...((campaign.excludeTargets as unknown[] | undefined) ?? [])];
  const v1 = Object.keys(campaign).every((k) => V1_CAMPAIGN.has(k)) && targets.every((t) => t !== null && typeof t === 'object' && Object.keys(t).every((k) => V1_CAMPAIGN_TARGET.has(k)));
  return { method: 'PATCH', version: v1 ? 'v1.0' : 'beta', path: POLICY, body: { registrationEnforcement: { authenticationMethodsRegistrationCampaign: campaign } } };
}

/** PATCH of the report-suspicious-activity settings (sent whole): beta only. */
export const patchReportSuspiciousActivity = (changes: Record<string, unknown>, policy: AuthenticationMethodsPolicy): GraphCall => ({
  method: 'PATCH',
  version: 'beta',
  path: POLICY,
  body: { reportSuspiciousActivitySettings: { ...(policy.reportSuspiciousActivitySettings ?? {}), ...changes } },
});
