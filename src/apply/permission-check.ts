import { tokenKind, type TokenIdentity } from '../graph/access-token.js';
import { capability, grants, type Capability, type CapabilityId } from '../graph/permissions.js';
import { UserError } from '../model/user-error.js';
import type { OpKind } from './operations.js';

/** The capability (graph/permissions.ts) each kind of write needs. */
const NEEDS: Record<OpKind, CapabilityId> = {
  'policy-config': 'policy.write',
  'policy-root': 'policy.write',
  'phone-create': 'methods.write',
  'phone-update': 'methods.write',
  'phone-delete': 'methods.write',
  'email-create': 'methods.write',
  'email-update': 'methods.write',
  'email-delete': 'methods.write',
  'signin-update': 'methods.write',
  // Sent with assignTo (op-calls.ts), which takes methods.write too (ALSO_NEEDS).
  'token-create': 'inventory.write',
  'token-bulk-create': 'inventory.write',
  'token-delete': 'inventory.write',
  'token-assign': 'methods.write',
  'token-activate': 'methods.write',
  'token-assign-activate': 'methods.write',
  'token-deactivate': 'methods.write',
  'token-unassign': 'methods.write',
  'rollout-policy-create': 'rollout.write',
  'rollout-policy-update': 'rollout.write',
  'rollout-policy-delete': 'rollout.write',
  'rollout-attach': 'rollout.write',
  'rollout-detach': 'rollout.write',
  'rollout-add': 'members.write',
  'campaign-add': 'members.write',
  'group-member-remove': 'members.write',
  'federation-update': 'federation.write',
};

/**
 * The second capability of a write that needs two. A token created for its user is assigned in the
 * same request (`assignTo`): Graph's Create hardwareOathDevices page asks for
 * UserAuthenticationMethod.ReadWrite.All besides the inventory's permission then.
 */
const ALSO_NEEDS: Partial<Record<OpKind, CapabilityId>> = { 'token-create': 'methods.write' };

/** The capabilities a kind of write needs (all of them). */
export function capabilitiesOf(kind: OpKind): CapabilityId[] {
  const also = ALSO_NEEDS[kind];
  return also ? [NEEDS[kind], also] : [NEEDS[kind]];
}

/**
 * The capabilities the writes of `kinds` need that the access token does not grant. An
 * application's token with no `roles` claim grants nothing (permissions added to the app but never
 * consented: the commonest mistake). Empty when the token says nothing of whom it is for (not a
 * JWT: Graph's answers tell then). A signed-in admin's Entra roles are not in the token's
 * permissions: Graph still refuses what their roles do not cover, and the run stops on refusals in a
 * row (executor.ts).
 */
export function missingPermissions(kinds: Iterable<OpKind>, identity: TokenIdentity): Capability[] {
  const kind = tokenKind(identity);
  if (kind === 'unknown') return [];
  const delegated = kind === 'delegated';
  const held = new Set(delegated ? identity.scopes : identity.roles);
  const needed = new Set<CapabilityId>();
  for (const k of kinds) for (const c of capabilitiesOf(k)) needed.add(c);
  return [...needed].map(capability).filter((c) => !grants(held, delegated, c));
}

/** Refuses a run, before any write, whose token lacks a permission some of its writes need. */
export class MissingPermissionError extends UserError {
  constructor(missing: readonly Capability[], identity: TokenIdentity) {
    const delegated = tokenKind(identity) === 'delegated';
    const who = delegated ? `the signed-in admin's token (${identity.upn ?? 'delegated'})` : `the application's token${identity.appId ? ` (app ${identity.appId})` : ''}`;
    const lines = missing.map((c) => {
      const takes = delegated ? c.delegated : c.application;
      return takes.length > 0 ? `  to ${c.what}: one of ${takes.join(', ')}` : `  to ${c.what}: Graph grants it to no application (sign in as an admin through an app registration of your own: --auth device-code --client-id APP; docs/cutover.md)`;
    });
    super(
      `${who} lacks permissions this run's writes need, so nothing was written:\n${lines.join('\n')}\n` +
        `Grant them (admin consent), sign in again, and apply again; mfa-migrate doctor compares a token's permissions with what each command needs (docs/permissions.md).`,
    );
  }
}
