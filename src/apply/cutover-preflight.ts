import type { GraphClient } from '../graph/graph-client.js';
import { readDomains, readGroups, readRolloutPolicy, setMembership } from '../graph/cutover-reader.js';
import { directGroupsOf } from '../graph/groups-reader.js';
import { addTo } from '../model/add-to.js';
import { federationState, managedDomainSet, REJECT_IDP_MFA, rolloutPolicyState, STAGED_ROLLOUT_LIMITS, unusableGroup, type StagedRolloutLimits } from '../model/staged-rollout.js';
import type { TenantCutover, TenantFederatedDomain, TenantRolloutMember, TenantRolloutPolicy, TenantSnapshot } from '../model/tenant.js';
import { domainsOf, federationOf, federationRootOf } from '../model/federation-root.js';
import { stateFingerprint } from '../plan/fingerprint.js';
import type { CountedSwitch, PlanUser, SavedCutoverChange, SavedPlan } from '../plan/plan-file.js';
import { splitResource } from '../plan/resource-state.js';
import type { Operation } from './operations.js';
import { ROLLOUT_POLICY_TARGET as ROLLOUT_POLICY } from '../model/staged-rollout.js';
import type { StaleObject } from './staleness.js';
import { someOf, upnDomain } from './federation-step.js';
import { outsidersSaid, outsidersWithoutMethod } from './federation-outsiders.js';
import { membersToRecheck, methodlessSaid, methodlessSince } from './switched-members-methods.js';

/** The cutover state as read now: the rollout policy, groups with their users, federated domains. */
export interface LiveCutover {
  cutover: TenantCutover;
  memberOf: ReadonlyMap<string, string[]>;
  /** The UPNs of the groups' user members, by id (what names one who joined since). */
  memberUpns: ReadonlyMap<string, string>;
  /** The tenant snapshot with this cutover state and each user's memberships set. */
  apply(tenant: TenantSnapshot): TenantSnapshot;
}

const GROUP_KINDS = new Set(['rolloutGroup', 'campaignGroup']);

/** What of the cutover some operations touch: the policy, groups, domains. */
function touched(ops: readonly Pick<Operation, 'kind' | 'resource' | 'before' | 'after'>[]): { policy: boolean; groups: string[]; domains: string[] } {
  const groups = new Set<string>();
  const domains = new Set<string>();
  let policy = false;
  for (const o of ops) {
    const [kind, key] = splitResource(o.resource);
    if (GROUP_KINDS.has(kind) && key) groups.add(key);
    if (o.kind.startsWith('rollout-')) policy = true;
    if (o.kind === 'rollout-attach' || o.kind === 'rollout-detach') groups.add(String((o.kind === 'rollout-attach' ? o.after : (o.before as Record<string, unknown>))?.groupId));
    // A rollback's disable or delete of the policy: the users its groups hold now, against what the run left.
    for (const id of Object.keys(((o.before as Record<string, unknown> | null)?.membersLeft as Record<string, number> | undefined) ?? {})) groups.add(id);
    if (o.kind === 'federation-update') domains.add(o.resource.split('/')[1]!);
  }
  return { policy, groups: [...groups], domains: [...domains] };
}

/** Reads the cutover state the operations touch, or undefined when they touch none. */
export async function readCutoverFor(client: GraphClient, ops: readonly Pick<Operation, 'kind' | 'resource' | 'before' | 'after'>[]): Promise<LiveCutover | undefined> {
  const t = touched(ops);
  if (!t.policy && t.groups.length === 0 && t.domains.length === 0) return undefined;
  const [rolloutPolicy, { groups, memberOf, memberUpns }, domains] = await Promise.all([
    t.policy ? readRolloutPolicy(client) : Promise.resolve(null),
    readGroups(client, t.groups),
    t.domains.length > 0 ? readDomains(client, t.domains) : Promise.resolve(undefined),
  ]);
  const cutover: TenantCutover = { rolloutPolicy, groups, federatedDomains: domains?.federated ?? [], ...(domains ? { managedDomains: domains.managed } : {}) };
  return {
    cutover,
    memberOf,
    memberUpns,
    apply: (tenant) => {
      setMembership(tenant.users.values(), memberOf);
      return { ...tenant, cutover };
    },
  };
}

/**
 * The users of a domain the plan counts switched by staged rollout who are not now: in none of the
 * groups that switched them (`switching`: only those attached to the enabled policy now; without it,
 * any of the user's groups, for the pre-flight, when the plan may attach or enable them itself).
 * A federation change rests on them: rejecting the federated IdP's MFA would meet them on MFA Server.
 */
export function unswitchedUsers(counted: readonly CountedSwitch[], domain: string | readonly string[], memberOf: ReadonlyMap<string, readonly string[]>, switching?: ReadonlySet<string>): string[] {
  // A domain with its subdomains that take its federation (domainsOf): its step moves them all.
  const names = new Set((typeof domain === 'string' ? [domain] : domain).map((d) => d.toLowerCase()));
  return counted
    .filter((c) => names.has(upnDomain(c.upn)) && !(memberOf.get(c.userId) ?? []).some((g) => c.groups.includes(g) && (!switching || switching.has(g))))
    .map((c) => c.upn);
}

/** A group membership a plan adds (a user's rolloutGroup or campaignGroup create). */
export interface PlannedAdd {
  /** The export's username (what stale objects name). */
  upn: string;
  /** The user's UPN in the tenant, when it is not `upn` (matched by an on-premises name): its domain is the user's. */
  tenantUpn?: string;
  userId: string;
  resource: string;
}

/**
 * Compares the cutover objects a plan will write with the tenant now: the rollout policy, groups to
 * attach (not attached since, still usable and small enough for a first add), domains' federation,
 * and each planned member add (not a member since; the group keeps room). Pure.
 */
export function findCutoverStale(
  changes: readonly SavedCutoverChange[],
  adds: readonly PlannedAdd[],
  live: Pick<LiveCutover, 'cutover' | 'memberOf'> & Partial<Pick<LiveCutover, 'memberUpns'>>,
  limits: StagedRolloutLimits = STAGED_ROLLOUT_LIMITS,
  seen?: TenantCutover,
  counted: readonly CountedSwitch[] = [],
): StaleObject[] {
  const out: StaleObject[] = [];
  const { rolloutPolicy: policy, groups, federatedDomains } = live.cutover;
  const groupOf = (id: string) => groups.find((g) => g.id === id);
  const stale = (target: string, planned: string, now: unknown, reason: string, user?: string) =>
    out.push({ ...(user ? { user } : {}), target, planned, now: typeof now === 'string' ? now : stateFingerprint(now), reason });
  for (const c of changes) {
    if (c.target === ROLLOUT_POLICY) {
      const now = rolloutPolicyState(policy);
      if (stateFingerprint(now) !== c.state_fingerprint) stale(c.target, c.state_fingerprint, now, 'the staged rollout policy changed since the plan');
      // Enabling it switches every group it holds: one attached since the plan was not in the plan's count
      // (and a rollback would take it for an admin's later addition).
      else if (c.action === 'update' && policy && seen?.rolloutPolicy) {
        const added = policy.appliesTo.filter((id) => !seen.rolloutPolicy!.appliesTo.includes(id));
        if (added.length > 0) stale(c.target, c.state_fingerprint, `${added.length} group(s) attached`, `${added.length} group(s) were attached to the disabled staged rollout policy since the plan (${added.slice(0, 5).join(', ')}): enabling it would switch their users too`);
      }
    } else if (c.target.includes('/appliesTo/')) {
      const id = String(c.after.groupId);
      const g = groupOf(id);
      if (policy?.appliesTo.includes(id)) stale(c.target, c.state_fingerprint, 'attached', 'the group was added to the staged rollout policy since the plan');
      else if (!g) stale(c.target, c.state_fingerprint, 'absent', 'the group is no longer in the tenant');
      else {
        const why = unusableGroup(g, limits) ?? (g.users > limits.membersAtFirstAdd ? `it has ${g.users} members now, more than the ${limits.membersAtFirstAdd} staged rollout takes when a group is first added` : undefined);
        if (why) stale(c.target, c.state_fingerprint, String(g.users), `"${g.displayName}": ${why}`);
      }
    } else if (c.target.startsWith('domains/')) {
      const domain = c.target.split('/')[1]!;
      const liveDomain = federatedDomains.find((d) => d.id === domain);
      const now = federationState(liveDomain);
      if (stateFingerprint(now) !== c.state_fingerprint) stale(c.target, c.state_fingerprint, now, 'the federation changed since the plan');
      // 2.18: the subdomains that take its federation (not roots), whose users the plan judged with the domain's: one
      // added since holds users it did not judge; one promoted since is no longer moved by it. A plan older than 2.18 read none.
      const seenDomain = seen?.federatedDomains.find((d) => d.id === domain);
      if (seen && liveDomain) {
        const was = seenDomain?.subdomains ?? [];
        const is = liveDomain.subdomains ?? [];
        const added = is.filter((x) => !was.includes(x));
        const gone = was.filter((x) => !is.includes(x));
        if (added.length + gone.length > 0) {
          const said = [...(added.length > 0 ? [`${added.join(', ')} added, or made a subdomain of it, whose users the plan did not judge`] : []), ...(gone.length > 0 ? [`${gone.join(', ')} promoted (or removed), no longer moved by its federation`] : [])];
          stale(c.target, c.state_fingerprint, `subdomains: ${is.join(', ') || 'none'}`, `the subdomains that take the federation of ${domain} changed since the plan (${said.join('; ')}): make a new plan`);
        }
      }
      // The plan counted the domain's users switched by the staged rollout it saw: if that was undone
      // since (the policy disabled or gone, a group detached, members removed: a rollback of the run
      // that switched them), rejecting federated MFA would meet users not on Entra MFA.
      const was = seen?.rolloutPolicy;
      if (was?.isEnabled) {
        const shrunk = was.appliesTo.find((id) => !policy?.appliesTo.includes(id) || (groupOf(id)?.users ?? 0) < (seen!.groups.find((g) => g.id === id)?.users ?? 0));
        if (!policy?.isEnabled || shrunk !== undefined) {
          stale(c.target, c.state_fingerprint, 'rollout undone', `the staged rollout the plan counted the domain's users switched by changed since (${!policy ? 'the policy is gone' : !policy.isEnabled ? 'the policy is disabled' : `group ${shrunk} detached or with fewer members`}): make a new plan`);
        }
      }
      // Member counts alone miss a member taken out and another put in.
      const left = unswitchedUsers(
        counted.filter((s) => s.by === 'member'),
        seenDomain ? domainsOf(seenDomain) : domain,
        live.memberOf,
      );
      if (left.length > 0) stale(c.target, c.state_fingerprint, 'rollout undone', `${left.length} user(s) of the domain the plan counted switched by staged rollout are no longer in their rollout group (${someOf(left)}): make a new plan`);
    }
  }
  const addsTo = new Map<string, number>();
  for (const a of adds) {
    const id = splitResource(a.resource)[1]!;
    if (!groupOf(id)) stale(a.resource, stateFingerprint(null), 'absent', 'the group is no longer in the tenant', a.upn);
    else if ((live.memberOf.get(a.userId) ?? []).includes(id)) stale(a.resource, stateFingerprint(null), { groupId: id }, 'the user was added to the group since the plan', a.upn);
    else if (a.resource.startsWith('rolloutGroup/')) addsTo.set(id, (addsTo.get(id) ?? 0) + 1);
  }
  for (const [id, n] of addsTo) {
    const g = groupOf(id)!;
    if (g.users + n > limits.membersPerGroup) stale(`rolloutGroup/${id}`, String(n), String(g.users), `"${g.displayName}" has ${g.users} members now: adding ${n} passes the ${limits.membersPerGroup} staged rollout takes per group`);
  }
  // The switches rest on the policy enabled and their groups attached: as the plan read them, or as its own changes (compared above) leave them.
  out.push(...rolloutStale(policy, addsTo, (id) => groupOf(id)?.displayName || id, plannedRollout(changes)));
  // This run's own adds to a group are checked as such (added since, above); anyone else who joined is not the plan's judging.
  if (seen?.rolloutMembers) out.push(...joinedSince(changes, live.memberOf, seen, new Set(adds.filter((a) => a.resource.startsWith('rolloutGroup/')).map((a) => a.userId)), (id) => groupOf(id)?.displayName || id, (id) => live.memberUpns?.get(id) ?? id));
  return out;
}

/**
 * Users who joined a group the plan switches (attaches, or holds in the policy it creates or enables)
 * since the plan: it judged what each member it read can sign in with (2.6, `rolloutMembers`), and
 * its step would switch them unjudged (a black-box test saw one switched with no method), a user of
 * the plan it chose not to switch (no cloud method) too. `addedByRun`: the users this run adds to a
 * rollout group, checked as such. Pure.
 */
export function joinedSince(
  changes: readonly Pick<SavedCutoverChange, 'target' | 'after'>[],
  memberOf: ReadonlyMap<string, readonly string[]>,
  seen: TenantCutover,
  addedByRun: ReadonlySet<string>,
  nameOf: (id: string) => string,
  upnOf: (userId: string) => string = (id) => id,
): StaleObject[] {
  const planned = plannedRollout(changes);
  const switching = new Set(switchingGroups(planned, seen));
  return [...joinersOf(memberOf, seen, addedByRun, switching)].map(([g, ids]) => ({
    target: `${ROLLOUT_POLICY}/appliesTo/${g}`,
    planned: 'members as read',
    now: `${ids.length} joined`,
    reason: `${ids.length} user(s) joined "${nameOf(g)}" since the plan (${someOf(ids.map(upnOf), JOINED_NAMED)}): ${planned.attaches.has(g) ? 'attaching the group' : 'enabling the staged rollout policy'} would switch them to Entra MFA without the plan having checked that they have a method to sign in with: make a new plan`,
  }));
}

/** Users who joined since the plan, named in a message (the rest are counted). */
export const JOINED_NAMED = 5;

/** The groups whose members a run's staged rollout step switches: those it attaches, and every group of the policy it creates or enables. */
function switchingGroups(planned: ReturnType<typeof plannedRollout>, seen: TenantCutover | undefined): string[] {
  return [...planned.attaches, ...(planned.policy ? (seen?.rolloutPolicy?.appliesTo ?? []) : [])];
}

/** The members the plan read (2.6 `rolloutMembers`) of the groups a run's staged rollout step switches (switchingGroups). None for an older plan. */
function membersSwitchedBy(groups: readonly string[], seen: TenantCutover | undefined): TenantRolloutMember[] {
  const switching = new Set(groups);
  if (switching.size === 0) return [];
  return (seen?.rolloutMembers ?? []).filter((m) => m.memberOf.some((g) => switching.has(g)));
}

/** The users in each of the `switching` groups the plan did not read there (nor this run added), by group, in the order read. */
function joinersOf(memberOf: ReadonlyMap<string, readonly string[]>, seen: TenantCutover, addedByRun: ReadonlySet<string>, switching: ReadonlySet<string>): Map<string, string[]> {
  const joined = new Map<string, string[]>();
  if (switching.size === 0) return joined;
  const known = new Set((seen.rolloutMembers ?? []).map((m) => m.id));
  for (const [userId, groups] of memberOf) {
    if (known.has(userId) || addedByRun.has(userId)) continue;
    for (const g of groups) if (switching.has(g)) addTo(joined, g, userId);
  }
  return joined;
}

/** The groups each staged rollout step a run sends switches the members of, read with their direct members now. */
export interface SwitchingGroupsNow {
  /** By operation: the groups whose members it switches. */
  groupsOf: ReadonlyMap<string, readonly string[]>;
  memberOf: ReadonlyMap<string, string[]>;
  memberUpns: ReadonlyMap<string, string>;
}

/**
 * Right before a run sends a staged rollout step that switches the members of groups (an attach, the
 * policy's enable) long after its pre-flight read them (a resume, a long step 1b): those groups, with
 * their direct members, read again (2.6 plans; undefined for an older one, which did not record whom
 * they held).
 */
export async function switchingGroupsNow(client: GraphClient, plan: Pick<SavedPlan, 'header'>, ops: readonly Pick<Operation, 'id' | 'kind' | 'after'>[]): Promise<SwitchingGroupsNow | undefined> {
  const seen = plan.header.cutover_seen;
  if (!seen?.rolloutMembers) return undefined;
  const groupsOf = new Map<string, string[]>();
  for (const o of ops) {
    if (o.kind === 'rollout-attach') groupsOf.set(o.id, [String(o.after?.groupId)]);
    // An enable switches the groups the policy held when the plan read it (one attached since is the pre-flight's).
    else if (o.kind === 'rollout-policy-update' && o.after?.isEnabled === true) groupsOf.set(o.id, seen.rolloutPolicy?.appliesTo ?? []);
  }
  const ids = [...new Set([...groupsOf.values()].flat())];
  if (ids.length === 0) return undefined;
  const { memberOf, memberUpns } = await readGroups(client, ids);
  return { groupsOf, memberOf, memberUpns };
}

/**
 * Who joined the groups of the steps a run sends since the plan (`now`: switchingGroupsNow's read).
 * By operation: the UPNs of those who joined, and the groups' names. `addedByRun`: users this run
 * added to a rollout group itself.
 */
export function joinedSinceNow(plan: Pick<SavedPlan, 'header'>, now: SwitchingGroupsNow | undefined, addedByRun: ReadonlySet<string>): Map<string, { upns: string[]; groups: string }> {
  const out = new Map<string, { upns: string[]; groups: string }>();
  const seen = plan.header.cutover_seen;
  if (!seen || !now) return out;
  const joined = joinersOf(now.memberOf, seen, addedByRun, new Set([...now.groupsOf.values()].flat()));
  const nameOf = groupNamesOf(plan);
  for (const [op, groups] of now.groupsOf) {
    const users = [...new Set(groups.flatMap((g) => joined.get(g) ?? []))];
    if (users.length > 0) out.set(op, { upns: users.map((id) => now.memberUpns.get(id) ?? id), groups: groups.filter((g) => joined.has(g)).map((g) => `"${nameOf(g)}"`).join(', ') });
  }
  return out;
}

/**
 * The members outside the plan of the groups of the steps a run sends (`now`: switchingGroupsNow's
 * read) whom the plan read with a cloud MFA method and who have none now, read again. By operation:
 * what a held step says of them, a clause per group (`doingOf`: what the operation does).
 */
export async function methodlessSinceNow(
  client: GraphClient,
  plan: Pick<SavedPlan, 'header' | 'users' | 'policyChanges'>,
  now: SwitchingGroupsNow | undefined,
  doingOf: (op: string) => string,
  concurrency: number,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!now) return out;
  const members = membersToRecheck(plan, [...new Set([...now.groupsOf.values()].flat())]);
  const byGroup = await methodlessSince(client, plan, members, now, concurrency, onProgress);
  if (byGroup.size === 0) return out;
  const nameOf = groupNamesOf(plan);
  const lower = new Map([...byGroup].map(([g, upns]) => [g.toLowerCase(), upns]));
  for (const [op, groups] of now.groupsOf) {
    const said = groups.flatMap((g) => {
      const upns = lower.get(g.toLowerCase());
      return upns ? [methodlessSaid(upns, nameOf(g), doingOf(op))] : [];
    });
    if (said.length > 0) out.set(op, said);
  }
  return out;
}

/**
 * A member of a group the plan attaches whom the plan read as switched to Entra MFA already, by
 * other groups of theirs attached to the enabled policy (`by`): it did not judge them as switched by
 * its attach, so one with no cloud MFA method was warned of (switched-without-method), not refused.
 */
export interface SwitchedElsewhere {
  userId: string;
  upn: string;
  /** The groups the plan attaches that hold them. */
  attaches: string[];
  /** The other attached groups that switched them when the plan read them. */
  by: string[];
}

/** The members the plan recorded as switched already by another attached group (2.6 `rolloutMembers`; none for an older plan). Pure. */
export function switchedElsewhere(changes: readonly Pick<SavedCutoverChange, 'target' | 'after'>[], seen: TenantCutover | undefined): SwitchedElsewhere[] {
  const policy = seen?.rolloutPolicy;
  if (!seen?.rolloutMembers || !policy?.isEnabled || policy.isAppliedToOrganization) return [];
  const { attaches } = plannedRollout(changes);
  if (attaches.size === 0) return [];
  const others = new Set(policy.appliesTo.filter((id) => !attaches.has(id)));
  return seen.rolloutMembers.flatMap((m) => {
    const mine = m.memberOf.filter((g) => attaches.has(g));
    const by = m.memberOf.filter((g) => others.has(g));
    return mine.length > 0 && by.length > 0 ? [{ userId: m.id, upn: m.userPrincipalName, attaches: mine, by }] : [];
  });
}

/**
 * Those of `recorded` who are no longer switched by a group attached to the enabled policy now, other
 * than the plan's own attaches (taken out of it, it detached, the policy disabled): the plan's attach
 * would switch them itself, unjudged. `read`: what the caller read already (the policy, and the
 * members of groups it read); attached groups it did not read are read here. Direct members, as the
 * plan read them: staged rollout does not take nested groups.
 */
export async function unswitchedSince(
  client: GraphClient,
  recorded: readonly SwitchedElsewhere[],
  attaches: ReadonlySet<string>,
  read?: { policy: TenantRolloutPolicy | null; memberOf: ReadonlyMap<string, readonly string[]>; groups: ReadonlySet<string> },
): Promise<SwitchedElsewhere[]> {
  if (recorded.length === 0) return [];
  const policy = read ? read.policy : await readRolloutPolicy(client);
  if (policy?.isEnabled && policy.isAppliedToOrganization) return [];
  const switching = policy?.isEnabled ? policy.appliesTo.filter((id) => !attaches.has(id)) : [];
  // The groups the plan attaches that hold them count too: one taken out of them is no one the attach switches.
  const theirs = [...new Set(recorded.flatMap((r) => r.attaches))];
  const unread = [...new Set([...switching, ...theirs])].filter((id) => !read?.groups.has(id));
  // What the caller read answers for its groups; otherwise each recorded user (200 at most: a group's
  // first attach) is asked which groups they are a direct member of, rather than listing every member
  // of every attached group (up to 50,000 each; a review).
  const groupsOf: (userId: string) => readonly string[] =
    unread.length === 0
      ? (id) => read?.memberOf.get(id) ?? []
      : await directGroupsOf(client, recorded.map((r) => r.userId)).then((m) => (id: string) => m.get(id.toLowerCase()) ?? []);
  const now = new Set(switching.map((g) => g.toLowerCase()));
  return recorded.filter((r) => {
    const groups = groupsOf(r.userId).map((g) => g.toLowerCase());
    return r.attaches.some((g) => groups.includes(g.toLowerCase())) && !groups.some((g) => now.has(g));
  });
}

/** By group the plan attaches: its members no longer switched elsewhere, and the groups that switched them when the plan read them. */
export function unswitchedByAttach(left: readonly SwitchedElsewhere[]): Map<string, { upns: string[]; by: string[] }> {
  const out = new Map<string, { upns: string[]; by: string[] }>();
  for (const r of left) {
    for (const g of r.attaches) {
      const e = out.get(g) ?? out.set(g, { upns: [], by: [] }).get(g)!;
      e.upns.push(r.upn);
      for (const b of r.by) if (!e.by.includes(b)) e.by.push(b);
    }
  }
  return out;
}

/** What a stale object or a held attach says of them: "no longer switched by <group> since the plan". */
export function unswitchedSaid(upns: readonly string[], by: readonly string[], nameOf: (id: string) => string, doing: string): string {
  return `${upns.length} user(s) the plan took as switched to Entra MFA already are no longer switched by ${by.map((g) => `"${nameOf(g)}"`).join(', ')} since the plan (${someOf(upns, JOINED_NAMED)}): ${doing} would switch them itself, and the plan did not refuse one of them with no cloud MFA method, who would have nothing to sign in with`;
}

/**
 * Right before a run sends an attach long after its pre-flight (a resume, a long step 1b): the
 * members of its group the plan took as switched already by another attached group who are no longer,
 * read again. By operation: their UPNs, and the groups that switched them when the plan read them.
 */
export async function unswitchedSinceNow(
  client: GraphClient,
  plan: Pick<SavedPlan, 'header' | 'cutoverChanges'>,
  ops: readonly Pick<Operation, 'id' | 'kind' | 'after'>[],
): Promise<Map<string, { upns: string[]; by: string[] }>> {
  const out = new Map<string, { upns: string[]; by: string[] }>();
  const sending = new Map(ops.filter((o) => o.kind === 'rollout-attach').map((o) => [String(o.after?.groupId), o.id]));
  const recorded = switchedElsewhere(plan.cutoverChanges, plan.header.cutover_seen).filter((r) => r.attaches.some((g) => sending.has(g)));
  if (recorded.length === 0) return out;
  const left = await unswitchedSince(client, recorded, plannedRollout(plan.cutoverChanges).attaches);
  for (const [g, e] of unswitchedByAttach(left)) if (sending.has(g)) out.set(sending.get(g)!, e);
  return out;
}

/** What of the staged rollout a run's policy step is still to do: create or enable the policy, attach groups. */
export interface PlannedRollout {
  policy: boolean;
  attaches: ReadonlySet<string>;
}

/** What a plan's cutover changes do to the staged rollout (all of it, before the run's policy step). */
export function plannedRollout(changes: readonly Pick<SavedCutoverChange, 'target' | 'after'>[]): PlannedRollout {
  return {
    policy: changes.some((c) => c.target === ROLLOUT_POLICY),
    attaches: new Set(changes.filter((c) => c.target.startsWith(`${ROLLOUT_POLICY}/appliesTo/`)).map((c) => String(c.after?.groupId))),
  };
}

/**
 * The staged rollout a plan's switches (its users' rolloutGroup adds, counted by group) rest on: the
 * policy there and enabled, and each group they go to attached to it. A user added to a group of a
 * disabled policy, or one detached from it, stays on MFA Server though the add succeeds. `planned`:
 * what the run's own policy step is still to do (whose changes are compared as such); after the
 * step, nothing. Pure; `nameOf` names a group by id.
 */
export function rolloutStale(policy: TenantRolloutPolicy | null, addsTo: ReadonlyMap<string, number>, nameOf: (id: string) => string, planned: PlannedRollout = { policy: false, attaches: new Set() }): StaleObject[] {
  if (addsTo.size === 0) return [];
  const users = [...addsTo.values()].reduce((a, b) => a + b, 0);
  const after = `the ${users} user(s) the plan adds to rollout groups would not be switched to Entra MFA (added to the group all the same)`;
  if (!policy) return planned.policy ? [] : [{ target: ROLLOUT_POLICY, planned: 'enabled', now: 'absent', reason: `the staged rollout policy was deleted since the plan: ${after}` }];
  const out: StaleObject[] = [];
  if (!policy.isEnabled && !planned.policy) out.push({ target: ROLLOUT_POLICY, planned: 'enabled', now: 'disabled', reason: `the staged rollout policy was disabled since the plan: ${after}` });
  for (const [id, n] of addsTo) {
    if (policy.appliesTo.includes(id) || planned.attaches.has(id)) continue;
    out.push({ target: `${ROLLOUT_POLICY}/appliesTo/${id}`, planned: 'attached', now: 'detached', reason: `"${nameOf(id)}" was detached from the staged rollout policy since the plan: the ${n} user(s) the plan adds to it would not be switched to Entra MFA` });
  }
  return out;
}

/** The groups a plan names by id (its --rollout-group groups and those it read), for what rolloutStale says. */
export function groupNamesOf(plan: Pick<SavedPlan, 'header'>): (id: string) => string {
  const names = new Map<string, string>();
  for (const g of plan.header.cutover_seen?.groups ?? []) names.set(g.id, g.displayName);
  for (const g of plan.header.options.rollout_groups ?? []) names.set(g.id, g.displayName);
  return (id) => names.get(id) || id;
}

/**
 * Right before switches are written (a resume, a wave of a long run): the staged rollout they rest
 * on, read again (the policy alone: one read). `addsTo`: the switches left, counted by group.
 */
export async function rolloutStaleNow(client: GraphClient, addsTo: ReadonlyMap<string, number>, nameOf: (id: string) => string, planned?: PlannedRollout): Promise<StaleObject[]> {
  if (addsTo.size === 0) return [];
  return rolloutStale(await readRolloutPolicy(client), addsTo, nameOf, planned);
}

/** A user's planned group adds (rollout and campaign groups), gathered while apply's pre-flight reads the users. */
export function groupAddsOf(u: Pick<PlanUser, 'upn' | 'userId' | 'changes' | 'tenantUpn'>, into: PlannedAdd[]): void {
  for (const c of u.changes) if (c.action === 'create' && GROUP_KINDS.has(splitResource(c.resource)[0])) into.push({ upn: u.upn, ...(u.tenantUpn !== undefined ? { tenantUpn: u.tenantUpn } : {}), userId: u.userId, resource: c.resource });
}

/** The pre-flight check of the cutover: reads what the plan's cutover writes touch (the adds from groupAddsOf) and compares it. */
export async function cutoverStale(
  plan: SavedPlan,
  adds: readonly PlannedAdd[],
  client: GraphClient,
  leftOut: readonly string[] = [],
  /** Positions in plan.users of the users this run applies (all, when not given). */
  selected?: readonly number[],
  concurrency = 4,
  /** While the methods of the members outside the plan its staged rollout step switches are read again: done of total. */
  onMembers?: (done: number, total: number) => void,
): Promise<{ stale: StaleObject[]; groupUsers: Record<string, number> }> {
  // The federation changes of domains the run leaves out are not the run's to check.
  const changes = plan.cutoverChanges.filter((c) => !(c.target.startsWith('domains/') && leftOut.includes(c.target.split('/')[1]!)));
  const seen = plan.header.cutover_seen;
  // A staged rollout plan counted the users of a domain rejecting the IdP's MFA already as switched by
  // it (none added to a group): that must still hold, or they would be left on MFA Server unsaid.
  const runUsers = selected ? selected.map((i) => plan.users[i]!) : plan.users;
  const rollout = (plan.header.options.rollout_groups?.length ?? 0) > 0;
  // By the run users' domains: a subdomain that is not a root is switched by its root's federation (model/federation-root.ts).
  const seenGoverning = federationOf(seen?.federatedDomains ?? []);
  const rejecting = rollout ? [...new Set(runUsers.map((u) => upnDomain(u.tenantUpn ?? u.upn)))].filter((d) => seenGoverning(d)?.federatedIdpMfaBehavior === REJECT_IDP_MFA) : [];
  // The same for a managed domain's users (2.17): made federated since, they would meet the IdP's MFA.
  // Its members in a group the run's staged rollout step switches count too, of the run or not: the
  // plan did not refuse the step for one of them with no cloud MFA method (Entra did their MFA already).
  const planned = plannedRollout(changes);
  const switching = switchingGroups(planned, seen);
  const managedSeen = managedDomainSet(seen);
  const managed = rollout && managedSeen.size > 0 ? [...new Set([...runUsers.map((u) => upnDomain(u.tenantUpn ?? u.upn)), ...membersSwitchedBy(switching, seen).map((m) => upnDomain(m.userPrincipalName))])].filter((d) => managedSeen.has(d)) : [];
  if (changes.length === 0 && adds.length === 0 && rejecting.length === 0 && managed.length === 0) return { stale: [], groupUsers: {} };
  const probe: Parameters<typeof readCutoverFor>[1][number][] = [
    ...changes.map((c) => ({ kind: kindOf(c), resource: c.target, before: c.before, after: c.after }) as const),
    ...adds.map((a) => ({ kind: a.resource.startsWith('rolloutGroup/') ? ('rollout-add' as const) : ('campaign-add' as const), resource: a.resource, before: null, after: null })),
    ...[...rejecting, ...managed].map((d) => ({ kind: 'federation-update' as const, resource: `domains/${d}/federationConfiguration`, before: null, after: null })),
  ];
  // The groups whose members the policy step switches, when the plan judged them (2.6): who joined since.
  if (seen?.rolloutMembers) for (const id of planned.policy ? (seen.rolloutPolicy?.appliesTo ?? []) : []) probe.push(groupProbe(id));
  // Members of the groups it attaches it took as switched already by another attached group: still so?
  const elsewhere = switchedElsewhere(changes, seen);
  const attaches = planned.attaches;
  for (const id of new Set(elsewhere.flatMap((e) => e.by))) probe.push(groupProbe(id));
  // A federation change: the staged rollout the plan saw is read again too (see findCutoverStale).
  if (changes.some((c) => c.target.startsWith('domains/'))) {
    const ids = new Set([...(seen?.rolloutPolicy?.appliesTo ?? []), ...plan.countedSwitches.flatMap((c) => (c.by === 'member' ? c.groups : []))]);
    for (const id of ids) probe.push(groupProbe(id));
  }
  const live = await readCutoverFor(client, probe);
  if (!live) return { stale: [], groupUsers: {} };
  // The users each group read holds as the run starts: what a rollback compares with, not the plan's older read.
  const groupUsers = Object.fromEntries(live.cutover.groups.map((g) => [g.id, g.users]));
  const stale = findCutoverStale(changes, adds, live, STAGED_ROLLOUT_LIMITS, seen, plan.countedSwitches);
  const left = await unswitchedSince(client, elsewhere, attaches, { policy: live.cutover.rolloutPolicy, memberOf: live.memberOf, groups: new Set(live.cutover.groups.map((g) => g.id)) });
  const nameOf = groupNamesOf(plan);
  for (const [g, { upns, by }] of unswitchedByAttach(left)) {
    stale.push({ target: `${ROLLOUT_POLICY}/appliesTo/${g}`, planned: 'switched already', now: `${upns.length} no longer switched`, reason: `${unswitchedSaid(upns, by, nameOf, 'attaching the group')}: make a new plan` });
  }
  // The members outside the plan its staged rollout step switches, whom it judged with a method: still so?
  const recheck = membersToRecheck(plan, switching);
  for (const [g, upns] of recheck.length > 0 ? await methodlessSince(client, plan, recheck, live, concurrency, onMembers) : []) {
    const doing = [...attaches].some((a) => a.toLowerCase() === g.toLowerCase()) ? 'attaching the group' : 'enabling the staged rollout policy';
    stale.push({ target: `${ROLLOUT_POLICY}/appliesTo/${g}`, planned: 'members with a method', now: `${upns.length} without`, reason: `${methodlessSaid(upns, nameOf(g), doing)}, and make a new plan` });
  }
  // 2.16: the domain's tenant users outside the plan, read again: one who appeared, or lost their method, since.
  const federated = changes.filter((c) => c.target.startsWith('domains/')).map((c) => c.target.split('/')[1]!);
  for (const [domain, o] of federated.length > 0 ? await outsidersWithoutMethod(client, plan, federated, concurrency, 'planned', live.cutover.federatedDomains) : []) {
    stale.push({ target: `domains/${domain}/federationConfiguration`, planned: 'none without a method', now: `${o.appeared.length + o.lost.length} without`, reason: `${outsidersSaid(domain, o)} (since the plan): give them a method, or disable the accounts no one uses, and make a new plan` });
  }
  const liveGoverning = federationOf(live.cutover.federatedDomains);
  for (const d of rejecting) {
    const now = liveGoverning(d)?.federatedIdpMfaBehavior ?? null;
    if (now === REJECT_IDP_MFA) continue;
    const root = seenGoverning(d)!.id;
    stale.push({
      target: `domains/${d}/federationConfiguration`,
      planned: REJECT_IDP_MFA,
      now: now ?? 'not federated',
      reason: `the plan counted the users of ${d} switched to Entra MFA by its federation${root !== d ? ` (that of ${root}, whose subdomain it was)` : ''} (rejecting the IdP's MFA) and added none to a rollout group; it is ${now ?? 'not federated'} now, so they would stay on MFA Server`,
    });
  }
  const managedNow = managedDomainSet(live.cutover);
  for (const d of managed) {
    if (managedNow.has(d)) continue;
    const now = liveGoverning(d) ? 'federated' : 'not a verified managed domain';
    stale.push({
      target: `domains/${d}/federationConfiguration`,
      planned: 'managed',
      now,
      reason: `the plan counted the users of ${d} switched to Entra MFA as a managed domain's (Entra does their MFA): it added none to a rollout group, nor refused a staged rollout step that switches one of them with no cloud MFA method; it is ${now} now, so their MFA may be the federated IdP's (MFA Server)`,
    });
  }
  return { stale, groupUsers };
}

/**
 * Right before a federation change is sent (hours after the pre-flight, or in a resume): the users of
 * each domain the plan counts switched who are not now, read from the tenant (the rollout policy and
 * the groups that switch them).
 */
export async function unswitchedNow(client: GraphClient, counted: readonly CountedSwitch[], domains: readonly string[], seen: readonly TenantFederatedDomain[] = []): Promise<Map<string, string[]>> {
  // A domain's users are those of its subdomains that take its federation too, as the plan read them.
  const root = federationRootOf(seen);
  const familyOf = (d: string) => {
    const entry = seen.find((x) => x.id === d.toLowerCase());
    return entry ? domainsOf(entry) : d;
  };
  const mine = counted.filter((c) => domains.includes(root(upnDomain(c.upn))));
  const probe = [...new Set(mine.flatMap((c) => c.groups))].map(groupProbe);
  const live = probe.length > 0 ? await readCutoverFor(client, probe) : undefined;
  const policy = live?.cutover.rolloutPolicy;
  const switching = new Set(policy?.isEnabled ? policy.appliesTo : []);
  return new Map(domains.map((d) => [d, unswitchedUsers(mine, familyOf(d), live?.memberOf ?? new Map(), switching)]));
}

/** What readCutoverFor needs to read a rollout group with its members (and the policy): an attach of it. */
function groupProbe(id: string) {
  return { kind: 'rollout-attach' as const, resource: `featureRolloutPolicies/multiFactorAuthentication/appliesTo/${id}`, before: null, after: { groupId: id } };
}

function kindOf(c: SavedCutoverChange): Operation['kind'] {
  if (c.target.startsWith('domains/')) return 'federation-update';
  return c.target.includes('/appliesTo/') ? 'rollout-attach' : 'rollout-policy-update';
}
