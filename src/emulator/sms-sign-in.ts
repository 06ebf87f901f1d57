import type * as G from '@microsoft/microsoft-graph-types';
import type { PhoneType } from './phone-number.js';
import type { EmulatorState, UserRecord } from './state.js';

type Target = { id?: unknown; isUsableForSignIn?: unknown };

/** Whether a target names the user: all users, the user, or a group holding them (nested groups included). */
function holds(state: EmulatorState, target: Target, user: UserRecord): boolean {
  const id = typeof target.id === 'string' ? target.id.toLowerCase() : '';
  if (id === 'all_users' || id === user.id.toLowerCase()) return true;
  const group = state.findGroup(id);
  if (!group) return false;
  const seen = new Set<string>();
  const queue = [group];
  while (queue.length > 0) {
    const g = queue.shift()!;
    if (seen.has(g.id)) continue;
    seen.add(g.id);
    for (const m of g.members) {
      if (m.toLowerCase() === user.id.toLowerCase()) return true;
      const nested = state.findGroup(m);
      if (nested) queue.push(nested);
    }
  }
  return false;
}

/**
 * The SMS sign-in readiness Graph reports for a phone: only a mobile, only while SMS is enabled and
 * a target holding the user has isUsableForSignIn on, and no exclude target holds them (exclusion wins).
 */
export function smsSignInState(state: EmulatorState, user: UserRecord, type: PhoneType): G.AuthenticationMethodSignInState {
  if (type !== 'mobile') return 'notSupported';
  const sms = state.policy.authenticationMethodConfigurations.find((c) => c.id?.toLowerCase() === 'sms');
  const include = (sms?.['includeTargets'] as Target[] | undefined) ?? [];
  const exclude = (sms?.['excludeTargets'] as Target[] | undefined) ?? [];
  if (sms?.state !== 'enabled' || exclude.some((t) => holds(state, t, user))) return 'notAllowedByPolicy';
  // A target without the field has it on, as Graph's default (and as the emulator stores one sent without it).
  return include.some((t) => t.isUsableForSignIn !== false && holds(state, t, user)) ? 'ready' : 'notAllowedByPolicy';
}
