import { maskPhone, maskPhoneText } from '../model/mask.js';
import { TEXT_CHUNK } from '../io/text-chunks.js';
import { orderedPlan } from './plan-of-file.js';
import type { Plan, ServerPhone, ServerRecord } from './plan-model.js';

export interface PlanJsonOptions {
  /** Phone numbers in full (`--show-phone-numbers`); masked otherwise, as in every other output. */
  showPhoneNumbers: boolean;
}

/**
 * `plan --format json` (and `show --format json`): the plan as one JSON object. Phone numbers are
 * masked unless asked for; the saved plan file, which apply reads, keeps them in full.
 *
 * In chunks, byte for byte `JSON.stringify(plan, null, 2)` with its phones masked, made
 * an element of a large list at a time: neither the whole text nor a masked copy of the whole plan is
 * ever held (a black-box test: 1.2 GB to print the plan of 200,000 users).
 */
export function* planJsonChunks(plan: Plan, opts: PlanJsonOptions): Generator<string> {
  const ordered = orderedPlan(plan) as unknown as Record<string, unknown>;
  const keys = Object.keys(ordered).filter((k) => ordered[k] !== undefined);
  // Masked as maskPhoneFields masks the whole plan (a value by its key, a list's element by none), and the users' MFA Server records.
  const whole = (key: string, value: unknown): unknown => (opts.showPhoneNumbers ? value : maskPhoneFields(value, key));
  const element = (key: string, value: unknown): unknown => {
    if (opts.showPhoneNumbers) return value;
    const masked = maskPhoneFields(value) as { server?: ServerRecord };
    return key === 'users' && masked.server ? { ...masked, server: maskServerRecord(masked.server) } : masked;
  };
  yield '{\n';
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    const value = ordered[key];
    const end = k < keys.length - 1 ? ',\n' : '\n';
    let text = `  ${JSON.stringify(key)}: `;
    if (!Array.isArray(value) || value.length === 0) {
      yield `${text}${JSON.stringify(whole(key, value), null, 2).replace(/\n/g, '\n  ')}${end}`;
      continue;
    }
    text += '[\n';
    for (let i = 0; i < value.length; i++) {
      text += `    ${JSON.stringify(element(key, value[i]), null, 2).replace(/\n/g, '\n    ')}${i < value.length - 1 ? ',' : ''}\n`;
      if (text.length >= TEXT_CHUNK) {
        yield text;
        text = '';
      }
    }
    yield `${text}  ]${end}`;
  }
  yield '}\n';
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
