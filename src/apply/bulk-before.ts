import { serialKey } from '../model/serial.js';

/**
 * What a bulk token create journals as its `before` with its first send: `present`, the serials the
 * inventory held before it; `leftOut`, the serials it left out though the inventory did not hold
 * them, because the run does not write their users now (left out as stale). Runs before `leftOut`
 * journaled those in `present` too. The request sends neither: what it makes is among the rest.
 */
export interface BulkBefore {
  present?: string[];
  leftOut?: string[];
}

/**
 * The serials (serialKey) a bulk create's request left out, by its journaled `before`: held already,
 * or of users not written. Undefined when nothing says (never sent, or a version that journaled no
 * `present`), so that a caller can tell that apart from "none".
 */
export function bulkNotSent(before: unknown): Set<string> | undefined {
  const b = before as BulkBefore | null | undefined;
  if (!Array.isArray(b?.present)) return undefined;
  return new Set([...b.present, ...(Array.isArray(b.leftOut) ? b.leftOut : [])].map((s) => serialKey(String(s))));
}
