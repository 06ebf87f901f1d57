import type { Finding, FindingSeverity } from '../mapping/finding.js';
import type { PolicyChange } from '../mapping/policy-rules.js';
import type { RuleId } from '../mapping/rules.js';

/** The plan's JSON format version: minor for additions, major for breaking changes (as Terraform). */
export const PLAN_FORMAT_VERSION = '1.0';

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
  tenant: { id: string };
  options: { include_email: boolean; default_method: string; prune: boolean; target_group: { id: string; displayName: string } };
  summary: PlanSummary;
  policy_changes: PolicyChange[];
  user_changes: UserChange[];
  findings: Finding[];
  /** Users who must register Microsoft Authenticator again (their mobile-app devices cannot move). */
  registration_campaign: string[];
}
