import { describe, expect, it } from 'vitest';
import { keepPrunedPhones, type CloudOnlyPhone } from '../../src/mapping/prune-default.js';

const pruned = (phoneType: CloudOnlyPhone['phoneType']): CloudOnlyPhone => ({ phoneType, phoneNumber: '+1 4255550100', rule: 'PHONE-PRUNE' });

describe('keepPrunedPhones', () => {
  it('keeps the pruned phone behind the default the user keeps, and a mobile beside a kept alternate', () => {
    const r = keepPrunedPhones('u', [pruned('mobile'), pruned('alternateMobile'), pruned('office')], 'voiceAlternateMobile');
    expect(r.phones.map((p) => `${p.phoneType} ${p.rule}`)).toEqual(['mobile PHONE-PRUNE-KEPT', 'alternateMobile PHONE-PRUNE-KEPT', 'office PHONE-PRUNE']);
    expect(r.findings.map((f) => f.message)).toEqual([
      expect.stringMatching(/alternate mobile phone .* backs the user's default method voiceAlternateMobile/),
      expect.stringMatching(/mobile phone .* keeps an alternate mobile phone/),
    ]);
  });

  it('deletes as planned when the default is elsewhere or unset', () => {
    for (const d of ['push', null] as const) expect(keepPrunedPhones('u', [pruned('office')], d)).toEqual({ phones: [pruned('office')], findings: [] });
  });
});
