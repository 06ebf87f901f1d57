import type { GraphCall } from './graph-call.js';
import type { CapabilityId } from './permissions.js';
import { getSignInPreferences, listMethods, listPhoneMethods } from './calls/user-methods.js';
import { listRolloutPolicies } from './calls/rollout.js';

/** A harmless read of one endpoint the tool uses: what `doctor` sends to see whether it works. */
export interface Probe {
  id: string;
  what: string;
  capability: CapabilityId;
  /** The call; endpoints on a user take the id of one user of the tenant. */
  call: (userId: string | undefined) => GraphCall | undefined;
}

const get = (version: GraphCall['version'], path: string): GraphCall => ({ method: 'GET', version, path });

export const PROBES: readonly Probe[] = [
  { id: 'organization', what: 'the tenant (v1.0)', capability: 'organization.read', call: () => get('v1.0', '/organization?$select=id,displayName') },
  { id: 'users', what: 'users (v1.0)', capability: 'users.read', call: () => get('v1.0', '/users?$select=id,userPrincipalName&$top=1') },
  { id: 'policy', what: 'the authentication methods policy (beta)', capability: 'policy.read', call: () => get('beta', '/policies/authenticationMethodsPolicy') },
  { id: 'policy-v1', what: 'the authentication methods policy (v1.0)', capability: 'policy.read', call: () => get('v1.0', '/policies/authenticationMethodsPolicy') },
  { id: 'methods', what: "a user's methods (beta)", capability: 'methods.read', call: (u) => (u ? listMethods(u) : undefined) },
  { id: 'phone-methods', what: "a user's phone methods (v1.0)", capability: 'methods.read', call: (u) => (u ? listPhoneMethods(u) : undefined) },
  { id: 'sign-in-preferences', what: "a user's default method (beta)", capability: 'methods.read', call: (u) => (u ? getSignInPreferences(u) : undefined) },
  { id: 'inventory', what: 'the hardware OATH token inventory (beta)', capability: 'inventory.read', call: () => get('beta', '/directory/authenticationMethodDevices/hardwareOathDevices?$top=1') },
  { id: 'groups', what: 'groups (v1.0)', capability: 'groups.read', call: () => get('v1.0', '/groups?$select=id,displayName&$top=1') },
  { id: 'rollout', what: 'staged rollout policies (v1.0)', capability: 'rollout.read', call: () => listRolloutPolicies() },
  { id: 'domains', what: 'domains (v1.0)', capability: 'domains.read', call: () => get('v1.0', '/domains?$select=id,authenticationType,isVerified') },
];

/** Graph's answer when a version does not have the endpoint (a cloud without the beta APIs): 400 "Resource not found for the segment". */
export function endpointMissing(status: number, body: unknown): boolean {
  const message = (body as { error?: { message?: string } } | null)?.error?.message ?? '';
  return (status === 400 || status === 404) && /not found for the segment/i.test(message);
}
