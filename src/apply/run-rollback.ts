import { join } from 'node:path';
import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import type { GraphClient } from '../graph/graph-client.js';
import { readPolicy } from '../graph/policy-reader.js';
import { readTenant } from '../graph/tenant-reader.js';
import { MaskedPhoneError, rethrowMaskedAfter } from '../graph/masked-phone.js';
import { federatedDomainsOrWarn } from './federated-domains-read.js';
import { REJECT_IDP_MFA } from '../model/staged-rollout.js';
import type { TenantSnapshot } from '../model/tenant.js';
import { cliCommand } from '../model/command-line.js';
import { UserError } from '../model/user-error.js';
import type { SavedPlan } from '../plan/plan-file.js';
import { splitResource } from '../plan/resource-state.js';
import { Executor, type ExecStats, type OpOutcome } from './executor.js';
import { countStates, goOnWith, Journal, journalTip, listRuns, readRun, readRunHeader, requireIntactJournal, type OpRecord, type OpState, type RunHeader, type RunSummary, type RunView } from './journal.js';
import { cutoverOperations, policyOperations, tenantUpnOf, waveOperations, type Operation } from './operations.js';
import { readCutoverFor } from './cutover-preflight.js';
import { deviceLookupOf, lookUpDevices, needsDeviceLookup, withJournaledDevices } from './rollback-device-lookup.js';
import { alreadyAsBefore, alreadyUndone, CHANGED_SINCE, changedSince, changedSinceSent, inverseOperations, isLeftAloneError, notReversibleGone, serialsLeftInInventory, waitsForLeftAlone, type ObjectReason, type Unreversible } from './rollback-inverses.js';
import { emptyStats, newRunId, openRunPlan, RUN_ID, runChunks, runTokenPath, type ApplyProgressEvent, type ApplySelection, type RunEnd } from './run-apply.js';
import { upnDomain } from './federation-step.js';
import { acquireLock } from './state-lock.js';
import { bindTenant, type BoundTenant } from './tenant-binding.js';
import { settleUnknownOutcomes, unknownOutcomes } from './rollback-settle.js';
import { isStillSwitchedError, LEAVE_SWITCHED, METHOD_REMOVALS, othersText, stillSwitched, type StillSwitched } from './rollback-switched.js';
import { leaveOutOwnMethods, OWN_UNDOS_NOT_SENT, signedInUserOf, tallyLeftOut, type OwnMethodsLeftOut } from './own-methods.js';
import type { SignedInUser } from '../model/own-methods.js';
import { domainsOf, federationRootOf } from '../model/federation-root.js';

export interface RollbackOutcome {
  runId: string;
  rollbackOf: string;
  state: Exclude<RunEnd, 'stopped'>;
  tenant: BoundTenant;
  /** Objects changed in the tenant since the run: reported, left alone (unless --force). */
  changedSince: ObjectReason[];
  /** What cannot be undone through Graph. */
  notReversible: ObjectReason[];
  /**
   * Something a `rollback` of this run without --force can still do (an undo pending, sent with no
   * answer, failed, or skipped after a failure); what was left alone as changed since the run only
   * --force sends, and what was left for users still switched to Entra MFA waits for them (stillSwitched).
   */
  resumable: boolean;
  /**
   * Undos done by finding their object gone (removed outside this tool), in this pass or an earlier one:
   * nothing was sent. `notReversible`: not an undo, what Graph could not have undone (a phone behind a
   * default it cannot unset, that default) found gone when the rollback started.
   */
  goneAlready: (Omit<ObjectReason, 'reason'> & { notReversible?: true })[];
  /**
   * Undos done by finding their object as the run found it already (another run's rollback, an admin
   * put it back since), in this pass or an earlier one: nothing was sent. Not changed since the run:
   * no --force is needed for them.
   */
  alreadyAsBefore: Omit<ObjectReason, 'reason'>[];
  /** Undos that failed, with Graph's answer (a rollback of the same id tries them again). */
  failures: ObjectReason[];
  /** The cutover's undos done (a domain's federation put back, the rollout policy deleted or disabled, a group detached): what moves users back at once, said. */
  cutoverUndone: { kind: Operation['kind']; target: string }[];
  /**
   * Undos left in place because their user is still switched to Entra MFA once the cutover's undo is
   * done (rollback-switched.ts): the user's method removals, the methods policy's parts they need.
   * Sent by a later `rollback` of this rollback once the users are not switched, or with
   * --leave-switched-without-method.
   */
  stillSwitched: ObjectReason[];
  /** The users those undos were left in place for in this pass, with what switches them. */
  stillSwitchedUsers: { user: string; by: string }[];
  /**
   * Users outside the run the staged rollout still switches, whom the methods policy's undo would have
   * left with no method they can use (so it was left in place) in this pass: the first few, how many
   * (at least, with `unread` users not read once every such undo was left), what switches them.
   */
  stillSwitchedOthers?: { first: string[]; count: number; by: string[]; unread: number };
  /**
   * What --leave-switched-without-method took in this pass that would otherwise have been left in
   * place: the run's users still switched, the users outside the run the methods policy's undo leaves
   * with no method they can use, or `unread` (why who is still switched could not be read). Said in
   * the summary, not only as a warning while it happens.
   */
  leftWithoutMethod?: { users: { user: string; by: string }[]; others?: NonNullable<StillSwitched['others']>; unread?: string };
  /**
   * The signed-in admin's own phone and email undos this pass left out before sending anything (Graph
   * refuses a user's own: model/own-methods.ts), by user, and how many undos wait for them (the user's
   * undos chained after them, the methods policy's). A rollback of this rollback signed in as another
   * admin or an application sends them.
   */
  ownMethodsLeftOut?: OwnMethodsLeftOut[];
  counts: Record<OpState, number>;
  stats: ExecStats;
  /** The hash of the journal's last line (its hash chain's head); undefined for a journal written before the chain. */
  journalHash?: string;
}

export interface RollbackDeps {
  client: GraphClient;
  stateDir: string;
  concurrency: number;
  force: boolean;
  /** Roll back although later apply runs on the tenant are still in effect (the newest-first rule alone). */
  outOfOrder?: boolean;
  /**
   * Take methods all the same from users it leaves switched to Entra MFA with none they can use: the
   * run's users the staged rollout still switches, users outside the run by the methods policy's undo,
   * users of a domain made to reject the federated IdP's MFA since. A consent of its own, not implied
   * by outOfOrder (a black-box test followed the refusal's "add --out-of-order" and locked two users out).
   */
  leaveSwitchedWithoutMethod?: boolean;
  log?: (line: string) => void;
  signal?: AbortSignal;
  onRun?: (runId: string) => void;
  /** Every second while the inverses are sent, and once at the end: operations only (a rollback has no users or waves). */
  onProgress?: (p: ApplyProgressEvent) => void;
}

/**
 * An apply run's operations by id, rebuilt from its plan copy as the run made them: the policy step,
 * the cutover, and each wave (a wave's bulk token creates belong to no user).
 */
async function runOperations(plan: SavedPlan, run: RunView, onUsers?: (done: number, total: number) => void): Promise<Map<string, Operation>> {
  const sel = run.header.options as unknown as ApplySelection;
  const cutover = cutoverOperations(plan.cutoverChanges);
  const byId = new Map<string, Operation>([...policyOperations(plan.policyChanges), ...cutover.beforeWaves, ...cutover.afterWaves].map((o) => [o.id, o]));
  const chunks = runChunks(plan, sel);
  const total = chunks.reduce((n, c) => n + c.length, 0);
  let read = 0;
  onUsers?.(0, total);
  for (const chunk of chunks) {
    for (const o of waveOperations(await plan.read(chunk), runTokenPath(sel))) byId.set(o.id, o);
    onUsers?.((read += chunk.length), total);
  }
  return byId;
}

/**
 * What a rollback does before it sends anything (reads of its journals, of the run's plan copy, of the
 * tenant: half a minute and more at 20,000 users), told as steps of the progress, n of N where there
 * is a count (a black-box test met 22-38 s of silence).
 */
function readSteps(deps: RollbackDeps) {
  const step = (what: string, done = 0, total = 0) => deps.onProgress?.({ phase: 'reading', reading: { what, done, total }, users: 0, usersTotal: 0, stats: emptyStats() });
  return {
    step,
    planUsers: (done: number, total: number) => step("rebuilding the run's operations from its plan copy: users", done, total),
    listing: (found: number, wanted: number) => step("listing the directory: the run's users found", found, wanted),
    tenantUsers: (done: number, total: number) => step('reading the methods of the users the undos change (Graph)', done, total),
  };
}

/**
 * The run's operations of these ids, in that order. What to put back is what the journal recorded
 * before each write (from the plan as it was checked when the run applied it), not what the plan copy
 * says now; a bulk create's journaled `before` also says which serials were not its own.
 */
function journaledOperations(byId: ReadonlyMap<string, Operation>, ids: readonly string[], run: RunView): Operation[] {
  return ids
    .map((id) => byId.get(id))
    .filter((o): o is Operation => !!o)
    .map((o) => (run.ops.get(o.id)?.before !== undefined ? { ...o, before: run.ops.get(o.id)!.before } : o));
}

/** The operations an apply run performed, in the order they were done. */
async function doneOperations(plan: SavedPlan, run: RunView, byId?: ReadonlyMap<string, Operation>): Promise<{ done: Operation[]; seenAppliesTo: readonly string[] | undefined; membersLeft: Record<string, number> | undefined }> {
  const seen = plan.header.cutover_seen;
  const done = journaledOperations(byId ?? (await runOperations(plan, run)), run.doneOrder, run);
  const atStart = (run.header.options as { groupUsersAtStart?: Record<string, number> }).groupUsersAtStart ?? {};
  return { done, seenAppliesTo: seen ? (seen.rolloutPolicy?.appliesTo ?? []) : undefined, membersLeft: seen ? membersLeft(seen.groups, atStart, done, run) : undefined };
}

/**
 * Settles the apply run's operations of unknown outcome by reading them back (rollback-settle.ts),
 * journaled in the run's own journal, and gives the run as its journal now reads: what was found
 * applied is undone (and counted, as the users a rollout add put in a group are) like anything the
 * run did.
 */
async function settleBeforeRollback(applyDir: string, byId: ReadonlyMap<string, Operation>, run: RunView, deps: RollbackDeps): Promise<RunView> {
  const unknown = unknownOutcomes(run);
  if (unknown.length === 0) return run;
  readSteps(deps).step(`reading back ${unknown.length} operation(s) of the run whose outcome is unknown (Graph)`);
  const identity = await deps.client.identity();
  const found = await settleUnknownOutcomes(applyDir, run, journaledOperations(byId, unknown, run), deps.client, { appId: identity.appId, upn: identity.upn });
  deps.log?.(`Read back ${unknown.length} operation(s) of run ${run.header.id} whose outcome was unknown: ${found.applied} applied (undone with the rest), ${found.notApplied} not applied; journaled in that run.`);
  return readRun(applyDir);
}

/**
 * How many users each group the plan read held once the run was done: as the run found it when it
 * started (the plan's read for a group it did not read, or a run from before that was recorded), and the
 * users the run added (not those it found members already).
 */
function membersLeft(groups: readonly { id: string; users: number }[], atStart: Readonly<Record<string, number>>, done: readonly Operation[], run: RunView): Record<string, number> {
  const left = Object.fromEntries(groups.map((g) => [g.id, atStart[g.id] ?? g.users]));
  for (const o of done) {
    const [kind, groupId] = splitResource(o.resource);
    if (o.kind === 'rollout-add' && kind === 'rolloutGroup' && groupId !== undefined && groupId in left && !run.ops.get(o.id)?.result?.adopted) left[groupId]!++;
  }
  return left;
}

/**
 * What a rollback of the apply run `run` (its journal as read, its plan copy opened) sends, newest
 * first, and what it leaves in place: the same for the rollback that sends them and for the report
 * that lists what an interrupted rollback still has to undo. `byId`: the run's operations, when rebuilt already.
 */
export async function rollbackInverses(plan: SavedPlan, run: RunView, byId?: ReadonlyMap<string, Operation>): Promise<{ inverses: Operation[]; notReversible: Unreversible[]; users: Map<string, string> }> {
  const d = await doneOperations(plan, run, byId);
  // The run's users (by id, lower case): those the staged rollout may still switch once the rollback is done.
  const users = new Map(d.done.filter((o) => o.userId && o.user).map((o) => [o.userId!.toLowerCase(), o.user!]));
  return { ...inverseOperations(d.done, run.ops, d.seenAppliesTo, d.membersLeft), users };
}

/**
 * What a rollback of the apply run sends, from its journal as it stands under the lock (what a resume
 * added while this one waited is undone too), checked, and its plan copy. In a function of its own so
 * that what it is made from (the journal's records, the run's operations by id, the plan copy's index:
 * some 150 MB at 100,000 users) can be let go before the tenant is read; only what the rollback goes on
 * with is handed back.
 */
async function undosOfRun(applyDir: string, applyRunId: string, deps: RollbackDeps, read: ReturnType<typeof readSteps>) {
  const seenUnderLock = await readRun(applyDir);
  read.step(`checking the hash chain of run ${applyRunId}'s journal`);
  await requireIntactJournal(applyDir, applyRunId);
  const plan = await openRunPlan(applyDir, seenUnderLock);
  // Writes whose outcome is unknown (in flight when the run stopped, or failed unanswered) are read
  // back first: what was applied is undone too.
  // The run's operations, rebuilt from its plan copy once: settling appends only their outcomes.
  const byId = await runOperations(plan, seenUnderLock, read.planUsers);
  const run = await settleBeforeRollback(applyDir, byId, seenUnderLock, deps);
  // The journal this rollback undoes from, as it stands now (read-backs appended): lines taken off it
  // later would leave a chain that verifies, so the rollback records where it ended (runs verify checks it).
  const undoneJournal = await journalTip(applyDir);
  const built = await rollbackInverses(plan, run, byId);
  // Of the run's operations, the tenant read needs only those of users matched by an on-premises name (readTenantFor).
  const runOps = [...byId.values()].filter((o) => o.user && o.tenantUpn);
  return { header: run.header, planHeader: plan.header, undoneJournal, ...built, runOps };
}

/**
 * Undoes what an apply run did, newest first: deletes what it created, restores what it updated
 * and the previous default method, deactivates the tokens it activated, puts back the policy.
 * Objects changed since the run are reported and left alone unless --force. Itself journaled (kind
 * rollback) and resumable. A run already rolled back is refused, naming the rollback.
 */
export async function startRollback(applyRunId: string, deps: RollbackDeps): Promise<RollbackOutcome> {
  const applyDir = join(deps.stateDir, 'runs', applyRunId);
  // The header alone (the journal of a large run is tens of MB): what is refused at once is refused before the reads.
  const seen = await runHeader(applyDir);
  if (seen.kind !== 'apply') throw new UserError(`run ${applyRunId} is a ${seen.kind}, not an apply`);
  const tenant = await bindTenant(deps.client, seen.tenant ?? (await openRunPlan(applyDir, await readRun(applyDir))).header.tenant);
  // The lock first: a run still going is named as such (its holder), not judged by a journal it is writing.
  const lock = await acquireLock(deps.stateDir, 'rollback');
  const read = readSteps(deps);
  try {
    read.step(`reading the journals of the state folder (run ${applyRunId}'s and the others')`);
    // Under the lock: a second operator's rollback of the same run, started at the same moment, sees this one.
    const runs = await listRuns(deps.stateDir);
    refuseRolledBack(runs, applyRunId, deps.stateDir);
    if (!deps.outOfOrder) refuseWhileLaterRunsInEffect(runs, applyRunId, deps.stateDir);
    const { header, planHeader, undoneJournal, inverses: built, notReversible: unreversible, users, runOps } = await undosOfRun(applyDir, applyRunId, deps, read);
    if (!deps.leaveSwitchedWithoutMethod) await refuseUnderForeignFederation(deps, built, { header: planHeader });
    // Objects changed since the run are not overwritten (unless --force).
    const snapshot = await readTenantFor(deps.client, built, deps.concurrency, unreversible, runOps, read);
    // A token whose device id the run's journal lacks is looked up by its serial, never taken as gone for that alone.
    const inverses = lookUpDevices(built, snapshot);
    // What Graph cannot undo, found gone already (an admin deleted it since): not "left in place".
    const goneBefore = unreversible.filter((x) => notReversibleGone(x, snapshot));
    const notReversible = unreversible.filter((x) => !goneBefore.includes(x));
    // Gone already (another run's rollback, an admin): done, nothing to send.
    const gone = inverses.filter((inv) => alreadyUndone(inv, snapshot));
    // As the run found it already (another run's rollback, an admin): done, nothing to send, not changed since the run.
    const asBefore = inverses.filter((inv) => !gone.includes(inv) && alreadyAsBefore(inv, snapshot));
    const goneIds = new Set([...gone, ...asBefore].map((g) => g.id));
    // Under --force too, a token undo not known to be the run's is left alone (it names no device to send).
    const changed = changedObjects(inverses.filter((inv) => !goneIds.has(inv.id) && (!deps.force || deviceLookupOf(inv) === 'not-the-runs')), snapshot);
    const runId = newRunId();
    const runDir = join(deps.stateDir, 'runs', runId);
    const identity = await deps.client.identity();
    await lock.setRun(runId);
    const journal = await Journal.create(runDir, {
      t: 'run',
      id: runId,
      kind: 'rollback',
      created: new Date().toISOString(),
      planHash: header.planHash,
      rollbackOf: applyRunId,
      notReversible,
      ...(goneBefore.length > 0 ? { notReversibleGone: goneBefore.map(goneEntry) } : {}),
      ...(undoneJournal ? { undoneJournal } : {}),
      graph: deps.client.root,
      tenant,
      identity: { appId: identity.appId, upn: identity.upn },
      // Both consents, always recorded: a journal with outOfOrder and no leaveSwitchedWithoutMethod is
      // one started when --out-of-order also took methods from users still switched (refuseOldOutOfOrder).
      options: { force: deps.force, ...(deps.outOfOrder ? { outOfOrder: true } : {}), leaveSwitchedWithoutMethod: deps.leaveSwitchedWithoutMethod === true },
      totalOps: inverses.length,
    });
    deps.onRun?.(runId);
    const skipped = [...changed.map(skipRecord), ...gone.map(goneRecord), ...asBefore.map(asBeforeRecord)];
    await journal.beforeHandOver(() => journal.ops(skipped));
    const outcome = await executeRollback(runId, applyRunId, journal, inverses, new Map(skipped.map((s) => [s.op, s])), snapshot.policy, users, deps, signedInUserOf(identity));
    return { ...outcome, goneAlready: [...outcome.goneAlready, ...goneBefore.map(goneEntry).map(markNotReversible)], tenant, changedSince: changed.map(({ opId: _o, ...c }) => c), notReversible };
  } finally {
    await lock.release();
  }
}

/**
 * An apply run rolled back already, or being rolled back (a rollback run of it not completed): refused,
 * naming the rollback (to finish). Checked before any long read, from the run list alone, and again
 * under the lock (a second operator's rollback started at the same moment).
 */
export function refuseRolledBack(runs: readonly RunSummary[], applyRunId: string, stateDir: string): void {
  const earlier = runs.filter((r) => r.rollback_of === applyRunId);
  const complete = earlier.find((r) => r.state === 'completed');
  if (complete) throw new UserError(`run ${applyRunId} was rolled back already, completely, by run ${complete.id}`);
  const unfinished = earlier.find((r) => r.state !== 'completed');
  if (unfinished) throw new UserError(`run ${applyRunId} is being rolled back by run ${unfinished.id} (${unfinished.state}): finish that with ${cliCommand(['rollback', unfinished.id, '--state-dir', stateDir])}`);
}

/** A run's header, read alone (readRun says why a journal without one cannot be read). */
async function runHeader(runDir: string): Promise<RunHeader> {
  return (await readRunHeader(runDir)) ?? (await readRun(runDir)).header;
}

/**
 * Runs are undone newest first. A later apply run on the same tenant may rest on what this one set up
 * (the methods policy it enabled, the staged rollout policy it created, the methods whose users a later
 * federation change sent to Entra): undoing this one under it would leave users switched to Entra MFA
 * with no method, or switched back unawares. Refused, naming those runs, while any is still in effect
 * (something done, not completely rolled back); `--out-of-order` rolls back anyway. It lifts this rule
 * alone: what would leave users switched to Entra MFA with no method stays in place without
 * `--leave-switched-without-method`.
 */
export function refuseWhileLaterRunsInEffect(runs: readonly RunSummary[], applyRunId: string, stateDir: string): void {
  const byId = new Map(runs.map((r) => [r.id, r]));
  const undone = (r: RunSummary) => r.rolled_back_by.some((id) => byId.get(id)?.state === 'completed');
  const run = byId.get(applyRunId);
  if (!run) throw new UserError(`run ${applyRunId} is not among the runs of ${stateDir}`);
  // Its start time is not known (every run would count as later): why it cannot be read is what to say.
  if (run.state === 'unreadable') throw new UserError(`run ${applyRunId} cannot be read: ${run.problem ?? 'unknown'} (${cliCommand(['runs', 'verify', applyRunId, '--state-dir', stateDir])} says why)`);
  const graph = run.graph;
  const tenant = run.tenant?.id ?? null;
  const later = runs.filter((r) => {
    if (r.id === applyRunId) return false;
    // A journal that cannot be read may be a later run of this tenant: ordered by its id's start time
    // (to the second: one of the same second counts).
    // A folder of another name under runs/ (an admin's `archive`) is no run.
    if (r.kind === 'unknown') return RUN_ID.test(r.id) && idTime(r.id) >= idTime(applyRunId);
    return (
      r.kind === 'apply' &&
      r.started > run.started &&
      (r.tenant === null || tenant === null || r.tenant.id === tenant) &&
      (r.graph === null || graph === null || r.graph === graph) &&
      // Something done, or sent with its outcome unknown (it may have been applied).
      r.counts.done + r.counts.started > 0 &&
      !undone(r)
    );
  });
  if (later.length === 0) return;
  // listRuns gives newest first: the one to undo first leads.
  const named = later.map((r) =>
    r.kind === 'unknown' ? `${r.id} (its journal cannot be read: ${r.problem ?? 'unknown'}; mfa-migrate runs verify ${r.id} says why)` : `${r.id} (started ${r.started}, ${r.counts.done} operation(s) done${r.rolled_back_by.length > 0 ? ', partly rolled back' : ''})`,
  );
  const first = later[0]!;
  // Rolled back in part already: its rollback to finish (what it left alone only --force undoes).
  const rollback = first.rolled_back_by.map((id) => byId.get(id)).find((r) => r !== undefined && r.state !== 'completed');
  const next =
    first.kind === 'unknown'
      ? `check run ${first.id} first (${cliCommand(['runs', 'verify', first.id, '--state-dir', stateDir])})`
      : rollback
        ? `finish run ${first.id}'s rollback first: ${cliCommand(['rollback', rollback.id, '--state-dir', stateDir])}${rollback.state === 'partial' ? ' (add --force for what it left alone as changed since the run)' : ''}`
        : `roll back newest first: ${cliCommand(['rollback', first.id, '--state-dir', stateDir])}`;
  throw new UserError(
    `run ${applyRunId} is not the newest run in effect on this tenant: ${later.length === 1 ? 'a run' : `${later.length} runs`} made after it ${later.length === 1 ? 'is' : 'are'} not rolled back: ${named.join('; ')}. ` +
      `What ${later.length === 1 ? 'it does' : 'they do'} may rest on what run ${applyRunId} set up (the methods policy it enabled, the staged rollout policy it created, users' methods that a later federation change relies on), ` +
      `so ${next}; to roll back run ${applyRunId} anyway, add --out-of-order (it lifts this rule alone: what the rollback would take from users the staged rollout still switches to Entra MFA, leaving them no method they can use, stays in place unless ${LEAVE_SWITCHED} is added too)`,
  );
}

/** The federated domains (lower case) that rejected the federated IdP's MFA when the run's plan read them (none, for a plan that read no domain). */
function rejectingWhenPlanned(header: SavedPlan['header']): Set<string> {
  return new Set((header.cutover_seen?.federatedDomains ?? []).filter((d) => d.federatedIdpMfaBehavior === REJECT_IDP_MFA).map((d) => d.id.toLowerCase()));
}

/**
 * A domain whose federation rejects the IdP's MFA sends every user of it to Entra MFA, whatever any
 * state folder says: set since the run by another operator's run (another folder) or an admin, taking
 * this run's methods from its users would leave them unable to sign in. Read from the tenant, so it
 * holds across state folders.
 */
async function refuseUnderForeignFederation(deps: RollbackDeps, inverses: readonly Operation[], plan: Pick<SavedPlan, 'header'>): Promise<void> {
  // A plan made without cutover options read no domain: whether one rejected before it or since cannot
  // be told, so none is refused as set since; the undos its users need are held as for any domain
  // rejecting now, whenever set (rollback-switched.ts).
  if (plan.header.cutover_seen?.federatedDomains === undefined) return;
  // Domains this run set (the rollback puts them back first), or that rejected already when its plan
  // read them (the run's methods were added under it; taking them away puts the users back as they were:
  // what they need to sign in is held once the cutover's undos are sent, rollback-switched.ts).
  const notSince = new Set([...inverses.filter((o) => o.kind === 'federation-update').map((o) => o.resource.split('/')[1]!.toLowerCase()), ...rejectingWhenPlanned(plan.header)]);
  // A subdomain that is not a root takes its root's federation (model/federation-root.ts), as the plan read them.
  const governing = federationRootOf(plan.header.cutover_seen?.federatedDomains ?? []);
  const usersByDomain = new Map<string, Set<string>>();
  for (const o of inverses) {
    if (!METHOD_REMOVALS.has(o.kind) || !o.user) continue;
    const domain = upnDomain(tenantUpnOf(o)!);
    if (notSince.has(governing(domain))) continue;
    usersByDomain.set(domain, (usersByDomain.get(domain) ?? new Set()).add(o.user));
  }
  if (usersByDomain.size === 0) return;
  const domains = await federatedDomainsOrWarn(deps.client, [...usersByDomain.keys()], "check that no domain of this run's users rejects the federated IdP's MFA before relying on this rollback.", deps.log);
  if (!domains) return;
  // Read now: a root names its subdomains that take its federation, whose users it governs too.
  const usersOf = (d: (typeof domains)[number]) => [...new Set(domainsOf(d).flatMap((n) => [...(usersByDomain.get(n) ?? [])]))];
  const rejecting = domains.filter((d) => d.federatedIdpMfaBehavior === REJECT_IDP_MFA && usersOf(d).length > 0);
  if (rejecting.length === 0) return;
  const named = rejecting.map((d) => {
    const users = usersOf(d);
    return `${d.id} (${users.length} user(s): ${users.slice(0, 5).join(', ')}${users.length > 5 ? ', ...' : ''})`;
  });
  throw new UserError(
    `${named.join('; ')}: the domain's federation rejects the federated IdP's MFA now, which neither this run nor its plan's read of the tenant did (another operator's run, or an admin, since): Entra does the MFA of every user of it, and this rollback would take cloud methods away from them, leaving those with no other method unable to sign in. Put the domain's federation back first (a rollback of the run that set it, or the admin center), or add ${LEAVE_SWITCHED} to roll back anyway, leaving those users with nothing to sign in with (--out-of-order does not: it lifts the newest-first rule alone)`,
  );
}

/** The start time a run id begins with (`20261128T101500Z-3f2a9c1d`: to the second). */
const idTime = (id: string): string => id.split('-')[0] ?? id;

/**
 * A rollback started with --out-of-order when that flag also took methods from users it left switched
 * to Entra MFA with none they can use (its journal records outOfOrder, and no leaveSwitchedWithoutMethod):
 * that consent was given to a flag that no longer means it, and may not have been meant (a black-box
 * test followed a refusal's "add --out-of-order" and locked two users out). Refused, before anything is
 * read or sent, until the finish says which it means: --out-of-order (the newest-first rule lifted, as
 * recorded; users still switched keep what they need) or --leave-switched-without-method (as it was started).
 */
function refuseOldOutOfOrder(header: RunHeader, rollbackRunId: string, deps: RollbackDeps): void {
  const recorded = header.options as { outOfOrder?: boolean; leaveSwitchedWithoutMethod?: boolean } | undefined;
  if (recorded?.outOfOrder !== true || recorded.leaveSwitchedWithoutMethod !== undefined) return;
  if (deps.outOfOrder || deps.leaveSwitchedWithoutMethod) return;
  const again = (...flags: string[]) => cliCommand(['rollback', rollbackRunId, ...(deps.force ? ['--force'] : []), ...flags, '--state-dir', deps.stateDir]);
  throw new UserError(
    `rollback ${rollbackRunId} was started with --out-of-order when that flag also took methods from users it left switched to Entra MFA with no method they can use (and rolled back past a domain made to reject the federated IdP's MFA); it now lifts the newest-first rule alone, and that consent is ${LEAVE_SWITCHED}. ` +
      `Nothing was read or sent. Say which you mean: ${again('--out-of-order')} finishes it leaving what those users need in place (named; exit 3), ` +
      `or ${again('--out-of-order', LEAVE_SWITCHED)} finishes it as it was started, taking their methods all the same`,
  );
}

/** Finishes an interrupted rollback run. */
export async function resumeRollback(rollbackRunId: string, deps: RollbackDeps): Promise<RollbackOutcome> {
  const rollbackDir = join(deps.stateDir, 'runs', rollbackRunId);
  const seen = await readRun(rollbackDir);
  if (seen.header.kind !== 'rollback' || !seen.header.rollbackOf) throw new UserError(`run ${rollbackRunId} is not a rollback`);
  const refuseCompleted = (v: RunView) => {
    if (v.end?.state === 'completed') throw new UserError(`run ${rollbackRunId} is a rollback that completed: nothing is left to undo`);
  };
  refuseCompleted(seen);
  refuseOldOutOfOrder(seen.header, rollbackRunId, deps);
  const applyDir = join(deps.stateDir, 'runs', seen.header.rollbackOf);
  const seenRun = seen.header.tenant ? undefined : await runHeader(applyDir);
  const tenant = await bindTenant(deps.client, seen.header.tenant ?? seenRun?.tenant ?? (await openRunPlan(applyDir, await readRun(applyDir))).header.tenant);
  const lock = await acquireLock(deps.stateDir, 'rollback');
  const read = readSteps(deps);
  try {
    // Read under the lock: another operator's finish of the same rollback, while this one waited, is seen.
    const view = await readRun(rollbackDir);
    refuseCompleted(view);
    // Newest first here too: an apply made since this rollback stopped may rest on what is left to undo
    // (one started with --out-of-order goes on as it was started).
    const recorded = view.header.options as { outOfOrder?: boolean; leaveSwitchedWithoutMethod?: boolean };
    const outOfOrder = deps.outOfOrder || recorded.outOfOrder === true;
    // Recorded at its start, or given now; an old journal's --out-of-order is not taken for it (refuseOldOutOfOrder).
    const leaveSwitchedWithoutMethod = deps.leaveSwitchedWithoutMethod || recorded.leaveSwitchedWithoutMethod === true;
    if (!outOfOrder) {
      read.step(`reading the journals of the state folder (run ${seen.header.rollbackOf}'s and the others')`);
      refuseWhileLaterRunsInEffect(await listRuns(deps.stateDir), seen.header.rollbackOf, deps.stateDir);
    }
    read.step(`checking the hash chains of the journals of rollback ${rollbackRunId} and run ${seen.header.rollbackOf}`);
    await requireIntactJournal(rollbackDir, rollbackRunId);
    await requireIntactJournal(applyDir, seen.header.rollbackOf);
    const seenUnderLock = await readRun(applyDir);
    await lock.setRun(rollbackRunId);
    deps.onRun?.(rollbackRunId);
    const plan = await openRunPlan(applyDir, seenUnderLock);
    // A rollback started before rollbacks read these back (none is left by one started since).
    // The run's operations, rebuilt from its plan copy once: settling appends only their outcomes.
    const byId = await runOperations(plan, seenUnderLock, read.planUsers);
    const run = await settleBeforeRollback(applyDir, byId, seenUnderLock, deps);
    const built = await rollbackInverses(plan, run, byId);
    const { notReversible: unreversible, users } = built;
    // A token's device id found by an earlier pass (journaled with the undo it sent) serves its other undos.
    let inverses = withJournaledDevices(built.inverses, view.ops);
    // What the rollback found gone already when it started is not left in place.
    const goneBefore = view.header.notReversibleGone ?? [];
    const isGone = (x: Unreversible) => goneBefore.some((g) => g.target === x.target && (g.user ?? '').toLowerCase() === (x.user ?? '').toLowerCase());
    const notReversible = unreversible.filter((x) => !isGone(x));
    // The tenant's federation is read again too: time has passed since the rollback stopped.
    if (!leaveSwitchedWithoutMethod) await refuseUnderForeignFederation(deps, inverses.filter((o) => view.ops.get(o.id)?.state !== 'done'), plan);
    // Objects changed since are left alone when a rollback is finished too (time has passed since it
    // stopped): what is left to undo is compared again where this rollback has not yet touched the
    // object (a token it deactivated is no longer as the run left it, by its own doing). Of the
    // cutover, only the policy's disable or delete is compared again (RECHECK_EXEMPT): a detach's
    // group may be gone by this rollback's own doing.
    const force = deps.force || view.header.options?.force === true;
    const objectOf = (o: Operation) => `${o.userId ?? ''} ${o.resource}`;
    // Sent by this rollback (done, or `started` when it stopped: read back, not compared).
    const touched = new Set(inverses.filter((o) => ['done', 'started'].includes(view.ops.get(o.id)?.state ?? '')).map(objectOf));
    let toCompare = force ? [] : inverses.filter((o) => !isSettled(view.ops.get(o.id), false) && !touched.has(objectOf(o)) && !RECHECK_EXEMPT.has(o.kind));
    // A phone or email inverse sent with no answer journaled: a value that is neither the run's nor
    // the inverse's own was set by someone while the rollback stood still, and is left alone too.
    const sentUnanswered = force ? [] : inverses.filter((o) => view.ops.get(o.id)?.state === 'started' && RECHECKED_WHEN_STARTED.has(o.kind));
    let policy: AuthenticationMethodsPolicy;
    // Left alone as changed when it started: gone since (another run's rollback, an admin), it is done.
    let leftAlone = inverses.filter((o) => isSettled(view.ops.get(o.id), false) && view.ops.get(o.id)?.state === 'skipped');
    // Token undos not done whose device id neither journal has: looked up by serial again (its token
    // may be gone, or no longer one of several, since).
    let unknownDevice = inverses.filter((o) => needsDeviceLookup(o) && view.ops.get(o.id)?.state !== 'done');
    let changed: ChangedObject[] = [];
    let gone: Operation[] = [];
    let asBefore: Operation[] = [];
    // Left alone by an earlier pass and still there: left alone again (without --force), and said so on every pass.
    let stillLeft: ChangedObject[] = [];
    if (toCompare.length > 0 || sentUnanswered.length > 0 || leftAlone.length > 0 || unknownDevice.length > 0) {
      const snapshot = await readTenantFor(deps.client, [...toCompare, ...sentUnanswered, ...leftAlone, ...unknownDevice], deps.concurrency, [], [], read);
      policy = snapshot.policy;
      inverses = lookUpDevices(inverses, snapshot);
      const now = new Map(inverses.map((o) => [o.id, o]));
      const latest = (list: Operation[]) => list.map((o) => now.get(o.id)!);
      toCompare = latest(toCompare);
      leftAlone = latest(leftAlone);
      unknownDevice = latest(unknownDevice);
      const compared = [...new Set([...toCompare, ...leftAlone, ...unknownDevice])];
      gone = compared.filter((inv) => alreadyUndone(inv, snapshot));
      // Left alone as changed by an earlier pass, and put back as the run found it since (another run's rollback): done.
      asBefore = compared.filter((inv) => !gone.includes(inv) && alreadyAsBefore(inv, snapshot));
      const goneIds = new Set([...gone, ...asBefore].map((g) => g.id));
      // Under --force (nothing compared), a token undo not known to be the run's is left alone all the same.
      const notTheRuns = force ? changedObjects(unknownDevice.filter((o) => !goneIds.has(o.id) && deviceLookupOf(o) === 'not-the-runs'), snapshot) : [];
      changed = [...changedObjects(toCompare.filter((o) => !goneIds.has(o.id)), snapshot), ...changedObjects(sentUnanswered, snapshot, changedSinceSent), ...notTheRuns];
      if (!force) stillLeft = changedObjects(leftAlone.filter((o) => !goneIds.has(o.id)), snapshot, (inv, tenant) => changedSince(inv, tenant) ?? `${CHANGED_SINCE} (an earlier pass found it so)`);
    } else {
      policy = await readPolicy(deps.client);
    }
    const identity = await deps.client.identity();
    const journal = await Journal.append(rollbackDir, goOnWith(rollbackDir, 'rollback'));
    const skipped = [...changed.map(skipRecord), ...gone.map(goneRecord), ...asBefore.map(asBeforeRecord)];
    await journal.beforeHandOver(async () => {
      // What was given to this pass, for the record (the start's header is what later passes go on with).
      await journal.resumed({ appId: identity.appId, upn: identity.upn }, { ...(deps.force ? { force: true } : {}), ...(deps.outOfOrder ? { outOfOrder: true } : {}), ...(deps.leaveSwitchedWithoutMethod ? { leaveSwitchedWithoutMethod: true } : {}) });
      if (skipped.length > 0) await journal.ops(skipped);
    });
    const prior = new Map(view.ops);
    for (const s of skipped) prior.set(s.op, s);
    const outcome = await executeRollback(rollbackRunId, seen.header.rollbackOf, journal, inverses, prior, policy, users, { ...deps, force, outOfOrder, leaveSwitchedWithoutMethod }, signedInUserOf(identity));
    return { ...outcome, goneAlready: [...outcome.goneAlready, ...goneBefore.map(goneEntry).map(markNotReversible)], tenant, changedSince: [...stillLeft, ...changed].map(({ opId: _o, ...c }) => c), notReversible };
  } finally {
    await lock.release();
  }
}

async function executeRollback(
  runId: string,
  rollbackOf: string,
  journal: Journal,
  inverses: Operation[],
  prior: ReadonlyMap<string, OpRecord>,
  policy: AuthenticationMethodsPolicy,
  runUsers: ReadonlyMap<string, string>,
  deps: RollbackDeps,
  /** The user this pass is signed in as (a delegated token): their own phone and email undos are left out. */
  signedIn: SignedInUser | undefined,
): Promise<Omit<RollbackOutcome, 'changedSince' | 'notReversible' | 'tenant'>> {
  const executor = new Executor({ client: deps.client, journal, concurrency: deps.concurrency, context: { seeds: new Map(), policy, now: Date.now } });
  const onAbort = () => executor.interrupt();
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  if (deps.signal?.aborted) executor.interrupt();
  // While a read step is told (who is still switched), the timer's frames would draw over it.
  let reading = false;
  const report = (phase: 'running' | 'done') => deps.onProgress?.({ phase, users: 0, usersTotal: 0, stats: executor.progress() });
  const timer = setInterval(() => void (reading || report('running')), 1000);
  timer.unref();
  try {
    const waiting = deps.force ? [] : waitingForLeftAlone(inverses, prior);
    if (waiting.length > 0) await journal.ops(waiting);
    const before = new Map(prior);
    for (const r of waiting) before.set(r.op, r);
    // A token undo left alone as not known to be the run's (as looked up now) is settled under --force
    // too: it names no device, and sent it could only fail.
    const settled = (o: Operation) => isSettled(before.get(o.id), deps.force) || (deviceLookupOf(o) === 'not-the-runs' && before.get(o.id)?.state === 'skipped' && isLeftAloneError(before.get(o.id)?.error));
    const pending = inverses.filter((o) => !settled(o));
    executor.expect(inverses.length, inverses.length - pending.length);
    const statuses = new Map<string, OpState>();
    for (const [id, r] of before) statuses.set(id, r.state === 'started' ? 'pending' : r.state);
    for (const o of pending) statuses.set(o.id, 'pending');
    const results = new Map<string, OpOutcome>();
    const record = (outcomes: ReadonlyMap<string, OpOutcome>) => {
      for (const [id, o] of outcomes) {
        results.set(id, o);
        statuses.set(id, o.status);
      }
    };
    // The signed-in admin's own phone and email undos, and what waits for them: left out before anything
    // is sent, as apply leaves out their writes (Graph refuses them with 403, one failure each, which
    // named no way on). Journaled skipped (again only if an earlier pass said otherwise): a rollback of
    // this rollback signed in as another admin or an application sends them.
    const own = leaveOutOwnMethods(pending, signedIn, OWN_UNDOS_NOT_SENT);
    const ownLeftOut = new Map<string, OwnMethodsLeftOut>();
    if (own.leftOut.length > 0) {
      const news = own.leftOut.filter((x) => before.get(x.op.id)?.state !== 'skipped' || before.get(x.op.id)?.error !== x.error);
      if (news.length > 0) await journal.ops(news.map((x) => ({ op: x.op.id, state: 'skipped', error: x.error })));
      for (const x of own.leftOut) before.set(x.op.id, { op: x.op.id, state: 'skipped', error: x.error });
      record(new Map(own.leftOut.map((x) => [x.op.id, { status: 'skipped', error: x.error }])));
      tallyLeftOut(ownLeftOut, own.leftOut, signedIn);
    }
    // The cutover's undos first (a domain's federation, then the staged rollout policy and its
    // groups): who is still switched to Entra MFA once they are done is read from the tenant, and
    // keeps what they would need to sign in.
    const cutover = own.send.filter((o) => CUTOVER_UNDOS.has(o.kind));
    const rest = own.send.filter((o) => !CUTOVER_UNDOS.has(o.kind));
    if (cutover.length > 0) record(await executor.run(cutover, before));
    let switched: RollbackOutcome['stillSwitchedUsers'] = [];
    let others: RollbackOutcome['stillSwitchedOthers'];
    let leftWithoutMethod: RollbackOutcome['leftWithoutMethod'];
    let toSend = rest;
    // Interrupted: the rest is left pending (nothing more is read or sent).
    if (rest.length > 0 && !executor.wasInterrupted) {
      // Everything else waits for every federation to be put back (inverseOperations): one that was not holds back the rest, tried again.
      const federation = cutover.find((o) => o.kind === 'federation-update' && statuses.get(o.id) !== 'done');
      if (federation) {
        const skipped: OpRecord[] = rest.map((o) => ({ op: o.id, state: 'skipped', error: `skipped: ${federation.id} did not succeed` }));
        await journal.ops(skipped);
        record(new Map(skipped.map((r) => [r.op, { status: r.state, error: r.error! }])));
        toSend = [];
      } else {
        const doneNow = new Set(cutover.filter((o) => statuses.get(o.id) === 'done').map((o) => o.id));
        // A read that fails stops the rollback here, before any method is touched (finished by a rollback of
        // it); with --leave-switched-without-method, which takes them all the same, it goes on, said.
        const leave = deps.leaveSwitchedWithoutMethod === true;
        const onRead = (what: string, done?: number, total?: number) => {
          reading = true;
          readSteps(deps).step(what, done, total);
        };
        const found = await stillSwitched(deps.client, inverses, rest, runUsers, doneNow, { concurrency: deps.concurrency, onRead, ...(deps.log ? { log: deps.log } : {}) })
          .finally(() => (reading = false))
          .catch(async (err: unknown) => {
          // Read after the cutover's undos: the refusal says what of this pass was sent.
          if (err instanceof MaskedPhoneError && !leave) throw err.after(`${doneNow.size > 0 ? "the staged rollout's undos were sent, and " : ''}no method was touched; then go on with ${cliCommand(['rollback', runId, '--state-dir', deps.stateDir])}`);
          if (!leave) throw err;
          deps.log?.(`Warning: ${LEAVE_SWITCHED}: which users of the run the staged rollout still switches to Entra MFA could not be read (${(err as Error).message}): their methods are taken all the same`);
          leftWithoutMethod = { users: [], unread: (err as Error).message };
          await journal.leftWithoutMethod({ users: [], unread: (err as Error).message });
          return { holds: new Map<string, string>(), users: [] } as StillSwitched;
        });
        if (found.holds.size > 0 && leave) {
          leftWithoutMethod = { users: found.users, ...(found.others ? { others: found.others } : {}) };
          // Every one journaled (the run report lists them); the warnings name the first few, and say how many more and where.
          await journal.leftWithoutMethod({ users: found.users, ...(found.others ? { others: { users: found.othersAll ?? [], by: found.others.by, unread: found.others.unread } } : {}) });
          const listed = `every one: ${cliCommand(['report', runId, '--state-dir', deps.stateDir])}`;
          const more = (shown: number, total: number) => (total > shown ? `, and ${total - shown} more (${listed})` : '');
          if (found.users.length > 0) deps.log?.(`Warning: ${LEAVE_SWITCHED}: ${found.users.length} user(s) of the run still switched to Entra MFA lose the methods this rollback takes, and may be left with nothing to sign in with: ${found.users.slice(0, WARNING_NAMES).map((u) => `${u.user} (by ${u.by})`).join(', ')}${more(WARNING_NAMES, found.users.length)}`);
          if (found.others) deps.log?.(`Warning: ${LEAVE_SWITCHED}: ${othersText(found.others)} still switched to Entra MFA (by ${found.others.by.join(' and ')}) are left with no method they can use by the methods policy's undo: ${found.others.first.join(', ')}${more(found.others.first.length, found.others.count)}`);
        } else if (found.holds.size > 0) {
          const held: OpRecord[] = [...found.holds].map(([op, error]) => ({ op, state: 'skipped', error }));
          await journal.ops(held);
          for (const r of held) before.set(r.op, r);
          record(new Map(held.map((r) => [r.op, { status: r.state, error: r.error! }])));
          toSend = rest.filter((o) => !found.holds.has(o.id));
          switched = found.users;
          others = found.others;
        }
      }
    }
    if (rest.length > 0) record(await executor.run(toSend, before));
    // Skipped as changed since the run, or waiting for one that was (settled: only --force sends them), or
    // left for users still switched to Entra MFA (sent by a later pass once they are not); or after a failure (tried again).
    const errorOf = (o: Operation) => (results.get(o.id) ?? before.get(o.id))?.error;
    const leftAlone = inverses.filter((o) => statuses.get(o.id) === 'skipped' && (isLeftAloneError(errorOf(o)) || isStillSwitchedError(errorOf(o)))).length;
    // One line per object (a token's deactivate, unassign and delete are one token left in place).
    const stillSwitchedNow = [
      ...new Map(
        inverses
          .filter((o) => statuses.get(o.id) === 'skipped' && isStillSwitchedError(errorOf(o)))
          .map((o) => [`${o.user ?? ''} ${o.resource} ${errorOf(o)}`, { ...(o.user ? { user: o.user } : {}), target: o.resource, reason: errorOf(o)! }] as const),
      ).values(),
    ];
    clearInterval(timer);
    report('done');
    const counts = countStates([...statuses].map(([op, state]) => ({ op, state })), inverses.length);
    const head = () => (journal.head ? { journalHash: journal.head } : {});
    const resumable = counts.pending + counts.started + counts.failed > 0 || counts.skipped > leftAlone;
    const goneOf = () => inverses.filter((o) => before.get(o.id)?.result?.goneAlready === true).map((o) => ({ ...(o.user ? { user: o.user } : {}), target: o.resource }));
    const asBeforeOf = inverses.filter((o) => before.get(o.id)?.result?.alreadyAsBefore === true).map((o) => ({ ...(o.user ? { user: o.user } : {}), target: o.resource }));
    const failures = inverses
      .filter((o) => statuses.get(o.id) === 'failed')
      .map((o) => ({ ...(o.user ? { user: o.user } : {}), target: o.resource, reason: (results.get(o.id) ?? before.get(o.id))?.error ?? 'failed' }));
    // What this rollback sent: not what it found gone, or as the run found it, already.
    const cutoverUndone = inverses.filter((o) => CUTOVER_UNDOS.has(o.kind) && statuses.get(o.id) === 'done' && before.get(o.id)?.result?.goneAlready !== true && before.get(o.id)?.result?.alreadyAsBefore !== true).map((o) => ({ kind: o.kind, target: o.resource }));
    // Interrupted with nothing left to do (every inverse journaled as it ended) is finished: its end is written.
    const held = { stillSwitched: stillSwitchedNow, stillSwitchedUsers: switched, ...(others ? { stillSwitchedOthers: others } : {}), ...(leftWithoutMethod ? { leftWithoutMethod } : {}), ...(ownLeftOut.size > 0 ? { ownMethodsLeftOut: [...ownLeftOut.values()] } : {}) };
    if (executor.wasInterrupted && counts.pending + counts.started > 0) return { runId, rollbackOf, state: 'interrupted', counts, stats: executor.stats, resumable: true, goneAlready: goneOf(), alreadyAsBefore: asBeforeOf, failures, cutoverUndone, ...held, ...head() };
    const state = counts.failed > 0 || counts.skipped > 0 || counts.pending > 0 ? 'partial' : 'completed';
    await journal.end(state, counts);
    return { runId, rollbackOf, state, counts, stats: executor.stats, resumable, goneAlready: goneOf(), alreadyAsBefore: asBeforeOf, failures, cutoverUndone, ...held, ...head() };
  } finally {
    clearInterval(timer);
    deps.signal?.removeEventListener('abort', onAbort);
    await journal.close();
  }
}

interface ChangedObject {
  opId: string;
  user?: string;
  target: string;
  reason: string;
}

/** The inverses whose object no longer holds what the run left there, with why. */
function changedObjects(inverses: readonly Operation[], snapshot: TenantSnapshot, compare: (inv: Operation, tenant: TenantSnapshot) => string | undefined = changedSince): ChangedObject[] {
  return inverses.flatMap((inv) => {
    const reason = compare(inv, snapshot);
    return reason ? [{ opId: inv.id, ...(inv.user ? { user: inv.user } : {}), target: inv.resource, reason }] : [];
  });
}

/** The undos that move users back to MFA Server at once (the apply summary says the federation it set). */
const CUTOVER_UNDOS: ReadonlySet<Operation['kind']> = new Set(['federation-update', 'rollout-policy-delete', 'rollout-policy-update', 'rollout-detach']);

const skipRecord = (c: ChangedObject): OpRecord => ({ op: c.opId, state: 'skipped', error: CHANGED_SINCE });
const goneRecord = (inv: Operation): OpRecord => ({ op: inv.id, state: 'done', result: { goneAlready: true } });
const asBeforeRecord = (inv: Operation): OpRecord => ({ op: inv.id, state: 'done', result: { alreadyAsBefore: true } });

/**
 * Done, or left alone as changed since the run (unless --force). Skipped because something it depends
 * on failed: tried again when the rollback is finished (as apply's resume does).
 */
function isSettled(r: OpRecord | undefined, force: boolean): boolean {
  return r?.state === 'done' || (r?.state === 'skipped' && isLeftAloneError(r.error) && !force);
}

/**
 * A user's phone deletes not done while the restore of their default method is left alone as
 * changed since the run: left alone with it. Graph refuses to delete the phone behind the default,
 * and the default is now someone else's choice; sent, the delete met that refusal on every pass (the
 * executor takes an undo outside its step for done). The user's other undos (chained only to go
 * newest first) and the policy's still run.
 */
function waitingForLeftAlone(inverses: readonly Operation[], prior: ReadonlyMap<string, OpRecord>): OpRecord[] {
  const leftDefaults = new Map(
    inverses.filter((o) => o.kind === 'signin-update' && o.user !== undefined && prior.get(o.id)?.state === 'skipped' && isLeftAloneError(prior.get(o.id)?.error)).map((o) => [o.user!, o]),
  );
  if (leftDefaults.size === 0) return [];
  return inverses
    .filter((o) => o.kind === 'phone-delete' && o.user !== undefined && leftDefaults.has(o.user) && prior.get(o.id)?.state !== 'done' && !isLeftAloneError(prior.get(o.id)?.error))
    .map((o) => ({ op: o.id, state: 'skipped' as const, error: waitsForLeftAlone(leftDefaults.get(o.user!)!.resource) }));
}

/**
 * Inverses not compared again when a rollback is finished (see resumeRollback): a detach's group may
 * be gone by this rollback's own doing. The policy's disable or delete is compared again (a group an
 * admin attached while the rollback stood still must not be switched back), and so is nothing else
 * of the cutover.
 */
const RECHECK_EXEMPT: ReadonlySet<Operation['kind']> = new Set(['rollout-detach', 'federation-update']);

/** Inverses compared again when left `started`: a phone or an email, which an admin may have edited meanwhile. */
const RECHECKED_WHEN_STARTED: ReadonlySet<Operation['kind']> = new Set(['phone-delete', 'phone-update', 'phone-create', 'email-delete', 'email-update', 'email-create']);

/** Who and what, as a gone-already entry lists it. */
const goneEntry = (x: { user?: string; target: string }) => ({ ...(x.user ? { user: x.user } : {}), target: x.target });
const markNotReversible = (x: { user?: string; target: string }) => ({ ...x, notReversible: true as const });

/** Users a --leave-switched-without-method warning names; the rest are counted, every one journaled for the run report. */
const WARNING_NAMES = 5;

/**
 * The tenant as the inverses (and the users of what Graph cannot undo, `alsoUsers`) need it read. Users
 * are read by their UPN in the tenant; one the plan matched by an on-premises name (the run's
 * operations, `runOps`, and the inverses say which) is also found under the export's username (what
 * `alsoUsers` names them by), once read.
 */
async function readTenantFor(client: GraphClient, inverses: Operation[], concurrency: number, alsoUsers: readonly Unreversible[] = [], runOps: Iterable<Operation> = [], progress?: Pick<ReturnType<typeof readSteps>, 'listing' | 'tenantUsers'>) {
  const tenantUpns = new Map([...inverses, ...runOps].filter((o) => o.user && o.tenantUpn).map((o) => [o.user!.toLowerCase(), o.tenantUpn!]));
  const upnOf = (user: string) => tenantUpns.get(user.toLowerCase()) ?? user;
  const upns = [...new Set([...inverses.filter((o) => o.user).map((o) => tenantUpnOf(o)!), ...alsoUsers.flatMap((x) => (x.user ? [upnOf(x.user)] : []))])];
  // And those of the tokens left in the inventory, which notReversibleGone judges by the inventory.
  const serials = [...new Set([...inverses.filter((o) => o.resource.startsWith('hardwareOathMethods/')).map((o) => splitResource(o.resource)[1]!), ...serialsLeftInInventory(alsoUsers)])];
  const [tenant, cutover] = await Promise.all([
    // Read before this pass sends anything.
    readTenant(client, { upns, serials, policy: true, organization: false, concurrency, ...(progress ? { onListing: progress.listing, onProgress: progress.tenantUsers } : {}) }).catch(rethrowMaskedAfter('nothing was sent')),
    readCutoverFor(client, inverses),
  ]);
  for (const [user, upn] of tenantUpns) {
    const read = tenant.users.get(upn.toLowerCase());
    if (read && !tenant.users.has(user)) tenant.users.set(user, read);
  }
  return cutover ? cutover.apply(tenant) : tenant;
}
