import { GraphError } from './graph-error.js';
import type { Grant } from './identity.js';

/**
 * The permissions each emulated route accepts, from the permission tables of Microsoft Graph's API pages
 * (the "acting on other users" table where a page has two). A token must carry at least one of them: in
 * `roles` for an application, in `scp` for a signed-in user. The tables list the least privileged permission
 * and the higher ones; both are accepted. Device-management and agent-identity permissions the generated
 * tables also list for users and organization reads are left out (no admin grants them for this tool).
 *
 * The tables come from the Learn pages named in `source` and, where those are generated, from the data they
 * are generated from (microsoftgraph/microsoft-graph-devx-content, permissions/new/permissions.json).
 */
export interface RoutePermissions {
  /** Application permissions; empty when Graph supports none for the route ("Application: Not supported."). */
  application: readonly string[];
  /** Delegated (work or school account) permissions. */
  delegated: readonly string[];
  /** The Graph docs page whose permissions table this is. */
  source: string;
}

const page = (name: string, version: 'v1.0' | 'beta' = 'v1.0') =>
  `https://learn.microsoft.com/graph/api/${name}?view=graph-rest-${version === 'v1.0' ? '1.0' : 'beta'}`;
const same = (permissions: readonly string[], source: string): RoutePermissions => ({ application: permissions, delegated: permissions, source });

const USERS_READ = ['User.ReadBasic.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const GROUPS_READ = ['Group.ReadBasic.All', 'GroupMember.Read.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const MEMBERS_READ = ['GroupMember.ReadBasic.All', 'GroupMember.Read.All', 'GroupMember.ReadWrite.All', 'Group.ReadBasic.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All'];
const MEMBERS_WRITE = ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const ORGANIZATION_READ = ['Organization.Read.All', 'Organization.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'User.Read.All'];
const POLICY_READ = ['Policy.Read.AuthenticationMethod', 'Policy.ReadWrite.AuthenticationMethod', 'Policy.Read.All'];
const CONFIGURATION_READ = ['Policy.Read.AuthenticationMethod', 'Policy.ReadWrite.AuthenticationMethod'];
const POLICY_WRITE = ['Policy.ReadWrite.AuthenticationMethod'];
/** Reading the hardware OATH inventory: not Policy.Read.AuthenticationMethod. */
const INVENTORY_READ = ['Policy.Read.All', 'Policy.ReadWrite.AuthenticationMethod'];
const METHODS_READ = ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'];
const METHODS_WRITE = ['UserAuthenticationMethod.ReadWrite.All'];
const granular = (kind: string, access: 'Read' | 'ReadWrite'): string[] =>
  access === 'Read'
    ? [`UserAuthMethod-${kind}.Read.All`, `UserAuthMethod-${kind}.ReadWrite.All`, ...METHODS_READ]
    : [`UserAuthMethod-${kind}.ReadWrite.All`, ...METHODS_WRITE];
const ROLLOUT_READ = ['Policy.Read.HybridAuthentication', 'Policy.ReadWrite.HybridAuthentication', 'Directory.ReadWrite.All'];
const ROLLOUT_WRITE = ['Policy.ReadWrite.HybridAuthentication', 'Directory.ReadWrite.All'];
const DOMAINS_READ = ['Domain.Read.All', 'Domain.ReadWrite.All', 'Directory.Read.All'];
// Graph's tables: the federation configuration's own permissions are the least privileged, the Domain ones higher.
const FEDERATION_READ = ['Domain-InternalFederation.Read.All', 'Domain-InternalFederation.ReadWrite.All', 'Domain.Read.All', 'Domain.ReadWrite.All'];
const FEDERATION_WRITE = ['Domain-InternalFederation.ReadWrite.All', 'Domain.ReadWrite.All'];

const AUTH = 'users/{user}/authentication';
const CONFIGS = 'policies/authenticationMethodsPolicy/authenticationMethodConfigurations';
const DEVICES = 'directory/authenticationMethodDevices/hardwareOathDevices';
const HARDWARE = `${AUTH}/hardwareOathMethods`;
const ROLLOUT = 'policies/featureRolloutPolicies';

/** By `METHOD pattern`, the pattern as the router registers it. */
export const ROUTE_PERMISSIONS: Readonly<Record<string, RoutePermissions>> = {
  'GET users': same(USERS_READ, page('user-list')),
  'GET users/{user}': same(USERS_READ, page('user-get')),
  'GET groups': same(GROUPS_READ, page('group-list')),
  'GET groups/{group}': same(GROUPS_READ, page('group-get')),
  'GET groups/{group}/members': same(MEMBERS_READ, page('group-list-members')),
  'GET groups/{group}/transitiveMembers': same(MEMBERS_READ, page('group-list-transitivemembers')),
  'POST groups/{group}/members/$ref': same(MEMBERS_WRITE, page('group-post-members')),
  'DELETE groups/{group}/members/{member}/$ref': same(MEMBERS_WRITE, page('group-delete-members')),
  // Graph asks for a user permission and a group one together; this table takes one of either list (both are the tool's).
  'POST users/{user}/checkMemberGroups': same(MEMBERS_READ, page('directoryobject-checkmembergroups')),
  // Graph lists another user's memberships with User.Read.All or GroupMember.Read.All (delegated: User.Read); this table takes the group ones, like checkMemberGroups.
  'GET users/{user}/memberOf': same(MEMBERS_READ, page('user-list-memberof')),
  'GET organization': { application: ORGANIZATION_READ, delegated: [...ORGANIZATION_READ, 'User.Read'], source: page('organization-list') },

  'GET policies/authenticationMethodsPolicy': same(POLICY_READ, page('authenticationmethodspolicy-get')),
  'PATCH policies/authenticationMethodsPolicy': same(POLICY_WRITE, page('authenticationmethodspolicy-update')),
  [`GET ${CONFIGS}`]: same(POLICY_READ, page('authenticationmethodspolicy-get')),
  [`GET ${CONFIGS}/{config}`]: same(CONFIGURATION_READ, page('smsauthenticationmethodconfiguration-get')),
  [`PATCH ${CONFIGS}/{config}`]: same(POLICY_WRITE, page('smsauthenticationmethodconfiguration-update')),
  [`DELETE ${CONFIGS}/{config}`]: same(POLICY_WRITE, page('smsauthenticationmethodconfiguration-delete')),

  [`GET ${AUTH}/methods`]: same(METHODS_READ, page('authentication-list-methods')),
  [`GET ${AUTH}/methods/{id}`]: same(METHODS_READ, page('authenticationmethod-get')),
  [`GET ${AUTH}/phoneMethods`]: same(granular('Phone', 'Read'), page('authentication-list-phonemethods')),
  [`POST ${AUTH}/phoneMethods`]: same(granular('Phone', 'ReadWrite'), page('authentication-post-phonemethods')),
  [`GET ${AUTH}/phoneMethods/{id}`]: same(granular('Phone', 'Read'), page('phoneauthenticationmethod-get')),
  [`PATCH ${AUTH}/phoneMethods/{id}`]: same(granular('Phone', 'ReadWrite'), page('phoneauthenticationmethod-update')),
  [`DELETE ${AUTH}/phoneMethods/{id}`]: same(granular('Phone', 'ReadWrite'), page('phoneauthenticationmethod-delete')),
  [`GET ${AUTH}/emailMethods`]: same(granular('Email', 'Read'), page('authentication-list-emailmethods')),
  [`POST ${AUTH}/emailMethods`]: same(granular('Email', 'ReadWrite'), page('authentication-post-emailmethods')),
  [`GET ${AUTH}/emailMethods/{id}`]: same(granular('Email', 'Read'), page('emailauthenticationmethod-get')),
  [`PATCH ${AUTH}/emailMethods/{id}`]: same(granular('Email', 'ReadWrite'), page('emailauthenticationmethod-update')),
  [`DELETE ${AUTH}/emailMethods/{id}`]: same(granular('Email', 'ReadWrite'), page('emailauthenticationmethod-delete')),
  [`GET ${AUTH}/softwareOathMethods`]: same(granular('SoftwareOATH', 'Read'), page('authentication-list-softwareoathmethods')),
  [`GET ${AUTH}/softwareOathMethods/{id}`]: same(granular('SoftwareOATH', 'Read'), page('softwareoathauthenticationmethod-get')),
  [`DELETE ${AUTH}/softwareOathMethods/{id}`]: same(granular('SoftwareOATH', 'ReadWrite'), page('softwareoathauthenticationmethod-delete')),
  [`GET ${AUTH}/microsoftAuthenticatorMethods`]: same(granular('MicrosoftAuthApp', 'Read'), page('authentication-list-microsoftauthenticatormethods')),
  [`GET ${AUTH}/microsoftAuthenticatorMethods/{id}`]: same(granular('MicrosoftAuthApp', 'Read'), page('microsoftauthenticatorauthenticationmethod-get')),
  [`DELETE ${AUTH}/microsoftAuthenticatorMethods/{id}`]: same(granular('MicrosoftAuthApp', 'ReadWrite'), page('microsoftauthenticatorauthenticationmethod-delete')),
  [`GET ${AUTH}/signInPreferences`]: same(METHODS_READ, page('authentication-get', 'beta')),
  [`PATCH ${AUTH}/signInPreferences`]: same(METHODS_WRITE, page('authentication-update', 'beta')),

  [`GET ${DEVICES}`]: same(INVENTORY_READ, page('authenticationmethoddevice-list-hardwareoathdevices', 'beta')),
  [`POST ${DEVICES}`]: same(POLICY_WRITE, page('authenticationmethoddevice-post-hardwareoathdevices', 'beta')),
  [`PATCH ${DEVICES}`]: same(POLICY_WRITE, page('authenticationmethoddevice-update', 'beta')),
  [`GET ${DEVICES}/{device}`]: same(INVENTORY_READ, page('hardwareoathtokenauthenticationmethoddevice-get', 'beta')),
  [`PATCH ${DEVICES}/{device}`]: same(POLICY_WRITE, page('hardwareoathtokenauthenticationmethoddevice-update', 'beta')),
  [`DELETE ${DEVICES}/{device}`]: same(POLICY_WRITE, page('authenticationmethoddevice-delete-hardwareoathdevices', 'beta')),
  [`GET ${HARDWARE}`]: same(METHODS_READ, page('authentication-list-hardwareoathmethods', 'beta')),
  [`POST ${HARDWARE}`]: same(METHODS_WRITE, page('authentication-post-hardwareoathmethods', 'beta')),
  [`GET ${HARDWARE}/{id}`]: same(METHODS_READ, page('hardwareoathauthenticationmethod-get', 'beta')),
  [`DELETE ${HARDWARE}/{id}`]: same(METHODS_WRITE, page('hardwareoathauthenticationmethod-delete', 'beta')),
  [`POST ${HARDWARE}/{id}/activate`]: same(METHODS_WRITE, page('hardwareoathauthenticationmethod-activate', 'beta')),
  [`POST ${HARDWARE}/{id}/deactivate`]: same(METHODS_WRITE, page('hardwareoathauthenticationmethod-deactivate', 'beta')),
  [`POST ${HARDWARE}/assignAndActivate`]: same(METHODS_WRITE, page('hardwareoathauthenticationmethod-assignandactivate', 'beta')),
  [`POST ${HARDWARE}/assignAndActivateBySerialNumber`]: same(METHODS_WRITE, page('hardwareoathauthenticationmethod-assignandactivatebyserialnumber', 'beta')),

  [`GET ${ROLLOUT}`]: { application: [], delegated: ROLLOUT_READ, source: page('featurerolloutpolicies-list') },
  [`POST ${ROLLOUT}`]: { application: [], delegated: ROLLOUT_WRITE, source: page('featurerolloutpolicies-post') },
  [`GET ${ROLLOUT}/{policy}`]: { application: [], delegated: ROLLOUT_WRITE, source: page('featurerolloutpolicy-get') },
  [`PATCH ${ROLLOUT}/{policy}`]: { application: [], delegated: ROLLOUT_WRITE, source: page('featurerolloutpolicy-update') },
  [`DELETE ${ROLLOUT}/{policy}`]: { application: [], delegated: ROLLOUT_WRITE, source: page('featurerolloutpolicy-delete') },
  [`GET ${ROLLOUT}/{policy}/appliesTo`]: { application: [], delegated: ROLLOUT_WRITE, source: page('featurerolloutpolicy-get') },
  [`POST ${ROLLOUT}/{policy}/appliesTo/$ref`]: { application: [], delegated: ROLLOUT_WRITE, source: page('featurerolloutpolicy-post-appliesto') },
  [`DELETE ${ROLLOUT}/{policy}/appliesTo/{object}/$ref`]: { application: [], delegated: ROLLOUT_WRITE, source: page('featurerolloutpolicy-delete-appliesto') },

  'GET domains': same(DOMAINS_READ, page('domain-list')),
  'GET domains/{domain}': same(DOMAINS_READ, page('domain-get')),
  'GET domains/{domain}/rootDomain': same(DOMAINS_READ, page('domain-get-rootdomain')),
  'GET domains/{domain}/federationConfiguration': same(FEDERATION_READ, page('domain-list-federationconfiguration')),
  'POST domains/{domain}/federationConfiguration': same(FEDERATION_WRITE, page('domain-post-federationconfiguration')),
  'GET domains/{domain}/federationConfiguration/{federation}': same(FEDERATION_READ, page('internaldomainfederation-get')),
  'PATCH domains/{domain}/federationConfiguration/{federation}': same(FEDERATION_WRITE, page('internaldomainfederation-update')),
};

/**
 * Creating a token and assigning it in the same request (`assignTo`, one device or any of a bulk body):
 * on top of the route's inventory permission, the Create and bulk-create hardwareOathDevices pages ask
 * for "the UserAuthenticationMethod.ReadWrite.All delegated permission". They name no application
 * permission for it; an application is held to the same one, which is what assigning takes (POST
 * hardwareOathMethods).
 */
export const ASSIGN_ON_CREATE: RoutePermissions = same(METHODS_WRITE, page('authenticationmethoddevice-post-hardwareoathdevices', 'beta'));

/** Graph's answer when the token lacks every permission a route accepts. */
export function insufficientPrivileges(): GraphError {
  return new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
}

/** The user properties `User.ReadBasic.All` reads (Graph's permissions reference: "the basic profile"). */
export const BASIC_PROFILE: ReadonlySet<string> = new Set(['displayName', 'givenName', 'id', 'mail', 'photo', 'securityIdentifier', 'surname', 'userPrincipalName']);

/**
 * Whether `grant` reads other users through `User.ReadBasic.All` alone: Graph then answers with the basic
 * profile only, whatever `$select` asks for (no error; a property such as accountEnabled is just missing).
 */
export function readsBasicProfileOnly(grant: Grant): boolean {
  if (grant === 'unscoped' || !grant.permissions.has('User.ReadBasic.All')) return false;
  return !USERS_READ.some((p) => p !== 'User.ReadBasic.All' && grant.permissions.has(p));
}

/**
 * Graph's 403 when `grant` holds none of the permissions the route accepts for its scheme, else undefined.
 * An unscoped grant (a token naming no permissions) passes everywhere; so does a route with no table entry.
 */
export function permissionProblem(method: string, pattern: string, grant: Grant): GraphError | undefined {
  const entry = ROUTE_PERMISSIONS[`${method} ${pattern}`];
  return entry ? grantProblem(entry, grant) : undefined;
}

/** Graph's 403 when `grant` holds none of the permissions of `entry` for its scheme; an unscoped grant passes. */
export function grantProblem(entry: RoutePermissions, grant: Grant): GraphError | undefined {
  if (grant === 'unscoped') return undefined;
  const accepted = grant.scheme === 'Application' ? entry.application : entry.delegated;
  return accepted.some((p) => grant.permissions.has(p)) ? undefined : insufficientPrivileges();
}
