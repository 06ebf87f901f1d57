import type { TenantUser } from '../model/tenant.js';
import type { Finding } from './finding.js';
import { PHONE_LABEL } from './phone-label.js';
import { sameNumber, type DesiredPhone } from './phone-rules.js';

/**
 * A tenant phone MFA Server overwrites (the utility's "update MFA phone"): the number the user had in
 * Entra, perhaps newer than MFA Server's, is lost unless rolled back, so the plan says so. The numbers
 * themselves are the change's `before` and `after`, which every output masks or shows as asked
 * (`--show-phone-numbers`): text in a finding could do neither.
 */
export function replacedPhoneFindings(user: string, desired: readonly DesiredPhone[], tenant: TenantUser['phones']): Finding[] {
  return desired.flatMap((p): Finding[] => {
    const was = tenant.find((t) => t.phoneType === p.phoneType);
    if (!was || sameNumber(was.phoneNumber, p.phoneNumber)) return [];
    return [
      {
        severity: 'warning',
        code: 'phone-replaced',
        user,
        rule: 'PHONE-REPLACE',
        message: `the tenant's ${PHONE_LABEL[p.phoneType]} phone is replaced by MFA Server's, another number (the change's before and after); rollback restores the tenant's`,
      },
    ];
  });
}
