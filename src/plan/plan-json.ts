import { maskPhone, maskPhoneText } from '../model/mask.js';
import { orderedPlan } from './plan-of-file.js';
import type { Plan, ServerPhone, ServerRecord } from './plan-model.js';

export interface PlanJsonOptions {
  /** Phone numbers in full (`--show-phone-numbers`); masked otherwise, as in every other output. */
  showPhoneNumbers: boolean;
}

/**
 * `plan --format json` (and `show --format json`): the plan as one JSON object. Phone numbers are
 * masked unless asked for; the saved plan file, which apply reads, keeps them in full.
 */
export function renderPlanJson(plan: Plan, opts: PlanJsonOptions): string {
  const ordered = orderedPlan(plan);
  return `${JSON.stringify(opts.showPhoneNumbers ? ordered : maskPlanPhones(ordered), null, 2)}\n`;
}

/** A copy of the plan with every phone number masked: the `phoneNumber` of each state, and the MFA Server record's phones. */
export function maskPlanPhones(plan: Plan): Plan {
  const masked = maskPhoneFields(plan) as Plan;
  return { ...masked, users: masked.users.map((u) => (u.server ? { ...u, server: maskServerRecord(u.server) } : u)) };
}

/** The MFA Server record with its phones masked: the cells as typed keep their shape, the extension is hidden. */
export function maskServerRecord(r: ServerRecord): ServerRecord {
  const phone = (p: ServerPhone | null): ServerPhone | null =>
    p && { country_code: p.country_code, number: maskPhoneText(p.number), extension: p.extension === null ? null : '***', entra: p.entra === null ? null : maskPhone(p.entra) };
  return { ...r, phone: phone(r.phone), backup_phone: phone(r.backup_phone) };
}

/** A copy of a value (a method's state, a whole plan) with the `phoneNumber` of every object in it masked. */
export function maskPhoneFields(value: unknown, key?: string): unknown {
  if (typeof value === 'string') return key === 'phoneNumber' ? maskPhone(value) : value;
  if (Array.isArray(value)) return value.map((v) => maskPhoneFields(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskPhoneFields(v, k)]));
  return value;
}
