import type { CutoverChange, CutoverSummary } from '../mapping/cutover-rules.js';
import type { Finding, FindingSeverity } from '../mapping/finding.js';
import type { PolicyChange, PolicyTarget } from '../mapping/policy-rules.js';
import type { RuleId } from '../mapping/rules.js';
import type { MatchBy, UserMatch } from '../model/user-match.js';

/**
 * The version of `plan --format json`: minor for additions, major for breaking changes (as
 * Terraform). 1.1 added `users`, the tenant's `displayName`, `graph`, `identity` and `tool_version`;
 * 1.2 each user's MFA Server record (`users[].server`) and methods after the plan
 * (`users[].methods_after`), the counts that add up (`summary.user_changes`, `summary.policy`,
 * `summary.user_status`), the input files with their SHA-256 (`inputs`) and `plan_hash`;
 * 1.3 the cutover: `cutover_changes`, `cutover`, the cutover options, `summary.cutover` and
 * `summary.phone_only_after_retirement`; 1.4 users found by an on-premises name, or refused
 * (`users[].match`), and how users were matched (`options.match_by`, `options.netbios_domains`);
 * 1.5 the user changes a rollback cannot undo (`summary.rollback_cannot_undo`); 1.6 the signed-in
 * user's object id (`identity.objectId`) and the changes a run signed in so does not send (`not_applicable`);
 * 1.7 the tenant users of a federated domain outside the export whom the federation moves
 * (`cutover.federation[].outside_export`); 1.8 a federated domain's subdomains that take its
 * federation (`cutover.federation[].subdomains`); 1.9 every tenant user outside the export a forced
 * federation moves with no cloud MFA method (`cutover.federation[].outside_without_method`); 1.10
 * every one a forced federation's other findings count (`cutover.federation[].unchecked_names`,
 * `out_of_scope_users`, `unswitched_users`).
 * The saved plan file has its own version (plan-file.ts).
 */
export const PLAN_FORMAT_VERSION = '1.10';

export type ChangeAction = 'create' | 'update' | 'delete' | 'no-op';

/**
 * `phoneMethods/mobile|alternateMobile|office`, `emailMethods`, `hardwareOathMethods/<serial>`,
 * `signInPreferences`, `rolloutGroup/<groupId>`, `campaignGroup/<groupId>`.
 */
export type UserResource = string;

export interface UserChange {
  user: string;
  /** Tenant object id of the user. */
  user_id: string;
  resource: UserResource;
  action: ChangeAction;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  rule: RuleId;
  because: string;
}

/**
 * 1.6: a user change a run signed in as the plan's identity does not send (not-applicable.ts): the
 * signed-in admin's own phone and email changes, and what waits for them. Still in `user_changes`
 * and counted there: the plan is the same whoever applies it.
 */
export interface NotApplicableChange {
  user: string;
  user_id: string;
  resource: UserResource;
  action: ChangeAction;
  rule: RuleId;
  because: string;
}

/** A phone of the MFA Server record: the cells as exported, and what they normalise to. */
export interface ServerPhone {
  country_code: string | null;
  number: string;
  extension: string | null;
  /** Entra's format (`+49 301234567`), or null when the number is not valid (a finding says why). */
  entra: string | null;
}

/** The user as MFA Server exported them (users.csv, the seed files, devices.csv): what the plan maps from. */
export interface ServerRecord {
  /** Line of the user's row in users.csv. */
  line: number;
  enabled: boolean;
  phone: ServerPhone | null;
  backup_phone: ServerPhone | null;
  /** `phone_call`, `text_message`, `mobile_app` or `oath_token`; null when the export has none. */
  default_method: string | null;
  /** The user's OATH token serials: users.csv's, then those the seed files assign to the user. */
  token_serials: string[];
  /** Mobile app registrations in devices.csv. */
  mobile_app_devices: number;
}

/** A sign-in method kind a user can hold in Entra. */
export type MethodKind = 'microsoftAuthenticator' | 'hardwareOath' | 'softwareOath' | 'mobilePhone' | 'alternateMobilePhone' | 'officePhone';

/** Every in-scope user once, with what the plan decided for them as a whole. */
export interface PlanUserStatus {
  user: string;
  user_id: string | null;
  status: 'changes' | 'unchanged' | 'not-in-tenant' | 'disabled';
  /**
   * 1.4: present for a user no tenant user has as UPN who was looked up by an on-premises name
   * (`--match-by upn,on-premises`) that some tenant user has: matched (`users[0]` is the tenant
   * user, whose UPN the plan's changes go to), or refused (ambiguous, another domain, shared).
   */
  match?: UserMatch;
  /** 1.2: the MFA Server record the plan mapped from. */
  server?: ServerRecord;
  /**
   * 1.2: the methods the user will hold once the plan is applied (those the tenant has, with the
   * plan's creates and deletes); empty: left with no usable method. Null for users the plan does
   * not touch (not in the tenant, disabled).
   */
  methods_after?: MethodKind[] | null;
}

export interface PlanSummary {
  /** 1.3: users whose methods once the plan is applied are SMS and voice only (shown first: the retirement blocks them). */
  phone_only_after_retirement?: number;
  users: number;
  /**
   * Terraform's totals of resources: user changes by action, plus one `update` for each policy
   * target that changes (a method configuration, the registration campaign, report suspicious
   * activity), plus each cutover change by its action. `user_changes`, `policy` and `cutover`
   * below give them apart.
   */
  create: number;
  update: number;
  delete: number;
  no_op: number;
  findings: Record<FindingSeverity, number>;
  /** 1.2: user changes only, by action; they add up to `user_changes.length`. */
  user_changes?: { create: number; update: number; delete: number; no_op: number; total: number };
  /** 1.2: policy changes, counted apart: properties (`policy_changes.length`) and the targets they belong to. */
  policy?: { targets: number; changes: number };
  /** 1.3: cutover changes (staged rollout policy and groups, federation) by action. */
  cutover?: { create: number; update: number };
  /** 1.2: users in scope by status (they add up to `users`), and those left with no usable method. */
  user_status?: { changes: number; unchanged: number; not_in_tenant: number; disabled: number; no_usable_method: number };
  /**
   * 1.5 (saved plan 2.14): the user changes a rollback cannot undo (model/rollback-limits.ts, the
   * rollback's own rule): default methods set where the user had none (Graph cannot unset one), and
   * the phones created behind them (Graph will not delete the phone behind the default).
   */
  rollback_cannot_undo?: { changes: number; default_methods: number; phones: number };
}

/** An input file of the plan with its SHA-256 (the export and seed files; never keys or passwords). */
export interface PlanInputFile {
  /** `users`, `devices`, `settings` (the export) or `seeds` (a --tokens file). */
  role: 'users' | 'devices' | 'settings' | 'seeds';
  /** The absolute path read. */
  path: string;
  sha256: string;
  bytes: number;
}

/** `mfa-migrate plan --format json` and the body of a saved plan file. */
export interface Plan {
  format_version: string;
  created: string;
  source_fingerprint: string;
  tenant: { id: string; displayName?: string };
  /** The Graph root the plan read. */
  graph?: string;
  /**
   * Who signed in (either may be null: an app has no UPN; the emulator's placeholder token names
   * nobody). 1.6: `objectId`, the signed-in user's (a delegated sign-in whose token has `oid`).
   */
  identity?: { appId: string | null; upn: string | null; objectId?: string };
  tool_version?: string;
  /** 1.2: every input file, with its SHA-256. */
  inputs?: PlanInputFile[];
  /**
   * 1.2: SHA-256 of the saved plan file (the hash apply's journal records), when there is one:
   * `plan --out` prints it, `show` computes it. Not inside the saved file (it cannot hold its own hash).
   */
  plan_hash?: string;
  options: PlanOptions;
  summary: PlanSummary;
  policy_changes: PolicyChange[];
  /** 1.3: staged rollout policy and groups, domains' federation. */
  cutover_changes: CutoverChange[];
  user_changes: UserChange[];
  /** 1.6: the user changes a run signed in as `identity` does not send (empty for an application's sign-in). */
  not_applicable?: NotApplicableChange[];
  users: PlanUserStatus[];
  findings: Finding[];
  /** Users who must register Microsoft Authenticator again (their mobile-app devices cannot move). */
  registration_campaign: string[];
  /** 1.3: the cutover as a whole: rollout groups filled, who is switched, federation, campaign group, passkeys (absent in plans saved before it). */
  cutover?: CutoverSummary;
}

export interface ScopeUsers {
  count: number;
  fingerprint: string;
}

export interface PlanOptions {
  include_email: boolean;
  default_method: string;
  prune: boolean;
  target_group: PolicyTarget;
  /** 1.3 (absent in plans saved before it): --rollout-group (in fill order), --federated-mfa, --force-federation, --campaign-group. */
  rollout_groups?: PolicyTarget[];
  federated_mfa?: 'reject' | null;
  force_federation?: boolean;
  campaign_group?: PolicyTarget | null;
  /** 1.3: the --group scope (a rollout group that is also the scope is warned about). */
  scope_group?: PolicyTarget | null;
  /**
   * Saved plan 2.5: the users a narrower scope (--users, --group) holds, counted and fingerprinted
   * (their lower-cased names in export order), so that a user line taken out of the file shows;
   * null when the plan holds every user of the export (then re-planning its sources gives them all).
   */
  scope_users?: ScopeUsers | null;
  /** Saved plan 2.10: `--match-by` (absent in plans made before it: they matched by UPN only). */
  match_by?: MatchBy[];
  /** Saved plan 2.10: `--netbios-domain` (NetBIOS name -> DNS domain), when given. */
  netbios_domains?: Record<string, string>;
}
