import type { GraphClient } from '../graph/graph-client.js';
import { MaskedPhoneError } from '../graph/masked-phone.js';
import { UserError } from '../model/user-error.js';
import { goOnWith, Journal, OUTCOME_UNKNOWN_WORDING, type OpRecord, type RunView } from './journal.js';
import { readBackBulk, verifyOp, type Verified } from './op-verify.js';
import type { Operation } from './operations.js';

/** What a rollback journals for a write of unknown outcome it read back and did not find. */
const NOT_APPLIED = 'read back by rollback: not applied';

/** Why a bulk create of unknown outcome the rollback found made in part is journaled done (`readBack`). */
export const appliedInPart = (found: number, sent: number) => `by rollback: applied in part (${found} of ${sent} tokens)`;

/** A read-back as the rollback journals it: what it found, and why it is done when found in part. */
type Found = Verified & { readBack?: string };

/**
 * The operations of an apply run whose outcome is unknown: sent when the run stopped (a crash, left
 * `started`), or failed with the read-back of an unanswered send failing too. Any of them may have
 * been applied.
 */
export function unknownOutcomes(run: RunView): string[] {
  return [...run.ops.values()].filter(isUnknownOutcome).map((r) => r.op);
}

export function isUnknownOutcome(r: OpRecord): boolean {
  if (r.state === 'started') return true;
  if (r.state !== 'failed') return false;
  return r.outcomeUnknown ?? r.error?.includes(OUTCOME_UNKNOWN_WORDING) ?? false;
}

/**
 * Reads back the apply run's operations of unknown outcome (`ops`, rebuilt as the run made them, with
 * the `before` its journal recorded) and journals what was found in the run's own journal: `done` with
 * what the read gave (a created object's id; a bulk create's tokens found, made in part or whole), or
 * `failed`, not applied. Read-only against Graph, so a rollback settles them itself rather than
 * sending the admin to a resume that would write the rest of the plan only for the rollback to undo
 * it. All or nothing: a read that fails refuses the rollback and journals nothing.
 */
export async function settleUnknownOutcomes(applyDir: string, run: RunView, ops: readonly Operation[], client: GraphClient, identity: { appId: string | null; upn: string | null }): Promise<{ applied: number; notApplied: number }> {
  if (ops.length === 0) return { applied: 0, notApplied: 0 };
  let found: Found[];
  try {
    found = await Promise.all(ops.map((op) => readBack(op, client, run.times.get(op.id))));
  } catch (err) {
    // Read again, it reads masked again: what to sign in as, not "try again".
    if (err instanceof MaskedPhoneError) throw err.after(`run ${run.header.id}'s writes of unknown outcome were not read back; nothing was sent or journaled`);
    throw new UserError(
      `run ${run.header.id} has ${ops.length} operation(s) whose outcome is unknown (sent with no answer, or stopped while in flight), and reading them back failed (${(err as Error).message}): nothing was sent or journaled; try the rollback again`,
    );
  }
  const records = ops.map((op, i): OpRecord => {
    const v = found[i]!;
    if (v.done) return { op: op.id, state: 'done', ...(v.result ? { result: v.result } : {}), ...(v.readBack ? { readBack: v.readBack } : {}) };
    return { op: op.id, state: 'failed', error: v.refused ? `${NOT_APPLIED}: ${v.refused}` : NOT_APPLIED, outcomeUnknown: false };
  });
  const applied = records.filter((r) => r.state === 'done').length;
  // A write that fails here is finished by the rollback run again (it reads them back again), never by a
  // resume of the apply run, which would write the rest of the plan.
  const journal = await Journal.append(applyDir, goOnWith(applyDir, 'rollback'));
  try {
    // Who read them back, when, and what was found: the apply run's journal says why these records follow its end.
    await journal.settled(identity, { readBackByRollback: true, applied, notApplied: records.length - applied }, records);
  } finally {
    await journal.close();
  }
  return { applied, notApplied: records.length - applied };
}

/**
 * The executor's read-back: a change not found within Graph's consistency window of its last journal
 * record (a crash moments ago) is read once more when that window is over, since "not applied" is
 * final here (the rollback does not undo it). So is a bulk create not found whole.
 */
async function readBack(op: Operation, client: GraphClient, lastRecorded: string | undefined): Promise<Found> {
  const read: (op: Operation, client: GraphClient) => Promise<Found> = op.kind === 'token-bulk-create' ? readBulk : verifyOp;
  const v = await read(op, client);
  const wait = (lastRecorded === undefined ? 0 : Date.parse(lastRecorded)) + client.consistencyMs - Date.now();
  if ((v.done && !v.readBack) || v.refused || !(wait > 0)) return v;
  await new Promise((r) => setTimeout(r, wait));
  return read(op, client);
}

/**
 * A bulk create read token by token: Graph may have made some of its tokens and not the rest (an
 * answer lost mid-way). Those found are beyond what its `before` left out, so the run's: done with them as
 * its `devices`, for the rollback to delete, and the rest as `notFound` (never made: nothing to
 * delete, nothing to say). Read as the executor reads it (stopping at the first token missing), it
 * was journaled not applied, and the rollback left the tokens made in the inventory.
 */
async function readBulk(op: Operation, client: GraphClient): Promise<Found> {
  const { devices, missing, sent } = await readBackBulk(op, client);
  const found = sent - missing.length;
  if (found === 0 && sent > 0) return { done: false };
  if (missing.length === 0) return { done: true, result: { devices } };
  return { done: true, result: { devices, notFound: missing }, readBack: appliedInPart(found, sent) };
}
