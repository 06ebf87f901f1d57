import type { GraphResponse } from './graph-call.js';

/** Keys of a request body whose values must never be kept: a token's seed and its activation code. */
const SECRET_KEY = /^(secretKey|verificationCode)$/i;

/** The secret values a request body carries (a bulk create's too), each as sent. */
export function secretsOf(body: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key?: string): void => {
    if (typeof v === 'string' || typeof v === 'number') {
      if (key !== undefined && SECRET_KEY.test(key) && String(v).length >= 4) out.push(String(v));
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, key);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, k);
    }
  };
  walk(body);
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A failed answer with every secret of its request taken out, in any letter case: a gateway or proxy
 * (or Graph) that quotes the request echoes the seed or the code it was sent, in forms no pattern can
 * tell from other text (a seed in lower case, or without digits; a six-digit code). What is kept of an
 * answer (journals, results, the terminal) then cannot hold them.
 */
export function withoutEchoedSecrets(response: GraphResponse, requestBodies: readonly unknown[]): GraphResponse {
  if (response.status >= 200 && response.status < 300) return response;
  const secrets = requestBodies.flatMap(secretsOf);
  if (secrets.length === 0 || response.body === null || response.body === undefined) return response;
  const pattern = new RegExp(secrets.map(escapeRegExp).sort((a, b) => b.length - a.length).join('|'), 'gi');
  // Within text values only: a number holding a code's digits (a timestamp) is no echo, and stays a number.
  let found = false;
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const out = v.replace(pattern, '[redacted]');
      if (out !== v) found = true;
      return out;
    }
    if (Array.isArray(v)) return v.map(clean);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clean(x)]));
    return v;
  };
  const body = clean(response.body);
  return found ? { ...response, body } : response;
}
