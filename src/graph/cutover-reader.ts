import { addTo } from '../model/add-to.js';
import type { TenantCutover, TenantFederatedDomain, TenantGroup, TenantRolloutPolicy, TenantUser } from '../model/tenant.js';
import type { GraphClient } from './graph-client.js';
import { isSuccess } from './graph-call.js';
import { UserError } from '../model/user-error.js';
import { GraphRequestError } from './graph-errors.js';
import { getGroupKind, listDirectMembers } from './calls/groups.js';
import { getRootDomain, listDomains, listFederationConfiguration, parseDomain, parseFederation } from './calls/domains.js';
import { listRolloutPolicies, MFA_FEATURE, parseRolloutPolicy } from './calls/rollout.js';
import { resolveGroup, type GroupRef } from './groups-reader.js';

export interface CutoverReadOptions {
  /** --rollout-group values (names or ids), in fill order. */
  rolloutGroups: readonly string[];
  /**
   * Read the rollout policy and the members of the groups it applies to (for --rollout-group and
   * --federated-mfa). `if-readable`: a sign-in Graph refuses it to (an application: Graph has no
   * application permission for staged rollout) reads the rest, and says why in `rolloutUnread`.
   */
  rollout: boolean | 'if-readable';
  /** --campaign-group (name or id). */
  campaignGroup?: string;
  /** Read the verified domains: the federated ones with their federation configuration, and which are managed. */
  federation: boolean;
}

export interface CutoverRead {
  cutover: TenantCutover;
  /** The --rollout-group groups, resolved, in the order given, each once. */
  rolloutGroups: GroupRef[];
  campaignGroup?: GroupRef;
  /** By user id: the ids of the groups read that hold the user directly. */
  memberOf: Map<string, string[]>;
  /** By user id: the members' userPrincipalName. */
  memberUpns: Map<string, string>;
  /** With `rollout: 'if-readable'`: why the rollout policy could not be read (then taken as none). */
  rolloutUnread?: string;
}

// What to do when a cutover group is not there: groups the admin creates before the first wave
// (docs/cutover.md), of the kind the plan refuses others for (dynamic, nested).
const ROLLOUT_GROUP_MISSING = 'create an assigned (not dynamic) security group of that name, empty, for staged rollout, or give the object id of the group to use';
const CAMPAIGN_GROUP_MISSING = 'create an assigned (not dynamic) security group of that name for the Authenticator registration campaign, or give the object id of the group to use';

/**
 * Reads what the cutover needs: the multiFactorAuthentication rollout policy and the groups it applies
 * to, the named rollout and campaign groups (kind and direct members), and the verified federated
 * domains' federation configuration. Reads only.
 */
export async function readCutover(client: GraphClient, opts: CutoverReadOptions): Promise<CutoverRead> {
  const rolloutGroups: GroupRef[] = [];
  for (const g of opts.rolloutGroups) {
    const ref = await resolveGroup(client, g, '--rollout-group', ROLLOUT_GROUP_MISSING);
    // One group named twice (by name and by id): once, where it was first named in the fill order.
    if (!rolloutGroups.some((x) => x.id.toLowerCase() === ref.id.toLowerCase())) rolloutGroups.push(ref);
  }
  const campaignGroup = opts.campaignGroup ? await resolveGroup(client, opts.campaignGroup, '--campaign-group', CAMPAIGN_GROUP_MISSING) : undefined;
  const [rollout, domains] = await Promise.all([
    opts.rollout
      ? readRolloutPolicy(client).then(
          (policy) => ({ policy, unread: undefined }),
          (err: unknown) => {
            if (opts.rollout === 'if-readable' && err instanceof RolloutForbiddenError) return { policy: null, unread: err.message };
            throw err;
          },
        )
      : Promise.resolve({ policy: null, unread: undefined }),
    opts.federation ? readDomains(client) : Promise.resolve(undefined),
  ]);
  const rolloutPolicy = rollout.policy;
  const ids = [...new Set([...rolloutGroups.map((g) => g.id), ...(rolloutPolicy?.appliesTo ?? []), ...(campaignGroup ? [campaignGroup.id] : [])])];
  const { groups, memberOf, memberUpns } = await readGroups(client, ids);
  const cutover: TenantCutover = { rolloutPolicy, groups, federatedDomains: domains?.federated ?? [], ...(domains ? { managedDomains: domains.managed } : {}) };
  return { cutover, rolloutGroups, ...(campaignGroup ? { campaignGroup } : {}), memberOf, memberUpns, ...(rollout.unread !== undefined ? { rolloutUnread: rollout.unread } : {}) };
}

/** Graph refused to list the staged rollout policies to this sign-in (403). */
export class RolloutForbiddenError extends UserError {}

/** The multiFactorAuthentication rollout policy with its groups, or null when the tenant has none. */
export async function readRolloutPolicy(client: GraphClient): Promise<TenantRolloutPolicy | null> {
  try {
    for await (const item of client.pages<unknown>(listRolloutPolicies(), 'listing the staged rollout policies')) {
      const p = parseRolloutPolicy(item);
      if (p?.feature !== MFA_FEATURE) continue;
      const { feature: _f, ...policy } = p;
      return policy;
    }
    return null;
  } catch (err) {
    // Graph has no application permission for staged rollout: an app-only sign-in never gets there,
    // and a signed-in admin needs the delegated one.
    if (err instanceof GraphRequestError && err.response.status === 403) {
      throw new RolloutForbiddenError(
        `${err.message}: staged rollout needs an admin signed in (Graph has no application permission for it) with the delegated permission Policy.Read.HybridAuthentication to read it, Policy.ReadWrite.HybridAuthentication to apply, consented to an app registration of your own (--auth device-code --client-id APP; Azure CLI's app cannot be given them)`,
      );
    }
    throw err;
  }
}

/** Groups by id: their kind and direct members by kind; a group deleted since is left out. */
export async function readGroups(client: GraphClient, ids: readonly string[]): Promise<{ groups: TenantGroup[]; memberOf: Map<string, string[]>; memberUpns: Map<string, string> }> {
  const memberOf = new Map<string, string[]>();
  const memberUpns = new Map<string, string>();
  const groups = await Promise.all(
    ids.map(async (id): Promise<TenantGroup | undefined> => {
      const res = await client.request<{ id: string; displayName?: string; groupTypes?: string[] | null }>(getGroupKind(id));
      if (res.status === 404) return undefined;
      if (!isSuccess(res)) throw new GraphRequestError(`reading the group ${id}`, res);
      const g = res.body;
      const out: TenantGroup = { id: g.id, displayName: g.displayName ?? '', dynamic: (g.groupTypes ?? []).includes('DynamicMembership'), users: 0, groups: 0, contacts: 0 };
      for await (const m of client.pages<{ '@odata.type'?: string; id?: string; userPrincipalName?: string }>(listDirectMembers(id), `listing the members of group ${out.displayName || id}`)) {
        const type = String(m['@odata.type'] ?? '').toLowerCase();
        if (type.endsWith('.group')) out.groups++;
        else if (type.endsWith('.orgcontact')) out.contacts++;
        else if (type.endsWith('.user') && typeof m.id === 'string') {
          out.users++;
          addTo(memberOf, m.id, out.id);
          if (typeof m.userPrincipalName === 'string') memberUpns.set(m.id, m.userPrincipalName);
        }
      }
      return out;
    }),
  );
  return { groups: groups.filter((g): g is TenantGroup => g !== undefined), memberOf, memberUpns };
}

/** Verified federated domains (all, or those named), each with its federation's id and MFA behaviour. */
export async function readFederatedDomains(client: GraphClient, only?: readonly string[]): Promise<TenantFederatedDomain[]> {
  return (await readDomains(client, only)).federated;
}

/**
 * The verified domains (all, or those named) by authentication type: the federated ones with their
 * federation's id and MFA behaviour, and the names (lower case) of the managed ones, whose users Entra
 * authenticates itself and does the MFA of already: staged rollout changes nothing for them. A domain
 * of another type, or unverified, is in neither. A federated subdomain that is not a root (`isRoot`
 * false) has no federation of its own: it is listed under its root's `subdomains` (its root asked of
 * Graph, one read each), and a name of it keeps its root (model/federation-root.ts).
 */
export async function readDomains(client: GraphClient, only?: readonly string[]): Promise<{ federated: TenantFederatedDomain[]; managed: string[] }> {
  const wanted = only ? new Set(only.map((d) => d.toLowerCase())) : undefined;
  const roots: string[] = [];
  const subs: string[] = [];
  const managed: string[] = [];
  for await (const item of client.pages<unknown>(listDomains(), 'listing the domains')) {
    const d = parseDomain(item);
    if (!d || !d.isVerified) continue;
    const type = d.authenticationType.toLowerCase();
    if (type === 'federated') (d.isRoot ? roots : subs).push(d.id);
    else if (type === 'managed' && (!wanted || wanted.has(d.id))) managed.push(d.id);
  }
  const subdomains = new Map<string, string[]>();
  const read = wanted ? subs.filter(concerns(wanted, roots)) : subs;
  const rootOf = await Promise.all(read.map(async (id) => parseDomain(await client.get(getRootDomain(id), `reading the root domain of ${id}`))?.id));
  read.forEach((id, i) => {
    const root = rootOf[i];
    // A subdomain whose root is not a verified federated domain read here: taken as a domain of its own (its federation, if any, read as such).
    if (root && roots.includes(root)) addTo(subdomains, root, id);
    else roots.push(id);
  });
  const federated = roots.filter((id) => !wanted || wanted.has(id) || (subdomains.get(id) ?? []).some((s) => wanted.has(s)));
  return {
    federated: await Promise.all(
      federated.map(async (id) => {
        const f = parseFederation(await client.get(listFederationConfiguration(id), `reading the federation configuration of ${id}`));
        const under = (subdomains.get(id) ?? []).sort();
        return { id, federationId: f?.id ?? null, federatedIdpMfaBehavior: f?.federatedIdpMfaBehavior ?? null, ...(under.length > 0 ? { subdomains: under } : {}) };
      }),
    ),
    managed,
  };
}

/**
 * Whether a federated subdomain's root is worth a read when only some domains are asked for: it is
 * asked for itself, or it may sit under a root whose whole family is needed (one asked for, or the
 * root of one asked for). A domain's root is always a suffix of its name, so no other can matter;
 * a tenant with hundreds of subdomains is not read one GET each for a plan of one domain.
 */
function concerns(wanted: ReadonlySet<string>, roots: readonly string[]): (sub: string) => boolean {
  const under = (name: string, root: string): boolean => name === root || name.endsWith(`.${root}`);
  const families = roots.filter((root) => [...wanted].some((w) => under(w, root)));
  return (sub) => wanted.has(sub) || families.some((root) => under(sub, root));
}

/** Records on each user which of the groups read hold them (none: an empty list, so that "read" shows). */
export function setMembership(users: Iterable<TenantUser>, memberOf: ReadonlyMap<string, string[]>): void {
  for (const u of users) u.memberOf = [...(memberOf.get(u.id) ?? [])];
}
