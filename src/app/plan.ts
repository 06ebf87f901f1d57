import { addTo } from '../model/add-to.js';
import { createHash, type Hash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DefaultMethodMode } from '../mapping/default-method-rules.js';
import { ALL_USERS, type PolicyTarget } from '../mapping/policy-rules.js';
import { judgedGroups } from '../model/method-policy.js';
import type { GraphClient } from '../graph/graph-client.js';
import { tokenKind } from '../graph/access-token.js';
import { notApplicable } from '../plan/not-applicable.js';
import { readCutover, setMembership, type CutoverRead } from '../graph/cutover-reader.js';
import { groupsThePlanSwitches } from '../mapping/rollout-members.js';
import { rolloutReach } from '../model/rollout-reach.js';
import { rolloutMember } from '../model/rollout-member.js';
import { listDomainUsers } from '../graph/domain-users-reader.js';
import { upnDomain } from '../apply/federation-step.js';
import { domainsOf, federationRootOf } from '../model/federation-root.js';
import { resolveGroup, transitiveMemberships } from '../graph/groups-reader.js';
import { onPremisesCandidates, readTenant } from '../graph/tenant-reader.js';
import { toolVersion } from '../io/tool-version.js';
import { stageFileAtomic, type StagedFile } from '../io/atomic-file.js';
import { formatProblem, SourceError, type Problem } from '../model/problem.js';
import { UserError } from '../model/user-error.js';
import { buildPlan, fatalProblems, type BuiltPlan } from '../plan/build-plan.js';
import { hashFiles } from '../plan/fingerprint.js';
import type { PlanInputFile } from '../plan/plan-model.js';
import { planFileChunks, planKeyFields, toPlanFile, writePlanFile, type PlanFileContent, type PlanSource } from '../plan/plan-file.js';
import type { TenantCutover, TenantSnapshot, TenantUser } from '../model/tenant.js';
import { REJECT_IDP_MFA } from '../model/staged-rollout.js';
import { DEVICES_FILE, readExport, seedFingerprintName, SETTINGS_FILE, USERS_FILE, type ExportBundle } from '../source/export-bundle.js';
import { distinctSeedFiles } from '../source/seeds/distinct-seed-files.js';
import type { SeedReadOptions } from '../source/seeds/read-seed-files.js';
import { narrowToMembers, resolveScope } from './user-scope.js';
import { missingSeedsInScope, othersMissingSeedsText } from './seeds-in-scope.js';
import { DEFAULT_MATCH_BY, type MatchBy } from '../model/user-match.js';

export interface PlanRequest {
  source: string;
  tokens: string[];
  seeds: SeedReadOptions;
  /** The PSKC key and password files as given (recorded in the plan by path, never their content). */
  pskcKeyFiles?: string[];
  pskcPasswordFiles?: string[];
  /** A --users file. */
  users?: string;
  group?: string;
  targetGroup?: string;
  includeEmail: boolean;
  defaultMethod: DefaultMethodMode;
  prune: boolean;
  /** Plan the rest when token serials have no seed (their tokens are skipped, their users' default kept). */
  allowMissingSeeds: boolean;
  /** --rollout-group (names or ids, in fill order): switch users by staged rollout. */
  rolloutGroups?: string[];
  /** --federated-mfa reject: the federation's final step. */
  federatedMfa?: 'reject';
  forceFederation?: boolean;
  /** --campaign-group: phone-only users into this group, targeted by the registration campaign. */
  campaignGroup?: string;
  /** --match-by: `upn` alone, or with `on-premises` (the default): users not found by UPN looked up by on-premises name. */
  matchBy?: readonly MatchBy[];
  /** --netbios-domain: NetBIOS domain name (lower case) -> DNS domain, for `DOMAIN\sam` usernames. */
  netbiosDomains?: ReadonlyMap<string, string>;
  graph: GraphClient;
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
  /** Bytes of users.csv read, of its size (a large export takes seconds). */
  onReadProgress?: (read: number, total: number) => void;
  /** Users found while the directory is listed, before their reads (a large scope). */
  onListing?: (found: number, wanted: number) => void;
  /** A note for the admin (users of --users not in the export). */
  log?: (line: string) => void;
  /** --federated-mfa reject: a federated domain's users listed, then those outside the plan read (`what` says which). */
  onDomainUsers?: (what: string, done: number, total: number) => void;
}

export interface MadePlan {
  built: BuiltPlan;
  bundle: ExportBundle;
  source: PlanSource;
  /** The tenant as read: recorded in the saved plan, so that apply can derive the plan again. */
  tenant: TenantSnapshot;
}

/** The saved plan's content for a plan made here, with what it saw of the tenant. */
export function planFileOf(made: MadePlan): PlanFileContent {
  const serials = new Map<string, string[]>();
  for (const t of made.bundle.tokens) if (t.user !== undefined) addTo(serials, t.user.toLowerCase(), t.seed.serial);
  return toPlanFile(made.built.plan, made.source, made.tenant, (upn) => serials.get(upn.toLowerCase()) ?? []);
}

/**
 * Saves the plan (`plan --out`) atomically, 0600, written a chunk at a time as it is made, and gives
 * the SHA-256 of its bytes (the hash apply's journal records), taken as they are written: the plan
 * of 100,000 users is 170 MB, and its lines, their text and its bytes were held at once.
 */
export async function savePlan(path: string, made: MadePlan): Promise<string> {
  const hash = createHash('sha256');
  await writePlanFile(path, hashedAsWritten(planFileChunks(planFileOf(made)), hash));
  return hash.digest('hex');
}

/** savePlan's file written and synced beside `path` but not yet in place (plan --out with --report: both or neither). */
export async function stagePlan(path: string, made: MadePlan): Promise<{ hash: string; file: StagedFile }> {
  const hash = createHash('sha256');
  const file = await stageFileAtomic(path, hashedAsWritten(planFileChunks(planFileOf(made)), hash), 0o600);
  return { hash: hash.digest('hex'), file };
}

/** The chunks, each added to `hash` as UTF-8, as the file writer encodes it, when it is handed on. */
function* hashedAsWritten(chunks: Iterable<string>, hash: Hash): Generator<string> {
  for (const chunk of chunks) {
    hash.update(chunk, 'utf8');
    yield chunk;
  }
}

/** The export cannot be trusted: the plan stops before reading the tenant. */
export class UntrustedExportError extends UserError {
  constructor(
    readonly problems: Problem[],
    hint = '',
  ) {
    super(`the export cannot be trusted; fix these first (mfa-migrate validate lists everything):\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}${hint}`);
  }
}

/** The cutover asked for cannot be planned: staged rollout's limits, users a federation change would leave behind. */
export class CutoverRefusedError extends UserError {
  constructor(readonly reasons: string[]) {
    super(`the cutover cannot be planned as asked:\n${reasons.map((r) => `  ${r}`).join('\n')}`);
  }
}

/** A token of a user in scope with no seed stops the plan, unless --allow-missing-seeds. */
function refuseMissingSeeds(missing: Problem[], allowed: boolean): void {
  if (missing.length > 0 && !allowed) throw new UntrustedExportError(missing, '\n(--allow-missing-seeds plans the rest: those tokens are skipped and their users keep their default method)');
}

/** Reads the export and the tenant, and builds the plan. Reads only. */
export async function makePlan(req: PlanRequest): Promise<MadePlan> {
  let bundle: ExportBundle;
  try {
    bundle = await readExport({ source: req.source, tokens: req.tokens, seeds: req.seeds, ...(req.onReadProgress ? { onProgress: req.onReadProgress } : {}) });
  } catch (err) {
    if (err instanceof SourceError) throw new UserError(formatProblem(err.problem));
    throw err;
  }
  const fatal = fatalProblems(bundle.problems.items);
  if (fatal.length > 0) throw new UntrustedExportError(fatal);

  // Hash the export now, next to reading it, not after a tenant read that can take minutes (a file
  // edited meanwhile would give a fingerprint of other content); the hashing overlaps the reads.
  const files = [USERS_FILE, DEVICES_FILE, SETTINGS_FILE].filter((f) => existsSync(join(req.source, f))).map((f) => ({ name: f, path: join(req.source, f) }));
  // Each seed file once, as it was read: one named twice is recorded once.
  const tokens = distinctSeedFiles(req.tokens).files;
  const read = [...files, ...tokens.map((t) => ({ name: seedFingerprintName(t, req.source), path: t }))];
  const hashed = hashFiles(read);
  hashed.catch(() => {}); // awaited below; a Graph failure may come first

  const client = req.graph;
  const matchBy = req.matchBy ?? DEFAULT_MATCH_BY;
  const netbiosDomains = req.netbiosDomains ?? new Map<string, string>();
  const onPremises = matchBy.includes('on-premises') ? { netbiosDomains, exportUsers: bundle.users.map((u) => u.username), sameOnPremisesUpn: true } : undefined;
  const resolved = await resolveScope(client, {
    exportUsers: bundle.users.map((u) => u.username),
    ...(req.users ? { users: req.users } : {}),
    ...(req.group ? { group: req.group } : {}),
    ...(onPremises ? { netbiosDomains: onPremises.netbiosDomains } : {}),
    ...(req.log ? { log: req.log } : {}),
  });
  let scope = resolved.scope;
  const scopeGroup = resolved.group;
  // Seeds are needed for the tokens of the users in scope alone; refused before the tenant read for
  // those surely in it: all but those --group took for a member's on-premises name, whom the tenant
  // read may leave out (narrowToMembers), checked once it has.
  const takenFor = resolved.groupScope?.takenFor;
  refuseMissingSeeds(missingSeedsInScope(bundle, scope && takenFor ? new Set([...scope].filter((u) => !takenFor.has(u))) : scope).mine, req.allowMissingSeeds);
  const target: PolicyTarget = req.targetGroup ? await resolveGroup(client, req.targetGroup, '--target-group') : ALL_USERS;
  const inScope = bundle.users.filter((u) => u.enabled && (!scope || scope.has(u.username.toLowerCase())));
  const names = new Set(inScope.map((u) => u.username));
  // The federation's final step moves every user of a domain, those disabled in MFA Server too: whether
  // their Entra account can still sign in is read (nothing is planned for them).
  const toRead = req.federatedMfa === 'reject' ? bundle.users.filter((u) => !scope || scope.has(u.username.toLowerCase())) : inScope;
  const serials = bundle.tokens.filter((t) => t.user !== undefined && names.has(t.user)).map((t) => t.seed.serial);
  const rolloutGroups = req.rolloutGroups ?? [];
  const wantsCutover = rolloutGroups.length > 0 || req.federatedMfa !== undefined || req.campaignGroup !== undefined;
  const [tenant, identity, cutover] = await Promise.all([
    readTenant(client, {
      upns: toRead.map((u) => u.username),
      ...(onPremises ? { onPremises } : {}),
      serials,
      policy: true,
      organization: true,
      concurrency: req.concurrency,
      ...(req.onProgress ? { onProgress: req.onProgress } : {}),
      ...(req.onListing ? { onListing: req.onListing } : {}),
    }),
    client.identity(),
    wantsCutover
      ? readCutover(client, { rolloutGroups, rollout: rolloutGroups.length > 0 || req.federatedMfa !== undefined, ...(req.campaignGroup ? { campaignGroup: req.campaignGroup } : {}), federation: rolloutGroups.length > 0 || req.federatedMfa !== undefined })
      : Promise.resolve(undefined),
  ]);
  if (scope && resolved.groupScope) {
    // --group writes to members only: a user the scope took for a member's on-premises name, whose username is another user's UPN, is left out (and forgotten, as if never read).
    const narrowed = narrowToMembers(scope, resolved.groupScope, (u) => tenant.users.get(u), req.log);
    for (const u of narrowed.outside) {
      tenant.users.delete(u);
      tenant.matches?.delete(u);
    }
    scope = narrowed.scope;
  }
  const seedless = missingSeedsInScope(bundle, scope);
  refuseMissingSeeds(seedless.mine, req.allowMissingSeeds);
  if (seedless.others.length > 0) req.log?.(othersMissingSeedsText(seedless.others));
  if (cutover) {
    tenant.cutover = cutover.cutover;
    setMembership(tenant.users.values(), cutover.memberOf);
    if (req.federatedMfa === 'reject' && onPremises && scope) await lookUpOutOfScope(client, bundle, scope, tenant.cutover, netbiosDomains, req.concurrency);
  }
  const members = cutover ? await readRolloutMembers(client, cutover, tenant, req.concurrency) : [];
  const domainUsers = cutover && req.federatedMfa === 'reject' ? await readDomainUsers(client, cutover, tenant, req.concurrency, req.onDomainUsers) : [];
  const outside = domainUsers.flatMap((d) => d.users);
  // Which users the policy's targets hold decides what each can sign in with once the plan is applied.
  const targetGroups = judgedGroups(tenant.policy, target.id);
  const inTenant = new Set([...tenant.users.values(), ...members, ...outside].map((u) => u.id.toLowerCase()));
  const policyMembers = targetGroups.length > 0 ? await transitiveMemberships(client, targetGroups, inTenant) : new Map<string, string[]>();
  for (const u of [...tenant.users.values(), ...members, ...outside]) u.policyGroups = policyMembers.get(u.id.toLowerCase()) ?? [];
  if (tenant.cutover && cutover && cutover.rolloutGroups.length > 0) tenant.cutover.rolloutMembers = members.map(rolloutMember);
  if (tenant.cutover && cutover && req.federatedMfa === 'reject') tenant.cutover.domainUsers = domainUsers.map((d) => ({ domain: d.domain, users: d.users.map(rolloutMember) }));
  const built = buildPlan({
    bundle,
    tenant,
    ...(scope ? { scope } : {}),
    options: {
      includeEmail: req.includeEmail,
      defaultMethod: req.defaultMethod,
      prune: req.prune,
      matchBy,
      netbiosDomains,
      target,
      cutover: {
        rolloutGroups: cutover?.rolloutGroups ?? [],
        federatedMfa: req.federatedMfa ?? null,
        forceFederation: req.forceFederation ?? false,
        campaignGroup: cutover?.campaignGroup ?? null,
        ...(scopeGroup ? { scopeGroup } : {}),
      },
    },
    sourceFingerprint: (await hashed).fingerprint,
    now: new Date(),
  });
  if (built.refusals.length > 0) throw new CutoverRefusedError(built.refusals);
  // Each input file with its own hash, for the report's sign-off header (the fingerprint ties them together).
  const roles: PlanInputFile['role'][] = [...files.map((f) => (f.name === USERS_FILE ? 'users' : f.name === DEVICES_FILE ? 'devices' : 'settings') as PlanInputFile['role']), ...tokens.map(() => 'seeds' as const)];
  built.plan.inputs = (await hashed).files.map((h, i) => ({ role: roles[i]!, path: resolve(read[i]!.path), sha256: h.sha256, bytes: h.bytes }));
  built.plan.graph = client.root;
  // The signed-in user's object id too: a run signed in so cannot write their own phone and email methods (not-applicable.ts).
  built.plan.identity = { appId: identity.appId, upn: identity.upn, ...(tokenKind(identity) === 'delegated' && identity.objectId !== null ? { objectId: identity.objectId } : {}) };
  built.plan.not_applicable = notApplicable(built.plan);
  built.plan.tool_version = toolVersion();
  // Absolute paths: apply and resume read the seeds again, maybe from another working folder.
  const source: PlanSource = {
    dir: resolve(req.source),
    tokens: tokens.map((t) => resolve(t)),
    ...planKeyFields((req.pskcKeyFiles ?? []).map((f) => resolve(f)), (req.pskcPasswordFiles ?? []).map((f) => resolve(f))),
    pskcMac: req.seeds.pskcMac ?? 'fail',
    // Recorded only when taken, so that the plan reads as every plan made before the option did.
    ...(req.seeds.pskcExpired === 'take' ? { pskcExpired: 'take' } : {}),
  };
  return { built, bundle, source, tenant };
}

/**
 * The export's users a narrower scope leaves out, looked up by on-premises name for the federation's
 * final step (`cutover.outOfScopeMatches`): the plan reads nothing else of them, and an alternate login
 * ID (`mary@corp.local`, in Entra `mary@contoso.com`) or a `DOMAIN\sam` does not tell its Entra domain.
 * Only while a federated domain's final step is still to be planned; the UPNs of the name's own domain
 * (which the name counts for already) and of domains not federated are left out.
 */
async function lookUpOutOfScope(client: GraphClient, bundle: ExportBundle, scope: ReadonlySet<string>, cutover: TenantCutover, netbiosDomains: ReadonlyMap<string, string>, concurrency: number): Promise<void> {
  // A subdomain that is not a root takes its root's federation: its users count for the root's step.
  const federated = new Set(cutover.federatedDomains.filter((d) => d.federatedIdpMfaBehavior !== REJECT_IDP_MFA).flatMap(domainsOf));
  if (federated.size === 0) return;
  const outside = bundle.users.filter((u) => !scope.has(u.username.toLowerCase())).map((u) => u.username);
  const found = await onPremisesCandidates(client, outside, netbiosDomains, concurrency);
  const domainOf = (name: string) => (name.includes('@') ? name.slice(name.lastIndexOf('@') + 1).toLowerCase() : undefined);
  cutover.outOfScopeMatches = outside.flatMap((user) => {
    const upns = (found.get(user.toLowerCase()) ?? []).map((u) => u.upn).filter((upn) => federated.has(domainOf(upn)!) && domainOf(upn) !== domainOf(user));
    return upns.length > 0 ? [{ user, upns }] : [];
  });
}

/**
 * The members of the rollout groups the plan switches (attaches, or all the policy's when it creates
 * or enables it), as tenant users: those the plan read already, and the others read now (their
 * methods; a member deleted meanwhile is left out). Attaching a group switches every member, in the
 * plan's scope or not.
 */
async function readRolloutMembers(client: GraphClient, cutover: CutoverRead, tenant: TenantSnapshot, concurrency: number): Promise<TenantUser[]> {
  const switching = new Set(groupsThePlanSwitches(cutover.cutover.rolloutPolicy, cutover.rolloutGroups.map((g) => g.id)));
  if (switching.size === 0) return [];
  const byId = new Map([...tenant.users.values()].map((u) => [u.id, u]));
  const ids = [...cutover.memberOf].filter(([, groups]) => groups.some((g) => switching.has(g))).map(([id]) => id);
  const unread = ids.filter((id) => !byId.has(id) && cutover.memberUpns.has(id));
  if (unread.length > 0) {
    const more = await readTenant(client, { known: unread.map((id) => ({ upn: cutover.memberUpns.get(id)!, userId: id, needsPreferences: false })), serials: [], policy: false, organization: false, concurrency });
    setMembership(more.users.values(), cutover.memberOf);
    for (const u of more.users.values()) byId.set(u.id, u);
  }
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/**
 * The tenant users of each federated domain whose final step the plan may take (federated, not
 * rejecting the IdP's MFA yet, holding a user the plan read or a candidate of a name it refused) who
 * are outside the plan's users, enabled, and not switched by staged rollout once the plan is applied
 * (as the groups read hold them): the federation moves them to Entra MFA all the same, so their
 * methods are read (batched, as a plan user's). One paged listing a domain name (the domain's, and each
 * of its subdomains' that take its federation); the methods of those users
 * alone (most often a few: admins, service accounts, users MFA Server never had).
 */
async function readDomainUsers(client: GraphClient, cutover: CutoverRead, tenant: TenantSnapshot, concurrency: number, progress?: (what: string, done: number, total: number) => void): Promise<{ domain: string; users: TenantUser[] }[]> {
  // By the domain whose federation governs theirs: a user of a subdomain that is not a root holds its root.
  const governing = federationRootOf(cutover.cutover.federatedDomains);
  const held = new Set([...tenant.users.values()].map((u) => governing(upnDomain(u.userPrincipalName))));
  for (const m of tenant.matches?.values() ?? []) if (m.outcome !== 'matched') for (const u of m.users) held.add(governing(upnDomain(u.upn)));
  const domains = cutover.cutover.federatedDomains.filter((d) => d.federatedIdpMfaBehavior !== REJECT_IDP_MFA && d.federationId !== null && held.has(d.id.toLowerCase()));
  const planned = new Set([...tenant.users.values()].map((u) => u.id.toLowerCase()));
  const reach = rolloutReach(cutover.cutover.rolloutPolicy, cutover.rolloutGroups.map((g) => g.id));
  const out: { domain: string; users: TenantUser[] }[] = [];
  for (const d of domains) {
    const domain = d.id.toLowerCase();
    // The root's users and each of its subdomains' (one listing a name: `endswith` on `@contoso.com` leaves out `@eu.contoso.com`).
    const listed: Awaited<ReturnType<typeof listDomainUsers>> = [];
    for (const name of domainsOf(d)) listed.push(...(await listDomainUsers(client, name, (n) => progress?.(`Listing the users of ${name}`, n, n))));
    const outside = listed.filter((u) => !planned.has(u.id.toLowerCase()) && u.accountEnabled !== false && !reach(cutover.memberOf.get(u.id) ?? []));
    if (outside.length === 0) {
      out.push({ domain, users: [] });
      continue;
    }
    // Named with the subdomains whose users it counts (a black-box test read contoso.com's count holding eu.contoso.com's).
    const subs = d.subdomains ?? [];
    const what = `Reading the ${outside.length} user(s) of ${domain}${subs.length > 0 ? ` (with ${subs.join(', ')})` : ''} outside the plan`;
    // Their methods alone: the listing a moment ago gave what a lookup by id would (the same properties), and a user deleted since answers 404 and is left out.
    const read = await readTenant(client, { listed: outside, serials: [], policy: false, organization: false, concurrency, ...(progress ? { onProgress: (done: number, total: number) => progress(what, done, total) } : {}) });
    setMembership(read.users.values(), cutover.memberOf);
    // By UPN, whatever order Graph lists them in (a user deleted meanwhile is left out): the same tenant gives the same plan.
    const byId = new Map([...read.users.values()].map((u) => [u.id, u]));
    out.push({ domain, users: outside.flatMap((u) => byId.get(u.id) ?? []).sort((a, b) => (a.userPrincipalName < b.userPrincipalName ? -1 : a.userPrincipalName > b.userPrincipalName ? 1 : 0)) });
  }
  return out;
}
