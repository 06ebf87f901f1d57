import type { GraphClient } from '../graph/graph-client.js';
import { readCutover, setMembership } from '../graph/cutover-reader.js';
import { transitiveMemberships } from '../graph/groups-reader.js';
import { userPolicy, type UserPolicy } from '../model/policy-view.js';
import { heldMethods, PHONES } from '../model/usable-methods.js';
import { policyAfter, policyTargetGroups } from '../model/method-policy.js';
import { readTenant } from '../graph/tenant-reader.js';
import { formatProblem, SourceError } from '../model/problem.js';
import type { TenantCutover, TenantUser } from '../model/tenant.js';
import { UserError } from '../model/user-error.js';
import { readExport } from '../source/export-bundle.js';
import { narrowToMembers, resolveScope, type GroupScope } from './user-scope.js';
import { managedDomainSet, REJECT_IDP_MFA } from '../model/staged-rollout.js';
import { DEFAULT_MATCH_BY, type MatchBy, type UserMatch } from '../model/user-match.js';
import { federationOf } from '../model/federation-root.js';

export interface StatusRequest {
  /** An export folder: its users are in scope (and its disabled ones say so). */
  source?: string;
  /** A file of UPNs: only these (with --source: those of the export among them). */
  users?: string;
  /** A group's members (nested included): only these. */
  group?: string;
  /** --match-by: with `on-premises` (the default), a name no tenant user has as UPN is looked up by on-premises name, as plan does. */
  matchBy?: readonly MatchBy[];
  /** --netbios-domain: NetBIOS domain name (lower case) -> DNS domain. */
  netbiosDomains?: ReadonlyMap<string, string>;
  graph: GraphClient;
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
  /** Notes for the admin (stderr): --users names the export does not have. */
  log?: (line: string) => void;
}

/** One user in scope, where the cutover stands for them. */
export interface UserStatusRow {
  /** The tenant user's UPN; the name in scope when no tenant user was found for it. */
  user: string;
  /** The name in scope (the export's username) when it is not the UPN: the user was matched by an on-premises name (`match_rule`). */
  username?: string;
  /** USER-MATCH-ONPREM-UPN or USER-MATCH-SAM, with `username`. */
  match_rule?: string;
  user_id: string | null;
  /** Has at least one cloud MFA method (phone, OATH token, Authenticator, passkey...): the data moved. */
  migrated: boolean;
  /** Cloud MFA methods the authentication methods policy lets the user use: mobile, alternateMobile, office, hardwareOath, softwareOath, authenticator, passwordless. */
  methods: string[];
  /** Methods the user holds that the policy does not let them use (disabled, not targeted at them, or excluded). */
  methods_not_enabled: string[];
  /** Uses Entra MFA: in a managed domain (Entra authenticates them), in a domain whose federation rejects the IdP's MFA, or in a group of the enabled staged rollout policy. */
  switched: boolean;
  /** `managed domain`, `federation`, `organization` (the policy applies to everyone) or the rollout group. */
  switched_by: string | null;
  /** SMS and voice only: blocked at sign-in from 2027-02-01 unless they register something else. */
  phone_only: boolean;
  /** The Entra account's `accountEnabled`; null when no tenant user was found. A disabled account cannot sign in: not switched, it is blocked, never ready. */
  account_enabled: boolean | null;
  /** Why the user is not switched and cannot be yet; null when switched or ready to be. */
  blocked: string | null;
}

export interface StatusResult {
  tenant: { id: string; displayName: string };
  /** When the tenant was read (its reads began): what an auditor dates the status by. */
  read_at: string;
  /** Who read it: the signed-in admin's UPN, else the application's name or id; null when the token names nobody. */
  read_as: string | null;
  rollout_policy: { id: string; displayName: string; isEnabled: boolean; isAppliedToOrganization: boolean; groups: { id: string; displayName: string; members: number }[] } | null;
  /** Why the staged rollout policy could not be read (an application's sign-in), else null: `rollout_policy` is then null, and no user is shown switched by it. */
  rollout_unread: string | null;
  /** `subdomains`: its subdomains that are not roots, which take its federation (present when it has some). */
  federation: { domain: string; federatedIdpMfaBehavior: string | null; subdomains?: string[] }[];
  /** The verified managed domains: Entra authenticates their users and does their MFA, so they are switched whatever their groups. */
  managed_domains: string[];
  counts: { users: number; migrated: number; switched: number; ready: number; phone_only: number; blocked: number };
  users: UserStatusRow[];
}

/** What status says when Graph refuses it the staged rollout policies (Graph's own words are in the plan's and apply's refusals). */
const ROLLOUT_UNREAD =
  'Graph refused to list the staged rollout policies (403): they can be read only by an admin signed in with Policy.Read.HybridAuthentication (Graph has no application permission for staged rollout), so no user is shown as switched by a rollout group; sign in as an admin (--auth device-code --client-id APP) to see them';

/** Where the cutover stands, per user in scope, with counts. Reads only. */
export async function cutoverStatus(req: StatusRequest): Promise<StatusResult> {
  if (!req.source && !req.users && !req.group) throw new UserError('status needs a scope: --source DIR (the export\'s users), --users FILE or --group NAME');
  const { upns: read, disabled, all, groupScope } = await scopeOf(req);
  const readAt = new Date().toISOString();
  const [tenantSnapshot, cutover, identity] = await Promise.all([
    readTenant(req.graph, {
      upns: read,
      ...(onPremisesOn(req) ? { onPremises: { netbiosDomains: req.netbiosDomains ?? new Map(), exportUsers: all } } : {}),
      serials: [],
      policy: true,
      organization: true,
      concurrency: req.concurrency,
      ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    }),
    // An application cannot read staged rollout (Graph has no application permission for it): the rest is still told.
    readCutover(req.graph, { rolloutGroups: [], rollout: 'if-readable', federation: true }),
    req.graph.identity(),
  ]);
  // --group, as plan narrows it: a user the scope took for a member's on-premises name, whose username is another user's UPN, is not in it.
  const narrowed = groupScope ? narrowToMembers(new Set(read.map((u) => u.toLowerCase())), groupScope, (u) => tenantSnapshot.users.get(u), req.log) : undefined;
  for (const u of narrowed?.outside ?? []) tenantSnapshot.users.delete(u);
  const upns = narrowed ? read.filter((u) => narrowed.scope.has(u.toLowerCase())) : read;
  setMembership(tenantSnapshot.users.values(), cutover.memberOf);
  // A method counts only where the policy lets the user use it, as the plan judges it.
  const view = policyAfter(tenantSnapshot.policy, []);
  const groups = policyTargetGroups(view);
  const inTenant = new Set([...tenantSnapshot.users.values()].map((u) => u.id.toLowerCase()));
  const memberships = groups.length > 0 ? await transitiveMemberships(req.graph, groups, inTenant) : new Map<string, string[]>();
  const policyOf = (u: TenantUser) => userPolicy(view, u.id, memberships.get(u.id.toLowerCase()) ?? []);
  const rows = upns.map((upn) => {
    const u = tenantSnapshot.users.get(upn.toLowerCase());
    const match = tenantSnapshot.matches?.get(upn.toLowerCase());
    const row = rowOf(upn, u, u ? policyOf(u) : undefined, disabled.has(upn.toLowerCase()), cutover.cutover, match);
    if (!u || !match) return row;
    // Matched by an on-premises name: the row is the tenant user's, and says by which name.
    const { user, ...rest } = row;
    return { user, username: upn, match_rule: match.rule, ...rest };
  });
  const policy = cutover.cutover.rolloutPolicy;
  return {
    tenant: tenantSnapshot.tenant,
    read_at: readAt,
    read_as: identity.upn ?? identity.appDisplayName ?? identity.appId,
    rollout_policy: policy
      ? {
          id: policy.id,
          displayName: policy.displayName,
          isEnabled: policy.isEnabled,
          isAppliedToOrganization: policy.isAppliedToOrganization,
          groups: policy.appliesTo.map((id) => {
            const g = cutover.cutover.groups.find((x) => x.id === id);
            return { id, displayName: g?.displayName ?? '', members: g?.users ?? 0 };
          }),
        }
      : null,
    rollout_unread: cutover.rolloutUnread !== undefined ? ROLLOUT_UNREAD : null,
    federation: cutover.cutover.federatedDomains.map((d) => ({ domain: d.id, federatedIdpMfaBehavior: d.federatedIdpMfaBehavior, ...(d.subdomains?.length ? { subdomains: [...d.subdomains] } : {}) })),
    managed_domains: [...(cutover.cutover.managedDomains ?? [])],
    counts: {
      users: rows.length,
      migrated: rows.filter((r) => r.migrated).length,
      switched: rows.filter((r) => r.switched).length,
      ready: rows.filter((r) => r.migrated && !r.switched && !r.blocked).length,
      phone_only: rows.filter((r) => r.phone_only).length,
      blocked: rows.filter((r) => r.blocked).length,
    },
    users: rows,
  };
}

function rowOf(upn: string, u: TenantUser | undefined, policy: UserPolicy | undefined, disabledInServer: boolean, cutover: TenantCutover, match?: UserMatch): UserStatusRow {
  if (!u || !policy) return { user: upn, user_id: null, migrated: false, methods: [], methods_not_enabled: [], switched: false, switched_by: null, phone_only: false, account_enabled: null, blocked: notFound(match) };
  const held = heldMethods(u, policy);
  const methods = held.filter(([, usable]) => usable).map(([m]) => m);
  const notEnabled = held.filter(([, usable]) => !usable).map(([m]) => m);
  const migrated = methods.length > 0;
  const phoneOnly = migrated && methods.every((m) => (PHONES as readonly string[]).includes(m));
  const by = switchedBy(u, cutover);
  const blocked = by
    ? // Sign-in turned off in Entra: no MFA is asked of them at all, so being switched blocks nothing.
      migrated || u.accountEnabled === false
      ? null
      : // Switched with nothing to sign in with: the one state that locks a user out now.
        `switched to Entra MFA (${by}) with no cloud MFA method ${notEnabled.length > 0 ? 'the authentication methods policy lets them use' : 'at all'}: they cannot complete MFA (${notEnabled.length > 0 ? 'enable one for them' : 'migrate a method'}${switchBack(by)})`
    : [
        // A migrated user whose account cannot sign in is not ready to switch (a black-box test saw them counted ready).
        u.accountEnabled === false ? 'account disabled in Entra (accountEnabled false): they cannot sign in; enable the account first' : null,
        disabledInServer
          ? // `migrated` is what the cloud holds: the row says the export skipped them, not that nothing is there.
            `disabled in MFA Server: the plan skips them (USER-DISABLED) and migrates nothing${migrated ? '; their cloud methods were in the tenant already' : ''}`
          : !migrated
            ? notEnabled.length > 0
              ? 'no cloud MFA method the authentication methods policy lets them use: enable one for them'
              : 'no cloud MFA method: migrate the user first'
            : cutover.rolloutPolicy && !cutover.rolloutPolicy.isEnabled && (u.memberOf ?? []).some((g) => cutover.rolloutPolicy!.appliesTo.includes(g))
              ? 'in a rollout group, but the staged rollout policy is disabled'
              : null,
      ]
        .filter((r) => r !== null)
        .join('; ') || null;
  return { user: u.userPrincipalName, user_id: u.id, migrated, methods, methods_not_enabled: notEnabled, switched: by !== null, switched_by: by, phone_only: phoneOnly, account_enabled: u.accountEnabled !== false, blocked };
}

/** Why a name in scope has no tenant user: none has it, or its on-premises name was refused (never guessed). */
function notFound(m: UserMatch | undefined): string {
  const who = (n: number) => (m?.users ?? []).slice(0, n).map((u) => u.upn).join(', ') + ((m?.users.length ?? 0) > n ? ', ...' : '');
  if (m?.outcome === 'ambiguous') return `not matched: ${m.users.length} tenant users have ${m.by} ${m.value}${m.domain !== undefined ? ` in domain ${m.domain}` : ''} (${who(5)})`;
  if (m?.outcome === 'shared') return `not matched: ${m.by} ${m.value} is ${m.users[0]?.upn ?? ''}'s, whom ${m.shared_with} is matched to as well`;
  if (m?.outcome === 'domain-differs') return `not in the tenant: ${m.by} ${m.value} is only in other domains than ${m.domain} (${who(5)}; --netbios-domain tells a NetBIOS name its domain)`;
  return 'not in the tenant';
}

/**
 * What else takes a locked-out user back to MFA Server: only leaving their rollout group. A domain
 * that rejects the federated IdP's MFA, or a policy for the whole organisation, switches them
 * whatever group they are in (cutover.md): for one user, a cloud method is the only way.
 */
function switchBack(by: string): string {
  if (by === MANAGED_DOMAIN) return ': their domain is managed, and Entra does the MFA of every user of it';
  if (by === 'federation') return ": their domain rejects the federated IdP's MFA, for every user of it";
  if (by === 'organization') return ': the staged rollout policy applies to the whole organisation';
  return `, or take them out of the rollout group ${by}`;
}

/** What `switched_by` says of a user of a managed domain. */
const MANAGED_DOMAIN = 'managed domain';

/** What switches the user to Entra MFA, if anything. */
function switchedBy(u: TenantUser, cutover: TenantCutover): string | null {
  const domain = u.userPrincipalName.slice(u.userPrincipalName.lastIndexOf('@') + 1).toLowerCase();
  // Entra authenticates a managed domain's users and does their MFA: no rollout group changes that.
  if (managedDomainSet(cutover).has(domain)) return MANAGED_DOMAIN;
  // A subdomain that is not a root is switched by its root's federation (model/federation-root.ts).
  if (federationOf(cutover.federatedDomains)(domain)?.federatedIdpMfaBehavior === REJECT_IDP_MFA) return 'federation';
  const p = cutover.rolloutPolicy;
  if (!p?.isEnabled) return null;
  if (p.isAppliedToOrganization) return 'organization';
  const g = (u.memberOf ?? []).find((id) => p.appliesTo.includes(id));
  return g ? (cutover.groups.find((x) => x.id === g)?.displayName ?? g) : null;
}

/**
 * The users in scope, in order: the export's (disabled ones noted), narrowed by --users and --group as
 * plan narrows them (app/user-scope.ts: a member matched by on-premises name is in; one matched to a
 * tenant user outside the group is left out once the tenant is read); without --source, the names of
 * --users and the members of --group, by UPN.
 */
async function scopeOf(req: StatusRequest): Promise<{ upns: string[]; disabled: Set<string>; all: string[]; groupScope?: GroupScope }> {
  // Every row of the export (a name matched by on-premises name is another row's person too: shared), else the scope.
  let all: string[] | undefined;
  const disabled = new Set<string>();
  if (req.source) {
    try {
      const bundle = await readExport({ source: req.source, tokens: [], seeds: { pskcMac: 'fail' } });
      all = bundle.users.map((u) => u.username);
      for (const u of bundle.users) if (!u.enabled) disabled.add(u.username.toLowerCase());
    } catch (err) {
      if (err instanceof SourceError) throw new UserError(formatProblem(err.problem));
      throw err;
    }
  }
  const { scope, groupScope, given } = await resolveScope(req.graph, {
    ...(all ? { exportUsers: all } : {}),
    ...(req.users ? { users: req.users } : {}),
    ...(req.group ? { group: req.group } : {}),
    ...(onPremisesOn(req) ? { netbiosDomains: req.netbiosDomains ?? new Map<string, string>() } : {}),
    ...(req.log ? { log: req.log } : {}),
  });
  // Without an export, the names as the --users file gives them (CORP\jdoe, not corp\jdoe), as --source shows the export's.
  const upns = all ? all.filter((u) => !scope || scope.has(u.toLowerCase())) : [...(scope ?? [])].map((u) => given?.get(u) ?? u);
  const seen = new Set<string>();
  const scoped = upns.filter((u) => !seen.has(u.toLowerCase()) && seen.add(u.toLowerCase()));
  return { upns: scoped, disabled, all: all ?? scoped, ...(groupScope ? { groupScope } : {}) };
}

/** --match-by with `on-premises` (the default): names no tenant user has as UPN are looked up by on-premises name. */
function onPremisesOn(req: StatusRequest): boolean {
  return (req.matchBy ?? DEFAULT_MATCH_BY).includes('on-premises');
}
