import type * as Graph from '@microsoft/microsoft-graph-types-beta';
import { findConfig } from '../model/method-policy.js';
import type { Finding } from './finding.js';
import type { PolicyChange } from './policy-rules.js';

type Target = { id?: string } & Record<string, unknown>;

/**
 * Graph's SMS targets carry isUsableForSignIn, which a new tenant has on for all users: SMS then
 * signs users in with no password (every mobile becomes smsSignInState ready). MFA Server's text
 * messages were a second factor only, so SMS the plan turns on is for MFA alone; SMS the tenant had
 * on already is its own choice, kept and said. An absent value is taken as Graph's default, on.
 */
export const signInOn = (t: Target) => t.isUsableForSignIn !== false;

/**
 * The SMS sign-in change or finding, given the changes mapPolicy made so far (it runs after
 * them). `phones`: migrating users who will have a phone (a mobile among them becomes sign-in ready).
 */
export function mapSmsSignIn(policy: Graph.AuthenticationMethodsPolicy, changes: PolicyChange[], findings: Finding[], phones: number): void {
  const config = findConfig(policy, 'Sms');
  const name = `authenticationMethodConfigurations/${config?.id ?? 'Sms'}`;
  const before = (config?.includeTargets ?? []) as Target[];
  const enables = changes.some((c) => c.target === name && c.property === 'state' && c.after === 'enabled');
  if (enables) {
    // The plan turns SMS on: whatever targets it leaves enabled are for MFA only.
    const targetsChange = changes.find((c) => c.target === name && c.property === 'includeTargets');
    const left = targetsChange ? (targetsChange.after as Target[]) : before;
    if (!left.some(signInOn)) return;
    const after = left.map((t) => ({ ...t, isUsableForSignIn: false }));
    const because =
      'SMS is turned on for MFA only, as MFA Server used text messages: with isUsableForSignIn on, every migrated mobile phone would sign its user in with no password (smsSignInState ready)';
    if (targetsChange) {
      targetsChange.after = after;
      return;
    }
    changes.push({ target: name, property: 'includeTargets', before, after, rule: 'POL-SMS-SIGN-IN', because, setting: 'MFA Server text messages are a second factor only' });
    return;
  }
  if (config?.state === 'enabled' && phones > 0) {
    const on = before.filter(signInOn);
    if (on.length === 0) return;
    findings.push({
      severity: 'warning',
      code: 'sms-sign-in-kept',
      rule: 'POL-SMS-SIGN-IN',
      message: `SMS is already on in the tenant with sign-in usable (isUsableForSignIn) for ${on.map((t) => (t.id === 'all_users' ? 'all users' : `group ${t.id ?? '?'}`)).join(', ')}: the plan leaves that, the tenant's choice, so a migrated mobile phone of a user it targets can sign them in with no password (smsSignInState ready); turn "Use for sign-in" off for those targets if SMS is to be a second factor only`,
    });
  }
}
