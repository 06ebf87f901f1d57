import { createHash, randomUUID } from 'node:crypto';
import { copyFile, link, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syncFile } from '../io/fsync.js';
import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import type { GraphClient } from '../graph/graph-client.js';
import { policyAsRead, readHardwareOathPolicy, readPolicy } from '../graph/policy-reader.js';
import { readTenant } from '../graph/tenant-reader.js';
import { rethrowMaskedAfter } from '../graph/masked-phone.js';
import type { OathSeed } from '../model/export-data.js';
import { cliCommand } from '../model/command-line.js';
import { UserError } from '../model/user-error.js';
import { formatMinor, NewerPlanError, SavedPlan, type PlanUser } from '../plan/plan-file.js';
import { newerRunRefusal } from './newer-run.js';
import { planCopyLoss, planCopyLostText } from './plan-copy-loss.js';
import { judgedGroups, targetingChanges } from '../model/method-policy.js';
import { membershipsOf, transitiveMemberships } from '../graph/groups-reader.js';
import { Executor, type ExecStats, type OpOutcome } from './executor.js';
import { goOnWith, Journal, listRuns, readRun, readRunHeader, requireIntactJournal, storageProblem, type OpRecord, type OpState, type RunHeader, type RunView } from './journal.js';
import { BULK_CREATE_SIZE, cutoverOperations, isActivationId, isBulkPath, policyOperations, userOperations, waveOperations, type OpKind, type Operation, type TokenPath } from './operations.js';
import { MissingPermissionError, missingPermissions } from './permission-check.js';
import { PolicyPropagation } from './policy-propagation.js';
import { bulkTokenActionsAvailable } from '../graph/token-actions.js';
import { cutoverStale, groupAddsOf, groupNamesOf, JOINED_NAMED, joinedSinceNow, methodlessSinceNow, plannedRollout, rolloutStaleNow, switchingGroupsNow, unswitchedNow, unswitchedSaid, unswitchedSinceNow, type PlannedAdd } from './cutover-preflight.js';
import { splitResource } from '../plan/resource-state.js';
import { runFederationStep, someOf, upnDomain } from './federation-step.js';
import { outsidersSaid, outsidersWithoutMethod } from './federation-outsiders.js';
import { isUnknownOutcome } from './rollback-settle.js';
import { serialKey } from '../model/serial.js';
import { addTo } from '../model/add-to.js';
import { federationRootOf } from '../model/federation-root.js';
import { findStale, leftOutStale, switchGaps, type StaleObject } from './staleness.js';
import { STALE, staleReasons, staleRecords } from './stale-record.js';
import { needsNewPlan } from './new-plan-needed.js';
import { netbiosMapOf } from '../model/user-match.js';
import { composedUsername } from '../model/username.js';
import { acquireLock, type HeldLock } from './state-lock.js';
import { leaveOutOwnMethods, signedInUserOf, tallyLeftOut, type OwnMethodsLeftOut } from './own-methods.js';
import type { SignedInUser } from '../model/own-methods.js';
import { holdReason, switchLayout, wavesOnly, type MemberState, type SwitchLayout } from './switch-hold.js';
import { bindTenant, type BoundTenant } from './tenant-binding.js';

export interface ApplySelection {
  /** Users per wave. */
  batchSize: number;
  /** Stop after this many waves (the run can be resumed). */
  waves?: number;
  /** Only these users (lower-cased UPNs). */
  users?: string[];
  maxUsers?: number;
  skipStale: boolean;
  concurrency: number;
  /** Token activations per 5 minutes at most (default 200, the admin center's documented pace). */
  activationRate?: number;
  /** Minutes an activation refused for a policy reason is tried again after the run enabled hardware OATH tokens (default 20). */
  policyPropagationWait?: number;
  /** How tokens are written: bulk (when this Graph has the actions: `auto`, the default) or one by one. Runs record the path taken. */
  tokenPath?: TokenPath | 'auto';
  /**
   * Set by the run (runs begun before it wrote every user in the waves, and resume so): the users the
   * staged rollout's own step switches (members of a group it attaches, or of the policy it enables)
   * are written before that step, which waits until they are done (switch-hold.ts).
   */
  methodsFirst?: boolean;
  /**
   * Users of the apply's selection who had left the plan's scope group (plan --group) since the plan
   * (lower case), so left out of `users`: recorded for a resume's --results, which lists them as
   * apply's does (not-selected, why), not as users the run never had.
   */
  scopeGroupLeft?: string[];
}

/** The token path a run recorded (runs from before the bulk path wrote tokens one by one). */
export function runTokenPath(sel: Pick<ApplySelection, 'tokenPath'>): TokenPath {
  return sel.tokenPath === 'bulk' || sel.tokenPath === 'bulk-by-id' ? sel.tokenPath : 'single';
}

const PACE_WINDOW_MS = 5 * 60_000;
export const DEFAULT_ACTIVATION_RATE = 200;
export const DEFAULT_POLICY_PROPAGATION_WAIT = 20;

/** How one user of the run fared. */
export interface UserOutcome {
  upn: string;
  /** `unknown`: an operation was sent and the run stopped before its answer (it may have reached the tenant). */
  outcome: 'done' | 'partial' | 'failed' | 'skipped' | 'unknown' | 'not-started';
  operations: number;
  done: number;
  failed: number;
  skipped: number;
  error?: string;
  /** Why a user left out as stale was (their objects that changed since the plan, with why), as the journal records it. */
  staleReason?: string;
  /** Why a user whose operations are all done is not switched yet (the staged rollout step that switches them was held). */
  note?: string;
}

export type RunEnd = 'completed' | 'partial' | 'stopped' | 'interrupted';

export interface ApplyOutcome {
  runId: string;
  runDir: string;
  state: RunEnd;
  /** Stopped by writes refused for access (executor.ts, stopAfterRefusals): why, the last refusal included, and in which wave. */
  refusedStop?: { reason: string; wave?: number };
  tenant: BoundTenant;
  stale: StaleObject[];
  users: UserOutcome[];
  /**
   * How many users failed or are partly done in all, when `users` holds only the first of them (the
   * worker's handoff, src/cli/job.ts): the summary counts the rest and says where they are.
   */
  failedOrPartial?: number;
  /** How many users ended each way (what the summary prints, without the users themselves). */
  userCounts: Record<UserOutcome['outcome'], number>;
  counts: Record<OpState, number>;
  stats: ExecStats;
  /**
   * What the plan holds beyond the run's --users/--group/--max-users: users with changes, and the
   * domains whose federation change needs switches of users not selected (left out of the run; a
   * new plan, once they are switched, takes it).
   */
  notSelected: { users: number; federation: string[] };
  /** The run's federation changes that are not done (skipped, failed, pending), by domain, with why. */
  federationLeft: { domain: string; status: OpState; error?: string }[];
  /** The domains whose federation the run changed (done): every user of them now meets Entra MFA. */
  federationDone: string[];
  /** Waves run (or found done) of the whole run. */
  wavesDone: number;
  waves: number;
  /** The hash of the journal's last line (its hash chain's head); undefined for a journal written before the chain. */
  journalHash?: string;
  /** The sha256 of the plan the run applies (its journal's plan hash): the --results rows carry it, with the run id and final hash. */
  planHash: string;
  /**
   * Something is left that a resume can do (an operation pending, sent with no answer, failed, or
   * skipped after a failure). Users left out as stale are not: a resume never sends them.
   */
  resumable: boolean;
  /** Users left out as stale (in this pass or an earlier one): only a new plan can take them. The first 20 are named. */
  staleUsers: { count: number; first: string[] };
  /**
   * The staged rollout's steps this pass held back (an attach, the policy's enable) because members
   * they switch have no methods written by the run yet, with why; `forGood`: no resume sends it.
   */
  switchesHeld?: { op: string; doing: string; error: string; forGood: boolean }[];
  /**
   * The signed-in admin's own phone and email writes this pass left out (Graph refuses a user's own),
   * by user: how many, and how many operations wait for them (their default method, their switch);
   * `signedInAs`, who the run is signed in as. A resume signed in as another admin or an application sends them.
   */
  ownMethodsLeftOut?: (OwnMethodsLeftOut & { resumeAs: string })[];
  /** Set by the use case (app/apply.ts, app/resume.ts) from the plan: the run's users it leaves on MFA Server (`not-switched`, their domain's federation not set by the run), by username. */
  leftOnMfaServer?: string[];
  /**
   * Set by the use case from the plan: its not-switched users of a domain whose federation the run set
   * (forced, --force-federation), by domain. Not left on MFA Server: moved to Entra MFA with no cloud method.
   */
  movedByForcedFederation?: { domain: string; users: string[] }[];
  /** The tenant users outside the plan the run's federation moved to Entra MFA with no cloud MFA method, as the plan recorded them (--force-federation), by domain. */
  outsidersMovedByFederation?: { domain: string; users: string[] }[];
  /** The non-root subdomains each domain of `federationDone` takes along (lower case), as the plan read them. */
  federationSubdomains?: Record<string, string[]>;
  /** Set by the use case: the plan's scope group (plan --group) and the run's users who left it since the plan, left out. */
  leftScopeGroup?: { group: string; users: string[] };
}

/** An interrupt during the pre-flight: the run never started (no run, no journal), nothing was written. */
export class InterruptedBeforeRunError extends UserError {
  constructor() {
    super('interrupted during the pre-flight, before the run started: nothing was written, and there is no run to resume', 130);
  }
}

/** The plan refers to objects that changed in the tenant since it was made. */
export class StalePlanError extends UserError {
  constructor(
    readonly stale: StaleObject[],
    tenantWide = false,
    /** Earlier apply runs of this very plan: what they changed is what now reads as changed. */
    appliedBy: readonly string[] = [],
  ) {
    super(
      `${appliedBy.length > 0 ? `this plan was applied already (run ${appliedBy.join(', run ')}): the changes it made are what now differ from it, so nothing of it is left to apply as it stands; make a new plan for what is left (mfa-migrate runs shows how that run ended). The plan is stale: ` : 'the plan is stale: '}${stale.length} object(s) changed in the tenant since it was made (${tenantWide ? 'the authentication methods policy or the cutover: --skip-stale leaves out users, not these, since every user\'s methods and switch rest on them; make a new plan' : 're-plan, or --skip-stale to leave them out'}):\n${stale
        .slice(0, 50)
        .map((s) => `  ${s.user ?? 'policy'} ${s.target}: ${s.reason}`)
        .join('\n')}${stale.length > 50 ? `\n  ... and ${stale.length - 50} more` : ''}`,
    );
  }
}

export interface ApplyProgressEvent {
  phase: 'preflight' | 'reading' | 'policy' | 'wave' | 'federation' | 'running' | 'done';
  /** Phase `reading` (a rollback's reads before it sends anything, apply's re-read of many rollout group members): what is read, `done` of `total` (0: nothing to count). */
  reading?: { what: string; done: number; total: number };
  wave?: number;
  waves?: number;
  users: number;
  usersTotal: number;
  stats: ExecStats;
}

export interface ApplyDeps {
  client: GraphClient;
  stateDir: string;
  seeds: ReadonlyMap<string, OathSeed>;
  onProgress?: (p: ApplyProgressEvent) => void;
  /** Notices for the admin (a lock taken over, a step that failed). */
  log?: (line: string) => void;
  /** Aborted on SIGINT/SIGTERM: no new batch is sent; the run ends once those in flight are journaled. */
  signal?: AbortSignal;
  /** Called with the run's id as soon as it exists (so an interrupt can name it). */
  onRun?: (runId: string) => void;
}

/** Reads with more `$batch` requests in flight than writes: a re-check is many small GETs. */
const READ_CONCURRENCY_MIN = 16;
/** Users read per step of the pre-flight check (bounds the plan lines and tenant state held at once). */
const PREFLIGHT_CHUNK = 500;
/**
 * A wave is read again before it is written unless the pre-flight read of its users is younger
 * than this: the re-read catches what others change during a long run, and a read a few seconds
 * old is as good as a new one.
 */
const RECHECK_AFTER_MS = 60_000;
/**
 * From this many, apply's re-read of the methods of the members outside the plan whom its staged
 * rollout step switches is shown (an attach takes 200 members at most, an enabled policy's groups
 * 50,000 each): a step of the pre-flight's progress, a line of a later pass.
 */
const MEMBERS_PROGRESS_FROM = 100;
/** What that re-read is called where it is shown. */
const membersRead = (total: number) => `reading again the methods of ${total} member(s) outside the plan of the groups its staged rollout step switches`;

/** Positions (in plan.users) of the users a run applies, in order: those with changes, --users, then --max-users. */
export function selectUsers(plan: SavedPlan, sel: Pick<ApplySelection, 'users' | 'maxUsers'>): number[] {
  // Composed on both sides: a plan made before usernames were read composed may hold one decomposed.
  const wanted = sel.users ? new Set(sel.users.map((u) => composedUsername(u).toLowerCase())) : undefined;
  const out: number[] = [];
  plan.users.forEach((u, i) => {
    if (u.pending === 0 || out.length >= (sel.maxUsers ?? Infinity)) return;
    if (!wanted || wanted.has(composedUsername(u.upn).toLowerCase())) out.push(i);
  });
  return out;
}

/**
 * The apply runs in the state folder made from the plan with this hash that are in effect (something
 * done, not completely rolled back), oldest first: found by their headers, then read whole.
 */
async function runsOfPlan(stateDir: string, planHash: string): Promise<string[]> {
  const ids = (await readdir(join(stateDir, 'runs')).catch(() => [] as string[])).sort();
  const headers = await Promise.all(ids.map(async (id) => [id, await readRunHeader(join(stateDir, 'runs', id))] as const));
  const mine = headers.filter(([, h]) => h?.kind === 'apply' && h.planHash === planHash).map(([id]) => id);
  if (mine.length === 0) return [];
  const byId = new Map((await listRuns(stateDir)).map((r) => [r.id, r]));
  return mine.filter((id) => {
    const r = byId.get(id);
    return r !== undefined && r.counts.done > 0 && !r.rolled_back_by.some((b) => byId.get(b)?.state === 'completed');
  });
}

/** The shape of the ids newRunId makes: the start time to the second, then 8 hex digits. */
export const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

export function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
}

/**
 * Applies a saved plan: the tenant checked first (a plan for another tenant is refused before any
 * write), then every object it will write re-read (stale ones refused unless skipped), then the
 * policy (so every method a user gets is enabled before it becomes a default), then the users in
 * waves. Holds the state directory's lock throughout; journals every operation.
 */
export async function startApply(plan: SavedPlan, sel: ApplySelection, deps: ApplyDeps): Promise<ApplyOutcome> {
  const tenant = await bindTenant(deps.client, plan.header.tenant);
  const lock = await acquireLock(deps.stateDir, 'apply');
  logTakeover(lock, deps);
  try {
    const positions = selectUsers(plan, sel);
    const cutover = cutoverOperations(plan.cutoverChanges);
    const policyOps = [...policyOperations(plan.policyChanges), ...cutover.beforeWaves];
    const layout = switchLayout(plan, cutover.beforeWaves, positions, groupNamesOf(plan));
    deps.onProgress?.({ phase: 'preflight', users: 0, usersTotal: positions.length, stats: emptyStats() });
    const preflightAt = Date.now();
    // One pass over the users' lines: the pre-flight reads each once and the scan takes what else it needs.
    const scan = new UserScan(plan.hasTokenChanges, waveIndex(layout, positions, sel.batchSize));
    let checked = 0;
    const stale = await preflight(
      plan,
      positions,
      policyOps,
      deps.client,
      sel.concurrency,
      (users, first) => {
        scan.add(users, first);
        checked += users.length;
        deps.onProgress?.({ phase: 'preflight', users: checked, usersTotal: positions.length, stats: emptyStats() });
      },
      deps.signal,
    );
    // A domain's federation waits for every switch of its users the plan has: with some of them not
    // selected, no resume of this run could ever send it, so it is left out (and not checked), and said.
    // By the domain whose federation governs the user's (a subdomain's root: model/federation-root.ts).
    const governing = federationRootOf(plan.header.cutover_seen?.federatedDomains ?? []);
    const switchesSelected = new Map<string, number>();
    for (const a of scan.groupAdds) if (a.resource.startsWith('rolloutGroup/')) addCount(switchesSelected, governing(upnDomain(a.tenantUpn ?? a.upn)));
    const federationNotSelected = cutover.afterWaves.filter((o) => (switchesSelected.get(o.requires?.domain ?? '') ?? 0) < (o.requires?.switches ?? 0)).map((o) => o.requires!.domain);
    const federationOps = federationOf(cutover.afterWaves, federationNotSelected);
    const cutoverRead = await cutoverStale(plan, scan.groupAdds, deps.client, federationNotSelected, positions, sel.concurrency, (done, total) => {
      if (total >= MEMBERS_PROGRESS_FROM) deps.onProgress?.({ phase: 'reading', reading: { what: membersRead(total), done, total }, users: 0, usersTotal: positions.length, stats: emptyStats() });
    });
    stale.push(...cutoverRead.stale);
    if (deps.signal?.aborted) throw new InterruptedBeforeRunError();
    // Any policy or cutover object among them: --skip-stale cannot help, so it is not offered.
    if (stale.length > 0 && !sel.skipStale) throw new StalePlanError(stale, stale.some((s) => !s.user), await runsOfPlan(deps.stateDir, plan.hash));
    // The policy and the cutover are not for --skip-stale: without the policy step the users' methods
    // would not be enabled, and without the rollout's attach they would be switched into a group the
    // policy does not apply to (or switched with their methods off).
    const tenantWide = stale.filter((s) => !s.user);
    if (tenantWide.length > 0) throw new StalePlanError(tenantWide, true, await runsOfPlan(deps.stateDir, plan.hash));
    // The token's permissions against what the run will write, before any write (the token path's
    // probe below included): a review saw a run without the user-methods permission enable the
    // policy tenant-wide and upload every seed, then fail every user.
    const identity = await deps.client.identity();
    const missing = missingPermissions([...policyOps, ...federationOps].map((o) => o.kind).concat([...scan.kinds]), identity);
    if (missing.length > 0) throw new MissingPermissionError(missing, identity);
    // Tokens in bulk (about one write each) where this Graph has the actions, else one by one.
    // A new run's bulk path assigns the inventory's tokens by id (`bulk-by-id`).
    let tokenPath: TokenPath = sel.tokenPath === 'bulk' || sel.tokenPath === 'bulk-by-id' ? 'bulk-by-id' : 'single';
    if ((sel.tokenPath ?? 'auto') === 'auto' && plan.hasTokenChanges) {
      const someone = positions.map((i) => plan.users[i]!.userId).find((id): id is string => id !== null);
      tokenPath = someone && (await bulkTokenActionsAvailable(deps.client, someone)) ? 'bulk-by-id' : 'single';
      // With no user selected nothing was probed, and no token is written: nothing to say.
      if (tokenPath === 'single' && someone) deps.log?.('This Graph has no bulk token create or assign-and-activate by serial: tokens are created and activated one by one (two writes each).');
    }
    const total = scan.operations(tokenPath) + policyOps.length + federationOps.length;
    const staleUsers = new Set(stale.filter((s) => s.user).map((s) => s.user!.toLowerCase()));
    const stalePolicy = stale.some((s) => !s.user);

    const runId = newRunId();
    const runDir = join(deps.stateDir, 'runs', runId);
    const planFile = plan.format === '1' ? 'plan.json' : 'plan.jsonl';
    const header: RunHeader = {
      t: 'run',
      id: runId,
      kind: 'apply',
      created: new Date().toISOString(),
      planHash: plan.hash,
      graph: deps.client.root,
      tenant,
      identity: { appId: identity.appId, upn: identity.upn },
      planFile,
      options: {
        ...sel,
        tokenPath,
        methodsFirst: true,
        skippedStale: [...staleUsers],
        stalePolicy,
        ...(federationNotSelected.length > 0 ? { federationNotSelected } : {}),
        ...(Object.keys(cutoverRead.groupUsers).length > 0 ? { groupUsersAtStart: cutoverRead.groupUsers } : {}),
      },
      totalOps: total,
      activations: scan.activations(tokenPath),
    };
    let journal: Journal;
    try {
      await lock.setRun(runId);
      // The private copy apply read becomes the run's (a hard link: no second copy of a large plan on a
      // small disk). That copy was synced when made (copyPlanDurably, writePlanFile); a copy made here
      // where links fail is synced before the journal's first line: the run folder is renamed in only
      // once its plan is on disk (a crash must never keep a journal whose plan copy is empty).
      journal = await Journal.create(runDir, header, async (dir) => {
        const runPlan = join(dir, planFile);
        await link(plan.file, runPlan).catch(async () => {
          await copyFile(plan.file, runPlan);
          await syncFile(runPlan);
        });
      });
    } catch (err) {
      const why = storageProblem(err);
      if (why) throw new UserError(`cannot set up the run in ${deps.stateDir} (${why}): nothing was sent; make room and apply again`, 1, { cause: err });
      throw err;
    }
    deps.onRun?.(runId);
    // Each skipped operation journals why its user (or the policy) was left out: the pre-flight's words.
    const reasons = staleReasons(stale);
    const skipped: OpRecord[] = stalePolicy ? staleRecords([...policyOps, ...federationOps].map((o) => ({ id: o.id })), reasons) : [];
    await journal.beforeHandOver(async () => {
      // Only the stale users' lines are read again (usually none).
      const stalePositions = staleUsers.size > 0 ? positions.filter((i) => staleUsers.has(plan.users[i]!.upn.toLowerCase())) : [];
      for (let i = 0; i < stalePositions.length; i += PREFLIGHT_CHUNK) {
        for (const u of await plan.read(stalePositions.slice(i, i + PREFLIGHT_CHUNK))) skipped.push(...staleRecords(userOperations(u, tokenPath), reasons));
      }
      await journal.ops(skipped);
    });
    return await execute({ runId, runDir, journal, plan, positions, layout, policyOps, federationOps, total, prior: new Map(skipped.map((r) => [r.op, r])), sel: { ...sel, tokenPath, methodsFirst: true }, deps, stale, tenant, readAt: preflightAt, activations: header.activations, signedIn: signedInUserOf(identity) });
  } finally {
    await lock.release();
  }
}

/** The plan copy of a run, checked against the hash its journal recorded. */
export async function openRunPlan(runDir: string, view: RunView): Promise<SavedPlan> {
  const file = view.header.planFile ?? 'plan.json';
  const path = join(runDir, file);
  // What to put back: the plan whose SHA-256 the journal records (the one signed off), under this name.
  const putBack = `put the run's plan back there (the file whose sha256 is ${view.header.planHash}, the plan applied)`;
  let plan: SavedPlan;
  try {
    plan = await SavedPlan.open(path);
  } catch (err) {
    // A later build's run: only that build, or a later one, takes it on (not a new plan).
    const newer = await newerRunRefusal(err, path, view.header);
    if (newer) throw newer;
    const bytes = await readFile(path).catch(() => undefined);
    const sha = bytes && createHash('sha256').update(bytes).digest('hex');
    // Empty or cut short (a crash before the copy was on disk): said so, not as an edit.
    const loss = bytes && sha !== view.header.planHash ? planCopyLoss(bytes, file) : undefined;
    if (loss) throw new UserError(`run ${view.header.id}: ${planCopyLostText(file, loss, view.header.planHash)}`);
    if (sha === undefined || sha === view.header.planHash) throw new UserError(`run ${view.header.id}: its plan copy cannot be read (${(err as Error).message})`);
    // Changed and labelled a later format: put back, whatever the label says (the plan file's advice, a new plan, is not for a run).
    const why = err instanceof NewerPlanError ? err.brief : (err as Error).message;
    throw new UserError(`run ${view.header.id}: its plan copy ${path} was changed after the run (sha256 ${sha}; the journal records ${view.header.planHash}) and cannot be read (${why}): ${putBack}`);
  }
  if (plan.hash !== view.header.planHash) throw new UserError(`run ${view.header.id}: its plan copy ${path} was changed after the run (sha256 ${plan.hash}; the journal records ${view.header.planHash}): ${putBack}`);
  return plan;
}

/** What a resume may set anew for the rest of the run: the waves it runs, and how long activations wait for the policy. */
export interface ResumeOverrides {
  waves?: number;
  policyPropagationWait?: number;
  /**
   * The run's users (lower-case usernames) who left the plan's scope group since the plan: what is
   * left of theirs is journaled skipped as stale before anything is sent (no resume sends it), and
   * `stale` says why (app/scope-group-now.ts).
   */
  leftScopeGroup?: { users: ReadonlySet<string>; stale: (upn: string) => StaleObject; said?: (upns: readonly string[]) => void };
}

/** Finishes an interrupted run: done operations are not sent again; `started` ones are read back first. */
export async function resumeApply(runId: string, overrides: ResumeOverrides, deps: ApplyDeps): Promise<ApplyOutcome> {
  const { waves, policyPropagationWait } = overrides;
  const runDir = join(deps.stateDir, 'runs', runId);
  const seen = await readRun(runDir);
  if (seen.header.kind !== 'apply') throw new UserError(`run ${runId} is a ${seen.header.kind}; use rollback to resume it`);
  const tenant = await bindTenant(deps.client, seen.header.tenant ?? (await openRunPlan(runDir, seen)).header.tenant);
  const lock = await acquireLock(deps.stateDir, 'resume');
  logTakeover(lock, deps);
  try {
    // Read again under the lock: another resume may have finished the run, or a rollback undone it,
    // while this one waited for the lock (or connected).
    const view = await readRun(runDir);
    await requireIntactJournal(runDir, runId);
    // A rollback first: a completed run that was rolled back, in part or whole, is named with its rollback (a black-box test).
    const rollbacks = (await listRuns(deps.stateDir)).filter((r) => r.rollback_of === runId);
    if (view.end?.state === 'completed' && rollbacks.length === 0) throw new UserError(`run ${runId} is completed: nothing is left to resume`);
    if (rollbacks.length > 0) {
      const r = rollbacks[0]!;
      throw new UserError(`run ${runId} was rolled back by run ${r.id} (${r.state}): resuming it would write again what that undid. ${r.state === 'completed' ? 'Make a new plan to apply again' : `Finish the rollback with ${cliCommand(['rollback', r.id, '--state-dir', deps.stateDir])}, or make a new plan`}`);
    }
    const plan = await openRunPlan(runDir, view);
    // The policy's method targets the plan judged users by (2.3), beyond what the plan itself
    // changes, must still hold: a user's methods and switch rest on them (each wave's users'
    // memberships are read again as the wave comes).
    const judged = judgedBy(plan);
    if (judged) {
      const changed = targetingStale(plan, judged, await readPolicy(deps.client));
      if (changed.length > 0) throw new StalePlanError(changed, true);
    }
    // A --waves limit belongs to the command that gave it: a resume runs the rest, or the waves it is given.
    const { waves: _firstRunWaves, ...saved } = view.header.options as unknown as ApplySelection;
    const sel: ApplySelection = { ...saved, ...(waves !== undefined ? { waves } : {}), ...(policyPropagationWait !== undefined ? { policyPropagationWait } : {}) };
    const positions = selectUsers(plan, sel);
    const cutover = cutoverOperations(plan.cutoverChanges);
    // The policy step may be long done: the switches left rest on the staged rollout as the plan read
    // it (or as what is left of that step will set it), read again before anything is written.
    const rolloutReadAt = Date.now();
    const rolloutLeft = new Set(cutover.beforeWaves.filter((o) => !settledBefore(view.ops.get(o.id))).map((o) => o.resource));
    const rollout = await rolloutStaleNow(deps.client, await switchesLeft(plan, positions, view.ops), groupNamesOf(plan), plannedRollout(plan.cutoverChanges.filter((c) => rolloutLeft.has(c.target))));
    if (rollout.length > 0) throw new StalePlanError(rollout, true);
    await lock.setRun(runId);
    deps.onRun?.(runId);
    const identity = await deps.client.identity();
    const journal = await Journal.append(runDir, goOnWith(runDir, 'apply'));
    // Users who left the wave's group since the plan: what is left of theirs (their switch above all) is never sent.
    const leaving = overrides.leftScopeGroup ? await unsentOf(plan, positions.filter((i) => overrides.leftScopeGroup!.users.has(plan.users[i]!.upn.toLowerCase())), view.ops, runTokenPath(sel)) : [];
    const stale = leaving.map((l) => overrides.leftScopeGroup!.stale(l.upn));
    // Journaled as --skip-stale journals a user it leaves out: the error stale, and why (staleReason).
    const reasons = staleReasons(stale);
    const leftOut: OpRecord[] = leaving.flatMap((l) => staleRecords(l.ops.map((id) => ({ id, user: l.upn })), reasons));
    if (leaving.length > 0) overrides.leftScopeGroup?.said?.(leaving.map((l) => l.upn));
    await journal.beforeHandOver(async () => {
      await journal.resumed({ appId: identity.appId, upn: identity.upn }, waves !== undefined ? { waves } : {});
      if (leftOut.length > 0) await journal.ops(leftOut);
    });
    const prior = leftOut.length > 0 ? new Map([...view.ops, ...leftOut.map((r) => [r.op, r] as const)]) : view.ops;
    const policyOps = [...policyOperations(plan.policyChanges), ...cutover.beforeWaves];
    // Activations the run sent within the pace's window count against it now too (a resume right after
    // an interrupt must not send a second full quota in the same five minutes).
    const since = Date.now() - PACE_WINDOW_MS;
    const activationsSent = [...view.times]
      .filter(([id]) => isActivationId(id) && view.ops.get(id)?.state !== 'pending')
      .map(([, at]) => Date.parse(at))
      .filter((t) => t > since);
    const notSelected = (view.header.options as { federationNotSelected?: string[] }).federationNotSelected ?? [];
    // A run begun before the ordering (switch-hold.ts) goes on as it began: its waves hold every user.
    const layout = sel.methodsFirst === true ? switchLayout(plan, cutover.beforeWaves, positions, groupNamesOf(plan)) : wavesOnly(positions);
    return await execute({ runId, runDir, journal, plan, positions, layout, policyOps, federationOps: federationOf(cutover.afterWaves, notSelected), total: view.header.totalOps, prior, priorTimes: view.times, sel, deps, stale, tenant, wavesBefore: view.wavesDone, activationsSent, ...(view.header.activations !== undefined ? { activations: view.header.activations } : {}), rolloutReadAt, signedIn: signedInUserOf(identity) });
  } finally {
    await lock.release();
  }
}

/** Of the users at `positions`, those with operations neither done nor left out as stale, and those operations' ids. */
async function unsentOf(plan: SavedPlan, positions: readonly number[], prior: ReadonlyMap<string, OpRecord>, tokenPath: TokenPath): Promise<{ upn: string; ops: string[] }[]> {
  const out: { upn: string; ops: string[] }[] = [];
  for (let i = 0; i < positions.length; i += PREFLIGHT_CHUNK) {
    for (const u of await plan.read(positions.slice(i, i + PREFLIGHT_CHUNK))) {
      const ops = userOperations(u, tokenPath).filter((o) => !settledBefore(prior.get(o.id))).map((o) => o.id);
      if (ops.length > 0) out.push({ upn: u.upn, ops });
    }
  }
  return out;
}

/** The federation changes a run makes: the plan's, less the domains its selection leaves out. */
function federationOf(afterWaves: readonly Operation[], notSelected: readonly string[]): Operation[] {
  return afterWaves.filter((o) => !notSelected.includes(o.requires?.domain ?? ''));
}

function logTakeover(lock: HeldLock, deps: ApplyDeps): void {
  const t = lock.tookOver;
  if (t) deps.log?.(`Took over the lock left by ${t.operation} pid ${t.pid} of ${t.user}@${t.host} (started ${t.started}), which is no longer running.`);
}

interface RunContext {
  runId: string;
  runDir: string;
  journal: Journal;
  plan: SavedPlan;
  positions: number[];
  /** The selected users the staged rollout's own step switches (written before it), the waves' users, and what that step waits for. */
  layout: SwitchLayout;
  policyOps: Operation[];
  /** Each domain's federation: after the waves. */
  federationOps: Operation[];
  total: number;
  prior: ReadonlyMap<string, OpRecord>;
  /** A resume's: when each operation of the earlier passes was last journaled. */
  priorTimes?: ReadonlyMap<string, string>;
  sel: ApplySelection;
  deps: ApplyDeps;
  stale: StaleObject[];
  tenant: BoundTenant;
  /** When every user was read (pre-flight of a new run); a resume reads each wave. */
  readAt?: number;
  /** Waves a resumed run had finished before. */
  wavesBefore?: number;
  /** When activations were sent within the pace's window before this run (resume). */
  activationsSent?: number[];
  /** The run's token activations, all its users (the run's header; absent for runs made before it). */
  activations?: number;
  /** When the staged rollout the switches rest on was last read (a resume's check; a new run's is readAt's pre-flight). */
  rolloutReadAt?: number;
  /** The user this pass is signed in as (a delegated token): their own phone and email writes are left out. */
  signedIn: SignedInUser | undefined;
}

/** Writes refused for access, with none done between them, that stop a run: one $batch's worth. */
const REFUSALS_TO_STOP = 20;

/** Done, or left out as stale: not run again by a resume. Failed operations are retried, and so are those skipped because a dependency failed. */
function settledBefore(r: OpRecord | undefined): boolean {
  return r?.state === 'done' || (r?.state === 'skipped' && r.error === STALE);
}

/**
 * The switches a run has left, counted by group: its selected users' rollout group adds not settled
 * (read from their lines, in chunks; none to read for a plan that names no rollout group).
 */
async function switchesLeft(plan: SavedPlan, positions: readonly number[], prior: ReadonlyMap<string, OpRecord>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if ((plan.header.options.rollout_groups?.length ?? 0) === 0) return out;
  for (let i = 0; i < positions.length; i += PREFLIGHT_CHUNK) {
    const adds: PlannedAdd[] = [];
    for (const u of await plan.read(positions.slice(i, i + PREFLIGHT_CHUNK))) groupAddsOf(u, adds);
    for (const a of adds) {
      const [kind, group] = splitResource(a.resource);
      // Keyed as userOperations keys a rollout-add.
      if (kind === 'rolloutGroup' && !settledBefore(prior.get(`${a.userId}/${a.resource}`))) out.set(group!, (out.get(group!) ?? 0) + 1);
    }
  }
  return out;
}

async function execute(ctx: RunContext): Promise<ApplyOutcome> {
  const { journal, prior, sel, deps, plan, positions } = ctx;
  const policyRead = await journal.beforeHandOver(() => readPolicy(deps.client));
  // Activations refused until the hardware OATH policy reaches the users are tried again for a while
  // while the policy reads the method enabled, whoever enabled it: counted from when this run's policy
  // step enabled it (in this pass or before), or from the policy's last change (an admin, an earlier plan).
  const hardwareOath = ctx.policyOps.find((o) => /\/HardwareOath$/i.test(o.resource) && (o.after as { state?: string } | null)?.state === 'enabled');
  const waitMs = (sel.policyPropagationWait ?? DEFAULT_POLICY_PROPAGATION_WAIT) * 60_000;
  // Tried again some twenty times over the wait, at most once a minute.
  const propagationRetryMs = Math.min(60_000, Math.max(1_000, waitMs / 20));
  const propagation = new PolicyPropagation({
    waitMs,
    enabledByRun: () => {
      if (!hardwareOath) return undefined;
      const doneAt = (executor.resultOf(hardwareOath.id) ?? prior.get(hardwareOath.id)?.result)?.doneAt;
      return typeof doneAt === 'string' ? Date.parse(doneAt) : undefined;
    },
    read: () => readHardwareOathPolicy(deps.client),
    freshMs: propagationRetryMs,
  });
  const executor: Executor = new Executor({
    client: deps.client,
    journal,
    concurrency: sel.concurrency,
    context: { seeds: deps.seeds, policy: policyRead, now: Date.now },
    activationPace: { activations: sel.activationRate ?? DEFAULT_ACTIVATION_RATE, windowMs: PACE_WINDOW_MS },
    ...(ctx.activationsSent ? { activationsSent: ctx.activationsSent } : {}),
    policyPropagation: () => propagation.judge(),
    propagationRetryMs,
    ...(ctx.priorTimes ? { priorTimes: ctx.priorTimes } : {}),
    stopAfterRefusals: REFUSALS_TO_STOP,
  });
  // Stopped by the executor itself (writes refused for access in a row) is not an interrupt: the run ends stopped, resumable.
  const interruptedBySignal = () => executor.wasInterrupted && executor.haltedBy === undefined;
  /** The wave the executor stopped itself in (writes refused for access). */
  let refusedWave: number | undefined;
  executor.seedResults(prior);
  executor.expect(ctx.total, [...prior.values()].filter((r) => r.state === 'done').length);
  // The run's activations left, all waves: the ETA's floor at the pace (a 30,000-user rehearsal read 21m54s with ~110 minutes of pace ahead).
  if (ctx.activations !== undefined) executor.expectActivations(Math.max(0, ctx.activations - [...prior].filter(([id, r]) => isActivationId(id) && settledBefore(r)).length));
  const onAbort = () => executor.interrupt();
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  if (deps.signal?.aborted) executor.interrupt();

  const counts: Record<OpState, number> = { pending: 0, started: 0, done: 0, failed: 0, skipped: 0 };
  const outcomes: UserOutcome[] = [];
  // Each domain's federation as the run leaves it: the summary names it (it is no user's, so no --results row has it).
  const federation = new Map<string, OpOutcome>();
  let usersDone = 0;
  const { holds, first } = ctx.layout;
  const wavePositions = ctx.layout.waves;
  const waves = Math.ceil(wavePositions.length / sel.batchSize);
  let wavesDone = ctx.wavesBefore ?? 0;
  // The wave being sent: every report within it names it (the bar lost its "wave N/M" after a wave's first frame).
  let currentWave: number | undefined;
  const report = (phase: ApplyProgressEvent['phase'], wave?: number) => deps.onProgress?.({ phase, ...(wave !== undefined ? { wave, waves } : {}), users: usersDone, usersTotal: positions.length, stats: executor.progress() });
  const timer = setInterval(() => report('running', currentWave), 1000);
  timer.unref();
  let state: RunEnd = 'completed';
  const statusOf = (id: string, now: ReadonlyMap<string, OpOutcome>): OpOutcome => {
    const s = now.get(id);
    if (s) return s;
    const p = prior.get(id);
    // Left started by an earlier pass and not sent in this one: its outcome is still unknown (as runs and report say).
    return p ? { status: p.state, ...(p.error ? { error: p.error } : {}), ...(p.staleReason !== undefined ? { staleReason: p.staleReason } : {}) } : { status: 'pending' };
  };
  // Switches done, by domain (a subdomain's counted under the root whose federation it takes): a domain's federation waits for all of its own.
  const switchesDone = new Map<string, number>();
  const governing = federationRootOf(plan.header.cutover_seen?.federatedDomains ?? []);
  const tokenPath = runTokenPath(sel);
  // What a resume could still do, and the users only a new plan can take.
  let resumable = false;
  const staleUsers = { count: 0, first: [] as string[] };
  // The staged rollout's steps this pass held back (switch-hold.ts), and the adds that wait for them.
  const heldNow = new Map<string, { op: string; doing: string; error: string; forGood: boolean }>();
  /** The signed-in admin's own method writes this pass left out, by user (lower case). */
  const ownLeftOut = new Map<string, OwnMethodsLeftOut>();
  // Who can send them: an application cannot manage staged rollout, which a plan with rollout groups needs.
  const resumeAs = (ctx.plan.header.options.rollout_groups?.length ?? 0) > 0 ? 'another admin (the staged rollout needs an admin signed in; an application cannot manage it)' : 'another admin or an application';
  /** Operations skipped this pass that no resume sends: a hold no resume lifts, and the adds waiting for it. */
  const neverByResume = new Set<string>();
  const count = (s: OpOutcome, id?: string) => {
    counts[s.status]++;
    if (!settledNow(s) && !(id !== undefined && neverByResume.has(id))) resumable = true;
  };
  const tally = (users: PlanUser[], now: ReadonlyMap<string, OpOutcome>) => {
    // Operations of the wave as a whole (its bulk token creates) count in the run's totals.
    for (const o of waveOperations(users, tokenPath).filter((x) => !x.userId)) count(statusOf(o.id, now));
    for (const u of users) {
      const ops = userOperations(u, tokenPath);
      const st = ops.map((o) => statusOf(o.id, now));
      // A write only a new plan can make (its token another user's): neither it nor what waits for
      // it is offered to a resume, which would meet the same refusal.
      if (st.some((s) => s.status === 'failed' && needsNewPlan(s.error))) st.forEach((s, i) => (s.status === 'skipped' || needsNewPlan(s.error)) && neverByResume.add(ops[i]!.id));
      st.forEach((s, i) => count(s, ops[i]!.id));
      if (st.some(isStale) && staleUsers.count++ < LISTED_STALE) staleUsers.first.push(u.upn);
      ops.forEach((o, i) => {
        if (o.kind === 'rollout-add' && st[i]!.status === 'done') addCount(switchesDone, governing(upnDomain(u.tenantUpn ?? u.upn)));
      });
      const outcome = outcomeOf(u.upn, st);
      outcomes.push(outcome);
      // Progress counts users the run got to: after an interrupt, the waves not sent are not "done".
      if (outcome.outcome !== 'not-started') usersDone++;
    }
  };
  const readWave = (w: number) => plan.read(wavePositions.slice(w * sel.batchSize, (w + 1) * sel.batchSize));
  // The staged rollout the switches rest on, read again before a wave's switches are written once the last read is old.
  let rolloutReadAt = ctx.rolloutReadAt ?? ctx.readAt ?? 0;
  const groupName = groupNamesOf(plan);
  try {
    const stopAt = sel.waves ?? Infinity;
    const pendingOps = (users: PlanUser[]) => waveOperations(users, tokenPath).filter((o) => !settledBefore(prior.get(o.id)));
    const fresh = () => ctx.readAt !== undefined && Date.now() - ctx.readAt < RECHECK_AFTER_MS;
    // A wave read again (a long run, a resume) is checked for its users' memberships of the groups
    // their methods were judged by (2.3) too, asked of each user.
    const judged = judgedBy(plan)?.groups ?? [];
    const recheckWave = (w: number, users: PlanUser[], switching = switchesAfterWrites(users, prior, tokenPath)) => {
      const left = trimTouched(users, prior, tokenPath);
      const withGroups = left.filter((u) => u.policyGroups !== undefined);
      const memberships = judged.length > 0 && withGroups.length > 0 ? membershipsOf(deps.client, withGroups.map((u) => u.userId), judged) : Promise.resolve(new Map<string, string[]>());
      // Users whose switch this pass sends after an earlier pass wrote their methods: read with the
      // others (one read each), so that a switch never goes out for methods deleted since.
      // A number read masked (a resume signed in as an Authentication Administrator) stops the run before the wave.
      const what = w < 0 ? 'the users the staged rollout switches' : `wave ${w + 1}`;
      const masked = rethrowMaskedAfter(`nothing of ${what} was sent (what the run sent before stands); then go on with ${cliCommand(['resume', ctx.runId, '--state-dir', deps.stateDir])}`);
      return {
        wave: w,
        result: Promise.all([memberships, readUsersAgain(left, switching, deps.client, sel.concurrency, netbiosMapOf(plan.header.options.netbios_domains), leftOutByBulk(users, prior, tokenPath))]).then(([m, read]) => ({ stale: [...membershipStale(withGroups, m), ...read.stale], held: read.held }), masked),
      };
    };
    /** Users left out as stale by a re-read: journaled so, and in `now`. */
    const leaveOutStale = async (waveStale: StaleObject[], ops: readonly Operation[], now: Map<string, OpOutcome>): Promise<Set<string>> => {
      const staleNow = new Set(waveStale.map((s) => s.user!.toLowerCase()));
      if (waveStale.length > 0) {
        ctx.stale.push(...waveStale);
        const recs = staleRecords(ops.filter((o) => staleNow.has((o.user ?? '').toLowerCase())), staleReasons(waveStale));
        await journal.ops(recs);
        for (const r of recs) now.set(r.op, { status: 'skipped', error: STALE, ...(r.staleReason !== undefined ? { staleReason: r.staleReason } : {}) });
      }
      return staleNow;
    };
    /**
     * The signed-in admin's own phone and email writes among `ops`, and what waits for them: journaled
     * skipped (once: a resume signed in the same way finds them so already), in `now`, not sent.
     */
    const leaveOutOwn = async (ops: readonly Operation[], now: Map<string, OpOutcome>): Promise<Operation[]> => {
      const { send, leftOut } = leaveOutOwnMethods(ops, ctx.signedIn);
      if (leftOut.length === 0) return send;
      await journal.ops(leftOut.filter((x) => prior.get(x.op.id)?.state !== 'skipped' || prior.get(x.op.id)?.error !== x.error).map((x) => ({ op: x.op.id, state: 'skipped' as const, error: x.error })));
      for (const x of leftOut) now.set(x.op.id, { status: 'skipped', error: x.error });
      tallyLeftOut(ownLeftOut, leftOut, ctx.signedIn);
      return send;
    };

    // 1. The policy, its own step: every method must be enabled before a user's default points at it.
    // The staged rollout's part of it (the policy created or enabled, groups attached) switches the
    // members its groups hold already, at once: their methods are written between the two (1b), and
    // what would switch one not done yet is held back (a user switched with no method can be made to
    // register one by whoever has their password).
    const policyNow = new Map<string, OpOutcome>();
    const runPolicy = async (ops: readonly Operation[]) => {
      const pending = ops.filter((o) => !settledBefore(prior.get(o.id)));
      if (pending.length === 0 || executor.wasInterrupted) return;
      report('policy');
      for (const [id, st] of await executor.run(pending, prior)) policyNow.set(id, st);
      // What the step itself set is not read back at once (a read right after a write may not show it yet).
      if (pending.some((o) => o.kind.startsWith('rollout-'))) rolloutReadAt = Date.now();
    };
    const notDone = (ops: readonly Operation[]) => ops.some((o) => !heldNow.has(o.id) && statusOf(o.id, policyNow).status !== 'done' && !settledBefore(prior.get(o.id)));
    /** The groups whose rollout adds wait for a step held back this pass ('all': the policy's enable). */
    const heldGroups = new Map<string, ReadonlySet<string> | 'all'>();
    const holdStep = (o: Pick<Operation, 'id' | 'kind' | 'after'>, doing: string, why: { error: string; forGood: boolean }) => {
      heldNow.set(o.id, { op: o.id, doing, ...why });
      heldGroups.set(o.id, o.kind === 'rollout-attach' ? new Set([String(o.after?.groupId)]) : 'all');
    };
    const journalHolds = async () => {
      const newHolds = [...heldNow.values()].filter((h) => !policyNow.has(h.op));
      if (newHolds.length === 0) return;
      await journal.ops(newHolds.map((h) => ({ op: h.op, state: 'skipped' as const, error: h.error })));
      for (const h of newHolds) {
        policyNow.set(h.op, { status: 'skipped', error: h.error });
        if (h.forGood) neverByResume.add(h.op);
        deps.log?.(`Staged rollout: ${h.doing} was not sent: ${h.error}.`);
      }
    };
    // Who joined the groups a step switches since the plan: the pre-flight read them, unless that was
    // long ago (a resume, a long step 1b). Such a step is held, naming them, as the pre-flight refuses.
    const holdJoined = async (ops: readonly Operation[]) => {
      if (fresh()) return;
      const sending = ops.filter((o) => (o.kind === 'rollout-attach' || o.kind === 'rollout-policy-update') && !heldNow.has(o.id) && !settledBefore(prior.get(o.id)));
      if (sending.length === 0 || executor.wasInterrupted) return;
      const doingOf = (o: Pick<Operation, 'id' | 'kind' | 'after'>) => holds.find((h) => h.op === o.id)?.doing ?? (o.kind === 'rollout-attach' ? `attaching "${groupName(String(o.after?.groupId))}"` : 'enabling the staged rollout policy');
      const [groupsNow, unswitched] = await Promise.all([switchingGroupsNow(deps.client, plan, sending), unswitchedSinceNow(deps.client, plan, sending)]);
      const joined = joinedSinceNow(plan, groupsNow, addedByRun(prior));
      // Members outside the plan who had a method when it read them and have none now: the step would
      // switch them with nothing. The run's own progress goes on meanwhile: a line says what it waits for.
      const tell = (done: number, total: number) => {
        if (done === 0 && total >= MEMBERS_PROGRESS_FROM) deps.log?.(`Staged rollout: ${membersRead(total)} before it is sent.`);
      };
      const methodless = await methodlessSinceNow(deps.client, plan, groupsNow, (op) => doingOf(sending.find((o) => o.id === op)!), sel.concurrency, tell);
      for (const o of sending) {
        const j = joined.get(o.id);
        const u = unswitched.get(o.id);
        const m = methodless.get(o.id);
        if (!j && !u && !m) continue;
        const doing = doingOf(o);
        // Members the plan took as switched by another group, no longer: as the pre-flight refuses them.
        const gone = u ? `${unswitchedSaid(u.upns, u.by, groupName, doing)}: put them back in that group, or take them out of this one, and resume, or make a new plan` : undefined;
        const parts = [
          ...(j ? [`${j.upns.length} user(s) joined ${j.groups} since the plan (${someOf(j.upns, JOINED_NAMED)}): ${doing} would switch them to Entra MFA without the plan having checked that they have a method to sign in with: take them out of the group and resume, or make a new plan`] : []),
          ...(gone ? [gone] : []),
          ...(m ?? []).map((clause) => `${clause}, and resume, or make a new plan`),
        ];
        holdStep(o, doing, { forGood: false, error: `held: ${parts.join('; and ')}` });
      }
    };
    /** Whether the members written before the staged rollout's step were tallied (else, when it stops, they are counted as not started). */
    let firstTallied = false;
    if (holds.length === 0) {
      await holdJoined(ctx.policyOps);
      await journalHolds();
      await runPolicy(ctx.policyOps.filter((o) => !heldNow.has(o.id)));
    } else {
      const methodsPolicy = ctx.policyOps.filter((o) => !o.kind.startsWith('rollout-'));
      await runPolicy(methodsPolicy);
      if (!notDone(methodsPolicy) && !executor.wasInterrupted) {
        // 1b. The users the staged rollout's step switches: all their operations, so that they are
        // switched with their whole set; in chunks of --batch-size, as the waves (a policy's groups
        // may hold 50,000 members). While a step that switches them is left to send, those an
        // earlier pass wrote are read again: their methods may have been deleted since.
        const holdsLeft = holds.some((h) => !settledBefore(prior.get(h.op)));
        const states = new Map<number, MemberState>();
        const gapsOf = new Map<number, string>();
        for (let i = 0; i < first.length; i += sel.batchSize) {
          const chunk = first.slice(i, i + sel.batchSize);
          const users = await plan.read(chunk);
          const now = new Map<string, OpOutcome>();
          const ops = pendingOps(users);
          const written = holdsLeft ? switchesAfterWrites(users, prior, tokenPath, 'members') : [];
          const gone = new Map<string, string>();
          if ((ops.length > 0 || written.length > 0) && !executor.wasInterrupted) {
            report('policy');
            const read = fresh() ? { stale: [], held: [] } : await recheckWave(-1, users, written).result;
            const staleNow = await leaveOutStale(read.stale, ops, now);
            for (const h of read.held) gone.set(h.upn.toLowerCase(), h.gaps.join('; '));
            const runnable = await leaveOutOwn(ops.filter((o) => !staleNow.has((o.user ?? '').toLowerCase())), now);
            if (runnable.length > 0) for (const [id, st] of await executor.run(runnable, prior)) now.set(id, st);
          }
          tally(users, now);
          users.forEach((u, k) => {
            const st = userOperations(u, tokenPath).map((o) => statusOf(o.id, now));
            const gaps = gone.get(u.upn.toLowerCase());
            if (gaps !== undefined) gapsOf.set(chunk[k]!, gaps);
            states.set(chunk[k]!, st.some(isStale) ? 'stale' : st.some((x) => x.status === 'failed' && needsNewPlan(x.error)) ? 'replan' : !st.every((x) => x.status === 'done') ? 'left' : gaps !== undefined ? 'gone' : 'done');
          });
        }
        firstTallied = true;
        if (!executor.wasInterrupted) {
          // 1c. Each step that switches them, once every one of them is done; else held back, said, and journaled skipped.
          for (const h of holds) {
            if (settledBefore(prior.get(h.op))) continue;
            const why = holdReason(
              h,
              (p) => states.get(p) ?? 'left',
              (p) => plan.users[p]!.upn,
              (p) => gapsOf.get(p) ?? '',
            );
            if (why) holdStep(ctx.policyOps.find((o) => o.id === h.op) ?? { id: h.op, kind: 'rollout-policy-update', after: null }, h.doing, why);
          }
          const rolloutOps = ctx.policyOps.filter((o) => o.kind.startsWith('rollout-'));
          await holdJoined(rolloutOps);
          await journalHolds();
          await runPolicy(rolloutOps.filter((o) => !heldNow.has(o.id)));
        }
      }
    }
    for (const o of ctx.policyOps) count(statusOf(o.id, policyNow), o.id);
    if (notDone(ctx.policyOps)) {
      if (!interruptedBySignal()) deps.log?.(firstTallied ? 'The staged rollout step failed: the waves were not started (fix the cause, then resume).' : 'The policy step failed: user changes were not started (fix the cause, then resume).');
      if (!firstTallied) for (let i = 0; i < first.length; i += sel.batchSize) tally(await plan.read(first.slice(i, i + sel.batchSize)), new Map());
      for (let w = 0; w < waves; w++) tally(await readWave(w), new Map());
      for (const o of ctx.federationOps) {
        federation.set(o.id, statusOf(o.id, new Map()));
        count(federation.get(o.id)!);
      }
      state = interruptedBySignal() ? 'interrupted' : 'partial';
      if (state !== 'interrupted') await journal.end('partial', counts);
      return outcome();
    }
    // The switches that wait for a step held back: a group not attached (it must be small when it
    // is), or a policy not enabled, would take them without switching them.
    const heldFor = (o: Operation): string | undefined => {
      if (o.kind !== 'rollout-add' || heldGroups.size === 0) return undefined;
      const group = splitResource(o.resource)[1]!;
      for (const [op, groups] of heldGroups) if (groups === 'all' || groups.has(group)) return op;
      return undefined;
    };

    // 2. Users, wave by wave. Each wave's users are read again before it is written; that read is
    // made while the wave before is written, so the write pipe never waits for it.
    let started = 0;
    let recheck: { wave: number; result: Promise<WaveRecheck> } | undefined;
    for (let w = 0; w < waves; w++) {
      const wave = await readWave(w);
      const ops = pendingOps(wave);
      // A wave whose only work left is adds waiting for a step held back (1c) sends nothing: its adds
      // are skipped again (journaled once), and it does not count against --waves (a review: with
      // the hold standing, `resume --waves 1` never got past it).
      if (ops.length > 0 && !executor.wasInterrupted && ops.every((o) => heldFor(o) !== undefined)) {
        const now = new Map<string, OpOutcome>();
        const recs = ops.map((o) => ({ op: o.id, state: 'skipped' as const, error: `skipped: ${heldFor(o)!} did not succeed` }));
        await journal.ops(recs.filter((r) => prior.get(r.op)?.state !== 'skipped' || prior.get(r.op)?.error !== r.error));
        for (const r of recs) now.set(r.op, { status: 'skipped', error: r.error });
        for (const o of ops) if (neverByResume.has(heldFor(o)!)) neverByResume.add(o.id);
        tally(wave, now);
        continue;
      }
      if (ops.length === 0 || started >= stopAt || executor.wasInterrupted) {
        if (ops.length > 0) state = interruptedBySignal() ? 'interrupted' : 'stopped';
        else if (!executor.wasInterrupted) wavesDone = Math.max(wavesDone, w + 1);
        tally(wave, new Map());
        continue;
      }
      if (ops.some((o) => o.kind === 'rollout-add') && Date.now() - rolloutReadAt >= RECHECK_AFTER_MS) {
        const addsTo = new Map<string, number>();
        for (const o of ops) {
          const group = o.kind === 'rollout-add' && !heldFor(o) ? splitResource(o.resource)[1]! : undefined;
          if (group) addsTo.set(group, (addsTo.get(group) ?? 0) + 1);
        }
        const rollout = await rolloutStaleNow(deps.client, addsTo, groupName);
        rolloutReadAt = Date.now();
        // Nothing of the wave is written: the run stops here (a resume reads it again, and goes on once it holds again).
        if (rollout.length > 0) {
          deps.log?.(`Wave ${w + 1} was not started: the staged rollout its switches rest on changed since the plan (below). Put it back as the plan read it (the policy enabled, the group attached) and resume, or roll the run back and make a new plan.`);
          throw new StalePlanError(rollout, true);
        }
      }
      started++;
      await journal.wave(w + 1, 'started');
      currentWave = w + 1;
      report('wave', currentWave);
      let read: WaveRecheck = { stale: [], held: [] };
      if (recheck?.wave === w) read = await recheck.result;
      else if (!fresh()) read = await recheckWave(w, wave).result;
      const waveStale = read.stale;
      recheck = undefined;
      if (w + 1 < waves && started < stopAt && !fresh()) {
        const next = await readWave(w + 1);
        if (pendingOps(next).length > 0) {
          recheck = recheckWave(w + 1, next);
          recheck.result.catch(() => undefined);
        }
      }
      const now = new Map<string, OpOutcome>();
      const staleNow = await leaveOutStale(waveStale, ops, now);
      // A switch held back (its user's methods gone since an earlier pass wrote them) is not sent,
      // and not settled: a resume reads the user again and sends it once the methods are back.
      const opIds = new Set(ops.map((o) => o.id));
      const held = read.held.filter((h) => !staleNow.has(h.upn.toLowerCase()) && opIds.has(h.op));
      if (held.length > 0) {
        // One an earlier pass sent with no answer (it may be in place) keeps its record, which a
        // rollback reads back: only this pass leaves it unsent (and the user's outcome unknown).
        const unknown = (op: string) => {
          const p = prior.get(op);
          return p !== undefined && isUnknownOutcome(p) ? p : undefined;
        };
        const recs = held.filter((h) => !unknown(h.op)).map((h) => ({ op: h.op, state: 'skipped' as const, error: h.reason }));
        await journal.ops(recs);
        for (const h of held) now.set(h.op, { status: unknown(h.op)?.state ?? 'skipped', error: unknown(h.op) ? `${h.reason} (an earlier pass sent it with no answer: it may be in place already, which a rollback reads back)` : h.reason });
        deps.log?.(`Wave ${w + 1}: ${held.length} user(s) not switched to Entra MFA: methods the switch rests on are gone since an earlier pass wrote them (${held.slice(0, 5).map((h) => h.upn).join(', ')}${held.length > 5 ? ', ...' : ''}). Put the methods back and resume.`);
      }
      const heldOps = new Set(held.map((h) => h.op));
      // Switches waiting for a staged rollout step held back (1c): skipped as what depends on a step not done is.
      const waiting = ops.flatMap((o) => {
        const on = staleNow.has((o.user ?? '').toLowerCase()) || heldOps.has(o.id) ? undefined : heldFor(o);
        return on ? [{ op: o.id, on }] : [];
      });
      if (waiting.length > 0) {
        const recs = waiting.map((x) => ({ op: x.op, state: 'skipped' as const, error: `skipped: ${x.on} did not succeed` }));
        await journal.ops(recs);
        for (const r of recs) now.set(r.op, { status: 'skipped', error: r.error });
        for (const x of waiting) {
          heldOps.add(x.op);
          if (neverByResume.has(x.on)) neverByResume.add(x.op);
        }
      }
      const runnable = await leaveOutOwn(ops.filter((o) => !staleNow.has((o.user ?? '').toLowerCase()) && !heldOps.has(o.id)), now);
      if (runnable.length > 0) for (const [id, s] of await executor.run(runnable, prior)) now.set(id, s);
      tally(wave, now);
      if (executor.wasInterrupted) {
        state = interruptedBySignal() ? 'interrupted' : 'stopped';
        // Where it stopped: a resume retries earlier waves' failed writes too, so not wavesDone + 1.
        if (executor.haltedBy !== undefined) refusedWave ??= w + 1;
        continue;
      }
      wavesDone = Math.max(wavesDone, w + 1);
      await journal.wave(w + 1, 'done');
    }
    // 3. Each domain's federation, last, once every switch of its users succeeded (not while waves are left).
    const federationPending = ctx.federationOps.filter((o) => !settledBefore(prior.get(o.id)));
    let federationNow = new Map<string, OpOutcome>();
    if (federationPending.length > 0 && state === 'completed' && !executor.wasInterrupted) {
      currentWave = undefined;
      report('federation');
      federationNow = await runFederationStep(
        federationPending,
        switchesDone,
        prior,
        executor,
        journal,
        (domains) => unswitchedNow(ctx.deps.client, ctx.plan.countedSwitches, domains, ctx.plan.header.cutover_seen?.federatedDomains),
        async (domains) => new Map([...(await outsidersWithoutMethod(ctx.deps.client, ctx.plan, domains, ctx.sel.concurrency, 'now'))].map(([d, o]) => [d, outsidersSaid(d, o)])),
      );
    }
    for (const o of ctx.federationOps) {
      const s = statusOf(o.id, federationNow);
      federation.set(o.id, s);
      counts[s.status]++;
      // Short of switches that are all settled (stale users', the rest done), no resume can send it: only a new plan for those users.
      const domain = o.requires?.domain ?? '';
      if (!settledNow(s) && (switchesDone.get(domain) ?? 0) >= (o.requires?.switches ?? 0)) resumable = true;
    }
    if (state === 'completed' && (counts.failed > 0 || counts.skipped > 0 || counts.pending > 0)) state = 'partial';
    if (interruptedBySignal()) state = 'interrupted';
    const halted = executor.haltedBy;
    if (halted) {
      deps.log?.(
        `Stopped: ${halted.replace(/\.+$/, '')}. The identity lacks a permission or an Entra role these writes need (mfa-migrate doctor checks the permissions), or these users need a higher role (an admin's methods need Privileged Authentication Administrator). Nothing more was sent; fix the cause, then resume: the refused writes are tried again.`,
      );
    }
    // An interrupted run has no end record: `runs` shows it interrupted, and resume finishes it.
    if (state !== 'interrupted') await journal.end(state, counts);
    return outcome();
  } finally {
    clearInterval(timer);
    deps.signal?.removeEventListener('abort', onAbort);
    report('done');
    await journal.close();
  }

  function outcome(): ApplyOutcome {
    // Members whose switch is a step held back: their rows say so (done alone read as switched).
    const notes = new Map<string, string>();
    for (const h of holds) {
      const held = heldNow.get(h.op);
      if (!held) continue;
      for (const p of h.selected) {
        const upn = plan.users[p]!.upn.toLowerCase();
        if (!notes.has(upn)) notes.set(upn, `not switched to Entra MFA yet: ${held.doing} was not sent: ${held.error}`);
      }
    }
    if (notes.size > 0) for (const u of outcomes) if (notes.has(u.upn.toLowerCase())) u.note = notes.get(u.upn.toLowerCase())!;
    const userCounts = { done: 0, partial: 0, failed: 0, skipped: 0, unknown: 0, 'not-started': 0 };
    for (const u of outcomes) userCounts[u.outcome]++;
    const usersWithChanges = ctx.plan.users.reduce((n, u) => n + (u.pending > 0 ? 1 : 0), 0);
    const notSelected = { users: usersWithChanges - ctx.positions.length, federation: ctx.plan.cutoverChanges.filter((c) => c.target.startsWith('domains/') && !ctx.federationOps.some((o) => o.id === `cutover/${c.target}`)).map((c) => c.target.split('/')[1]!) };
    // Stopped or interrupted, the waves left are the resume's even when no operation of theirs was read.
    const canResume = resumable || state === 'stopped' || state === 'interrupted';
    const domainOf = (o: Operation) => o.requires?.domain ?? o.resource.split('/')[1]!;
    const federationLeft = ctx.federationOps.flatMap((o) => {
      const f = federation.get(o.id);
      return f && f.status !== 'done' ? [{ domain: domainOf(o), status: f.status, ...(f.error ? { error: f.error } : {}) }] : [];
    });
    const federationDone = ctx.federationOps.filter((o) => federation.get(o.id)?.status === 'done').map(domainOf);
    return { runId: ctx.runId, runDir: ctx.runDir, state, ...(executor.haltedBy ? { refusedStop: { reason: executor.haltedBy, ...(refusedWave !== undefined ? { wave: refusedWave } : {}) } } : {}), tenant: ctx.tenant, stale: ctx.stale, users: outcomes, userCounts, counts, stats: executor.stats, notSelected, federationLeft, federationDone, wavesDone, waves, ...(journal.head ? { journalHash: journal.head } : {}), planHash: ctx.plan.hash, resumable: canResume, staleUsers, ...(heldNow.size > 0 ? { switchesHeld: [...heldNow.values()] } : {}), ...(ownLeftOut.size > 0 ? { ownMethodsLeftOut: [...ownLeftOut.values()].map((x) => ({ ...x, resumeAs })) } : {}) };
  }
}

/** Users named by a summary that leaves them to a new plan (the rest are counted). */
const LISTED_STALE = 20;

const isStale = (s: OpOutcome) => s.status === 'skipped' && s.error === STALE;

/** As settledBefore, for an outcome: done, or left out as stale (a resume sends neither again). */
const settledNow = (s: OpOutcome) => s.status === 'done' || isStale(s);

/** One user's outcome from their operations' states. */
export function outcomeOf(upn: string, st: readonly OpOutcome[]): UserOutcome {
  const n = (s: OpState) => st.filter((x) => x.status === s).length;
  const done = n('done');
  const failed = n('failed');
  const skipped = n('skipped');
  const error = st.find((s) => s.error && s.status !== 'done')?.error;
  const staleReason = st.find((s) => s.staleReason !== undefined && isStale(s))?.staleReason;
  // As the run report judges it: a write sent with no answer may have reached the tenant, whatever else happened.
  const outcome: UserOutcome['outcome'] =
    done === st.length ? 'done' : n('started') > 0 ? 'unknown' : failed > 0 && done === 0 ? 'failed' : done > 0 ? 'partial' : skipped > 0 ? 'skipped' : 'not-started';
  return { upn, outcome, operations: st.length, done, failed, skipped, ...(error ? { error } : {}), ...(staleReason !== undefined ? { staleReason } : {}) };
}

export function emptyStats(): ExecStats {
  return { total: 0, done: 0, failed: 0, skipped: 0, throttled: 0, retried: 0, verified: 0, batches: 0, concurrency: 0, startedAt: Date.now(), waitingForPolicy: 0, waitingForGraph: 0, caughtUp: 0, paced: 0, pacedWaiting: 0, doneBefore: 0 };
}

/** Before the run starts: every user (in chunks, so what is held stays small) and the policy; and the run's operation count. */
async function preflight(
  plan: SavedPlan,
  positions: number[],
  policyOps: Operation[],
  client: GraphClient,
  concurrency: number,
  visit: (users: readonly PlanUser[], first: number) => void,
  signal?: AbortSignal,
): Promise<StaleObject[]> {
  const stale: StaleObject[] = [];
  // What each user can sign in with was judged (2.3) by the policy's method targets and the users'
  // memberships of their groups: both are read again, with the policy the plan changes.
  const judged = judgedBy(plan);
  let memberships: Map<string, string[]> | undefined;
  if (policyOps.length > 0 || judged) {
    const policy = await readPolicy(client);
    if (policyOps.length > 0) stale.push(...findStale([], plan.policyChanges, { tenant: { id: 'unknown', displayName: '' }, policy, users: new Map(), hardwareTokens: new Map() }));
    if (judged) {
      stale.push(...targetingStale(plan, judged, policy));
      const selected = new Set(positions.map((i) => plan.users[i]!.userId?.toLowerCase()).filter((id): id is string => id !== undefined));
      memberships = judged.groups.length > 0 ? await transitiveMemberships(client, judged.groups, selected) : new Map();
    }
  }
  // Two chunks in flight: the next one's reads keep the batches full while one ends (its last
  // users' answers) and is compared.
  const chunk = (i: number) =>
    plan.read(positions.slice(i, i + PREFLIGHT_CHUNK)).then(async (users) => {
      visit(users, i);
      const stale = await staleAmong(users, client, concurrency, netbiosMapOf(plan.header.options.netbios_domains)).catch(rethrowMaskedAfter('nothing was sent'));
      return [...(memberships ? membershipStale(users, memberships) : []), ...stale];
    });
  let next = positions.length > 0 ? chunk(0) : undefined;
  for (let i = 0; next; i += PREFLIGHT_CHUNK) {
    const current = next;
    next = i + PREFLIGHT_CHUNK < positions.length ? chunk(i + PREFLIGHT_CHUNK) : undefined;
    next?.catch(() => undefined);
    stale.push(...(await current));
    // An interrupt stops the reading between chunks: a long pre-flight (minutes at Graph's pace) ends now.
    if (signal?.aborted) throw new InterruptedBeforeRunError();
  }
  return stale;
}

/**
 * What apply needs from every selected user's line besides staleness, taken as the pre-flight reads
 * them: the run's operation count (for progress from its first frame, on either token path, since
 * the path is settled after the pre-flight; bulk creates counted per wave) and the planned group adds.
 */
class UserScan {
  /** By the chunk's first position: two chunks are read at once, and their adds stay in plan order. */
  readonly #adds = new Map<number, PlannedAdd[]>();
  #single = 0;
  #bulk = 0;
  /** Token activations, on each path. */
  #activations = { single: 0, bulk: 0 };
  /** By wave (the users written first: -1). */
  readonly #createsPerWave = new Map<number, number>();
  /** The kinds of write the users' operations make (their permissions are checked before any write). */
  readonly kinds = new Set<OpKind>();

  constructor(
    private readonly tokens: boolean,
    /** The wave of the selected user at this index of the run's positions (-1: written before the waves). */
    private readonly waveOf: (index: number) => number,
  ) {}

  get groupAdds(): PlannedAdd[] {
    return [...this.#adds].sort((a, b) => a[0] - b[0]).flatMap(([, adds]) => adds);
  }

  add(users: readonly PlanUser[], first: number): void {
    const adds: PlannedAdd[] = [];
    this.#adds.set(first, adds);
    users.forEach((u, j) => {
      groupAddsOf(u, adds);
      const single = userOperations(u, 'single');
      this.#single += single.length;
      for (const o of single) this.kinds.add(o.kind);
      this.#activations.single += single.filter((o) => isActivationId(o.id)).length;
      if (!this.tokens) return;
      const bulk = userOperations(u, 'bulk-by-id');
      this.#bulk += bulk.length;
      for (const o of bulk) this.kinds.add(o.kind);
      this.#activations.bulk += bulk.filter((o) => isActivationId(o.id)).length;
      const created = bulk.filter((o) => o.kind === 'token-assign-activate' && (o.after as { created?: boolean } | null)?.created).length;
      const wave = this.waveOf(first + j);
      this.#createsPerWave.set(wave, (this.#createsPerWave.get(wave) ?? 0) + created);
    });
  }

  /** The users' token activations on a token path: what the activation pace holds to its rate. */
  activations(path: TokenPath): number {
    return path === 'single' || !this.tokens ? this.#activations.single : this.#activations.bulk;
  }

  /** The users' operations on a token path, bulk creates included (policy and federation steps not). */
  operations(path: TokenPath): number {
    if (path === 'single' || !this.tokens) return this.#single;
    let creates = 0;
    for (const n of this.#createsPerWave.values()) creates += Math.ceil(n / BULK_CREATE_SIZE);
    return this.#bulk + creates;
  }
}

/**
 * The groups of users a run wrote together, in its order (the users written before the staged
 * rollout's step, then each wave), as positions in plan.users: what rollback and report rebuild its
 * operations from (a wave's bulk token creates are named by the wave's serials).
 */
export function runChunks(plan: SavedPlan, sel: Pick<ApplySelection, 'users' | 'maxUsers' | 'batchSize' | 'methodsFirst'>): number[][] {
  const positions = selectUsers(plan, sel);
  const layout = sel.methodsFirst === true ? switchLayout(plan, cutoverOperations(plan.cutoverChanges).beforeWaves, positions, groupNamesOf(plan)) : wavesOnly(positions);
  const size = sel.batchSize > 0 ? sel.batchSize : 500;
  const chunks = layout.first.length > 0 ? [layout.first] : [];
  for (let i = 0; i < layout.waves.length; i += size) chunks.push(layout.waves.slice(i, i + size));
  return chunks;
}

/** The wave of each selected user, by index in `positions` (-1: the users written before the staged rollout's step). */
function waveIndex(layout: SwitchLayout, positions: readonly number[], batchSize: number): (index: number) => number {
  if (layout.first.length === 0) return (index) => Math.floor(index / batchSize);
  const first = new Set(layout.first);
  const inWaves = new Map(layout.waves.map((p, k) => [p, k]));
  return (index) => (first.has(positions[index]!) ? -1 : Math.floor(inWaves.get(positions[index]!)! / batchSize));
}

/**
 * The tokens a done bulk create of the wave left out because the inventory held their serials (the
 * first lookup's list: the run did not create them), whose user's assign-and-activate is not done
 * and applied nothing: an earlier pass's refusal, or never sent. The wave's re-read checks each is
 * still there for the user to take (leftOutStale).
 */
function leftOutByBulk(users: readonly PlanUser[], prior: ReadonlyMap<string, OpRecord>, tokenPath: TokenPath): { user: PlanUser; resources: string[] }[] {
  if (!isBulkPath(tokenPath)) return [];
  const ops = waveOperations(users, tokenPath);
  // By bulk create: the serial keys its first lookup found in the inventory.
  const present = new Map<string, Set<string>>();
  for (const o of ops) {
    const r = o.kind === 'token-bulk-create' ? prior.get(o.id) : undefined;
    const keys = (r?.before as { present?: string[] } | null | undefined)?.present;
    if (r?.state === 'done' && keys && keys.length > 0) present.set(o.id, new Set(keys));
  }
  if (present.size === 0) return [];
  const byUser = new Map<string, string[]>();
  for (const o of ops) {
    if (o.kind !== 'token-assign-activate' || !(o.after as { created?: boolean } | null)?.created || o.userId === undefined) continue;
    const r = prior.get(o.id);
    const applied = r !== undefined && (r.state === 'done' || r.state === 'started' || isUnknownOutcome(r) || (r.state === 'skipped' && r.error === STALE));
    const key = serialKey(String((o.after as { serialNumber?: unknown }).serialNumber ?? ''));
    if (!applied && o.dependsOn.some((d) => present.get(d)?.has(key))) addTo(byUser, o.userId, o.resource);
  }
  return users.flatMap((u) => (byUser.has(u.userId) ? [{ user: u, resources: byUser.get(u.userId)! }] : []));
}

/** The users' changes this run has not touched yet: objects it changed itself are not compared again. */
function trimTouched(users: PlanUser[], prior: ReadonlyMap<string, OpRecord>, tokenPath: TokenPath): PlanUser[] {
  // Tokens a bulk create of the wave has sent (or made) are this run's doing too.
  const bulkSent = new Set<string>();
  for (const o of waveOperations(users, tokenPath)) {
    const r = o.kind === 'token-bulk-create' ? prior.get(o.id) : undefined;
    if (r && r.state !== 'pending') for (const t of (o.after?.tokens as { serialNumber: string }[]) ?? []) bulkSent.add(`hardwareOathMethods/${t.serialNumber}`);
  }
  const touched = (u: PlanUser, resource: string) => {
    if (bulkSent.has(resource)) return true;
    for (const step of ['', '/create', '/assign', '/activate', '/assign-activate', '/delete']) {
      const r = prior.get(`${u.userId}/${resource}${step}`);
      if (r && r.state !== 'pending') return true;
    }
    return false;
  };
  return users.map((u) => ({ ...u, changes: u.changes.filter((c) => !touched(u, c.resource)) })).filter((u) => u.changes.length > 0);
}

/**
 * What a plan of format 2.3 judged each user's methods by: the policy it saw and the groups whose
 * memberships it recorded; undefined for an older plan, which judged no user by them.
 */
function judgedBy(plan: SavedPlan): { policy: AuthenticationMethodsPolicy; groups: string[] } | undefined {
  const policy = plan.header.policy_seen;
  if (!policy || formatMinor(plan.header) < 3) return undefined;
  // As the policy is read now (a plan of an earlier version saw Authenticator's targets with more).
  return { policy: policyAsRead(structuredClone(policy)), groups: judgedGroups(policy, plan.header.options.target_group?.id) };
}

/** The policy's method targets changed since the plan, beyond what the plan itself changes: stale for the whole tenant. */
function targetingStale(plan: SavedPlan, judged: { policy: AuthenticationMethodsPolicy }, live: AuthenticationMethodsPolicy): StaleObject[] {
  return targetingChanges(judged.policy, live, plan.policyChanges).map((c) => ({
    target: `${c.target}.${c.property}`,
    planned: c.before,
    now: c.now,
    reason: "changed since the plan: what each user can sign in with was judged by the policy's method targets",
  }));
}

/** Users whose memberships of the policy's target groups are not what the plan saw (a user with no recorded ones is left alone). */
function membershipStale(users: readonly PlanUser[], now: ReadonlyMap<string, string[]>): StaleObject[] {
  const out: StaleObject[] = [];
  for (const u of users) {
    if (!u.policyGroups) continue;
    const planned = [...u.policyGroups].map((g) => g.toLowerCase()).sort().join(', ');
    const current = [...(now.get(u.userId.toLowerCase()) ?? [])].sort().join(', ');
    if (planned !== current) {
      out.push({ user: u.upn, target: 'policy target groups', planned: planned || '(none)', now: current || '(none)', reason: "the groups of the authentication methods policy that hold the user changed since the plan: what the user can sign in with was judged by them" });
    }
  }
  return out;
}

async function staleAmong(users: PlanUser[], client: GraphClient, concurrency: number, netbiosDomains: ReadonlyMap<string, string>): Promise<StaleObject[]> {
  return (await readUsersAgain(users, [], client, concurrency, netbiosDomains)).stale;
}

/** A wave's re-read: its users changed since the plan, and the switches held back. */
interface WaveRecheck {
  stale: StaleObject[];
  held: HeldSwitch[];
}

/** A switch not sent: the methods it rests on are gone since an earlier pass of the run wrote them. */
interface HeldSwitch {
  upn: string;
  /** The rollout group add's operation id ('' for a member the staged rollout's own step switches). */
  op: string;
  reason: string;
  /** What is gone (switchGaps). */
  gaps: string[];
}

/** A user whose switch this pass sends after an earlier pass wrote (some of) their changes. */
interface SwitchAfterWrites {
  user: PlanUser;
  /** The rollout group add ('' for a member switched by the staged rollout's own step, who has none). */
  op: string;
  /** The method resources the earlier passes wrote (every write of them done). */
  written: string[];
}

/**
 * The wave's users whose switch (rollout group add) is left to send while an earlier pass of the run
 * got to some of their operations: their method writes are the run's own, which the re-read of what
 * the plan saw leaves out (trimTouched), and a user whose switch failed is left out of it whole.
 * `members`: the users the staged rollout's own step switches (they have no add: the step is their
 * switch, and the caller asks only while it is left to send), each an earlier pass got to.
 */
function switchesAfterWrites(users: readonly PlanUser[], prior: ReadonlyMap<string, OpRecord>, tokenPath: TokenPath, members?: 'members'): SwitchAfterWrites[] {
  const out: SwitchAfterWrites[] = [];
  for (const u of users) {
    const ops = userOperations(u, tokenPath);
    const sw = members ? undefined : ops.find((o) => o.kind === 'rollout-add');
    if (!members && (!sw || settledBefore(prior.get(sw.id)))) continue;
    if (!ops.some((o) => (prior.get(o.id)?.state ?? 'pending') !== 'pending')) continue;
    const done = new Map<string, boolean>();
    for (const o of ops) {
      if (o === sw || !/^(phoneMethods|hardwareOathMethods)\//.test(o.resource) || o.kind === 'phone-delete') continue;
      done.set(o.resource, (done.get(o.resource) ?? true) && prior.get(o.id)?.state === 'done');
    }
    out.push({ user: u, op: sw?.id ?? '', written: [...done].filter(([, d]) => d).map(([r]) => r) });
  }
  return out;
}

/** The users an earlier pass of the run added to a rollout group (sent: an add with no answer may be in place). */
function addedByRun(prior: ReadonlyMap<string, OpRecord>): Set<string> {
  const out = new Set<string>();
  for (const [id, r] of prior) {
    const at = id.indexOf('/rolloutGroup/');
    if (at > 0 && (r.state === 'done' || r.state === 'started')) out.add(id.slice(0, at));
  }
  return out;
}

/**
 * One read of each user (batched): `users` compared with what the plan saw (findStale), `switching`
 * checked for the methods their switch rests on (switchGaps). A user the plan matched by an
 * on-premises name is read by their tenant UPN, and must still be the one tenant user that name
 * matches (`netbiosDomains`: the plan's --netbios-domain), or they count as no longer in the tenant.
 * `leftOut`: tokens a done bulk create left out, checked still there for their user (leftOutStale).
 */
async function readUsersAgain(
  users: readonly PlanUser[],
  switching: readonly SwitchAfterWrites[],
  client: GraphClient,
  concurrency: number,
  netbiosDomains: ReadonlyMap<string, string>,
  leftOut: readonly { user: PlanUser; resources: string[] }[] = [],
): Promise<WaveRecheck> {
  if (users.length === 0 && switching.length === 0 && leftOut.length === 0) return { stale: [], held: [] };
  const known = new Map<string, { upn: string; userId: string; needsPreferences: boolean; username?: string }>();
  const entry = (u: PlanUser, needsPreferences: boolean) => ({ upn: u.tenantUpn ?? u.upn, userId: u.userId, needsPreferences, ...(u.tenantUpn !== undefined ? { username: u.upn } : {}) });
  for (const u of users) known.set(u.userId, entry(u, u.changes.some((c) => c.resource === 'signInPreferences')));
  for (const s of switching) if (!known.has(s.user.userId)) known.set(s.user.userId, entry(s.user, false));
  const tokensOf = (u: PlanUser) => [...u.changes, ...(u.kept ?? [])].filter((c) => c.resource.startsWith('hardwareOathMethods/')).map((c) => c.resource.slice('hardwareOathMethods/'.length));
  const serials = [...new Set([...users.flatMap(tokensOf), ...switching.flatMap((s) => tokensOf(s.user)), ...leftOut.flatMap((l) => l.resources.map((r) => r.slice('hardwareOathMethods/'.length)))])];
  const tenant = await readTenant(client, {
    known: [...known.values()],
    ...([...known.values()].some((k) => k.username !== undefined) ? { onPremises: { netbiosDomains } } : {}),
    serials,
    policy: false,
    organization: false,
    concurrency: Math.max(concurrency, READ_CONCURRENCY_MIN),
  });
  const held = switching.flatMap((s) => {
    const gaps = switchGaps(s.user, s.written, tenant);
    return gaps.length === 0 ? [] : [{ upn: s.user.upn, op: s.op, reason: heldBackReason(s.user.upn, gaps), gaps }];
  });
  return { stale: [...findStale(users, [], tenant), ...leftOutStale(leftOut, tenant)], held };
}

/** What the journal, the --results file and the summary say of a switch held back. */
export function heldBackReason(upn: string, gaps: readonly string[]): string {
  return `held back, not sent: ${upn}'s switch to Entra MFA rests on what is no longer there: ${gaps.join('; ')}. Put them back and resume (the switch is sent once they are there), or roll the run back and make a new plan`;
}

/** One more for a key. */
function addCount(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
