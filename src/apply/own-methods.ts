import { tokenKind, type TokenIdentity } from '../graph/access-token.js';
import { isOwnMethodResource, isSignedInUser, OWN_METHODS_BECAUSE, OWN_METHODS_REFUSED, type SignedInUser } from '../model/own-methods.js';
import { tenantUpnOf, type Operation } from './operations.js';

/** What the journal, the --results file and the summary say of a signed-in admin's own phone or email write. */
export const OWN_METHODS_NOT_SENT = `not sent: ${OWN_METHODS_BECAUSE} (a resume of this run signed in as one of those sends it)`;

/** The same of a rollback's undo of one: the same refusal, and who finishes the rollback. */
export const OWN_UNDOS_NOT_SENT = `not sent: ${OWN_METHODS_REFUSED}; roll back signed in as another admin or an application (a rollback of this rollback's id signed in as one of those sends it)`;

/** The user a run's token signs in: a delegated token's; undefined for an application's (or a token naming no one). */
export function signedInUserOf(identity: TokenIdentity): SignedInUser | undefined {
  if (tokenKind(identity) !== 'delegated' || (identity.objectId === null && identity.upn === null)) return undefined;
  return { objectId: identity.objectId, upn: identity.upn };
}

/**
 * An operation left out, with why, whether it is the user's own method write (else it waits for one),
 * and `user`: whose own write it is, or waits for (a rollback's methods policy undo has no user of its own).
 */
export interface LeftOut {
  op: Operation;
  error: string;
  own: boolean;
  user: string;
}

/**
 * `ops` split into those to send and those left out: the signed-in user's own phone and email writes
 * (Graph refuses them: model/own-methods.ts), and every operation that waits for one of them (their
 * default method, phone deletes after it, their switch; for a rollback, the user's undos chained
 * after them and the methods policy's), as the executor skips what depends on an operation not done.
 * Decided before anything of `ops` is sent; by the run's own token, since the plan (or the run rolled
 * back) is the same whoever applies it. Hardware OATH writes are sent: Graph documents no such refusal.
 * `because`: what an own write is journaled with (apply's OWN_METHODS_NOT_SENT, a rollback's OWN_UNDOS_NOT_SENT).
 */
export function leaveOutOwnMethods(ops: readonly Operation[], me: SignedInUser | undefined, because = OWN_METHODS_NOT_SENT): { send: Operation[]; leftOut: LeftOut[] } {
  if (!me) return { send: [...ops], leftOut: [] };
  const out = new Map<string, LeftOut>();
  for (const o of ops) {
    if (o.userId !== undefined && isOwnMethodResource(o.resource) && isSignedInUser(me, o.userId, tenantUpnOf(o) ?? '')) out.set(o.id, { op: o, error: because, own: true, user: o.user ?? '' });
  }
  if (out.size === 0) return { send: [...ops], leftOut: [] };
  // What waits for them, however deep (a phone delete waits for the default method, which waits for the phones).
  for (let more = true; more; ) {
    more = false;
    for (const o of ops) {
      if (out.has(o.id)) continue;
      const on = o.dependsOn.find((d) => out.has(d));
      if (on === undefined) continue;
      out.set(o.id, { op: o, error: `skipped: ${on} was not sent (the signed-in admin's own methods)`, own: false, user: out.get(on)!.user });
      more = true;
    }
  }
  return { send: ops.filter((o) => !out.has(o.id)), leftOut: ops.flatMap((o) => out.get(o.id) ?? []) };
}

/** Of a user, what a pass left out: their own writes and what waits for them, and who the pass is signed in as. */
export interface OwnMethodsLeftOut {
  user: string;
  signedInAs: string;
  own: number;
  waiting: number;
}

/** Adds `leftOut` to `into`, by user (lower case): what the summary says of each. */
export function tallyLeftOut(into: Map<string, OwnMethodsLeftOut>, leftOut: readonly LeftOut[], me: SignedInUser | undefined): void {
  for (const x of leftOut) {
    const entry = into.get(x.user.toLowerCase()) ?? { user: x.user, signedInAs: me?.upn ?? me?.objectId ?? x.user, own: 0, waiting: 0 };
    if (x.own) entry.own++;
    else entry.waiting++;
    into.set(x.user.toLowerCase(), entry);
  }
}
