import { addTo } from '../model/add-to.js';
import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import type { TenantHardwareToken, TenantSnapshot, TenantUser } from '../model/tenant.js';
import { serialForms, serialKey } from '../model/serial.js';
import { isSuccess, type GraphResponse } from './graph-call.js';
import { BATCH_LIMIT } from './batch-pipeline.js';
import { feed } from './feed.js';
import { GraphRequestError } from './graph-errors.js';
import { UserError } from '../model/user-error.js';
import type { GraphClient } from './graph-client.js';
import { getOrganization, parseOrganization } from './calls/organization.js';
import { readPolicy } from './policy-reader.js';
import { findUsersById, findUsersByOnPremisesUpn, findUsersBySamAccountName, getUser, listUsers, USERS_BY_ID_MAX, type DirectoryUser } from './calls/users.js';
import { attributeOf, decideMatch, onPremisesName, sharedMatch, type MatchedUser, type OnPremisesAttribute, type OnPremisesCandidate, type OnPremisesName, type UserMatch } from '../model/user-match.js';
import { deviceOf, findDevicesBySerial, listDevices, listUserTokens, type RawDevice } from './calls/hardware-oath.js';
import { getSignInPreferences, listMethods } from './calls/user-methods.js';
import { tokensByAssignee, toTenantUser, toToken } from './tenant-user.js';

/** `--match-by upn,on-premises`: what looking users up by their on-premises names needs. */
export interface OnPremisesMatching {
  /** `--netbios-domain`: NetBIOS domain name (lower case) -> DNS domain. */
  netbiosDomains: ReadonlyMap<string, string>;
  /**
   * Every username of the export, as written (a plan's scope may hold fewer): a tenant user an
   * on-premises name matches whose UPN is another export user's is not matched (shared).
   */
  exportUsers?: readonly string[];
  /**
   * The users found by UPN are checked for other tenant users whose onPremisesUserPrincipalName is that
   * UPN (TenantUser.sameOnPremisesUpn): read with the UPN, their own on-premises UPN; those whose it is
   * not are looked up in the `in` filters of the names not found (none when the directory is listed:
   * the listing says it). The plan's; status leaves it out.
   */
  sameOnPremisesUpn?: boolean;
}

export interface TenantReadOptions {
  /**
   * Users to find by UPN (a plan's scope, by export username); not found: absent from the snapshot,
   * or, with `onPremises`, looked up by on-premises name and keyed by the username (`matches` says how).
   */
  upns?: readonly string[];
  /**
   * Users known by object id (apply's re-check): a user deleted since, or re-created under the UPN,
   * is absent. `upn` is the user's UPN in the tenant; `username`, the export's, for a user the plan
   * matched by an on-premises name: absent too when that name no longer matches them alone.
   */
  known?: readonly { upn: string; userId: string; needsPreferences: boolean; username?: string }[];
  /**
   * Users the caller has just listed with the properties a user is read with (a federated domain's
   * users, `listUsersOfDomain`): their methods are read, not their sign-in preferences, and they are
   * not looked up again; one deleted since (its methods 404) is absent.
   */
  listed?: readonly DirectoryUser[];
  /** Look the users `upns` does not find up by on-premises name (and re-check `known` users matched so). */
  onPremises?: OnPremisesMatching;
  /** Token serials whose inventory entries are read. */
  serials: readonly string[];
  policy: boolean;
  organization: boolean;
  /** `$batch` requests in flight. */
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
  /** While the directory is listed to find many users (before their reads): how many of them were found so far. */
  onListing?: (found: number, wanted: number) => void;
}

/**
 * Users whose reads are under way at once, for `concurrency` batches in flight: eight rounds of full
 * batches of their two reads each queued, so that the pipeline never waits for a user to be started.
 */
const usersInFlight = (concurrency: number) => Math.max(256, concurrency * BATCH_LIMIT * 8);

/** `items` cut into groups of `size`, each made when it is taken. */
function* groupsOf<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Above this many users the whole directory is listed (999 a page) rather than looked up one by one. */
const LIST_USERS_ABOVE = 200;
/** Above this many serials the whole token inventory is listed rather than filtered serial by serial. */
const LIST_TOKENS_ABOVE = 100;

/**
 * Reads what a plan (or apply's re-check, or rollback) needs of the tenant, through batched reads:
 * the tenant's id and name, the authentication methods policy, the users (by UPN or by id), each
 * user's methods and sign-in preferences, and the hardware token inventory for the serials given.
 * A user whose hardware methods the inventory does not account for (tokens uploaded through the
 * old admin-center route can be missing from it) has their own token list read too. Reads only.
 */
export async function readTenant(client: GraphClient, opts: TenantReadOptions): Promise<TenantSnapshot> {
  try {
    return await readWith(client, opts);
  } catch (err) {
    // One read failed for good: stop the others now rather than after their retries.
    client.cancelReads(err);
    throw err;
  }
}

async function readWith(client: GraphClient, opts: TenantReadOptions): Promise<TenantSnapshot> {
  const read = <T>(call: Parameters<GraphClient['read']>[0]) => client.read<T>(call, opts.concurrency);
  // Started together and awaited where needed: the users' reads go out as soon as the users are
  // known (a window of them at a time, usersInFlight), so the batches stay full instead of draining
  // between the steps. Marked handled now: a failure is thrown where they are awaited.
  const tenantP = opts.organization ? readOrganization(client) : Promise.resolve({ id: 'unknown', displayName: '' });
  const policyP = opts.policy ? readPolicy(client) : Promise.resolve({} as AuthenticationMethodsPolicy);
  const inventoryP = readInventory(client, read, opts.serials);
  // Indexed once, when it has been read.
  const assigneesP = inventoryP.then((inventory) => tokensByAssignee(inventory.tokens));
  for (const p of [tenantP, policyP, inventoryP, assigneesP]) p.catch(() => undefined);

  const needsPrefs = new Map([...(opts.known ?? []).map((k) => [k.userId, k.needsPreferences] as const), ...(opts.listed ?? []).map((u) => [u.id, false] as const)]);
  const users = new Map<string, TenantUser>();
  let matches: Map<string, UserMatch> | undefined;
  let done = 0;
  let total = opts.known?.length ?? opts.listed?.length ?? 0;
  const readUser = async (u: DirectoryUser, key = u.userPrincipalName.toLowerCase()): Promise<void> => {
    // Graph answers every property $select names (null if unset) when it may: one missing is a grant
    // that reads the basic profile only, and the plan would take a disabled account or a guest for a member.
    if (!('accountEnabled' in u) || !('userType' in u)) {
      throw new UserError(`Graph answered ${u.userPrincipalName} without accountEnabled and userType, which the plan needs (a disabled account, a guest): the permission reads the basic profile only (User.ReadBasic.All); grant User.Read.All (see docs/permissions.md, or mfa-migrate doctor)`);
    }
    const wantPrefs = needsPrefs.get(u.id) ?? true;
    const [methods, prefs] = await Promise.all([read(listMethods(u.id)), wantPrefs ? read(getSignInPreferences(u.id)) : undefined]);
    if ((opts.known || opts.listed) && (methods.status === 404 || prefs?.status === 404)) return;
    const methodsBody = ok(methods, `reading the methods of ${u.userPrincipalName}`);
    const prefsBody = prefs ? ok(prefs, `reading the sign-in preferences of ${u.userPrincipalName}`) : {};
    const [inventory, byAssignee] = await Promise.all([inventoryP, assigneesP]);
    let user = toTenantUser(u, methodsBody, prefsBody, byAssignee.get(u.id) ?? new Map());
    if (user.hardwareOath.some((t) => !inventory.ids.has(t.id))) {
      const own = await read<{ value?: unknown[] }>(listUserTokens(u.id));
      const devices = new Map<string, RawDevice>();
      for (const item of (ok(own, `reading the hardware tokens of ${u.userPrincipalName}`) as { value?: unknown[] } | null)?.value ?? []) {
        const d = deviceOf(item);
        if (!d) continue;
        // Keyed by the device's id and by the method's own id (the methods list may give either).
        devices.set(d.id, d);
        const methodId = (item as { id?: unknown }).id;
        if (typeof methodId === 'string') devices.set(methodId, d);
      }
      user = toTenantUser(u, methodsBody, prefsBody, byAssignee.get(u.id) ?? new Map(), devices);
    }
    users.set(key, user);
  };
  const counted = async (work: Promise<void>): Promise<void> => {
    await work;
    opts.onProgress?.(++done, total);
  };
  // A few thousand users' reads at a time, not every user's at once (see feed); enough to keep every batch full.
  const inFlight = usersInFlight(opts.concurrency);
  if (opts.listed) {
    await feed(opts.listed, inFlight, (u) => counted(readUser(u)));
  } else if (opts.known) {
    const known = opts.known;
    await feed(groupsOf(known, USERS_BY_ID_MAX), inFlight / USERS_BY_ID_MAX, async (group) => {
      const found = await confirmUsers(read, group);
      const matched = group.filter((k) => k.username !== undefined && found.has(k.userId));
      if (matched.length > 0) await reconfirmOnPremises(client, read, matched, found, opts.onPremises?.netbiosDomains ?? new Map());
      await Promise.all(group.map((k) => counted(found.has(k.userId) ? readUser(found.get(k.userId)!) : Promise.resolve())));
    });
  } else {
    const checkUpns = opts.onPremises?.sameOnPremisesUpn === true;
    const { users: directory, byOnPremisesUpn } = await resolveUsers(client, read, opts.upns ?? [], opts.onListing, checkUpns);
    total = directory.size;
    // The users found by UPN are read while the others are looked up by on-premises name.
    const reads = [feed(directory, inFlight, ([key, u]) => counted(readUser(u, key)))];
    reads[0]!.catch(() => undefined);
    let same = new Map<string, MatchedUser[]>();
    if (opts.onPremises) {
      // A user found by UPN whose own on-premises UPN is not it: is it another user's? Asked in the lookups' own filters.
      const written = new Map((opts.upns ?? []).map((u) => [u.toLowerCase(), u]));
      const check = checkUpns && !byOnPremisesUpn ? [...directory].filter(([key, u]) => u.onPremisesUserPrincipalName?.toLowerCase() !== key).map(([key]) => written.get(key) ?? key) : [];
      const found = await matchOnPremises(client, read, opts.upns ?? [], directory, opts.onPremises, check);
      matches = found.matches;
      total += found.users.size;
      reads.push(feed(found.users, inFlight, ([key, u]) => counted(readUser(u, key))));
      if (checkUpns) same = sameOnPremisesUpnOf(directory, byOnPremisesUpn ?? new Map([...found.candidates].filter(([k]) => k.startsWith(`onPremisesUserPrincipalName\u0000`)).map(([k, v]) => [k.slice(k.indexOf('\u0000') + 1), v])));
    }
    await Promise.all(reads);
    for (const [key, others] of same) {
      const u = users.get(key);
      if (u) u.sameOnPremisesUpn = others;
    }
  }
  const [tenant, policy, inventory] = await Promise.all([tenantP, policyP, inventoryP]);
  return { tenant, policy, users, hardwareTokens: inventory.tokens, ...(matches ? { matches } : {}) };
}

type Read = <T>(c: ReturnType<typeof getUser>) => Promise<GraphResponse<T>>;

/**
 * For each user found by UPN (by lower-cased UPN), the other tenant users whose onPremisesUserPrincipalName
 * is that UPN, by the candidates found for it (`byOnPremisesUpn`, by lower-cased on-premises UPN); none: absent.
 */
function sameOnPremisesUpnOf(directory: ReadonlyMap<string, DirectoryUser>, byOnPremisesUpn: ReadonlyMap<string, readonly OnPremisesCandidate[]>): Map<string, MatchedUser[]> {
  const out = new Map<string, MatchedUser[]>();
  for (const [key, u] of directory) {
    const others = (byOnPremisesUpn.get(key) ?? []).filter((c) => c.id.toLowerCase() !== u.id.toLowerCase() && attributeOf(c, 'onPremisesUserPrincipalName') === key);
    if (others.length > 0) out.set(key, [...new Map(others.map((c) => [c.id.toLowerCase(), { id: c.id, upn: c.userPrincipalName, onPremisesDomainName: c.onPremisesDomainName ?? null }])).values()].sort((a, b) => (a.upn < b.upn ? -1 : a.upn > b.upn ? 1 : 0)));
  }
  return out;
}

/**
 * The usernames `directory` (found by UPN) does not hold, looked up by on-premises name: `users`, those
 * one tenant user alone fits, under the username (lower case); `matches`, every one looked up that some
 * tenant user has the name of, matched or why not (decideMatch). A user whose match is another export
 * user's tenant user (by UPN, or by an on-premises name too) is refused (shared): every row of the
 * export counts, those the scope leaves out and the disabled ones too, so that a wave of one of two
 * rows of a person is refused as the whole export is (the rows outside the scope whose name fits the
 * tenant user are looked up as the others were).
 */
async function matchOnPremises(
  client: GraphClient,
  read: Read,
  upns: readonly string[],
  directory: ReadonlyMap<string, DirectoryUser>,
  m: OnPremisesMatching,
  /** Usernames found by UPN whose on-premises UPN is looked up too (sameOnPremisesUpn), in the same filters. */
  upnsToCheck: readonly string[] = [],
): Promise<{ matches: Map<string, UserMatch>; users: Map<string, DirectoryUser>; candidates: Map<string, OnPremisesCandidate[]> }> {
  const names = new Map<string, OnPremisesName>();
  const written = new Map<string, string>();
  for (const u of [...(m.exportUsers ?? []), ...upns]) written.set(u.toLowerCase(), u);
  for (const u of upns) {
    const key = u.toLowerCase();
    if (directory.has(key) || names.has(key)) continue;
    const name = onPremisesName(u);
    if (name) names.set(key, name);
  }
  const matches = new Map<string, UserMatch>();
  const users = new Map<string, DirectoryUser>();
  const checked = upnsToCheck.map((value): OnPremisesName => ({ by: 'onPremisesUserPrincipalName', value }));
  if (names.size === 0 && checked.length === 0) return { matches, users, candidates: new Map() };
  const candidates = await lookUpCandidates(client, read, [...names.values(), ...checked]);
  const decide = (name: OnPremisesName) => decideMatch(name, candidates.get(candidateKey(name.by, name.value.toLowerCase())) ?? [], m.netbiosDomains);
  for (const [key, name] of names) {
    const d = decide(name);
    if (d) matches.set(key, d);
  }
  const byId = new Map([...candidates.values()].flat().map((c) => [c.id.toLowerCase(), c] as const));
  // Who holds each tenant user: the usernames found by UPN, those matched here, and the export's other rows matched to one of them.
  const holders = new Map<string, string[]>();
  const hold = (id: string, key: string) => addTo(holders, id.toLowerCase(), key);
  for (const [key, u] of directory) hold(u.id, key);
  for (const [key, d] of matches) if (d.outcome === 'matched') hold(d.users[0]!.id, key);
  const matchedUsers = [...matches.values()].flatMap((d) => (d.outcome === 'matched' ? [byId.get(d.users[0]!.id.toLowerCase())!] : []));
  for (const [key, id] of await otherRowsMatched(client, read, m, matchedUsers, (k) => names.has(k) || directory.has(k), candidates)) hold(id, key);
  const exportNames = new Set((m.exportUsers ?? []).map((u) => u.toLowerCase()));
  for (const [key, d] of matches) {
    if (d.outcome !== 'matched') continue;
    const u = d.users[0]!;
    const other = (holders.get(u.id.toLowerCase()) ?? []).find((k) => k !== key) ?? (exportNames.has(u.upn.toLowerCase()) ? u.upn.toLowerCase() : undefined);
    if (other !== undefined) {
      matches.set(key, sharedMatch(d, written.get(other) ?? other));
      continue;
    }
    users.set(key, byId.get(u.id.toLowerCase()) as DirectoryUser);
  }
  return { matches, users, candidates };
}

/**
 * The export's rows this read did not judge (outside the scope, disabled ones not read) matched by an
 * on-premises name, by the same rules, to one of the tenant users `matched`: by lower-cased username,
 * the tenant user's id. Only the rows whose name fits one of those users are looked up (few: a person
 * MFA Server holds twice); a `name@suffix` some tenant user has as UPN is that user's, not matched.
 */
async function otherRowsMatched(
  client: GraphClient,
  read: Read,
  m: OnPremisesMatching,
  matched: readonly OnPremisesCandidate[],
  judged: (key: string) => boolean,
  known: ReadonlyMap<string, OnPremisesCandidate[]>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (matched.length === 0 || !m.exportUsers) return out;
  const wanted = new Map<string, OnPremisesCandidate[]>();
  for (const c of matched) {
    for (const by of ['onPremisesUserPrincipalName', 'onPremisesSamAccountName'] as const) {
      const v = attributeOf(c, by);
      if (v !== undefined) addTo(wanted, candidateKey(by, v), c);
    }
  }
  const rows = new Map<string, OnPremisesName>();
  for (const u of m.exportUsers) {
    const key = u.toLowerCase();
    if (judged(key) || rows.has(key)) continue;
    const name = onPremisesName(u);
    const fit = name && wanted.get(candidateKey(name.by, name.value.toLowerCase()));
    if (fit && decideMatch(name, fit, m.netbiosDomains)?.outcome === 'matched') rows.set(key, name);
  }
  if (rows.size === 0) return out;
  // Looked up as the read's own names were (the values looked up already are not asked again), and a name@suffix by UPN first.
  const asked = new Set([...known.keys()]);
  const [more, { users: byUpn }] = await Promise.all([
    lookUpCandidates(client, read, [...rows.values()].filter((n) => !asked.has(candidateKey(n.by, n.value.toLowerCase())))),
    resolveUsers(client, read, [...rows].filter(([, n]) => n.by === 'onPremisesUserPrincipalName').map(([key]) => key)),
  ]);
  for (const [key, name] of rows) {
    if (byUpn.has(key)) continue;
    const k = candidateKey(name.by, name.value.toLowerCase());
    const d = decideMatch(name, known.get(k) ?? more.get(k) ?? [], m.netbiosDomains);
    if (d?.outcome === 'matched') out.set(key, d.users[0]!.id);
  }
  return out;
}

/**
 * The tenant users each username may be by its on-premises name (by lower-cased username; absent when
 * none has it): the users decideMatch names, matched or not (ambiguous: every one that fits; another
 * domain: every one with the sAMAccountName). For the federation's final step, which must not forget a
 * user the plan's scope leaves out: batched as the plan's own lookups are.
 */
export async function onPremisesCandidates(client: GraphClient, usernames: readonly string[], netbiosDomains: ReadonlyMap<string, string>, concurrency: number): Promise<Map<string, MatchedUser[]>> {
  const read = <T>(call: Parameters<GraphClient['read']>[0]) => client.read<T>(call, concurrency);
  const names = new Map<string, OnPremisesName>();
  for (const u of usernames) {
    const name = onPremisesName(u);
    if (name) names.set(u.toLowerCase(), name);
  }
  const out = new Map<string, MatchedUser[]>();
  if (names.size === 0) return out;
  try {
    const candidates = await lookUpCandidates(client, read, [...names.values()]);
    for (const [key, name] of names) {
      const d = decideMatch(name, candidates.get(candidateKey(name.by, name.value.toLowerCase())) ?? [], netbiosDomains);
      if (d) out.set(key, d.users);
    }
  } catch (err) {
    client.cancelReads(err);
    throw err;
  }
  return out;
}

/**
 * Apply's re-check of users the plan matched by an on-premises name: each must still be the one tenant
 * user the name matches (the same rules), or it is taken out of `found` (the plan is stale for them).
 */
async function reconfirmOnPremises(client: GraphClient, read: Read, known: readonly { userId: string; username?: string }[], found: Map<string, DirectoryUser>, netbiosDomains: ReadonlyMap<string, string>): Promise<void> {
  const named = known.map((k) => ({ k, name: onPremisesName(k.username!) }));
  const candidates = await lookUpCandidates(client, read, named.flatMap((n) => (n.name ? [n.name] : [])));
  for (const { k, name } of named) {
    const d = name ? decideMatch(name, candidates.get(candidateKey(name.by, name.value.toLowerCase())) ?? [], netbiosDomains) : undefined;
    if (d?.outcome !== 'matched' || d.users[0]!.id.toLowerCase() !== k.userId.toLowerCase()) found.delete(k.userId);
  }
}

const candidateKey = (by: OnPremisesAttribute, valueLower: string) => `${by}\u0000${valueLower}`;

/**
 * The tenant users having each name, by attribute and value (lower case): `in` filters of up to 15
 * values each, batched, every page of each read; only for the names given.
 */
async function lookUpCandidates(client: GraphClient, read: Read, names: readonly OnPremisesName[]): Promise<Map<string, OnPremisesCandidate[]>> {
  const out = new Map<string, OnPremisesCandidate[]>();
  const wanted: Record<OnPremisesAttribute, Map<string, string>> = { onPremisesUserPrincipalName: new Map(), onPremisesSamAccountName: new Map() };
  for (const n of names) if (!wanted[n.by].has(n.value.toLowerCase())) wanted[n.by].set(n.value.toLowerCase(), n.value);
  const reads: Promise<void>[] = [];
  for (const by of ['onPremisesUserPrincipalName', 'onPremisesSamAccountName'] as const) {
    const values = [...wanted[by].values()];
    for (let i = 0; i < values.length; i += USERS_BY_ID_MAX) {
      const group = values.slice(i, i + USERS_BY_ID_MAX);
      const call = by === 'onPremisesUserPrincipalName' ? findUsersByOnPremisesUpn(group) : findUsersBySamAccountName(group);
      const what = `looking users up by ${by} (${group[0]}${group.length > 1 ? ` and ${group.length - 1} more` : ''}; --match-by upn leaves on-premises names out)`;
      reads.push(
        (async () => {
          const first = await read<{ value?: DirectoryUser[]; '@odata.nextLink'?: string }>(call);
          for await (const u of client.pagesFrom<DirectoryUser>(call, first, what)) {
            // As for accountEnabled (readUser): a grant that reads the basic profile only leaves the names out, and no user would ever match.
            if (!(by in u)) {
              throw new UserError(`Graph answered ${u.userPrincipalName} without ${by}, which matching by on-premises name needs: the permission reads the basic profile only (User.ReadBasic.All); grant User.Read.All (see docs/permissions.md, or mfa-migrate doctor), or plan with --match-by upn`);
            }
            const v = attributeOf(u, by);
            if (v === undefined || !wanted[by].has(v)) continue;
            const key = candidateKey(by, v);
            addTo(out, key, u);
          }
        })(),
      );
    }
  }
  await Promise.all(reads);
  return out;
}

/** The tenant the client signs in to: its id and display name. */
export async function readOrganization(client: GraphClient): Promise<{ id: string; displayName: string }> {
  const org = parseOrganization(await client.get(getOrganization(), 'reading the tenant (GET /organization)'));
  if (!org) throw new UserError(`${client.root} did not say which tenant it is (GET /organization listed none)`);
  return org;
}

/**
 * Users known by id, each confirmed to still be the user of that UPN: a user deleted since, or an
 * id that now belongs to someone else (an edited plan), is left out.
 */
async function confirmUsers(read: <T>(c: ReturnType<typeof getUser>) => Promise<GraphResponse<T>>, group: readonly { upn: string; userId: string }[]): Promise<Map<string, DirectoryUser>> {
  const res = await read<{ value?: DirectoryUser[] }>(findUsersById(group.map((k) => k.userId)));
  const listed = new Map((ok(res, `reading the users ${group[0]!.upn}${group.length > 1 ? ` and ${group.length - 1} more` : ''}`) as { value?: DirectoryUser[] } | null)?.value?.map((u) => [u.id.toLowerCase(), u]) ?? []);
  const out = new Map<string, DirectoryUser>();
  for (const k of group) {
    const u = listed.get(k.userId.toLowerCase());
    if (u && u.id === k.userId && u.userPrincipalName.toLowerCase() === k.upn.toLowerCase()) out.set(k.userId, u);
  }
  return out;
}

/**
 * The users of the UPNs (by lower-cased UPN): one read each, or, for many, the directory listed. With
 * `onPremisesUpn`, each user's onPremisesUserPrincipalName is read too, and a listing gives
 * `byOnPremisesUpn`: every user whose on-premises UPN is one of `upns` (lower case), for free.
 */
async function resolveUsers(
  client: GraphClient,
  read: (c: ReturnType<typeof getUser>) => Promise<GraphResponse>,
  upns: readonly string[],
  onListing?: (found: number, wanted: number) => void,
  onPremisesUpn = false,
): Promise<{ users: Map<string, DirectoryUser>; byOnPremisesUpn?: Map<string, DirectoryUser[]> }> {
  const wanted = new Set(upns.map((u) => u.toLowerCase()));
  const out = new Map<string, DirectoryUser>();
  if (wanted.size > LIST_USERS_ABOVE) {
    const byOnPremisesUpn = new Map<string, DirectoryUser[]>();
    // Listing a large directory takes minutes (999 users a page): said as it goes, a page at a time.
    let listed = 0;
    for await (const u of client.pages<DirectoryUser>(listUsers(onPremisesUpn), 'listing the directory\'s users')) {
      const key = u.userPrincipalName?.toLowerCase();
      if (key && wanted.has(key)) out.set(key, u);
      const onPrem = onPremisesUpn ? attributeOf(u, 'onPremisesUserPrincipalName') : undefined;
      if (onPrem !== undefined && wanted.has(onPrem)) addTo(byOnPremisesUpn, onPrem, u);
      if (++listed % 999 === 0) onListing?.(out.size, wanted.size);
    }
    onListing?.(out.size, wanted.size);
    return { users: out, ...(onPremisesUpn ? { byOnPremisesUpn } : {}) };
  }
  await Promise.all(
    [...wanted].map(async (upn) => {
      const res = await read(getUser(upn, onPremisesUpn));
      if (res.status === 404) return;
      const u = ok(res, `reading the user ${upn}`) as DirectoryUser;
      out.set(u.userPrincipalName.toLowerCase(), u);
    }),
  );
  return { users: out };
}

/** The inventory tokens of the serials, keyed by serialKey; `ids` holds every device id seen. */
async function readInventory(client: GraphClient, read: (c: ReturnType<typeof findDevicesBySerial>) => Promise<GraphResponse>, serials: readonly string[]): Promise<{ tokens: Map<string, TenantHardwareToken[]>; ids: Set<string> }> {
  const tokens = new Map<string, TenantHardwareToken[]>();
  const ids = new Set<string>();
  // Graph's filter matches a serial as written: each form serialKey takes as one is asked for.
  const unique = [...new Set(serials.flatMap(serialForms))];
  const wanted = new Set(unique.map(serialKey));
  const add = (item: unknown) => {
    const d = deviceOf(item);
    // Once each, should two forms' filters find one device.
    if (!d || ids.has(d.id)) return;
    ids.add(d.id);
    const t = toToken(d);
    const key = serialKey(t.serialNumber);
    if (!wanted.has(key)) return;
    addTo(tokens, key, t);
  };
  if (unique.length === 0) return { tokens, ids };
  if (wanted.size > LIST_TOKENS_ABOVE) {
    for await (const item of client.pages<unknown>(listDevices(), 'listing the hardware token inventory')) add(item);
    return { tokens, ids };
  }
  await Promise.all(
    unique.map(async (serial) => {
      const res = await read(findDevicesBySerial(serial));
      for (const item of (ok(res, `reading the inventory token ${serial}`) as { value?: unknown[] } | null)?.value ?? []) add(item);
    }),
  );
  return { tokens, ids };
}

function ok(res: GraphResponse, what: string): unknown {
  if (isSuccess(res)) return res.body;
  throw new GraphRequestError(what, res);
}
