import { createHash, type Hash } from 'node:crypto';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import * as z from 'zod';
import { writeFileAtomic } from '../io/atomic-file.js';
import { addTo } from '../model/add-to.js';
import { joinedChunks } from '../io/text-chunks.js';
import { serialKey } from '../model/serial.js';
import { UserError } from '../model/user-error.js';
import type { CutoverChange } from '../mapping/cutover-rules.js';
import type { PolicyChange } from '../mapping/policy-rules.js';
import type { Finding } from '../mapping/finding.js';
import { stateFingerprint } from './fingerprint.js';
import type { MethodKind, Plan, ServerRecord, UserChange } from './plan-model.js';
import type { TenantCutover, TenantHardwareToken, TenantSnapshot, TenantUser } from '../model/tenant.js';
import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import { jsonSyntaxText } from '../model/json-syntax.js';
import { matchedUser, type UserMatch } from '../model/user-match.js';
import { toolVersion } from '../io/tool-version.js';

/**
 * The saved plan (`plan --out`, and each run's copy): this module alone reads and writes it.
 *
 * Format 2.x is JSON Lines: a header line (`kind`, `format_version`, tenant, Graph root, options,
 * source, summary), then one line per policy change (`"t":"policy"`), per cutover change
 * (`"t":"cutover"`, 2.2), per user (`"t":"user"`) and per finding (`"t":"finding"`), and an end line
 * counting the lines before it, so a cut-off file is refused. Every line is validated on reading. A
 * major version other than 2 is refused, except 1.x (one JSON object), which apply, resume and
 * rollback still read. A minor version adds fields or line types, or plans by changed rules: a file of
 * a newer minor version than this one writes is refused as a newer version's (NewerPlanError), since
 * it may hold what this version does not know and would drop unseen (Terraform refuses a plan file of
 * another Terraform version); an older one is read, its later fields absent. 2.1 added the input files with their SHA-256 (`inputs`, header), each
 * user's MFA Server record (`server`) and methods after the plan (`methods_after`), and the summary's
 * counts that add up; 2.2 the cutover: its lines, `cutover_seen` in the header, and each user's group
 * memberships in `seen.memberOf`; 2.3 each user's memberships of the groups the authentication
 * methods policy targets (`seen.policyGroups`), by which what they can sign in with is judged
 * (a plan without them is re-derived as it was made: every enabled method counted for everyone).
 * 2.4 holds the same lines, planned by changed rules (SMS turned on for MFA only, phones behind the
 * default kept by --prune, landlines, backup phones): a 2.3 file that this version plans otherwise
 * is an earlier version's, or edited since (OlderPlanError: the label alone cannot tell), and a run begun from one is finished
 * without being planned again. 2.5 records a narrower scope's users in the options (`scope_users`:
 * a user line taken out shows) and plans by changed rules (the export's problems of no user are
 * findings; a domain's federation counts its users a narrower scope leaves out): a 2.4 file planned
 * otherwise is an earlier version's too. 2.6 records the members of the rollout groups the plan
 * switches (`cutover_seen.rolloutMembers`): those outside its users are judged too. 2.7 holds the
 * lines of 2.6, planned by changed rules (a guest's token not planned; findings for users left with no
 * method, disabled tenant accounts and system-preferred MFA): a 2.6 file planned otherwise is an
 * earlier version's. 2.8 holds the lines of 2.7, planned by changed rules (serials compared in NFC;
 * a token's dropped clock drift reported, OATH-DRIFT): a 2.7 file planned otherwise is an earlier
 * version's. 2.9 holds the lines of 2.8, planned by changed rules (a user's text message OTP + PIN
 * mode reported, USER-SMS-PIN-MODE, and counted in POL-MANUAL's PIN finding; a rollout group member
 * the plan switches before their methods are written warned of, switched-before-methods): a 2.8 file
 * planned otherwise is an earlier version's. 2.10 records how users were matched (`options.match_by`,
 * `options.netbios_domains`) and, on the line of a user no tenant user has as UPN who was looked up by
 * an on-premises name, how (`match`: the tenant user found, whose UPN apply, rollback and the cutover
 * use, or why none was); the lines of users found by UPN are as in 2.9; and, for the federation's
 * final step of a narrower scope, the Entra UPNs its out-of-scope users' on-premises names may be
 * (`cutover_seen.outOfScopeMatches`). 2.11 holds the lines of 2.10, planned by changed rules (the
 * policy's methods and their counts are what the users the tenant has use, not those it lacks;
 * usernames read composed, NFC; one no on-premises name can be looked up by UPN only): a
 * 2.10 file planned otherwise is an earlier version's. 2.12 holds the lines of 2.11, planned by a
 * changed rule: a plan whose staged rollout step would switch a user with no cloud MFA method is
 * refused (2.11 warned): a 2.11 file that plans so is an earlier version's, not an edited one.
 * 2.13 holds the lines of 2.12, planned by a changed rule: with --include-email, an email cell that
 * is not an email address is not planned (EMAIL-INVALID, finding email-invalid): a 2.12 file that
 * plans one is an earlier version's. 2.14 holds the lines of 2.13, planned by a changed rule: with
 * --include-email, a tenant email method MFA Server's address replaces is warned of (EMAIL-REPLACE,
 * finding email-replaced): a 2.13 file that plans one is an earlier version's. 2.15 holds the lines of
 * 2.14, planned by changed rules: a one-time bypass raises TAP's maximum lifetime with a default above
 * it (POL-TAP), where 2.14 left it for Graph to refuse, and one outside 10..43200 minutes is reported as
 * clamped (POL-TAP-LIFETIME): a 2.14 file that plans either is an earlier version's. 2.16 records,
 * for each federated domain whose final step a `--federated-mfa reject` plan may take, the domain's
 * tenant users outside its users (enabled, not switched by staged rollout), with what they can sign
 * in with (`cutover_seen.domainUsers`), and plans by a changed rule: the step is refused while one of
 * them has no cloud MFA method (unless --force-federation). A 2.15 (or earlier) file that sets a
 * domain's federation read none of them: it is an earlier version's (make a new plan). 2.17 records
 * the verified managed domains read with the federated ones (`cutover_seen.managedDomains`), whose
 * users the cutover counts switched (Entra does their MFA) and adds to no rollout group
 * (CUTOVER-MANAGED-DOMAIN): a file of an earlier format records none, so it is planned as it was made.
 * 2.18 records, for each federated domain, its verified subdomains that are not roots
 * (`cutover_seen.federatedDomains[].subdomains`), which take its federation: its final step counts,
 * lists and re-checks their users with its own. A file of an earlier format records none, so it is
 * planned as it was made; apply finds it stale while the domain has such subdomains now.
 * 2.19 holds the lines of 2.18, its header's cutover naming every tenant user outside the export a
 * forced federation moves with no cloud MFA method (`cutover.federation[].outside_without_method`),
 * where 2.18 named the first 20 in a finding alone: a 2.18 file is compared without the field.
 * 2.20 holds the lines of 2.19, its header's cutover naming every one a forced federation's other
 * findings count (`cutover.federation[].unchecked_names`, `out_of_scope_users`, `unswitched_users`),
 * where 2.19 named the first 20 of each in its finding alone: a 2.19 file is compared without them.
 * 2.21 records `--pskc-expired take` (`source.pskcExpired`): the plan took PSKC keys past their
 * ExpiryDate, and apply and resume must read the seeds so too. A file of an earlier format records
 * none and is read as `leave`; a version that does not know the field would drop those keys unseen,
 * which is why a later minor version is refused.
 */
export const PLAN_FILE_VERSION = '2.21';
export const PLAN_KIND = 'mfa-migrate-plan';

/**
 * Where the export and seed files were read from, so apply can read the seeds again (never their
 * content). One PSKC key or password file is recorded as `pskcKeyFile` / `pskcPasswordFile` (as plans
 * always have); two or more (one per shipment) as `pskcKeyFiles` / `pskcPasswordFiles`, which a
 * version that does not know them ignores, and then refuses the encrypted files for want of a key.
 */
export interface PlanSource {
  dir: string;
  tokens: string[];
  pskcKeyFile?: string;
  pskcPasswordFile?: string;
  pskcKeyFiles?: string[];
  pskcPasswordFiles?: string[];
  pskcMac: string;
  /**
   * `take` when the plan read PSKC keys past their ExpiryDate (--pskc-expired take; 2.21), so that
   * apply and resume read the seeds the same way; absent: `leave`, as in every earlier plan.
   */
  pskcExpired?: 'take' | 'leave';
}

/** The PSKC key and password files a plan records, however many. */
export function planKeyFiles(source: Pick<PlanSource, 'pskcKeyFile' | 'pskcPasswordFile' | 'pskcKeyFiles' | 'pskcPasswordFiles'>): { keys: string[]; passwords: string[] } {
  return {
    keys: [...(source.pskcKeyFile ? [source.pskcKeyFile] : []), ...(source.pskcKeyFiles ?? [])],
    passwords: [...(source.pskcPasswordFile ? [source.pskcPasswordFile] : []), ...(source.pskcPasswordFiles ?? [])],
  };
}

/** How a plan records PSKC key and password files: one as before, several as a list. */
export function planKeyFields(keys: readonly string[], passwords: readonly string[]): Pick<PlanSource, 'pskcKeyFile' | 'pskcPasswordFile' | 'pskcKeyFiles' | 'pskcPasswordFiles'> {
  return {
    ...(keys.length === 1 ? { pskcKeyFile: keys[0]! } : keys.length > 1 ? { pskcKeyFiles: [...keys] } : {}),
    ...(passwords.length === 1 ? { pskcPasswordFile: passwords[0]! } : passwords.length > 1 ? { pskcPasswordFiles: [...passwords] } : {}),
  };
}

export type SavedPolicyChange = PolicyChange & { state_fingerprint: string };
export type SavedCutoverChange = CutoverChange & { state_fingerprint: string };
export type SavedUserChange = Omit<UserChange, 'user' | 'user_id'> & { state_fingerprint: string };

/**
 * What the plan decided for an in-scope user as a whole: `changes` (something to write),
 * `unchanged` (the tenant already matches), `not-in-tenant`, `disabled` (in MFA Server).
 */
export type UserStatus = 'changes' | 'unchanged' | 'not-in-tenant' | 'disabled';

/** One user's changes as the saved plan holds them. */
export interface PlanUser {
  /** The export's username (a UPN, unless the user was matched by an on-premises name). */
  upn: string;
  userId: string;
  /** 2.10: the user's UPN in the tenant, for a user matched by an on-premises name (`upn` is not a UPN of the tenant then). */
  tenantUpn?: string;
  /** 2.10: how the user was matched by an on-premises name (apply checks it still holds). */
  match?: UserMatch;
  changes: SavedUserChange[];
  /**
   * The user's methods the plan leaves as they are (no-op phones, email, tokens): the user's changes
   * rest on them (a switch to Entra MFA needs a method), so apply checks them for changes too.
   */
  kept?: SavedUserChange[];
  /** 2.3: the policy's target groups that held the user when planned (`seen.policyGroups`). */
  policyGroups?: string[];
}

/**
 * A user the plan counts switched to Entra MFA by staged rollout (a member of a rollout group when
 * read, or added to one by the plan): what a domain's federation change rests on, checked again
 * before it is sent (2.2 plans with a federation change; none otherwise).
 */
export interface CountedSwitch {
  userId: string;
  /** The user's UPN in the tenant (its domain is the federated domain). */
  upn: string;
  /** The rollout groups that switch the user. */
  groups: string[];
  /** `member`: in one of the groups when the plan read them; `plan`: added by the plan. */
  by: 'member' | 'plan';
}

/** What the plan saw of one user in the tenant, so that the plan can be derived again from its sources. */
export interface SeenUser {
  /** The user as read (null: not in the tenant). */
  seen: TenantUser | null;
  /** The inventory tokens of the serials the export gives the user. */
  tokens: TenantHardwareToken[];
}

/** What a 2.1 user line adds: the MFA Server record and the methods after the plan. */
export interface UserRecordFields {
  server?: ServerRecord;
  methods_after?: MethodKind[] | null;
}

/** A user line read whole: changes (no-ops too) and what the plan saw. */
export interface PlanUserLine extends SeenUser, UserRecordFields {
  upn: string;
  userId: string | null;
  status: UserStatus;
  /** 2.10: how the user was looked up by an on-premises name, when they were. */
  match?: UserMatch;
  changes: SavedUserChange[];
  /** Line in the file (for messages). */
  line: number;
}

/** Everything of a saved plan but its changes, users and findings (fields of later minor versions are absent from earlier files). */
export interface PlanHeader extends Omit<Plan, 'policy_changes' | 'cutover_changes' | 'user_changes' | 'findings' | 'users' | 'plan_hash'> {
  kind: typeof PLAN_KIND;
  source: PlanSource;
  /** The authentication methods policy as the plan read it (2.0; absent in 1.x). */
  policy_seen?: AuthenticationMethodsPolicy;
  /** The rollout policy, cutover groups and federated domains as the plan read them (2.2, when read). */
  cutover_seen?: TenantCutover;
}

const sourceSchema = z.looseObject({
  dir: z.string(),
  tokens: z.array(z.string()),
  pskcKeyFile: z.string().optional(),
  pskcPasswordFile: z.string().optional(),
  pskcKeyFiles: z.array(z.string()).optional(),
  pskcPasswordFiles: z.array(z.string()).optional(),
  pskcMac: z.string(),
  pskcExpired: z.enum(['take', 'leave']).optional(),
});

const groupRef = z.looseObject({ id: z.string(), displayName: z.string() });
const count = z.number().int().min(0);
/** A tenant user the cutover switches outside the plan's users, as read: their methods by kind. */
const memberSeenSchema = z.looseObject({
  id: z.string(),
  userPrincipalName: z.string(),
  memberOf: z.array(z.string()),
  policyGroups: z.array(z.string()),
  phones: z.array(z.enum(['mobile', 'alternateMobile', 'office'])),
  hardwareOath: z.boolean(),
  softwareOath: z.boolean(),
  authenticator: z.boolean(),
  passwordless: z.boolean(),
});
const cutoverSeenSchema = z.looseObject({
  rolloutPolicy: z.looseObject({ id: z.string(), displayName: z.string(), isEnabled: z.boolean(), isAppliedToOrganization: z.boolean(), appliesTo: z.array(z.string()) }).nullable(),
  groups: z.array(z.looseObject({ id: z.string(), displayName: z.string(), dynamic: z.boolean(), users: count, groups: count, contacts: count })),
  federatedDomains: z.array(z.looseObject({ id: z.string(), federationId: z.string().nullable(), federatedIdpMfaBehavior: z.string().nullable(), subdomains: z.array(z.string()).optional() })),
  outOfScopeMatches: z.array(z.looseObject({ user: z.string(), upns: z.array(z.string()) })).optional(),
  domainUsers: z.array(z.looseObject({ domain: z.string(), users: z.array(memberSeenSchema) })).optional(),
  managedDomains: z.array(z.string()).optional(),
});

const headerSchema = z.looseObject({
  kind: z.literal(PLAN_KIND),
  format_version: z.string().regex(/^\d+\.\d+$/),
  created: z.string(),
  source_fingerprint: z.string(),
  tenant: z.looseObject({ id: z.string(), displayName: z.string().optional() }),
  graph: z.string().optional(),
  identity: z.looseObject({ appId: z.string().nullable(), upn: z.string().nullable(), objectId: z.string().optional() }).optional(),
  tool_version: z.string().optional(),
  inputs: z.array(z.looseObject({ role: z.string(), path: z.string(), sha256: z.string(), bytes: z.number() })).optional(),
  options: z.looseObject({
    include_email: z.boolean(),
    default_method: z.string(),
    prune: z.boolean(),
    target_group: groupRef,
    rollout_groups: z.array(groupRef).optional(),
    federated_mfa: z.literal('reject').nullable().optional(),
    force_federation: z.boolean().optional(),
    campaign_group: groupRef.nullable().optional(),
    scope_group: groupRef.nullable().optional(),
    scope_users: z.looseObject({ count, fingerprint: z.string() }).nullable().optional(),
    match_by: z.array(z.enum(['upn', 'on-premises'])).optional(),
    netbios_domains: z.record(z.string(), z.string()).optional(),
  }),
  summary: z.looseObject({}),
  registration_campaign: z.array(z.string()),
  source: sourceSchema,
  cutover_seen: cutoverSeenSchema.optional(),
});

const jsonObject = z.record(z.string(), z.unknown());

const policyLine = z.looseObject({
  t: z.literal('policy'),
  target: z.string(),
  property: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  rule: z.string(),
  because: z.string(),
  setting: z.string(),
  state_fingerprint: z.string(),
});

const cutoverLine = z.looseObject({
  t: z.literal('cutover'),
  target: z.string().min(1),
  action: z.enum(['create', 'update']),
  before: jsonObject.nullable(),
  after: jsonObject,
  rule: z.string(),
  because: z.string(),
  switches: z.number().int().min(0).optional(),
  state_fingerprint: z.string(),
});

const changeSchema = z.looseObject({
  resource: z.string().min(1),
  action: z.enum(['create', 'update', 'delete', 'no-op']),
  before: jsonObject.nullable(),
  after: jsonObject.nullable(),
  rule: z.string(),
  because: z.string(),
  state_fingerprint: z.string(),
});

const matchSchema = z.looseObject({
  outcome: z.enum(['matched', 'ambiguous', 'domain-differs', 'shared']),
  rule: z.enum(['USER-MATCH-ONPREM-UPN', 'USER-MATCH-SAM', 'USER-MATCH-AMBIGUOUS']),
  by: z.enum(['onPremisesUserPrincipalName', 'onPremisesSamAccountName']),
  value: z.string().min(1),
  domain: z.string().min(1).optional(),
  dns_domain: z.string().min(1).optional(),
  users: z.array(z.looseObject({ id: z.string().min(1), upn: z.string().min(1), onPremisesDomainName: z.string().nullable() })).min(1),
  shared_with: z.string().min(1).optional(),
});

const userLine = z.looseObject({
  t: z.literal('user'),
  user: z.string().min(1),
  user_id: z.string().min(1).nullable(),
  status: z.enum(['changes', 'unchanged', 'not-in-tenant', 'disabled']).optional(),
  changes: z.array(changeSchema),
  seen: jsonObject.nullable().optional(),
  tokens_seen: z.array(jsonObject).optional(),
  server: jsonObject.optional(),
  methods_after: z.array(z.string()).nullable().optional(),
  match: matchSchema.optional(),
});

const findingLine = z.looseObject({ t: z.literal('finding'), severity: z.enum(['error', 'warning', 'info']), code: z.string(), user: z.string().optional(), rule: z.string(), message: z.string() });

const endLine = z.looseObject({ t: z.literal('end'), lines: z.number().int().min(1) });

/** A user's line of a saved plan, as made for it. */
export type PlanFileUser = { upn: string; userId: string | null; status: UserStatus; changes: SavedUserChange[]; match?: UserMatch } & Partial<SeenUser> & UserRecordFields;

/** A plan as the saved file holds it: every in-scope user once, with their changes. */
export interface PlanFileContent {
  header: PlanHeader;
  policy: SavedPolicyChange[];
  cutover: SavedCutoverChange[];
  /** Made a user at a time as they are iterated (once, as the file is written): see toPlanFile. */
  users: Iterable<PlanFileUser>;
  findings: Finding[];
}

/**
 * A saved plan for a plan made in this process. With the tenant it was made against, each user line
 * records what the plan saw of the user (and the header the policy), so that apply can plan again
 * from the recorded sources and refuse a file whose changes are not what they give. Each user's
 * record and saved changes (with their state fingerprints) are made as the users are iterated, not
 * all before the first line is written: 100,000 users' were some 100 MB held through the write.
 */
export function toPlanFile(plan: Plan, source: PlanSource, tenant?: TenantSnapshot, serialsOf?: (upn: string) => readonly string[]): PlanFileContent {
  const { policy_changes, cutover_changes, user_changes, findings, users: roster, plan_hash: _hash, not_applicable: _signInDependent, ...rest } = plan;
  // The plan's own changes by user id, in plan order; each saved (a copy with its fingerprint) when its user's record is made.
  const changesOf = new Map<string, UserChange[]>();
  for (const c of user_changes) addTo(changesOf, c.user_id, c);
  const saved = ({ user: _u, user_id: _id, ...c }: UserChange): SavedUserChange => ({ ...c, state_fingerprint: stateFingerprint(c.before) });
  function* users(): Generator<PlanFileUser> {
    for (const u of roster) {
      yield {
        upn: u.user,
        userId: u.user_id,
        status: u.status,
        ...(u.match ? { match: u.match } : {}),
        changes: u.user_id === null ? [] : (changesOf.get(u.user_id) ?? []).map(saved),
        ...(u.server ? { server: u.server } : {}),
        ...(u.methods_after !== undefined ? { methods_after: u.methods_after } : {}),
        ...(tenant ? { seen: tenant.users.get(u.user.toLowerCase()) ?? null, tokens: (serialsOf?.(u.user) ?? []).flatMap((s) => tenant.hardwareTokens.get(serialKey(s)) ?? []) } : {}),
      };
    }
  }
  return {
    header: { kind: PLAN_KIND, ...rest, format_version: PLAN_FILE_VERSION, source, ...(tenant ? { policy_seen: tenant.policy } : {}), ...(tenant?.cutover ? { cutover_seen: tenant.cutover } : {}) },
    policy: policy_changes.map((c) => ({ ...c, state_fingerprint: stateFingerprint(c.before) })),
    cutover: cutover_changes.map((c) => ({ ...c, state_fingerprint: stateFingerprint(c.before) })),
    users: users(),
    findings,
  };
}

/**
 * A saved plan's text (2.x, JSON Lines), a chunk at a time: a plan of 100,000 users (170 MB) is
 * written as it is made, never held whole, nor its lines, nor its bytes.
 */
export function planFileChunks(file: PlanFileContent): Generator<string> {
  return joinedChunks(planFileLines(file), '\n');
}

/** The saved plan's lines, the last one's line break included (`end` counts the lines before it). */
function* planFileLines(file: PlanFileContent): Generator<string> {
  let lines = 0;
  const line = (record: unknown): string => {
    lines++;
    return JSON.stringify(record);
  };
  yield line(file.header);
  for (const c of file.policy) yield line({ t: 'policy', ...c });
  for (const c of file.cutover) yield line({ t: 'cutover', ...c });
  for (const u of file.users) {
    const record = { ...(u.server ? { server: u.server } : {}), ...(u.methods_after !== undefined ? { methods_after: u.methods_after } : {}) };
    yield line({ t: 'user', user: u.upn, user_id: u.userId, status: u.status, ...(u.match ? { match: u.match } : {}), changes: u.changes, ...record, ...(u.seen !== undefined ? { seen: u.seen, tokens_seen: u.tokens ?? [] } : {}) });
  }
  for (const f of file.findings) yield line({ t: 'finding', ...f });
  yield `${JSON.stringify({ t: 'end', lines })}\n`;
}

/**
 * Writes the plan crash-safely (temporary file, fsync, rename). Mode 0600: a plan holds no secret,
 * but it holds users' phone numbers in full (apply needs them). `data`: its bytes, or its text a
 * chunk at a time (planFileChunks).
 */
export async function writePlanFile(path: string, data: Buffer | Iterable<string>): Promise<void> {
  await writeFileAtomic(path, data, 0o600);
}

/** An in-scope user of the plan: where their line is, and what apply needs to choose users without reading it. */
export interface UserEntry {
  /** The export's username. */
  upn: string;
  /** Null for a user the tenant does not have. */
  userId: string | null;
  /** 2.10: the user's UPN in the tenant, when it is not the username (matched by an on-premises name). */
  tenantUpn?: string;
  status: UserStatus;
  /** Changes other than no-ops. */
  pending: number;
  /**
   * The rollout groups (attached when the plan read them, or named) that held the user then, for a
   * user the plan leaves in one (a no-op `rolloutGroup/<id>`): what tells apply whom the plan's own
   * attach or enable switches, whose methods it writes first. Absent for everyone else.
   */
  rolloutMemberOf?: string[];
  offset: number;
  length: number;
  /** Line in the file (0 for 1.x plans). */
  line: number;
}

/**
 * A saved plan opened for apply, resume and rollback: the header and the policy changes
 * in memory, and an index of the users' lines, each read from the file when a wave needs it (a plan
 * for 100,000 users need not be held in memory).
 */
export class SavedPlan {
  private constructor(
    /** The plan file as the admin named it (what messages say). */
    readonly path: string,
    /** The file read: the same, or a private copy of it (apply reads its own copy, which nobody else can change). */
    readonly file: string,
    /** sha256 of the file's bytes. */
    readonly hash: string,
    readonly header: PlanHeader,
    readonly policyChanges: SavedPolicyChange[],
    /** Staged rollout and federation changes (2.2; none in older files). */
    readonly cutoverChanges: SavedCutoverChange[],
    /** Where each finding's line is ([offset, length] pairs; a 1.x plan's findings are in memory). */
    private readonly findingLines: number[] | Finding[],
    private readonly entries: UserEntry[],
    /** Whether any change is a hardware token's (apply then needs the seeds). */
    readonly hasTokenChanges: boolean,
    /** The inventory tokens the plan saw for its users' serials (every user line's tokens_seen, each once). */
    readonly tokensSeen: readonly TenantHardwareToken[],
    /** The users a federation change counts switched (none without one). */
    readonly countedSwitches: readonly CountedSwitch[],
    /** 1.x plans: the users themselves, by position (there is no line to read). */
    private readonly inMemory?: Map<number, PlanUser>,
  ) {}

  /** The major format version of the file. */
  get format(): '1' | '2' {
    return this.inMemory ? '1' : '2';
  }

  /** Every in-scope user the plan lists, in the plan's order (1.x plans list only users with changes). */
  get users(): readonly Readonly<UserEntry>[] {
    return this.entries;
  }

  /** Every user line whole (no-ops and what the plan saw included), in order, a chunk at a time. */
  async *lines(chunk = 200): AsyncGenerator<PlanUserLine[]> {
    if (this.inMemory) throw new UserError(`${this.path}: a plan of format ${this.header.format_version} holds no user lines`);
    const fh = await open(this.file, 'r');
    try {
      for (let i = 0; i < this.entries.length; i += chunk) {
        const entries = this.entries.slice(i, i + chunk);
        const out: PlanUserLine[] = [];
        for (const [e, text] of await readSpans(fh, entries, this.path)) {
          const u = JSON.parse(text) as { user: string; user_id: string | null; changes: SavedUserChange[]; seen?: TenantUser | null; tokens_seen?: TenantHardwareToken[]; match?: UserMatch } & UserRecordFields;
          out.push({
            upn: u.user,
            userId: u.user_id,
            status: e.status,
            ...(u.match !== undefined ? { match: u.match } : {}),
            changes: u.changes,
            seen: u.seen === undefined ? null : u.seen,
            tokens: u.tokens_seen ?? [],
            ...(u.server !== undefined ? { server: u.server } : {}),
            ...(u.methods_after !== undefined ? { methods_after: u.methods_after } : {}),
            line: e.line,
          });
        }
        yield out;
      }
    } finally {
      await fh.close();
    }
  }

  /** The plan's findings, read from the file (they were checked when it was opened). */
  async findings(): Promise<Finding[]> {
    const at = this.findingLines;
    if (this.inMemory) return at as Finding[];
    const fh = await open(this.file, 'r');
    try {
      const out: Finding[] = [];
      for (let i = 0; i < at.length; i += 2) {
        const buf = Buffer.allocUnsafe(at[i + 1] as number);
        const { bytesRead } = await fh.read(buf, 0, buf.length, at[i] as number);
        if (bytesRead !== buf.length) throw new UserError(`${this.path}: the plan file changed while it was being read`);
        const { t: _t, ...f } = JSON.parse(buf.toString('utf8')) as Finding & { t: string };
        out.push(f);
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  /**
   * Whether the file records what the plan saw of the tenant (plan --out writes it; 1.x files and the
   * first 2.0 ones did not). apply refuses a file without it: only its sources' fingerprint could be
   * checked, so removing it from an edited plan must not be a way past the check.
   */
  get recordsTenant(): boolean {
    return this.header.policy_seen !== undefined;
  }

  /** The users at these positions of `users`, read from the file, with their changes other than no-ops. */
  async read(positions: readonly number[]): Promise<PlanUser[]> {
    if (this.inMemory) return positions.map((i) => this.inMemory!.get(i)!);
    const fh = await open(this.file, 'r');
    try {
      const out: PlanUser[] = [];
      for (const [e, text] of await readRuns(fh, positions.map((i) => this.entries[i]!), this.path)) out.push(userOfLine(text, e, this.path));
      return out;
    } finally {
      await fh.close();
    }
  }

  /**
   * Opens a saved plan; refuses what is not one, an unknown major version, a cut-off or invalid file,
   * naming the line. The file is read a slab at a time (hashed, each line checked, an index of the
   * user lines kept): a plan for 100,000 users is some 120 MB that need not be held at once.
   */
  static async open(path: string, file = path): Promise<SavedPlan> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      throw cannotRead(path, err);
    }
    try {
      const hash = createHash('sha256');
      const reader = new LineReader(fh, hash);
      const first = await reader.next().catch((err: unknown) => Promise.reject(cannotRead(path, err)));
      let head: unknown;
      try {
        head = first ? JSON.parse(first.text) : undefined;
      } catch {
        // Not a JSON line: a 1.x plan is one JSON object over many lines.
      }
      // 1.x: a JSON object over many lines (its first line is not JSON), or on one line.
      const version = String((head as { format_version?: unknown } | null)?.format_version ?? '');
      const major = version.split('.')[0];
      if (head === undefined || major === '1') {
        // A whole JSON object on the first line with more lines after it is JSON Lines, 2.x's layout,
        // whatever its header says: said so, not the JSON parse error reading it as one document gives.
        if (head !== undefined && (await nextTextLine(reader).catch((err: unknown) => Promise.reject(cannotRead(path, err))))) throw layoutMismatch(path, version);
        await fh.close();
        return SavedPlan.openV1(path, file, await readFile(file).catch((err: unknown) => Promise.reject(cannotRead(path, err))));
      }
      return await SavedPlan.openV2(path, file, reader, hash, head);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  private static async openV2(path: string, file: string, reader: LineReader, hash: Hash, head: unknown): Promise<SavedPlan> {
    const header = parseHeader(path, head, 1);
    const policy: SavedPolicyChange[] = [];
    const cutover: SavedCutoverChange[] = [];
    // Only where each finding is: apply does not need them, and a large plan has one or two a user.
    const findings: number[] = [];
    const entries: UserEntry[] = [];
    let tokenChanges = false;
    let ended = false;
    let lineNo = 1;
    const userIds = new Set<string>();
    const tokens = new Map<string, TenantHardwareToken>();
    // The groups that switch a user: attached to the rollout policy when read, or filled by this plan.
    const seen = header.cutover_seen;
    const rolloutIds = new Set([...(seen?.rolloutPolicy?.appliesTo ?? []), ...(header.options.rollout_groups ?? []).map((g) => g.id)]);
    const switches: CountedSwitch[] = [];
    for (let l = await reader.next(); l; l = await reader.next()) {
      lineNo++;
      if (ended) throw invalid(path, lineNo, 'text after the end line');
      let value: unknown;
      try {
        value = JSON.parse(l.text);
      } catch (err) {
        throw invalid(path, lineNo, `not JSON (${jsonSyntaxText(err, l.text)})`);
      }
      const t = (value as { t?: unknown } | null)?.t;
      if (t === 'user') {
        const u = check(userLine, value, path, lineNo);
        const key = u.user.toLowerCase();
        if (userIds.has(key) || (u.user_id !== null && userIds.has(u.user_id))) throw invalid(path, lineNo, `user ${u.user} appears twice`);
        userIds.add(key);
        if (u.user_id !== null) userIds.add(u.user_id);
        const pending = u.changes.filter((c) => c.action !== 'no-op');
        if (pending.length > 0 && u.user_id === null) throw invalid(path, lineNo, `user ${u.user} has changes but no user_id`);
        if (pending.some((c) => c.resource.startsWith('hardwareOathMethods/'))) tokenChanges = true;
        // The constant, not the parsed string: one copy for 100,000 users.
        const status: UserStatus = STATUSES[u.status ?? (pending.length > 0 ? 'changes' : 'unchanged')];
        const tenantUpn = matchedUser(u.match as UserMatch | undefined)?.upn;
        if (u.match !== undefined && (u.match.outcome === 'matched') !== (u.user_id !== null) ) throw invalid(path, lineNo, `user ${u.user}: its match (${u.match.outcome}) does not fit its user_id`);
        if (tenantUpn !== undefined && u.match!.users[0]!.id !== u.user_id) throw invalid(path, lineNo, `user ${u.user}: its match names another user than its user_id`);
        // From what the line holds already (the no-op switch the plan leaves, the groups it saw the user in): no format change.
        const kept = rolloutIds.size > 0 && u.user_id !== null ? u.changes.find((c) => c.action === 'no-op' && c.resource.startsWith('rolloutGroup/')) : undefined;
        const rolloutMemberOf = kept
          ? [...new Set([kept.resource.slice('rolloutGroup/'.length), ...(((u.seen as { memberOf?: unknown } | null | undefined)?.memberOf ?? []) as unknown[]).filter((id): id is string => typeof id === 'string' && rolloutIds.has(id))])]
          : [];
        entries.push({ upn: u.user, userId: u.user_id, status, ...(tenantUpn !== undefined ? { tenantUpn } : {}), pending: pending.length, ...(rolloutMemberOf.length > 0 ? { rolloutMemberOf } : {}), offset: l.offset, length: l.length, line: lineNo });
        // Kept while the line is parsed anyway: re-deriving any user needs the whole inventory seen, which is small.
        for (const t of (u.tokens_seen ?? []) as unknown as TenantHardwareToken[]) if (!tokens.has(t.id)) tokens.set(t.id, t);
        if (rolloutIds.size > 0 && u.user_id !== null) {
          const member = ((u.seen as { memberOf?: unknown } | null | undefined)?.memberOf ?? []) as unknown[];
          const upn = (u.seen as { userPrincipalName?: unknown } | null | undefined)?.userPrincipalName;
          const base = { userId: u.user_id, upn: typeof upn === 'string' ? upn : u.user };
          const held = member.filter((id): id is string => typeof id === 'string' && rolloutIds.has(id));
          const added = pending.filter((c) => c.action === 'create' && c.resource.startsWith('rolloutGroup/')).map((c) => c.resource.slice('rolloutGroup/'.length));
          if (held.length > 0) switches.push({ ...base, groups: held, by: 'member' });
          else if (added.length > 0) switches.push({ ...base, groups: added, by: 'plan' });
        }
      } else if (t === 'policy') {
        const { t: _t, ...c } = check(policyLine, value, path, lineNo);
        policy.push(c as SavedPolicyChange);
      } else if (t === 'cutover') {
        const { t: _t, ...c } = check(cutoverLine, value, path, lineNo);
        cutover.push(c as SavedCutoverChange);
      } else if (t === 'finding') {
        check(findingLine, value, path, lineNo);
        findings.push(l.offset, l.length);
      } else if (t === 'end') {
        const e = check(endLine, value, path, lineNo);
        if (e.lines !== lineNo - 1) throw invalid(path, lineNo, `the end line counts ${e.lines} lines, the file has ${lineNo - 1}`);
        ended = true;
      } else {
        throw invalid(path, lineNo, `unknown line type ${JSON.stringify(t)}`);
      }
    }
    if (!ended) throw new UserError(`${path}: the plan file is cut off (no end line): save the plan again`);
    // The end line counts lines, so a file cut short is caught; the summary counts users and
    // findings, so lines taken out with the end line redone are caught too.
    const summary = header.summary as { users?: unknown; findings?: Record<string, unknown> };
    if (typeof summary.users === 'number' && summary.users !== entries.length) {
      throw new UserError(`${path}: the summary counts ${summary.users} users, the file has ${entries.length} user lines: the file was edited; save the plan again`);
    }
    const counted = Object.values(summary.findings ?? {}).reduce<number>((n, v) => n + (typeof v === 'number' ? v : 0), 0);
    // From 2.2 (older files' findings were counted by other rules: rederive.ts).
    if (summary.findings !== undefined && formatMinor(header) >= 2 && counted !== findings.length / 2) {
      throw new UserError(`${path}: the summary counts ${counted} findings, the file has ${findings.length / 2} finding lines: the file was edited; save the plan again`);
    }
    const federation = cutover.some((c) => c.target.startsWith('domains/'));
    return new SavedPlan(path, file, hash.digest('hex'), header, policy, cutover, findings, entries, tokenChanges, [...tokens.values()], federation ? switches : []);
  }

  /** Format 1.x: one JSON object with `user_changes` (plans saved before 2.0, and the copies in their runs). */
  private static openV1(path: string, file: string, bytes: Buffer): SavedPlan {
    const hash = createHash('sha256').update(bytes).digest('hex');
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      // Never V8's message as it is: it quotes the file, which may be a key given by mistake.
      throw new UserError(`${path}: not a plan file (${jsonSyntaxText(err, bytes.toString('utf8'))})`);
    }
    const header = parseHeader(path, data, undefined);
    const users: PlanUser[] = [];
    const byId = new Map<string, PlanUser>();
    const changes = data.user_changes;
    if (!Array.isArray(changes)) throw new UserError(`${path}: not a plan file (no user_changes)`);
    let tokenChanges = false;
    changes.forEach((raw, i) => {
      const r = changeSchema.extend({ user: z.string().min(1), user_id: z.string().min(1) }).safeParse(raw);
      if (!r.success) throw new UserError(`${path}: user_changes[${i}] is not a user change (${r.error.issues[0]?.path.join('.') || 'value'}: ${r.error.issues[0]?.message})`);
      const { user, user_id, ...c } = r.data;
      let u = byId.get(user_id);
      if (!u) {
        u = { upn: user, userId: user_id, changes: [] };
        byId.set(user_id, u);
        users.push(u);
      }
      if (c.action === 'no-op') {
        if (isKeptMethod(c as SavedUserChange)) (u.kept ??= []).push(c as SavedUserChange);
        return;
      }
      if (c.resource.startsWith('hardwareOathMethods/')) tokenChanges = true;
      u.changes.push(c as SavedUserChange);
    });
    const policy = Array.isArray(data.policy_changes) ? (data.policy_changes as SavedPolicyChange[]) : [];
    const findings = Array.isArray(data.findings) ? (data.findings as Finding[]) : [];
    // Users with something to do; one whose changes are all no-ops has nothing for apply.
    const pending = users.filter((u) => u.changes.length > 0);
    const entries: UserEntry[] = pending.map((u) => ({ upn: u.upn, userId: u.userId, status: 'changes', pending: u.changes.length, offset: 0, length: 0, line: 0 }));
    return new SavedPlan(path, file, hash, header, policy, [], findings, entries, tokenChanges, [], [], new Map(pending.map((u, i) => [i, u])));
  }
}

/** A saved plan's header alone (its first line; a 1.x plan is read whole): enough to know its tenant and Graph. */
export async function readPlanHeader(path: string): Promise<PlanHeader> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw cannotRead(path, err);
  }
  let head: unknown;
  try {
    const first = await new LineReader(fh, createHash('sha256')).next().catch((err: unknown) => Promise.reject(cannotRead(path, err)));
    head = first ? JSON.parse(first.text) : undefined;
  } catch (err) {
    if (err instanceof UserError) throw err;
  } finally {
    await fh.close();
  }
  const major = String((head as { format_version?: unknown } | null)?.format_version ?? '').split('.')[0];
  if (head === undefined || major === '1') return (await SavedPlan.open(path)).header;
  return parseHeader(path, head, 1);
}

/** Whether a saved plan is of an older format than this version writes (made by an earlier version, with its rules). */
export function isOlderFormat(header: Pick<PlanHeader, 'format_version'>): boolean {
  const [major, minor] = header.format_version.split('.');
  const [currentMajor, currentMinor] = PLAN_FILE_VERSION.split('.');
  return major !== currentMajor || Number(minor ?? 0) < Number(currentMinor);
}

/** Whether a format version is of this major version and a later minor one than this version writes. */
function isNewerFormat(version: string): boolean {
  const [major, minor] = version.split('.');
  const [currentMajor, currentMinor] = PLAN_FILE_VERSION.split('.');
  return major === currentMajor && /^\d+$/.test(minor ?? '') && Number(minor) > Number(currentMinor);
}

/**
 * A saved plan of a later minor format than this version writes: made by a later mfa-migrate, it may
 * hold fields or rules this one does not know, which it would drop or misread without a word. Said
 * by the formats, which decide (builds of one package version differ in the format they write), and
 * the build the header names, which the admin can go and get.
 */
export class NewerPlanError extends UserError {
  /** The build the plan's header names (`tool_version`); undefined in plans that name none. */
  readonly madeBy: string | undefined;
  constructor(
    readonly path: string,
    readonly version: string,
    toolVersionOfFile: unknown,
  ) {
    const madeBy = typeof toolVersionOfFile === 'string' ? toolVersionOfFile : undefined;
    super(
      `${path} is a plan of format ${version}, and this mfa-migrate (${toolVersion()}) reads plan formats up to ${PLAN_FILE_VERSION}: ` +
        `made by a later one${madeBy ? ` (its header names mfa-migrate ${madeBy})` : ''}, it may hold what this one does not know, so it is not used. ` +
        `Use an mfa-migrate that reads plan format ${version} (the one that made it${madeBy ? `, ${madeBy},` : ''} or a later one), or make a new plan with this one`,
    );
    this.madeBy = madeBy;
  }

  /** The refusal in a few words, for a message that says what to do itself. */
  get brief(): string {
    return `it is of plan format ${this.version}, and this mfa-migrate reads plan formats up to ${PLAN_FILE_VERSION}`;
  }
}

/** A header whose version is not the file's layout: 1.x is one JSON document, 2.x JSON Lines. */
function layoutMismatch(path: string, version: string): UserError {
  const why = version.startsWith('1.') ? 'a 1.x plan is one JSON document, and this file is JSON Lines (the layout of 2.x)' : 'a 2.x plan is JSON Lines, and this file is one JSON document (the layout of 1.x)';
  return new UserError(`${path}: its header says plan format ${version}, which does not match the file's layout: ${why}. The header was edited, or the file is damaged: make a new plan`);
}

/** The next line that holds more than white space, or undefined at the end of the file. */
async function nextTextLine(reader: LineReader): Promise<string | undefined> {
  for (let l = await reader.next(); l; l = await reader.next()) if (l.text.trim() !== '') return l.text;
  return undefined;
}

/** The minor version of a saved plan's format (`2.1` -> 1): what it is expected to hold. */
export function formatMinor(header: Pick<PlanHeader, 'format_version'>): number {
  return Number(header.format_version.split('.')[1] ?? 0);
}

function parseHeader(path: string, value: unknown, line: number | undefined): PlanHeader {
  const kind = (value as { kind?: unknown } | null)?.kind;
  const version = (value as { format_version?: unknown } | null)?.format_version;
  if (kind !== PLAN_KIND || typeof version !== 'string') throw new UserError(`${path}: not a plan file written by mfa-migrate plan --out`);
  const major = version.split('.')[0];
  if (major !== '2' && major !== '1') throw new UserError(`${path}: plan format ${version} is not supported (this mfa-migrate reads 1.x and 2.x): use the mfa-migrate that wrote it, or plan again`);
  if ((major === '1') !== (line === undefined)) throw layoutMismatch(path, version);
  if (isNewerFormat(version)) throw new NewerPlanError(path, version, (value as { tool_version?: unknown }).tool_version);
  const r = headerSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UserError(`${path}${line ? `, line ${line}` : ''}: invalid plan header: ${issue.path.join('.') || 'value'}: ${issue.message}`);
  }
  return r.data as unknown as PlanHeader;
}

function check<T>(schema: z.ZodType<T>, value: unknown, path: string, line: number): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw invalid(path, line, `${issue.path.join('.') || 'value'}: ${issue.message}`);
}

function invalid(path: string, line: number, why: string): UserError {
  return new UserError(`${path}, line ${line}: not a valid plan line: ${why}`);
}

const STATUSES: Record<UserStatus, UserStatus> = { changes: 'changes', unchanged: 'unchanged', 'not-in-tenant': 'not-in-tenant', disabled: 'disabled' };

/** Bytes read at once for a run of lines (the users' lines follow one another in a file plan wrote). */
const SPAN_MAX = 8 << 20;

/** The text of each entry's line: one read for the run of lines they span (small chunks keep what is held short-lived). */
async function readSpans(fh: FileHandle, entries: readonly UserEntry[], path: string): Promise<[UserEntry, string][]> {
  if (entries.length === 0) return [];
  const from = Math.min(...entries.map((e) => e.offset));
  const to = Math.max(...entries.map((e) => e.offset + e.length));
  if (to - from > SPAN_MAX) {
    const out: [UserEntry, string][] = [];
    for (const e of entries) out.push([e, (await readExactly(fh, e.offset, e.length, path)).toString('utf8')]);
    return out;
  }
  const buf = await readExactly(fh, from, to - from, path);
  return entries.map((e) => [e, buf.toString('utf8', e.offset - from, e.offset - from + e.length)]);
}

async function readExactly(fh: FileHandle, offset: number, length: number, path: string): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  if (bytesRead !== length) throw new UserError(`${path}: the plan file changed while it was being read`);
  return buf;
}

/** Bytes between two lines that a run of lines read at once may skip (the plan's lines of other users, its findings). */
const RUN_GAP = 64 << 10;
/** Bytes a run of lines read at once may span: small, so that what a read holds is short-lived. */
const RUN_MAX = 1 << 20;

/**
 * The text of each entry's line, in the order given: the lines that follow one another in the file
 * (a wave's users, the pre-flight's chunk) are read in one read, not one read each (an asynchronous
 * read costs about as much CPU as the parse of a line).
 */
async function readRuns(fh: FileHandle, entries: readonly UserEntry[], path: string): Promise<[UserEntry, string][]> {
  const out: [UserEntry, string][] = [];
  for (let i = 0; i < entries.length; ) {
    const from = entries[i]!.offset;
    let to = from + entries[i]!.length;
    let j = i + 1;
    for (; j < entries.length; j++) {
      const e = entries[j]!;
      if (e.offset < to || e.offset - to > RUN_GAP || e.offset + e.length - from > RUN_MAX) break;
      to = e.offset + e.length;
    }
    const buf = Buffer.allocUnsafe(to - from);
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    if (bytesRead !== buf.length) throw new UserError(`${path}: the plan file changed while it was being applied`);
    for (; i < j; i++) out.push([entries[i]!, buf.toString('utf8', entries[i]!.offset - from, entries[i]!.offset - from + entries[i]!.length)]);
  }
  return out;
}

function userOfLine(text: string, e: UserEntry, path: string): PlanUser {
  const u = JSON.parse(text) as { user: string; user_id: string | null; changes: SavedUserChange[]; seen?: { policyGroups?: unknown } | null; match?: UserMatch };
  if (u.user_id !== e.userId || u.user_id === null || matchedUser(u.match)?.upn !== e.tenantUpn) throw new UserError(`${path}: the plan file changed while it was being applied`);
  const groups = u.seen?.policyGroups;
  const kept = u.changes.filter(isKeptMethod);
  return {
    upn: u.user,
    userId: u.user_id,
    ...(e.tenantUpn !== undefined ? { tenantUpn: e.tenantUpn, match: u.match! } : {}),
    changes: u.changes.filter((c) => c.action !== 'no-op'),
    ...(kept.length > 0 ? { kept } : {}),
    ...(Array.isArray(groups) ? { policyGroups: groups.map(String) } : {}),
  };
}

/** A method the plan leaves as it is (a no-op phone, email or token); the default method and group memberships are not methods. */
function isKeptMethod(c: SavedUserChange): boolean {
  return c.action === 'no-op' && /^(phoneMethods|emailMethods|hardwareOathMethods)\//.test(c.resource);
}

function cannotRead(path: string, err: unknown): UserError {
  if (err instanceof UserError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new UserError(code === 'ENOENT' ? `cannot read the plan file ${path}: no such file` : `cannot read the plan file ${path} (${code ?? (err as Error).message})`);
}

/** Slabs read at a time by LineReader. */
const SLAB = 1 << 20;

/**
 * A file's lines one at a time, each with its byte offset and length, every byte fed to `hash` as it
 * is read. Blank text after the last newline is not a line; a last line without a newline is.
 */
class LineReader {
  private slab = Buffer.alloc(0);
  private at = 0;
  private slabOffset = 0;
  private eof = false;

  constructor(
    private readonly fh: FileHandle,
    private readonly hash: Hash,
  ) {}

  /** The next line (`ended` false when it ran to the end of the file without a newline), or undefined at the end. */
  async next(): Promise<{ text: string; offset: number; length: number; ended: boolean } | undefined> {
    for (;;) {
      const nl = this.slab.indexOf(0x0a, this.at);
      if (nl >= 0) {
        const line = { text: this.slab.toString('utf8', this.at, nl), offset: this.slabOffset + this.at, length: nl - this.at, ended: true };
        this.at = nl + 1;
        return line;
      }
      if (this.eof) {
        if (this.at >= this.slab.length) return undefined;
        const line = { text: this.slab.toString('utf8', this.at), offset: this.slabOffset + this.at, length: this.slab.length - this.at, ended: false };
        this.at = this.slab.length;
        return line;
      }
      await this.fill();
    }
  }

  /** Keeps the unread part of the slab and appends the next slab of the file. */
  private async fill(): Promise<void> {
    const rest = this.slab.subarray(this.at);
    const buf = Buffer.allocUnsafe(Math.max(SLAB, rest.length * 2));
    rest.copy(buf, 0);
    const { bytesRead } = await this.fh.read(buf, rest.length, buf.length - rest.length, null);
    if (bytesRead === 0) this.eof = true;
    this.hash.update(buf.subarray(rest.length, rest.length + bytesRead));
    this.slabOffset += this.at;
    this.slab = buf.subarray(0, rest.length + bytesRead);
    this.at = 0;
  }
}
