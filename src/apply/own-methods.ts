import { tokenKind, type TokenIdentity } from '../graph/access-token.js';
import { isOwnMethodResource, isSignedInUser, OWN_METHODS_BECAUSE, type SignedInUser } from '../model/own-methods.js';
import { tenantUpnOf, type Operation } from './operations.js';

/** What the journal, the --results file and the summary say of a signed-in admin's own phone or email write. */
export const OWN_METHODS_NOT_SENT = `not sent: ${OWN_METHODS_BECAUSE} (a resume of this run signed in as one of those sends it)`;

/** The user a run's token signs in: a delegated token's; undefined for an application's (or a token naming no one). */
export function signedInUserOf(identity: TokenIdentity): SignedInUser | undefined {
  if (tokenKind(identity) !== 'delegated' || (identity.objectId === null && identity.upn === null)) return undefined;
  return { objectId: identity.objectId, upn: identity.upn };
}

/** An operation left out, with why, and whether it is the user's own method write (else it waits for one). */
export interface LeftOut {
  op: Operation;
  error: string;
  own: boolean;
}

/**
 * `ops` split into those to send and those left out: the signed-in user's own phone and email writes
 * (Graph refuses them: model/own-methods.ts), and every operation that waits for one of them (their
 * default method, phone deletes after it, their switch), as the executor skips what depends on an
 * operation not done. Decided before anything of `ops` is sent; by the run's own token, since the
 * plan is the same whoever applies it. Hardware OATH writes are sent: Graph documents no such refusal.
 */
export function leaveOutOwnMethods(ops: readonly Operation[], me: SignedInUser | undefined): { send: Operation[]; leftOut: LeftOut[] } {
  if (!me) return { send: [...ops], leftOut: [] };
  const out = new Map<string, LeftOut>();
  for (const o of ops) {
    if (o.userId !== undefined && isOwnMethodResource(o.resource) && isSignedInUser(me, o.userId, tenantUpnOf(o) ?? '')) out.set(o.id, { op: o, error: OWN_METHODS_NOT_SENT, own: true });
  }
  if (out.size === 0) return { send: [...ops], leftOut: [] };
  // What waits for them, however deep (a phone delete waits for the default method, which waits for the phones).
  for (let more = true; more; ) {
    more = false;
    for (const o of ops) {
      if (out.has(o.id)) continue;
      const on = o.dependsOn.find((d) => out.has(d));
      if (on === undefined) continue;
      out.set(o.id, { op: o, error: `skipped: ${on} was not sent (the signed-in admin's own methods)`, own: false });
      more = true;
    }
  }
  return { send: ops.filter((o) => !out.has(o.id)), leftOut: ops.flatMap((o) => out.get(o.id) ?? []) };
}
