import { sameNumber } from '../mapping/phone-rules.js';
import { phoneBehindDefault } from '../model/default-phone.js';
import type { GroupDecision, UserCutover } from '../mapping/cutover-rules.js';
import type { UserMapping } from '../mapping/user-mapping.js';
import type { TenantHardwareToken } from '../model/tenant.js';
import type { UserChange } from './plan-model.js';
import { userResourceState } from './resource-state.js';


/**
 * Turns one user's mapping into resource changes against the tenant state the mapping saw:
 * create what is missing, update what differs, no-op what matches, delete only what --prune
 * marked. Pure.
 */
export function diffUser(m: UserMapping, inventory: ReadonlyMap<string, TenantHardwareToken[]>): UserChange[] {
  const t = m.tenantUser;
  if (!t || m.skipped) return [];
  const base = { user: m.user, user_id: t.id };
  const out: UserChange[] = [];
  const state = (resource: string) => userResourceState(resource, t, inventory);

  for (const p of m.phones) {
    const resource = `phoneMethods/${p.phoneType}`;
    const before = state(resource);
    const after = { phoneNumber: p.phoneNumber, phoneType: p.phoneType };
    if (!before) out.push({ ...base, resource, action: 'create', before: null, after, rule: p.rule, because: p.because });
    else if (sameNumber(String(before.phoneNumber), p.phoneNumber)) out.push({ ...base, resource, action: 'no-op', before, after: before, rule: p.rule, because: `${p.because}; the tenant already has it` });
    else out.push({ ...base, resource, action: 'update', before, after, rule: p.rule, because: p.because });
  }
  for (const p of m.cloudOnlyPhones) {
    const resource = `phoneMethods/${p.phoneType}`;
    const before = state(resource)!;
    // Apply deletes it only once the default's change succeeded (Graph refuses while it backs the default).
    const backsDefault = phoneBehindDefault(t.defaultMethod) === p.phoneType;
    if (p.rule === 'PHONE-PRUNE') out.push({ ...base, resource, action: 'delete', before, after: null, rule: p.rule, because: `not in MFA Server (--prune)${backsDefault ? `; deleted once the default has moved off ${t.defaultMethod}` : ''}` });
    else out.push({ ...base, resource, action: 'no-op', before, after: before, rule: p.rule, because: p.rule === 'PHONE-PRUNE-KEPT' ? 'not in MFA Server; kept, as Graph cannot delete it (a finding says why)' : 'not in MFA Server; kept' });
  }

  if (m.email) {
    const before = state('emailMethods');
    const after = { emailAddress: m.email.emailAddress };
    if (!before) out.push({ ...base, resource: 'emailMethods', action: 'create', before: null, after, rule: m.email.rule, because: m.email.because });
    else if (String(before.emailAddress).toLowerCase() === m.email.emailAddress.toLowerCase()) out.push({ ...base, resource: 'emailMethods', action: 'no-op', before, after: before, rule: m.email.rule, because: 'the tenant already has it' });
    else out.push({ ...base, resource: 'emailMethods', action: 'update', before, after, rule: m.email.rule, because: m.email.because });
  }

  for (const tok of m.tokens) {
    const resource = `hardwareOathMethods/${tok.serialNumber}`;
    const after = { serialNumber: tok.serialNumber, hashFunction: tok.hashFunction, timeIntervalInSeconds: tok.timeIntervalInSeconds, secretFingerprint: tok.secretFingerprint, status: 'activated' };
    const before = state(resource);
    const action = tok.state === 'create' ? 'create' : tok.state === 'activate' ? 'update' : 'no-op';
    out.push({ ...base, resource, action, before, after: action === 'no-op' ? before : after, rule: tok.rule, because: tok.because });
  }

  const d = m.defaultMethod;
  if (d) {
    const current = t.defaultMethod;
    const before = state('signInPreferences')!;
    if (d.target !== undefined && d.target !== current) {
      out.push({ ...base, resource: 'signInPreferences', action: 'update', before, after: { userPreferredMethodForSecondaryAuthentication: d.target }, rule: d.rule, because: d.because });
    } else if (current !== null) {
      out.push({ ...base, resource: 'signInPreferences', action: 'no-op', before, after: before, rule: d.rule, because: d.because });
    }
  }
  return out;
}

/** A user's staged rollout and campaign group memberships as plan changes: `rolloutGroup/<id>`, `campaignGroup/<id>`. */
export function cutoverUserChanges(m: UserMapping, d: UserCutover | undefined): UserChange[] {
  const t = m.tenantUser;
  if (!t || m.skipped || !d) return [];
  const change = (kind: string, g: GroupDecision): UserChange => {
    const resource = `${kind}/${g.group.id}`;
    const before = userResourceState(resource, t, new Map());
    return g.action === 'add'
      ? { user: m.user, user_id: t.id, resource, action: 'create', before, after: { groupId: g.group.id, displayName: g.group.displayName }, rule: g.rule, because: g.because }
      : { user: m.user, user_id: t.id, resource, action: 'no-op', before, after: before, rule: g.rule, because: g.because };
  };
  return [...(d.rollout ? [change('rolloutGroup', d.rollout)] : []), ...(d.campaign ? [change('campaignGroup', d.campaign)] : [])];
}
