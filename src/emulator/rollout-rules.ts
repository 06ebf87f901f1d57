import { GraphError } from './graph-error.js';
import { isDynamicGroup, type EmulatorState, type GroupRecord, type RolloutPolicyRecord } from './state.js';

/**
 * Staged rollout's limits (entra-docs "Migrate to cloud authentication using Staged Rollout", the Graph
 * featureRolloutPolicy resource, the MFA Server Migration Utility doc): at most 10 groups per feature, only
 * groups, no dynamic or nested groups, no groups holding contacts, at most 50,000 users per group, and at most
 * 200 users in a group when it is first added. Numbers come from behaviour.stagedRolloutLimits.
 */

const refused = (message: string) => new GraphError(400, 'Request_BadRequest', message);

/** Users in the group (direct members; a rollout group has no nested groups). */
export function userCount(state: EmulatorState, group: GroupRecord): number {
  return group.members.filter((id) => state.directoryObject(id)?.kind === 'user').length;
}

/** Why `group` cannot serve staged rollout at all (dynamic, nested, contacts, too many users), or undefined. */
export function unsupportedGroupReason(state: EmulatorState, group: GroupRecord): string | undefined {
  const kinds = group.members.map((id) => state.directoryObject(id)?.kind);
  if (isDynamicGroup(group)) return `The group '${group.props['displayName']}' is a dynamic group; staged rollout does not support dynamic groups.`;
  if (kinds.includes('group')) return `The group '${group.props['displayName']}' holds groups; staged rollout does not support nested groups.`;
  if (kinds.includes('contact')) return `The group '${group.props['displayName']}' holds contacts; staged rollout supports groups of users only.`;
  const max = state.behaviour.stagedRolloutLimits.membersPerGroup;
  if (userCount(state, group) > max) return `The group '${group.props['displayName']}' has more than ${max} members, the most staged rollout supports per group.`;
  return undefined;
}

/** Checks adding `group` to `policy`'s appliesTo through the API: Graph's refusal, or nothing. */
export function checkGroupAttach(state: EmulatorState, policy: RolloutPolicyRecord, group: GroupRecord): void {
  if (policy.appliesTo.includes(group.id)) {
    throw refused("One or more added object references already exist for the following modified properties: 'appliesTo'.");
  }
  const limits = state.behaviour.stagedRolloutLimits;
  const groupsOfFeature = state.rolloutPolicies.filter((p) => p.feature === policy.feature).reduce((n, p) => n + p.appliesTo.length, 0);
  if (groupsOfFeature >= limits.groupsPerFeature) throw refused(`Staged rollout supports at most ${limits.groupsPerFeature} groups per feature.`);
  const reason = unsupportedGroupReason(state, group);
  if (reason) throw refused(reason);
  if (userCount(state, group) > limits.membersAtFirstAdd) {
    throw refused(
      `The group '${group.props['displayName']}' has more than ${limits.membersAtFirstAdd} members: when a group is first added to staged rollout it can hold at most ${limits.membersAtFirstAdd}; add more users to it afterwards.`,
    );
  }
}

/** The rollout policies whose appliesTo holds `group`. */
export function rolloutPoliciesOf(state: EmulatorState, group: GroupRecord): RolloutPolicyRecord[] {
  return state.rolloutPolicies.filter((p) => p.appliesTo.includes(group.id));
}

/** A member added to a group staged rollout uses must keep it usable: users only, within the per-group limit. */
export function checkRolloutGroupMemberAdd(state: EmulatorState, group: GroupRecord, kind: 'user' | 'group' | 'contact'): void {
  if (rolloutPoliciesOf(state, group).length === 0) return;
  const name = group.props['displayName'];
  if (kind === 'group') throw refused(`The group '${name}' is used by staged rollout, which does not support nested groups.`);
  if (kind === 'contact') throw refused(`The group '${name}' is used by staged rollout, which supports groups of users only.`);
  const max = state.behaviour.stagedRolloutLimits.membersPerGroup;
  // Counted only when the group could be full: every add counting its users made filling a group of
  // 20,000 quadratic (a large-tenant test: each 4,000 adds 3 s, then 9, 13, 18, 20 s).
  if (group.members.length + 1 > max && userCount(state, group) + 1 > max) throw refused(`The group '${name}' is used by staged rollout and already has ${max} members, the most it supports per group.`);
}
