import type { RuleId } from './rules.js';

export type FindingSeverity = 'error' | 'warning' | 'info';

/** Something the plan cannot do, or does lossily, that an admin or auditor must know. */
export interface Finding {
  severity: FindingSeverity;
  code: string;
  /** The export username, for per-user findings. */
  user?: string;
  rule: RuleId;
  message: string;
}
