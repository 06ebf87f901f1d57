import type { MfaUser } from '../model/export-data.js';
import type { TenantUser } from '../model/tenant.js';
import { isEmailAddress } from '../model/email-address.js';
import type { Finding } from './finding.js';
import type { RuleId } from './rules.js';

export interface DesiredEmail {
  emailAddress: string;
  rule: RuleId;
  because: string;
}

/**
 * The email method, with --include-email: MFA Server's address, when it is one Graph takes. One it
 * refuses is not planned (apply would meet a 400 that no resume mends, and the user's switch would
 * wait on it), and the finding says so. The cell is not quoted: columns out of order can put a seed
 * there (validate names the line, and shows the cell only when it is no secret).
 */
export function mapEmail(user: MfaUser, includeEmail: boolean): { email?: DesiredEmail; findings: Finding[] } {
  if (!includeEmail || user.email === undefined) return { findings: [] };
  if (isEmailAddress(user.email)) return { email: { emailAddress: user.email, rule: 'EMAIL-FROM-EXPORT', because: 'MFA Server email address (--include-email)' }, findings: [] };
  return {
    findings: [
      {
        severity: 'warning',
        code: 'email-invalid',
        user: user.username,
        rule: 'EMAIL-INVALID',
        message: `email not migrated: the email cell (users.csv, line ${user.line}) is not an email address (a name, an @ and a domain with a dot, no spaces), which Graph refuses for the email method; nothing is written to the user's email method: correct the cell and plan again`,
      },
    ],
  };
}

/**
 * The tenant's email method MFA Server's address overwrites (another address, case aside, as the
 * diff compares them): the address the user had in Entra, perhaps newer, is lost unless rolled back,
 * so the plan says so, as it does for a replaced phone. The addresses are the change's before and after.
 */
export function replacedEmailFindings(user: string, email: DesiredEmail | undefined, tenant: TenantUser['emails']): Finding[] {
  const was = tenant[0];
  if (!email || !was || was.emailAddress.toLowerCase() === email.emailAddress.toLowerCase()) return [];
  return [
    {
      severity: 'warning',
      code: 'email-replaced',
      user,
      rule: 'EMAIL-REPLACE',
      message: "the tenant's email method is replaced by MFA Server's, another address (the change's before and after); rollback restores the tenant's",
    },
  ];
}
