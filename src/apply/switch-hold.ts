import type { SavedPlan } from '../plan/plan-file.js';
import type { Operation } from './operations.js';
import { someOf } from './federation-step.js';

/**
 * A step of the staged rollout that switches users the moment it is done: attaching a group switches
 * its members, enabling the policy switches the members of the groups attached to it already. Apply
 * writes the methods of the plan's users among them first, and sends it only once they are all done.
 */
export interface SwitchHold {
  /** The operation (a rollout-attach, or the policy's enable). */
  op: string;
  /** What it does, for messages: `attaching "Pilot"`, `enabling the staged rollout policy`. */
  doing: string;
  /** Whom it switches, for messages: `"Pilot"`, `the staged rollout policy's groups ("A", "B")`. */
  of: string;
  /** Positions (in plan.users) of the plan's users with changes it switches that the run selects. */
  selected: number[];
  /** The same, not selected by the run (--users, --group, --max-users): the run writes nothing of theirs. */
  notSelected: number[];
}

/** How a run orders its users: those the staged rollout's own step switches first, the rest in waves. */
export interface SwitchLayout {
  holds: SwitchHold[];
  /** Selected users written after the methods policy and before the staged rollout's step, in plan order. */
  first: number[];
  /** The other selected users, in plan order: the waves. */
  waves: number[];
}

/** The layout of runs begun before this ordering (their waves hold every user): kept, so that they resume as journaled. */
export function wavesOnly(positions: readonly number[]): SwitchLayout {
  return { holds: [], first: [], waves: [...positions] };
}

/**
 * Whom the plan's own staged rollout step switches, from its user lines (the groups that held each
 * user the plan leaves in a rollout group, `rolloutMemberOf`) and its cutover operations; `positions`:
 * the users the run selects. Pure and deterministic: a resume rebuilds the same layout.
 */
export function switchLayout(plan: Pick<SavedPlan, 'users' | 'header'>, cutoverOps: readonly Operation[], positions: readonly number[], nameOf: (id: string) => string): SwitchLayout {
  const attaches = new Map(cutoverOps.filter((o) => o.kind === 'rollout-attach').map((o) => [String(o.after?.groupId), o.id]));
  const enable = cutoverOps.find((o) => o.kind === 'rollout-policy-update');
  // A created policy holds no group until the attaches: only an enable switches the groups it held.
  const attachedBefore = enable ? (plan.header.cutover_seen?.rolloutPolicy?.appliesTo ?? []) : [];
  if (attaches.size === 0 && attachedBefore.length === 0) return wavesOnly(positions);
  const holds = new Map<string, SwitchHold>();
  for (const [group, op] of attaches) holds.set(op, { op, doing: `attaching "${nameOf(group)}"`, of: `"${nameOf(group)}"`, selected: [], notSelected: [] });
  if (enable && attachedBefore.length > 0) {
    const names = attachedBefore.map((g) => `"${nameOf(g)}"`).join(', ');
    holds.set(enable.id, { op: enable.id, doing: 'enabling the staged rollout policy', of: `the staged rollout policy's groups (${names})`, selected: [], notSelected: [] });
  }
  const selected = new Set(positions);
  const before = new Set(attachedBefore);
  plan.users.forEach((u, i) => {
    if (!u.rolloutMemberOf || u.pending === 0) return;
    const ops = new Set(u.rolloutMemberOf.flatMap((g) => (attaches.has(g) ? [attaches.get(g)!] : before.has(g) ? [enable!.id] : [])));
    for (const op of ops) (selected.has(i) ? holds.get(op)!.selected : holds.get(op)!.notSelected).push(i);
  });
  const held = [...holds.values()].filter((h) => h.selected.length > 0 || h.notSelected.length > 0);
  const firstSet = new Set(held.flatMap((h) => h.selected));
  return { holds: held, first: positions.filter((i) => firstSet.has(i)), waves: positions.filter((i) => !firstSet.has(i)) };
}

/**
 * How one member's operations stand once the run wrote what it could of them. `gone`: done, but
 * methods their switch rests on (written by an earlier pass, or kept by the plan) are gone since;
 * `replan`: one failed in a way no resume mends (a token another user holds: plan again).
 */
export type MemberState = 'done' | 'stale' | 'left' | 'gone' | 'replan';

/** Members named in a hold's message (the journal and --results keep it short); the rest are counted. */
const NAMED = 20;
/** Members named with what of theirs is gone (a longer text each). */
const NAMED_GONE = 5;

/**
 * Why a hold's operation is not sent now, or undefined when every member's operations are done.
 * `forGood`: members the run never writes (not selected, left out as stale), which no resume changes.
 */
export function holdReason(
  h: SwitchHold,
  stateOf: (position: number) => MemberState,
  upnOf: (position: number) => string,
  /** For a `gone` member: what is missing (switchGaps' words). */
  gapsOf: (position: number) => string = () => '',
): { error: string; forGood: boolean } | undefined {
  const stale = h.selected.filter((i) => stateOf(i) === 'stale');
  const replan = h.selected.filter((i) => stateOf(i) === 'replan');
  const left = h.selected.filter((i) => stateOf(i) === 'left');
  const gone = h.selected.filter((i) => stateOf(i) === 'gone');
  const names = (list: number[]) => someOf(list.map(upnOf), NAMED);
  if (h.notSelected.length > 0 || stale.length > 0 || replan.length > 0) {
    const never = [...h.notSelected, ...stale, ...replan];
    const why = [
      ...(h.notSelected.length > 0 ? [`${h.notSelected.length} not selected by this run`] : []),
      ...(stale.length > 0 ? [`${stale.length} left out as stale`] : []),
      ...(replan.length > 0 ? [`${replan.length} with a write no resume mends`] : []),
    ].join(', ');
    return {
      forGood: true,
      error: `held: ${never.length} member(s) of ${h.of} whose methods this run does not write (${why}): ${names(never)}. ${capitalised(h.doing)} would switch them to Entra MFA without them, so no resume of this run sends it, nor the switches waiting for it: make a new plan of this plan's whole scope (${h.notSelected.length > 0 ? 'with them selected too, or ' : ''}once they are out of the group or what changed is settled; what this run wrote shows as done in it) and apply that`,
    };
  }
  const notYet = left.length > 0 ? `${left.length} member(s) of ${h.of} have methods not written yet (${names(left)})` : undefined;
  // As a wave user's switch is held back: methods it rests on deleted since an earlier pass wrote them.
  if (gone.length > 0) {
    const each = `${gone.slice(0, NAMED_GONE).map((i) => `${upnOf(i)} (${gapsOf(i)})`).join('; ')}${gone.length > NAMED_GONE ? `; and ${gone.length - NAMED_GONE} more` : ''}`;
    return {
      forGood: false,
      error: `held: ${gone.length} member(s) of ${h.of} have methods their switch rests on that are gone since: ${each}${notYet ? `; and ${notYet}` : ''}. ${capitalised(h.doing)} would switch them to Entra MFA without them: put them back and resume (it is sent once they are there), or take them out of the group, or roll the run back and make a new plan`,
    };
  }
  if (notYet) return { forGood: false, error: `held: ${notYet}: resume sends it once they are` };
  return undefined;
}

const capitalised = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}`;
