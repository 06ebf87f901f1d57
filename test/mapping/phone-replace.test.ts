import { describe, expect, it } from 'vitest';
import { replacedPhoneFindings } from '../../src/mapping/phone-replace.js';
import type { DesiredPhone } from '../../src/mapping/phone-rules.js';

const desired = (phoneNumber: string): DesiredPhone => ({ phoneType: 'alternateMobile', phoneNumber, from: 'backup_phone', rule: 'PHONE-BACKUP-ALTERNATE', because: '' });

describe('replacedPhoneFindings', () => {
  it('says another number replaces the tenant\'s (the numbers are the change\'s before and after, masked or shown as asked), and nothing for the same number', () => {
    const tenant = [{ phoneType: 'alternateMobile' as const, phoneNumber: '+1 2065559930' }];
    const [finding] = replacedPhoneFindings('u', [desired('+1 2065550130')], tenant);
    expect(finding!.message).toBe("the tenant's alternate mobile phone is replaced by MFA Server's, another number (the change's before and after); rollback restores the tenant's");
    // No digit of either number: --show-phone-numbers could not show a finding's text in full, nor mask it.
    expect(finding!.message).not.toMatch(/\d/);
    expect(replacedPhoneFindings('u', [desired('+1  2065559930')], tenant)).toEqual([]);
  });
});
