import type { Executor, OpOutcome } from './executor.js';
import type { Journal, OpRecord } from './journal.js';
import type { Operation } from './operations.js';

/** The domain of a user principal name, lower case. */
export const upnDomain = (upn: string) => upn.slice(upn.lastIndexOf('@') + 1).toLowerCase();

/**
 * The cutover's last step, after the waves: a domain's federation is changed only when every switch
 * of its users the plan has (its `requires.switches`) is done, in this run or the run it resumes; else
 * it is skipped, saying how many did not succeed (a resume that finishes them runs it then).
 */
export async function runFederationStep(
  ops: readonly Operation[],
  switchesDone: ReadonlyMap<string, number>,
  prior: ReadonlyMap<string, OpRecord>,
  executor: Executor,
  journal: Journal,
): Promise<Map<string, OpOutcome>> {
  const now = new Map<string, OpOutcome>();
  const ready: Operation[] = [];
  const skipped: OpRecord[] = [];
  for (const op of ops) {
    const domain = op.requires?.domain ?? '';
    const need = op.requires?.switches ?? 0;
    const done = switchesDone.get(domain) ?? 0;
    if (done < need) {
      const error = `${need - done} of the ${need} switch(es) of ${domain} did not succeed: its federation is left as it is`;
      skipped.push({ op: op.id, state: 'skipped', error });
      now.set(op.id, { status: 'skipped', error });
    } else {
      // Its switches ran in earlier steps: nothing left to wait for within this one.
      ready.push({ ...op, dependsOn: [] });
    }
  }
  if (skipped.length > 0) await journal.ops(skipped);
  if (ready.length > 0) for (const [id, s] of await executor.run(ready, prior)) now.set(id, s);
  return now;
}
