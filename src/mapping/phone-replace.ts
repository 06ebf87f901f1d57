import { maskPhone } from '../model/mask.js';
import type { TenantUser } from '../model/tenant.js';
import type { Finding } from './finding.js';
import { sameNumber, type DesiredPhone } from './phone-rules.js';

const LABEL = { mobile: 'mobile', alternateMobile: 'alternate mobile', office: 'office' } as const;

/**
 * A tenant phone MFA Server overwrites (the utility's "update MFA phone"): the number the user had in
 * Entra, perhaps newer than MFA Server's, is lost unless rolled back, so the plan names it, masked.
 */
export function replacedPhoneFindings(user: string, desired: readonly DesiredPhone[], tenant: TenantUser['phones']): Finding[] {
  return desired.flatMap((p): Finding[] => {
    const was = tenant.find((t) => t.phoneType === p.phoneType);
    if (!was || sameNumber(was.phoneNumber, p.phoneNumber)) return [];
    const [before, after] = [maskPhone(was.phoneNumber), maskPhone(p.phoneNumber)];
    // Masks keep two digits: two numbers may mask alike, and the message must not read as no change.
    const by = before === after ? `another number ending alike (${after})` : after;
    return [
      {
        severity: 'warning',
        code: 'phone-replaced',
        user,
        rule: 'PHONE-REPLACE',
        message: `the tenant's ${LABEL[p.phoneType]} phone ${before} is replaced by MFA Server's ${by}; rollback restores ${before}`,
      },
    ];
  });
}
