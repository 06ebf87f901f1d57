/**
 * Graph does not let a signed-in user write their own phone or email methods through the
 * authentication methods API (phone: "Users can't add a phone authentication method to their own
 * account", "Self-service operations aren't supported"; email: self-service not supported). An
 * admin who signs in to migrate is often an MFA Server user too: their own phone and email changes
 * are for another admin or an application to make. Who signed in is the run's, not the plan's: plan
 * shows what a run signed in as its identity leaves out, apply, resume and rollback decide by their own token.
 */

/** The user a delegated sign-in is for: the token's object id (`oid`) and UPN, either may be unknown. */
export interface SignedInUser {
  objectId: string | null;
  upn: string | null;
}

/** What Graph refuses, said alike by plan, apply and rollback (each adds who can make the change). */
export const OWN_METHODS_REFUSED = "the signed-in admin's own methods: Graph does not let a user change their own phone or email methods through this API";

/** Why a run signed in as the user leaves their own phone and email changes out. */
export const OWN_METHODS_BECAUSE = `${OWN_METHODS_REFUSED}; apply this user with another admin account or an application`;

/** Why what waits for those changes (the user's default method, their switch to Entra MFA) is left out with them. */
export const WAITS_FOR_OWN_METHODS = "waits for the signed-in admin's own phone or email changes, which this sign-in cannot make (apply sets a user's default method and switches them only once their methods are written)";

/** A plan resource Graph refuses to a user signed in as its owner: a phone or the email method. */
export function isOwnMethodResource(resource: string): boolean {
  return resource.startsWith('phoneMethods/') || resource === 'emailMethods';
}

/** A plan resource that waits for every method change of its user (userOperations' order): the default method and the switch. */
export function waitsForMethods(resource: string): boolean {
  return resource === 'signInPreferences' || resource.startsWith('rolloutGroup/');
}

/**
 * Whether the tenant user (`userId`, `upn` in the tenant) is the one signed in. By object id when
 * both are known (a UPN can be renamed; the token's may be a guest's home name), else by UPN,
 * case-insensitively.
 */
export function isSignedInUser(me: SignedInUser | undefined, userId: string | null, upn: string): boolean {
  if (!me) return false;
  if (me.objectId !== null && userId !== null) return me.objectId.toLowerCase() === userId.toLowerCase();
  return me.upn !== null && me.upn.toLowerCase() === upn.toLowerCase();
}
