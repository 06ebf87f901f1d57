import { maskPhone } from '../model/mask.js';
import { parseSecretKey } from './oath-secret.js';

export interface RequestLogEntry {
  /** ISO time the request arrived. */
  time: string;
  method: string;
  /** Path and query as sent, e.g. /v1.0/users?$top=5. */
  path: string;
  status: number;
  /** The request body with secrets redacted and phone numbers masked; null when there was none. */
  body: unknown;
  /** For $batch: one entry per item. */
  items?: RequestLogEntry[];
  /** For a $batch item: the ids it depends on, when it named any. */
  dependsOn?: string[];
}

/** The last `limit` requests, oldest first; older ones are dropped so long runs stay within memory. */
export class RequestLog {
  #entries: RequestLogEntry[] = [];
  #next = 0;
  #dropped = 0;

  constructor(readonly limit: number) {}

  add(entry: RequestLogEntry): void {
    if (this.limit <= 0) return;
    if (this.#entries.length < this.limit) {
      this.#entries.push(entry);
      return;
    }
    this.#entries[this.#next] = entry;
    this.#next = (this.#next + 1) % this.limit;
    this.#dropped++;
  }

  entries(): RequestLogEntry[] {
    return [...this.#entries.slice(this.#next), ...this.#entries.slice(0, this.#next)];
  }

  /** How many entries were dropped to stay within the limit since the last clear. */
  get dropped(): number {
    return this.#dropped;
  }

  clear(): void {
    this.#entries = [];
    this.#next = 0;
    this.#dropped = 0;
  }
}

const SECRET_KEYS = new Set(['secretkey']);
const CODE_KEYS = new Set(['verificationcode']);
const PHONE_KEYS = new Set(['phonenumber']);

/**
 * A copy of a request body safe to keep: OATH secrets become "[redacted fingerprint=<16 hex>]" (so tests
 * can tell which seed was sent), verification codes "[redacted]", phone numbers are masked.
 */
export function redactBody(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactBody);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (SECRET_KEYS.has(lower) && v !== null && v !== undefined) {
      const parsed = parseSecretKey(v);
      out[key] = 'secret' in parsed ? `[redacted fingerprint=${parsed.secret.fingerprint()}]` : '[redacted]';
    } else if (CODE_KEYS.has(lower) && v !== null && v !== undefined) {
      out[key] = '[redacted]';
    } else if (PHONE_KEYS.has(lower) && typeof v === 'string') {
      // Masked as the tool masks a number everywhere (an extension's length hidden too).
      out[key] = maskPhone(v);
    } else {
      out[key] = redactBody(v);
    }
  }
  return out;
}
