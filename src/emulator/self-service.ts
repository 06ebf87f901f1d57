import { GraphError } from './graph-error.js';
import type { GraphRequest } from './graph-request.js';
import type { EmulatorState } from './state.js';

const AUTH = 'users/{user}/authentication';

/**
 * The writes Graph does not let a signed-in user make to their own account: phone methods ("Users
 * can't add a phone authentication method to their own account"; update: "Self-service operations
 * aren't supported") and email methods ("self-service not supported"). Hardware OATH and the default
 * method are not among them: their pages say no such thing.
 */
const OWN_ACCOUNT_REFUSED: ReadonlySet<string> = new Set([
  `POST ${AUTH}/phoneMethods`,
  `PATCH ${AUTH}/phoneMethods/{id}`,
  `DELETE ${AUTH}/phoneMethods/{id}`,
  `POST ${AUTH}/emailMethods`,
  `PATCH ${AUTH}/emailMethods/{id}`,
  `DELETE ${AUTH}/emailMethods/{id}`,
]);

/**
 * Graph's 403 when a delegated token's own user is the target of a phone or email method write,
 * else undefined. Graph documents the refusal, not its code or message: `accessDenied` (403) is this
 * emulator's choice. An application's token (no signed-in user) is never refused here.
 */
export function selfServiceProblem(req: GraphRequest, pattern: string, params: Readonly<Record<string, string>>, state: EmulatorState): GraphError | undefined {
  const me = req.signedIn;
  if (!me || !OWN_ACCOUNT_REFUSED.has(`${req.method} ${pattern}`)) return undefined;
  const target = state.findUser(params['user'] ?? '');
  if (!target) return undefined;
  const same = (a: string | null, b: string) => a !== null && a.toLowerCase() === b.toLowerCase();
  if (!same(me.objectId, target.id) && !same(me.upn, target.userPrincipalName)) return undefined;
  const what = pattern.includes('/phoneMethods') ? 'phone' : 'email';
  return new GraphError(403, 'accessDenied', `Users can't add or change ${what === 'email' ? 'an' : 'a'} ${what} authentication method on their own account through this API: self-service operations aren't supported. An administrator (or an application) must make this change.`);
}
