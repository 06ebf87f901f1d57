import { phoneBehindDefault } from '../model/default-phone.js';
import type { DefaultMethod, PhoneType } from '../model/tenant.js';
import type { Finding } from './finding.js';
import { PHONE_LABEL } from './phone-label.js';
import type { RuleId } from './rules.js';

export interface CloudOnlyPhone {
  phoneType: PhoneType;
  phoneNumber: string;
  rule: RuleId;
}

/**
 * With --prune, the tenant phones the plan would delete though Graph refuses: the one behind the
 * default the user keeps (the plan does not move it), and a mobile while an alternate stays (Graph
 * deletes no mobile beside one). They are kept, each with a finding; the plan's other deletes wait
 * for the default's change (apply orders them after it). `keeps` is the default once the plan is applied.
 */
export function keepPrunedPhones(user: string, phones: CloudOnlyPhone[], keeps: DefaultMethod | null): { phones: CloudOnlyPhone[]; findings: Finding[] } {
  const behind = phoneBehindDefault(keeps);
  const findings: Finding[] = [];
  const keep = (p: CloudOnlyPhone, why: string): CloudOnlyPhone => {
    findings.push({ severity: 'warning', code: 'prune-kept', user, rule: 'PHONE-PRUNE-KEPT', message: `the tenant's ${PHONE_LABEL[p.phoneType]} phone is not in MFA Server but is not deleted (--prune): ${why}` });
    return { ...p, rule: 'PHONE-PRUNE-KEPT' };
  };
  let out = phones.map((p) => (p.rule === 'PHONE-PRUNE' && p.phoneType === behind ? keep(p, `it backs the user's default method ${keeps}, which the plan does not move, and Graph cannot delete it while it does`) : p));
  // A planned alternate always comes with a planned mobile (mapPhones): only a kept tenant alternate needs its mobile kept.
  if (out.some((p) => p.phoneType === 'alternateMobile' && p.rule === 'PHONE-PRUNE-KEPT')) {
    out = out.map((p) => (p.rule === 'PHONE-PRUNE' && p.phoneType === 'mobile' ? keep(p, 'the user keeps an alternate mobile phone, and Graph cannot delete a mobile beside one') : p));
  }
  return { phones: out, findings };
}
