import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import { getPolicy } from './calls/policy.js';
import type { GraphClient } from './graph-client.js';

/**
 * Properties Graph still reads on Microsoft Authenticator's targets (its own GET samples show them) that the
 * schema has dropped: v1.0's microsoftAuthenticatorAuthenticationMethodTarget has only authenticationMode,
 * beta removed them in 2022, and number matching can no longer be set. A PATCH carrying them is refused.
 */
const DROPPED_AUTHENTICATOR_TARGET = ['outlookMobileAllowedState', 'displayAppInformationRequiredState', 'numberMatchingRequiredState'];

/**
 * The policy as the tool compares and writes it: Authenticator's targets without the dropped properties. Read
 * with them, a plan would write them back (refused), and a read-back or rollback would never find the targets
 * the run wrote (Graph adds them to every target it reads).
 */
export function policyAsRead<T extends AuthenticationMethodsPolicy | null | undefined>(policy: T): T {
  for (const config of policy?.authenticationMethodConfigurations ?? []) {
    const c = config as { id?: string | null; includeTargets?: unknown };
    if (c.id && c.includeTargets !== undefined) c.includeTargets = savedAsRead(`authenticationMethodConfigurations/${c.id}`, 'includeTargets', c.includeTargets);
  }
  return policy;
}

/**
 * A policy property's value saved before the tool read the policy so (a plan or run of an earlier version
 * holds Authenticator's targets with the dropped properties), as it would be read now: what saved values
 * are compared with the tenant as.
 */
export function savedAsRead(target: string, property: string, value: unknown): unknown {
  if (property !== 'includeTargets' || !/\/microsoftauthenticator$/i.test(target) || !Array.isArray(value)) return value;
  return value.map((t: unknown) => (t !== null && typeof t === 'object' && !Array.isArray(t) ? Object.fromEntries(Object.entries(t).filter(([k]) => !DROPPED_AUTHENTICATOR_TARGET.includes(k))) : t));
}

/** The authentication methods policy (beta, see getPolicy), as the tool compares and writes it. */
export async function readPolicy(client: Pick<GraphClient, 'get'>): Promise<AuthenticationMethodsPolicy> {
  return policyAsRead(await client.get<AuthenticationMethodsPolicy>(getPolicy(), 'reading the authentication methods policy'));
}

/** What tells whether an activation Graph refuses may still be waiting for the hardware OATH policy. */
export interface HardwareOathPolicyReading {
  /** The HardwareOath method's configuration reads enabled. */
  enabled: boolean;
  /** The policy's lastModifiedDateTime (ms since the epoch), when Graph gives one. */
  lastModified?: number;
}

/** The HardwareOath method's state and when the policy last changed, from one read of the policy. */
export async function readHardwareOathPolicy(client: Pick<GraphClient, 'get'>): Promise<HardwareOathPolicyReading> {
  const policy = await readPolicy(client);
  const config = policy.authenticationMethodConfigurations?.find((c) => c.id?.toLowerCase() === 'hardwareoath');
  const lastModified = typeof policy.lastModifiedDateTime === 'string' ? Date.parse(policy.lastModifiedDateTime) : NaN;
  return { enabled: config?.state === 'enabled', ...(Number.isFinite(lastModified) ? { lastModified } : {}) };
}
