import { errorText, type GraphResponse } from '../graph/graph-call.js';
import type { Operation } from './operations.js';
import { NEW_PLAN_NEEDED } from './new-plan-needed.js';

/**
 * Why an email method's write was refused for good: the write sends the plan's address alone, so
 * Graph's 400 to it (the emulator's "emailAddress must be an email address.") meets a resume again,
 * unchanged. Failed with "plan again", it is not offered to a resume, nor is the user's switch that
 * waits on it. A phone's 400 is left as it was: its number was checked and normalised when planned,
 * and Graph's refusals of phones also turn on the user's other phones (an alternateMobile without a
 * mobile), which a resume may find mended.
 */
export function emailRefusal(op: Operation, res: GraphResponse): string | undefined {
  if ((op.kind !== 'email-create' && op.kind !== 'email-update') || res.status !== 400) return undefined;
  return `Graph refused the email method's address (${errorText(res)}): a resume would send the same address again; ${NEW_PLAN_NEEDED} (correct the user's email cell in users.csv, or plan without --include-email)`;
}
