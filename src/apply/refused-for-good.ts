import type { GraphResponse } from '../graph/graph-call.js';
import { emailRefusal } from './email-refusal.js';
import type { Operation } from './operations.js';
import { assignedElsewhereRefusal } from './token-refusal.js';

/**
 * Why Graph's refusal of a write is final (it ends with NEW_PLAN_NEEDED), or undefined: each
 * classifier knows one kind of write, and a new one joins the list rather than the executor.
 */
const CLASSIFIERS: readonly ((op: Operation, res: GraphResponse) => string | undefined)[] = [assignedElsewhereRefusal, emailRefusal];

export function refusedForGood(op: Operation, res: GraphResponse): string | undefined {
  for (const classify of CLASSIFIERS) {
    const why = classify(op, res);
    if (why !== undefined) return why;
  }
  return undefined;
}
