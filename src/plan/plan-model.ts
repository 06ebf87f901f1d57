import type { CutoverChange, CutoverSummary } from '../mapping/cutover-rules.js';
import type { Finding, FindingSeverity } from '../mapping/finding.js';
import type { PolicyChange, PolicyTarget } from '../mapping/policy-rules.js';
import type { RuleId } from '../mapping/rules.js';

/**
 * The version of `plan --format json`: minor for additions, major for breaking changes (as
 * Terraform). 1.1 added `users`, the tenant's `displayName`, `graph`, `identity` and `tool_version`;
 * 1.2 the cutover: `cutover_changes`, `cutover`, the cutover options and
 * `summary.phone_only_after_retirement`. The saved plan file has its own version (plan-file.ts).
 */
export const PLAN_FORMAT_VERSION = '1.2';

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

/** Every in-scope user once, with what the plan decided for them as a whole. */
export interface PlanUserStatus {
  user: string;
  user_id: string | null;
  status: 'changes' | 'unchanged' | 'not-in-tenant' | 'disabled';
}

export interface PlanSummary {
  /** Users whose methods once the plan is applied are SMS and voice only (shown first: the retirement blocks them). */
  phone_only_after_retirement: number;
  users: number;
  create: number;
  update: number;
  delete: number;
  no_op: number;
  findings: Record<FindingSeverity, number>;
}

/** `mfa-migrate plan --format json` and the body of a saved plan file. */
export interface Plan {
  format_version: string;
  created: string;
  source_fingerprint: string;
  tenant: { id: string; displayName?: string };
  /** The Graph root the plan read. */
  graph?: string;
  /** Who signed in (either may be null: an app has no UPN; the emulator's placeholder token names nobody). */
  identity?: { appId: string | null; upn: string | null };
  tool_version?: string;
  options: PlanOptions;
  summary: PlanSummary;
  policy_changes: PolicyChange[];
  /** Staged rollout policy and groups, domains' federation (1.2). */
  cutover_changes: CutoverChange[];
  user_changes: UserChange[];
  users: PlanUserStatus[];
  findings: Finding[];
  /** Users who must register Microsoft Authenticator again (their mobile-app devices cannot move). */
  registration_campaign: string[];
  /** The cutover as a whole: rollout groups filled, who is switched, federation, campaign group, passkeys (1.2). */
  cutover: CutoverSummary;
}

export interface PlanOptions {
  include_email: boolean;
  default_method: string;
  prune: boolean;
  target_group: PolicyTarget;
  /** 1.2: --rollout-group (in fill order), --federated-mfa, --force-federation, --campaign-group. */
  rollout_groups: PolicyTarget[];
  federated_mfa: 'reject' | null;
  force_federation: boolean;
  campaign_group: PolicyTarget | null;
  /** The --group scope (a rollout group that is also the scope is warned about). */
  scope_group: PolicyTarget | null;
}
