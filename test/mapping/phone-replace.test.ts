import { describe, expect, it } from 'vitest';
import { replacedPhoneFindings } from '../../src/mapping/phone-replace.js';
import type { DesiredPhone } from '../../src/mapping/phone-rules.js';

const desired = (phoneNumber: string): DesiredPhone => ({ phoneType: 'alternateMobile', phoneNumber, from: 'backup_phone', rule: 'PHONE-BACKUP-ALTERNATE', because: '' });

describe('replacedPhoneFindings', () => {
  it('says a replacement whose masks look alike is another number, and nothing for the same number', () => {
    const tenant = [{ phoneType: 'alternateMobile' as const, phoneNumber: '+1 2065559930' }];
    expect(replacedPhoneFindings('u', [desired('+1 2065550130')], tenant).map((f) => f.message)).toEqual([
      "the tenant's alternate mobile phone +1 ********30 is replaced by MFA Server's another number ending alike (+1 ********30); rollback restores +1 ********30",
    ]);
    expect(replacedPhoneFindings('u', [desired('+1  2065559930')], tenant)).toEqual([]);
  });
});
