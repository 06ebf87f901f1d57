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
    if (config.id?.toLowerCase() !== 'microsoftauthenticator') continue;
    const targets = (config as { includeTargets?: unknown }).includeTargets;
    if (!Array.isArray(targets)) continue;
    for (const t of targets as unknown[]) {
      if (t !== null && typeof t === 'object') for (const p of DROPPED_AUTHENTICATOR_TARGET) delete (t as Record<string, unknown>)[p];
    }
  }
  return policy;
}

/** The authentication methods policy (beta, see getPolicy), as the tool compares and writes it. */
export async function readPolicy(client: Pick<GraphClient, 'get'>): Promise<AuthenticationMethodsPolicy> {
  return policyAsRead(await client.get<AuthenticationMethodsPolicy>(getPolicy(), 'reading the authentication methods policy'));
}
