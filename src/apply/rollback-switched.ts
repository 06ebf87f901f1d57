import type { GraphClient } from '../graph/graph-client.js';
import { readRolloutPolicy, RolloutForbiddenError } from '../graph/cutover-reader.js';
import { transitiveMemberships } from '../graph/groups-reader.js';
import { getGroup } from '../graph/calls/groups.js';
import { isSuccess } from '../graph/graph-call.js';
import { readTenant } from '../graph/tenant-reader.js';
import type { TenantUser } from '../model/tenant.js';
import { ROLLOUT_UNDOS } from './rollback-inverses.js';
import type { Operation } from './operations.js';
import { federationSwitches, othersLeftWithout, type SwitchedUsers } from './rollback-others.js';
import { federatedDomainsOrWarn } from './federated-domains-read.js';
import { federationOf } from '../model/federation-root.js';
import { REJECT_IDP_MFA } from '../model/staged-rollout.js';
import type { TenantFederatedDomain } from '../model/tenant.js';
import { upnDomain } from './federation-step.js';

/**
 * What a rollback journals (and reports) for an undo it left in place because its user is still
 * switched to Entra MFA once the cutover's undo is done: taken away, the method would leave the user
 * switched with nothing to sign in with.
 */
export const STILL_SWITCHED = 'still switched to Entra MFA by';

/**
 * The flag that consents to taking methods all the same from users a rollback leaves switched to Entra
 * MFA with none they can use: its own, apart from --out-of-order (the newest-first rule alone).
 */
export const LEAVE_SWITCHED = '--leave-switched-without-method';

/** A journaled error that says the undo was left in place for a user still switched to Entra MFA. */
export const isStillSwitchedError = (error: string | undefined) => error?.startsWith(`${STILL_SWITCHED} `) ?? false;

/** Undos that take a cloud MFA method away from its user. */
export const METHOD_REMOVALS: ReadonlySet<Operation['kind']> = new Set(['phone-delete', 'token-deactivate', 'token-unassign', 'token-delete']);

/**
 * Whether the methods policy's undo of a method configuration (setting `properties` back) can turn off
 * a method the user holds (policy-view.ts's rules): SMS for a mobile phone, voice for any phone (its
 * office-phone switch for an office phone), hardware OATH for a token, Authenticator (its OATH codes
 * switch for software OATH only) and software OATH for theirs.
 */
function turnsOff(resource: string, properties: readonly string[], u: TenantUser): boolean {
  const phones = new Set(u.phones.map((p) => p.phoneType));
  const besides = (p: string) => properties.some((x) => x !== p);
  switch (resource.slice(resource.lastIndexOf('/') + 1)) {
    case 'Sms':
      return phones.has('mobile');
    case 'Voice':
      return besides('isOfficePhoneAllowed') ? phones.size > 0 : phones.has('office');
    case 'HardwareOath':
      return u.hardwareOath.length > 0;
    case 'SoftwareOath':
      return u.softwareOathCount > 0;
    case 'MicrosoftAuthenticator':
      return u.softwareOathCount > 0 || (besides('isSoftwareOathEnabled') && u.authenticatorCount > 0);
    default:
      return false;
  }
}

export interface StillSwitched {
  /** Undos to leave in place, by operation id, with why (starting STILL_SWITCHED). */
  holds: Map<string, string>;
  /** The run's users still switched for whom something was left in place, with what switches them. */
  users: { user: string; by: string }[];
  /**
   * Users outside the run the staged rollout or a rejecting domain's federation still switches, for whom the methods policy's undo was
   * left in place (it would leave them with no method they can use): the first few, how many (at
   * least, when `unread` members were not read), what switches them.
   */
  others?: { first: string[]; count: number; by: string[]; unread: number };
  /** Every one of those users read (sorted): journaled when --leave-switched-without-method takes the undos all the same. */
  othersAll?: string[];
}

/** How many users outside the run were left something: `N user(s) outside the run`, a floor when some were not read. */
export const othersText = (o: Pick<NonNullable<StillSwitched['others']>, 'count' | 'unread'>) => `${o.unread > 0 ? 'at least ' : ''}${o.count} user(s) outside the run`;

const NONE: StillSwitched = { holds: new Map(), users: [] };

/**
 * Once the cutover's undos are sent (a domain's federation put back, the rollout policy disabled or
 * deleted, the run's groups detached), who the staged rollout still switches to Entra MFA, read from
 * the tenant: the rollout policy is enabled still (its undo left alone as changed since the run,
 * failed, or none: it was enabled before the run) and applies to the whole organisation, or to a
 * group holding the user (nested groups included) other than one this rollback takes the user out
 * of. Of a run that touched the staged rollout, its users' method removals still to send are left in
 * place, and so is the methods policy's undo of a method configuration one of them needs for a method
 * they hold (SMS and voice for a phone, hardware OATH for a token...). A domain whose federation
 * rejects the federated IdP's MFA now, whenever that was set (before the run's plan read it too),
 * switches every user of it likewise: the run's users of it are judged so too, whatever the run. Whatever the run, the methods
 * policy's undos that would leave another user the staged rollout or such a domain still switches with
 * no method they can use are left in place too (rollback-others.ts). Nothing is read for a run that
 * touched no staged rollout and has neither a method configuration to set back nor a method of its users
 * to remove; the domains when it has either.
 *
 * `pending`: the undos still to send after the cutover's; `doneNow`: the cutover undos done in this
 * pass (a policy just deleted may still be listed for a moment: what was done is trusted).
 */
export async function stillSwitched(
  client: GraphClient,
  inverses: readonly Operation[],
  pending: readonly Operation[],
  runUsers: ReadonlyMap<string, string>,
  doneNow: ReadonlySet<string>,
  opts: {
    concurrency: number;
    onRead?: (what: string, done?: number, total?: number) => void;
    log?: (line: string) => void;
  },
): Promise<StillSwitched> {
  const { concurrency, onRead } = opts;
  const rollout = inverses.some((o) => ROLLOUT_UNDOS.has(o.kind) || (o.kind === 'group-member-remove' && o.resource.startsWith('rolloutGroup/')));
  const configs = pending.filter((o) => o.kind === 'policy-config');
  // The run's users' method removals still to send: a domain rejecting the federated IdP's MFA keeps them
  // on Entra MFA whether or not the methods policy has anything to put back (SMS enabled before the run).
  const removals = runUsers.size > 0 && pending.some((o) => METHOD_REMOVALS.has(o.kind) && o.userId);
  if (!rollout && configs.length === 0 && !removals) return NONE;
  const policyUndo = inverses.find((o) => o.kind === 'rollout-policy-delete' || o.kind === 'rollout-policy-update');
  // The run's users are judged by what the run gave them; of a run that touched no staged rollout, they are users like any other.
  const judgeRun = rollout && runUsers.size > 0;
  let policy;
  // The policy just disabled or deleted by this pass switches nobody (it may still be listed for a moment);
  // of a run that touched no staged rollout, it judges no one when no method configuration is put back.
  if ((rollout || configs.length > 0) && (!policyUndo || !doneNow.has(policyUndo.id))) {
    // Seconds for a large group (its members read a page at a time): said, so the wait is not silence
    // (for a run that touched no staged rollout, once one is found enabled: the policy's read is one request).
    if (judgeRun) onRead?.(`reading which of the run's ${runUsers.size} user(s) the staged rollout still switches to Entra MFA (Graph)`);
    try {
      policy = await readRolloutPolicy(client);
    } catch (err) {
      // A run that never touched the staged rollout may be an app-only sign-in's, which Graph never lets read it.
      if (rollout || !(err instanceof RolloutForbiddenError)) throw err;
      opts.log?.(`Warning: the staged rollout could not be read (${err.message}): the methods policy is put back without checking that the users it switches to Entra MFA keep a method they can use`);
    }
  }
  // Groups this pass detached: the policy may still list them for a moment.
  const detached = new Set(inverses.filter((o) => o.kind === 'rollout-detach' && doneNow.has(o.id)).map((o) => String((o.before as { groupId?: unknown } | null)?.groupId).toLowerCase()));
  // undefined: the whole organisation; [] : no one.
  const groups = !policy?.isEnabled ? [] : policy.isAppliedToOrganization ? undefined : policy.appliesTo.filter((g) => !detached.has(g.toLowerCase()));
  // A domain rejecting the federated IdP's MFA keeps every user of it on Entra MFA, the staged rollout or
  // not, whoever set it and whenever (another operator's final step since the run, an admin, or before the
  // plan): neither the methods policy's undo nor the run's users' method removals may take from them what
  // they sign in with. Under a rollout for the whole organisation, the rollout judges everyone already,
  // but for the run's users of a run that never touched it.
  const federation = (configs.length > 0 || removals) && (groups !== undefined || !judgeRun) ? await rejectingNow(client, { configs: configs.length > 0, removals }, opts.log) : [];
  if (groups?.length === 0 && federation.length === 0) return NONE;
  const names = new Map<string, Promise<string>>();
  const nameOf = (id: string) => names.get(id) ?? names.set(id, groupName(client, id)).get(id)!;
  const byUser = judgeRun && groups?.length !== 0 ? await runUsersSwitched(client, groups, pending, runUsers, nameOf) : new Map<string, string>();
  // The run's users by their UPN in the tenant (a user the plan matched by an on-premises name is not named by it in runUsers).
  const tenantUpns = new Map(inverses.filter((o) => o.userId && o.tenantUpn).map((o) => [o.userId!.toLowerCase(), o.tenantUpn!]));
  for (const [id, by] of runUsersByFederation(federation, runUsers, tenantUpns)) if (!byUser.has(id)) byUser.set(id, by);
  const holds = new Map<string, string>();
  const named = new Map<string, string>();
  const hold = (o: Operation, userKey: string, reason: string) => {
    holds.set(o.id, reason);
    named.set(userKey, byUser.get(userKey)!);
  };
  for (const o of pending) {
    const key = o.userId?.toLowerCase();
    if (key && METHOD_REMOVALS.has(o.kind) && byUser.has(key)) hold(o, key, `${STILL_SWITCHED} ${byUser.get(key)}`);
  }
  // A token the run created leaves the inventory once its user's unassign is done: not while that is left.
  for (const o of pending) {
    if (o.userId || o.kind !== 'token-delete') continue;
    const unassign = o.dependsOn.find((d) => holds.has(d));
    const owner = unassign ? pending.find((p) => p.id === unassign)?.userId?.toLowerCase() : undefined;
    if (unassign && owner) hold(o, owner, `${holds.get(unassign)!} (its user ${runUsers.get(owner)} keeps it)`);
  }
  // The methods policy's undos that would turn off what those users still hold.
  if (configs.length > 0 && byUser.size > 0) {
    const known = [...byUser.keys()].map((id) => ({ upn: tenantUpns.get(id) ?? runUsers.get(id)!, userId: id, needsPreferences: false }));
    const tenant = await readTenant(client, { known, serials: [], policy: false, organization: false, concurrency });
    const switchedUsers = [...tenant.users.values()].filter((u) => byUser.has(u.id.toLowerCase()));
    for (const o of configs) {
      const properties = Object.keys(o.after ?? {});
      const users = switchedUsers.filter((u) => turnsOff(o.resource, properties, u)).map((u) => u.id.toLowerCase());
      if (users.length === 0) continue;
      const upns = users.map((id) => runUsers.get(id)!);
      const by = [...new Set(users.map((id) => byUser.get(id)!))];
      holds.set(o.id, `${STILL_SWITCHED} ${by.join(' and ')}: ${upns.length} user(s) hold a method it enables (${upns.slice(0, 5).join(', ')}${upns.length > 5 ? `, and ${upns.length - 5} more` : ''})`);
      for (const id of users) named.set(id, byUser.get(id)!);
    }
  }
  // The rest of them, for the users it still switches outside the run (an admin added them to a group since);
  // and, of those held for the run's users, whom outside the run they protect too (the consent's warning
  // and the summary name those who rely on such a setting alone).
  const sources: SwitchedUsers[] = [
    // Of a run that never touched it, the run's users it switches are others, but for those a domain's federation judges above.
    ...(groups?.length !== 0 ? [{ by: groups ?? ('organization' as const), exclude: new Set(judgeRun ? runUsers.keys() : byUser.keys()) }] : []),
    // The run's users of those domains are judged above.
    ...(federation.length > 0 ? [{ by: { domains: federation }, exclude: new Set(runUsers.keys()) }] : []),
  ];
  const others = configs.length > 0 ? await othersLeftWithout(client, configs, sources, nameOf, { concurrency, heldAlready: new Set(holds.keys()), ...(onRead ? { onRead } : {}) }) : undefined;
  for (const [op, { by, why }] of others?.holds ?? []) {
    const run = holds.get(op);
    const switchedBy = `${STILL_SWITCHED} ${by.join(' and ')}`;
    holds.set(op, run ? `${run}; and ${why}${run.startsWith(`${switchedBy}:`) ? '' : ` (${switchedBy})`}` : `${switchedBy}: ${why}`);
  }
  return {
    holds,
    users: [...named].map(([id, by]) => ({ user: runUsers.get(id)!, by })).sort((a, b) => a.user.localeCompare(b.user)),
    ...(others ? { others: { first: others.first, count: others.count, by: others.by, unread: others.unread }, othersAll: others.all } : {}),
  };
}

/**
 * Which of the run's users the staged rollout still switches (by lower-case id), with what switches
 * them: every one, when it applies to the whole organisation (`groups` undefined); else those a group
 * of it holds other than the ones this rollback still takes them out of (first in the user's undos).
 */
async function runUsersSwitched(client: GraphClient, groups: readonly string[] | undefined, pending: readonly Operation[], runUsers: ReadonlyMap<string, string>, nameOf: (id: string) => Promise<string>): Promise<Map<string, string>> {
  const byUser = new Map<string, string>();
  if (!groups) {
    for (const id of runUsers.keys()) byUser.set(id, 'the staged rollout policy (it applies to the whole organisation)');
    return byUser;
  }
  const memberships = await transitiveMemberships(client, groups, new Set(runUsers.keys()));
  const leaving = new Map<string, Set<string>>();
  for (const o of pending) {
    if (o.kind !== 'group-member-remove' || !o.userId || !o.resource.startsWith('rolloutGroup/')) continue;
    const key = o.userId.toLowerCase();
    leaving.set(key, (leaving.get(key) ?? new Set()).add(o.resource.slice('rolloutGroup/'.length).toLowerCase()));
  }
  for (const [id, held] of memberships) {
    const stays = held.find((g) => !leaving.get(id)?.has(g.toLowerCase()));
    if (stays !== undefined) byUser.set(id, `the group "${await nameOf(stays)}" of the staged rollout policy`);
  }
  return byUser;
}

/**
 * Which of the run's users (by lower-case id) a domain whose federation rejects the federated IdP's MFA
 * still switches, with what switches them: those of its UPN suffix in the tenant (`tenantUpns`, else
 * the run's name for them), or of a subdomain that takes its federation; whatever the rollback takes
 * them out of.
 */
function runUsersByFederation(rejecting: readonly TenantFederatedDomain[], runUsers: ReadonlyMap<string, string>, tenantUpns: ReadonlyMap<string, string>): Map<string, string> {
  const byUser = new Map<string, string>();
  const governing = federationOf(rejecting);
  for (const [id, upn] of runUsers) {
    const d = governing(upnDomain(tenantUpns.get(id) ?? upn));
    if (d) byUser.set(id, federationSwitches(d.id));
  }
  return byUser;
}

/**
 * The federated domains whose federation rejects the federated IdP's MFA now, whenever it was set:
 * read after the cutover's undos, so a domain the run set is put back by then. A read refused for a missing permission (Domain.Read.All) is said and taken as none, as the
 * rollback's check of its users' domains takes it; any other failure stops the rollback.
 */
async function rejectingNow(client: GraphClient, sends: { configs: boolean; removals: boolean }, log?: (line: string) => void): Promise<TenantFederatedDomain[]> {
  const what = [...(sends.configs ? ['the methods policy is put back'] : []), ...(sends.removals ? ["the run's users' methods are taken"] : [])].join(' and ');
  const domains = await federatedDomainsOrWarn(client, undefined, `${what} without checking that the users of a domain rejecting the federated IdP's MFA keep a method they can use`, log);
  return (domains ?? []).filter((d) => d.federatedIdpMfaBehavior === REJECT_IDP_MFA);
}

/** A group's display name (its id, if it cannot be read). */
async function groupName(client: GraphClient, id: string): Promise<string> {
  const res = await client.request<{ displayName?: string }>(getGroup(id));
  return isSuccess(res) && typeof res.body?.displayName === 'string' ? res.body.displayName : id;
}
