import type { MfaUser } from '../model/export-data.js';
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
