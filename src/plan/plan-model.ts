import type { Finding, FindingSeverity } from '../mapping/finding.js';
import type { PolicyChange } from '../mapping/policy-rules.js';
import type { RuleId } from '../mapping/rules.js';

/**
 * The version of `plan --format json`: minor for additions, major for breaking changes (as
 * Terraform). 1.1 added `users`, the tenant's `displayName`, `graph`, `identity` and `tool_version`.
 * The saved plan file has its own version (plan-file.ts).
 */
export const PLAN_FORMAT_VERSION = '1.1';

export type ChangeAction = 'create' | 'update' | 'delete' | 'no-op';

/** `phoneMethods/mobile|alternateMobile|office`, `emailMethods`, `hardwareOathMethods/<serial>`, `signInPreferences`. */
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
  options: { include_email: boolean; default_method: string; prune: boolean; target_group: { id: string; displayName: string } };
  summary: PlanSummary;
  policy_changes: PolicyChange[];
  user_changes: UserChange[];
  users: PlanUserStatus[];
  findings: Finding[];
  /** Users who must register Microsoft Authenticator again (their mobile-app devices cannot move). */
  registration_campaign: string[];
}
