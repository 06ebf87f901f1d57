import type { Executor, OpOutcome } from './executor.js';
import type { Journal, OpRecord } from './journal.js';
import type { Operation } from './operations.js';

/** The domain of a user principal name, lower case. */
export const upnDomain = (upn: string) => upn.slice(upn.lastIndexOf('@') + 1).toLowerCase();

/** A few UPNs for a message, and how many more. */
export function someOf(upns: readonly string[], n = 10): string {
  return `${upns.slice(0, n).join(', ')}${upns.length > n ? ` and ${upns.length - n} more` : ''}`;
}

/**
 * The cutover's last step, after the waves: a domain's federation is changed only when every switch
 * of its users the plan has (its `requires.switches`) is done, in this run or the run it resumes, and
 * every user of the domain the plan counts switched is switched now (`unswitched`, read from the
 * tenant right before: a user taken out of a rollout group since would meet the federated IdP's MFA
 * rejected while still on MFA Server), and (2.16) no tenant user of the domain outside the plan would
 * be switched with no method (`outsiders`: why, by domain; read right before too); else it is
 * skipped, saying why (a resume runs it again).
 */
export async function runFederationStep(
  ops: readonly Operation[],
  switchesDone: ReadonlyMap<string, number>,
  prior: ReadonlyMap<string, OpRecord>,
  executor: Executor,
  journal: Journal,
  unswitched: (domains: string[]) => Promise<ReadonlyMap<string, readonly string[]>>,
  outsiders: (domains: string[]) => Promise<ReadonlyMap<string, string>> = async () => new Map(),
): Promise<Map<string, OpOutcome>> {
  const now = new Map<string, OpOutcome>();
  const ready: Operation[] = [];
  const skipped: OpRecord[] = [];
  const skip = (op: Operation, error: string) => {
    skipped.push({ op: op.id, state: 'skipped', error });
    now.set(op.id, { status: 'skipped', error });
  };
  const candidates: Operation[] = [];
  for (const op of ops) {
    const domain = op.requires?.domain ?? '';
    const need = op.requires?.switches ?? 0;
    const done = switchesDone.get(domain) ?? 0;
    if (done < need) skip(op, `${need - done} of the ${need} switch(es) of ${domain} did not succeed: its federation is left as it is`);
    else candidates.push(op);
  }
  if (candidates.length > 0) {
    const domains = candidates.map((op) => op.requires?.domain ?? '');
    let off: ReadonlyMap<string, readonly string[]> | undefined;
    let why = '';
    let outside: ReadonlyMap<string, string> | undefined;
    try {
      [off, outside] = await Promise.all([unswitched(domains), outsiders(domains)]);
    } catch (err) {
      why = (err as Error).message;
    }
    for (const op of candidates) {
      const domain = op.requires?.domain ?? '';
      const left = off?.get(domain) ?? [];
      const stranded = outside?.get(domain);
      if (!off || !outside) skip(op, `cannot check that the users of ${domain} are switched (${why}): its federation is left as it is; resume to try again`);
      else if (left.length > 0) skip(op, `${left.length} user(s) of ${domain} the plan counts switched by staged rollout are not switched now (${someOf(left)}): its federation is left as it is; put them back in their rollout group and resume, or make a new plan`);
      else if (stranded !== undefined) skip(op, `${stranded}: its federation is left as it is; give them a method (or disable the accounts no one uses) and resume, or make a new plan`);
      // Its switches ran in earlier steps: nothing left to wait for within this one.
      else ready.push({ ...op, dependsOn: [] });
    }
  }
  if (skipped.length > 0) await journal.ops(skipped);
  if (ready.length > 0) for (const [id, s] of await executor.run(ready, prior)) now.set(id, s);
  return now;
}
