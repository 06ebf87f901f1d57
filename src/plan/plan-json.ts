import { maskPhone } from '../model/mask.js';
import type { Plan } from './plan-model.js';

export interface PlanJsonOptions {
  /** Phone numbers in full (`--show-phone-numbers`); masked otherwise, as in every other output. */
  showPhoneNumbers: boolean;
}

/**
 * `plan --format json` (and `show --format json`): the plan as one JSON object. Phone numbers are
 * masked unless asked for; the saved plan file, which apply reads, keeps them in full.
 */
export function renderPlanJson(plan: Plan, opts: PlanJsonOptions): string {
  return `${JSON.stringify(opts.showPhoneNumbers ? plan : maskPlanPhones(plan), null, 2)}\n`;
}

/** A copy of the plan with every phone number masked: the `phoneNumber` of each state. */
export function maskPlanPhones(plan: Plan): Plan {
  return maskValue(plan) as Plan;
}

function maskValue(value: unknown, key?: string): unknown {
  if (typeof value === 'string') return key === 'phoneNumber' ? maskPhone(value) : value;
  if (Array.isArray(value)) return value.map((v) => maskValue(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v, k)]));
  return value;
}
