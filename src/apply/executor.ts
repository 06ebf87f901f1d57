import { addTo } from '../model/add-to.js';
import { bulkNotSent, type BulkBefore } from './bulk-before.js';
import type { BatchPipeline, PipelineOutcome, Prepared } from '../graph/batch-pipeline.js';
import { errorText, isSuccess, type GraphResponse } from '../graph/graph-call.js';
import type { GraphClient } from '../graph/graph-client.js';
import type { Backoff } from '../graph/retry-policy.js';
import { OUTCOME_UNKNOWN_WORDING, type Journal, type OpRecord, type OpState } from './journal.js';
import { callFor, resultOf, type CallContext } from './op-calls.js';
import { refusedForGood } from './refused-for-good.js';
import { MaskedPhoneError } from '../graph/masked-phone.js';
import { lookUpBeforeCreate, ReadBackError, serialsPresent, verifyOp, type InventoryLookup, type Verified } from './op-verify.js';
import type { Operation } from './operations.js';
import { capabilitiesOf } from './permission-check.js';
import { isUnknownOutcome } from './rollback-settle.js';
import { capability } from '../graph/permissions.js';
import { serialKey } from '../model/serial.js';
import type { PolicyWait } from './policy-propagation.js';
import { SendRounds } from './send-rounds.js';
import { growingStep, VisibilityLag } from './visibility-lag.js';

export interface ExecutorOptions {
  client: GraphClient;
  journal: Journal;
  context: Omit<CallContext, 'results'>;
  /** `$batch` requests in flight at most; halved while Graph throttles, grown back after. */
  concurrency: number;
  /** Sends of one operation whose outcome stays unknown (read back each time) before it fails. */
  maxAttempts?: number;
  backoff?: Backoff;
  /** How an operation's change is read back (tests may count or fail it). */
  verify?: (op: Operation) => Promise<Verified>;
  /** How a token's serial is looked up right before it is created. */
  lookUp?: (op: Operation) => Promise<InventoryLookup>;
  /** At most this many token activations per window (the admin center documents 200 per 5 minutes). */
  activationPace?: { activations: number; windowMs: number };
  /** When activations were sent before this executor (a resumed run's, within the window): they count against the pace. */
  activationsSent?: readonly number[];
  /**
   * Asked of an activation refused as the hardware OATH policy's propagation refuses: until when it is
   * tried again rather than failed (Entra takes up to 20 minutes to apply the method, "allow an hour"),
   * or why it fails. Unset: such a refusal fails at once.
   */
  policyPropagation?: () => Promise<PolicyWait>;
  /** How often an activation waiting for the policy is tried again. */
  propagationRetryMs?: number;
  /**
   * When each operation of the run's earlier passes was last journaled (a resume's): a create sent
   * or done moments before a crash may not be visible yet, and its consistency window counts from then.
   */
  priorTimes?: ReadonlyMap<string, string>;
  now?: () => number;
  /**
   * Stops sending, as an interrupt does, once this many writes needing one permission were refused
   * for access (403) with none of them done between: a permission or an Entra role the
   * identity lacks fails every user alike, and a review saw a run send thousands of refused writes
   * (while writes of another permission, the inventory's, went on succeeding). Off when unset.
   */
  stopAfterRefusals?: number;
}

export interface ExecStats {
  total: number;
  /** Activations waiting for the hardware OATH policy to apply, and until when they are tried. */
  waitingForPolicy: number;
  policyWaitUntil?: number;
  /** Operations waiting for Graph to show what the run created moments before (its eventual consistency). */
  waitingForGraph: number;
  /**
   * Writes sent again because Graph had not shown yet what the run created moments before (a 404 or a
   * refused default method within the consistency window): each refused send used write quota, and is
   * no throttling (a rehearsal read `148 retried` for 2,355 of them).
   */
  caughtUp: number;
  /** Activations held back at least once to keep the activation pace. */
  paced: number;
  /** Activations held back by the pace now. */
  pacedWaiting: number;
  /**
   * The activation pace, for the ETA and the pace's wait: `activations` per `windowMs`; `left`, the
   * run's activations not settled yet (when known); `inWindow`, those sent within the window now;
   * `next`, once the window is full, when `count` more may go (the window's oldest that many age out).
   */
  activationPace?: { activations: number; windowMs: number; left?: number; inWindow: number; firstFreeAt?: number; next?: { count: number; at: number } };
  done: number;
  /** Of `done`, those an earlier pass of the run did (not sent now: rates leave them out). */
  doneBefore: number;
  failed: number;
  skipped: number;
  throttled: number;
  /** While the run waits out Graph's throttling (429 Retry-After): until when (ms since the epoch). */
  throttledUntil?: number;
  retried: number;
  verified: number;
  batches: number;
  concurrency: number;
  startedAt: number;
}

export interface OpOutcome {
  status: OpState;
  error?: string;
  /** Left out as stale (error `stale`): why, as journaled (OpRecord.staleReason). */
  staleReason?: string;
}

type Status = 'waiting' | 'timed' | 'submitted' | 'verify' | 'done' | 'failed' | 'skipped' | 'stopped';

interface Slot {
  op: Operation;
  status: Status;
  attempts: number;
  error?: string;
  /** Refused for access by an earlier pass: refused again, it is no news (stopAfterRefusals counts the others). */
  refusedBefore?: boolean;
  /** A token create whose serial was looked up in the inventory already. */
  looked?: boolean;
  /** A bulk create an earlier attempt may have applied in part: what it made is read back at the end. */
  rereadResult?: boolean;
  /** Graph's request id of the last answer to this operation (journaled with its outcome). */
  requestId?: string;
  /** A bulk create's serials the inventory holds already: left out of it. */
  skip?: Set<string>;
  /** An activation being tried again while the hardware OATH policy propagates. */
  waitedForPolicy?: boolean;
  /** An earlier run (this one, resumed) may have sent it: what is found there may be its own doing. */
  sentBefore?: boolean;
  /** Its first send ever was answered "exists already": found there on read-back, it is another run's. */
  foundThere?: boolean;
  /** Settled by reading the tenant back (why), not by Graph's answer to it: said in the journal. */
  readBackReason?: string;
  /** When it was last sent (Date.now()). */
  sentAt?: number;
  /** When its last send left for Graph (its batch's journal line written): what a refusal's age counts from. */
  wentAt?: number;
  /** 404s waited out because what it works on was created a moment ago (Graph's eventual consistency). */
  replicaWaits?: number;
  /** Counted in stats.waitingForGraph. */
  waitingForGraph?: boolean;
  /** Its last send was refused for Graph's lag: its next send counts in stats.caughtUp. */
  lagRefused?: boolean;
  /** A send of this pass had an unknown outcome (it may have been applied). */
  outcomeUnknown?: boolean;
  /** Journaled `started` by this pass (its batch was sent). */
  startedThisPass?: boolean;
  /** Counted in stats.pacedWaiting. */
  heldByPace?: boolean;
  /** Counted in stats.paced. */
  pacedOnce?: boolean;
  /** When its activation was last sent, as counted against the activation pace. */
  pacedAt?: number;
  /** Read-backs made only to wait out Graph's consistency window since its last send (apart from reads that failed). */
  settleReads?: number;
  /** A bulk create's serials the inventory held at its last lookup, with their device ids (what an earlier attempt made among them). */
  found?: Map<string, string>;
  /** Sends this pass made (attempts also counts failed serial lookups, which send nothing). */
  sends?: number;
  /**
   * Entries of its dependsOn (with repeats) whose slot in this step has not ended yet, and those that
   * ended failed or skipped: kept as they settle, so that promote need not scan the list each time one
   * ends (a rollback's policy undo waits for every user's last undo: 20,000 scans of 20,000).
   */
  depsOpen: number;
  depsFailed: number;
}

/**
 * Operations that create what later operations of the run name by id or serial, a token assigned
 * included (its activation names the user's new method): a 404 from those may be Graph's lag.
 */
const CREATES: ReadonlySet<Operation['kind']> = new Set(['token-create', 'token-bulk-create', 'token-assign', 'rollout-policy-create']);
/** A write that activates a token: what the activation pace counts. */
const isActivationKind = (k: Operation['kind']) => k === 'token-activate' || k === 'token-assign-activate';
/** Writes that register or activate a method a default method may name (a refusal of that default may be Graph's lag). */
const METHOD_WRITES: ReadonlySet<Operation['kind']> = new Set(['phone-create', 'phone-update', 'email-create', 'token-activate', 'token-assign-activate']);
/** What a write Graph's lag hides made, as a failure names it: the object, and what the run did. */
const LAG_OBJECT: Partial<Record<Operation['kind'], [string, string]>> = {
  'token-create': ['token', 'created'],
  'token-bulk-create': ['token', 'created'],
  'token-assign': ['token', 'assigned'],
  'rollout-policy-create': ['staged rollout policy', 'created'],
  'phone-create': ['phone', 'registered'],
  'phone-update': ['phone', 'changed'],
  'email-create': ['email method', 'registered'],
  'token-activate': ['token', 'activated'],
  'token-assign-activate': ['token', 'assigned and activated'],
};
/** Removals (rollback's): a 404 may mean the object is gone already (another rollback, an admin), which is what they want. */
const REMOVALS: ReadonlySet<Operation['kind']> = new Set(['phone-delete', 'email-delete', 'token-unassign', 'token-delete', 'token-deactivate', 'rollout-policy-delete', 'rollout-detach', 'group-member-remove']);
/** Creates Graph does not refuse to repeat (one serial may be created twice): never resent while the object may not be visible yet. */
const UNGUARDED_CREATES: ReadonlySet<Operation['kind']> = new Set(['token-create', 'token-bulk-create']);

/**
 * An activation refusal the policy's propagation may end. Graph's wording of that refusal is not
 * documented (only the delay: "up to 20 minutes ... Allow an hour"), so within the wait any 400 or 403 is
 * taken for it, except one that names what waiting does not mend: a missing permission or role, the
 * verification code, the token's serial number or the inventory (two tokens of one serial, say). A
 * refusal worded otherwise for another reason fails once the wait is over.
 */
function mayBePolicyPropagation(res: { status: number; body: unknown }): boolean {
  if (res.status !== 400 && res.status !== 403) return false;
  const error = (res.body as { error?: { code?: string; message?: string } } | null)?.error;
  return !NOT_MENDED_BY_WAITING.test(`${error?.code ?? ''} ${error?.message ?? ''}`);
}

/** Whether an earlier pass's send of a bulk create may have made tokens, as its journal record says. */
function mayHaveMadeTokens(r: OpRecord): boolean {
  return r.state === 'started' || isUnknownOutcome(r) || r.earlierSendMayHaveMade === true;
}

/** A final answer refusing access (errorText's `403 ...`; a 401 gets a new token, or ends the command, in graph/). */
const ACCESS_REFUSED = /^403\b/;

const NOT_MENDED_BY_WAITING =
  /Authorization_RequestDenied|AccessDenied|privilege|permission|not authori[sz]ed|consent|\brole\b|verification ?code|invalid ?code|code is (not )?valid|serial ?number|inventory|duplicate|already (assigned|activated)/i;

/**
 * Runs operations through Graph: each goes to the write pipeline (`$batch`, throttle-aware) once
 * every operation it depends on is done, so batches are always fully parallel (Graph refuses a batch
 * that mixes dependsOn chains). A write whose outcome is unknown is read back before it is sent
 * again, so nothing is created twice. Every batch is journaled `started` before it is sent (the
 * pipeline waits for the fsync) and with its outcomes after. interrupt() stops sending: the run ends
 * once the batches in flight are answered and journaled; what was not sent stays pending.
 */
export class Executor {
  readonly stats: ExecStats;
  private readonly pipeline: BatchPipeline;
  private readonly slots = new Map<string, Slot>();
  /** Results (created token ids) by operation id: kept across steps, few (one per token). */
  private readonly results = new Map<string, Record<string, unknown>>();
  private readonly dependents = new Map<string, string[]>();
  private readonly backoff: Backoff;
  private readonly maxAttempts: number;
  private readonly verify: (op: Operation) => Promise<Verified>;
  private readonly lookUp: (op: Operation) => Promise<InventoryLookup>;
  private records: OpRecord[] = [];
  /** When the last activations were sent (the pace's sliding window), oldest first. */
  private readonly activationTimes: number[] = [];
  /** The run's activations not settled yet, all its waves (expectActivations); undefined: not known. */
  private activationsLeft: number | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private active = 0;
  private interrupted = false;
  /** By the permissions they need (joined): writes refused for access since the last one done (stopAfterRefusals). */
  private readonly refusedInARow = new Map<string, number>();
  private halt: string | undefined;
  private finish: (() => void) | undefined;
  private fail: ((e: unknown) => void) | undefined;
  private failed: unknown;
  /** Sends made again after a read-back found the change missing. */
  private resent = 0;
  /**
   * When operations others depend on were done (Date.now()), by id: what depends on them may meet a 404
   * (a token or policy just created), or a default method refused (a method just registered), for a while.
   */
  private readonly dependedOnDoneAt = new Map<string, number>();
  /** Operations sent again later go in rounds, packed into full batches. */
  private readonly rounds: SendRounds;
  /**
   * How long Graph takes to show what the run just wrote, learned from its refusals: a new token or
   * policy (404s), a new phone or an activated token (a default method naming it refused).
   */
  private readonly lag: { created: VisibilityLag; method: VisibilityLag };

  constructor(private readonly opts: ExecutorOptions) {
    this.backoff = opts.backoff ?? opts.client.backoff;
    this.maxAttempts = opts.maxAttempts ?? 8;
    this.verify = opts.verify ?? ((op) => verifyOp(op, opts.client));
    this.lookUp = opts.lookUp ?? ((op) => lookUpBeforeCreate(op, opts.client));
    this.activationTimes.push(...[...(opts.activationsSent ?? [])].sort((a, b) => a - b));
    const windowMs = opts.client.consistencyMs;
    // Rounds a sixteenth of the window apart at most (250 ms): finer than the waits they gather.
    this.rounds = new SendRounds(Math.min(250, Math.max(1, windowMs / 16)));
    this.lag = { created: new VisibilityLag(windowMs), method: new VisibilityLag(windowMs) };
    this.stats = { total: 0, done: 0, failed: 0, skipped: 0, throttled: 0, retried: 0, verified: 0, batches: 0, concurrency: opts.concurrency, startedAt: Date.now(), waitingForPolicy: 0, waitingForGraph: 0, caughtUp: 0, paced: 0, pacedWaiting: 0, doneBefore: 0, ...(opts.activationPace ? { activationPace: { ...opts.activationPace, inWindow: 0 } } : {}) };
    this.pipeline = opts.client.writer({
      concurrency: opts.concurrency,
      beforeSend: (ids) => {
        const slots = ids.map((id) => this.slots.get(id));
        for (const slot of slots) if (slot) slot.startedThisPass = true;
        return opts.journal
          .ops(ids.map((id) => ({ op: id, state: 'started', before: this.slots.get(id)?.op.before })))
          .then(() => {
            const at = Date.now();
            for (const slot of slots) if (slot) slot.wentAt = at;
          });
      },
    });
  }

  /** What an operation of this run gave (a created token's device id, when a policy change was made). */
  resultOf(id: string): Record<string, unknown> | undefined {
    return this.results.get(id);
  }

  /** Results (device ids) known from earlier runs of the same operations. */
  seedResults(prior: ReadonlyMap<string, OpRecord>): void {
    for (const [id, r] of prior) if (r.result) this.results.set(id, r.result);
  }

  /**
   * The whole run's operation count and those an earlier run of it finished, set up front so that
   * progress shows its total from the first frame and never goes backwards.
   */
  expect(total: number, alreadyDone: number): void {
    this.stats.total = total;
    this.stats.done += alreadyDone;
    this.stats.doneBefore += alreadyDone;
  }

  /** The run's activations not done before (all its waves, not this step's alone): the ETA's pace floor counts them. */
  expectActivations(left: number): void {
    this.activationsLeft = left;
  }

  /** Stops sending new batches; run() ends once those in flight are answered and journaled. */
  interrupt(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    this.pipeline.stop();
    this.rounds.clear();
    for (const s of this.slots.values()) {
      if (s.status === 'waiting' || s.status === 'timed') {
        // Waiting to be sent again after answers that applied nothing (a 404 while Graph replicates,
        // a refusal while the policy propagates): not an unknown outcome either.
        if (s.status === 'timed') this.backToPending(s);
        this.markStopped(s);
      }
    }
    this.checkFinished();
  }

  get wasInterrupted(): boolean {
    return this.interrupted;
  }

  /** Why the executor stopped itself (stopAfterRefusals), when it did: an interrupt of its own. */
  get haltedBy(): string | undefined {
    return this.halt;
  }

  /**
   * Runs the operations of one step (the policy, a wave) to the end: each is done, failed (the run
   * goes on), skipped (a dependency failed) or, after interrupt(), pending. `prior` holds the journal
   * of a resumed run: done operations are not sent again, those of unknown outcome (`started`, or
   * `failed` with it unknown) are read back first.
   */
  async run(ops: readonly Operation[], prior: ReadonlyMap<string, OpRecord> = new Map()): Promise<Map<string, OpOutcome>> {
    // A step's slots are not needed by the next: a 100,000-user apply would otherwise hold them all.
    this.slots.clear();
    this.dependents.clear();
    this.dependedOnDoneAt.clear();
    const priorAt = (id: string): number | undefined => {
      const t = this.opts.priorTimes?.get(id);
      return t === undefined ? undefined : Date.parse(t);
    };
    for (const op of ops) {
      const p = prior.get(op.id);
      // Sent by an earlier pass (left started, or failed: perhaps with its outcome unknown; a skipped
      // one never was): when it was last journaled starts its consistency window.
      const sentBefore = p?.state === 'started' || p?.state === 'failed';
      const at = sentBefore ? priorAt(op.id) : undefined;
      const sent = sentBefore ? { sentBefore: true as const, ...(at !== undefined ? { sentAt: at } : {}) } : {};
      const refusedBefore = p?.state === 'failed' && p.error !== undefined && ACCESS_REFUSED.test(p.error) ? { refusedBefore: true } : {};
      this.slots.set(op.id, { op, status: p?.state === 'done' ? 'done' : this.interrupted ? 'stopped' : 'waiting', attempts: 0, depsOpen: 0, depsFailed: 0, ...sent, ...refusedBefore });
      for (const d of op.dependsOn) {
        addTo(this.dependents, d, op.id);
        // Done by an earlier pass moments before a crash: what depends on it may still meet a 404.
        const at = prior.get(d)?.state === 'done' ? priorAt(d) : undefined;
        if (at !== undefined) this.dependedOnDoneAt.set(d, at);
      }
    }
    // Once every slot exists (a dependency may come later in `ops`); one outside the step counts as done.
    for (const s of this.slots.values()) for (const d of s.op.dependsOn) if (this.slots.has(d) && this.slots.get(d)!.status !== 'done') s.depsOpen++;
    const done = new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
    });
    for (const op of ops) {
      const s = this.slots.get(op.id)!;
      if (s.status !== 'waiting') continue;
      const left = prior.get(op.id);
      // A bulk create's journaled `before` (from its first send, whatever came after) says which
      // serials the inventory held before it: what it made since is the run's.
      if (op.kind === 'token-bulk-create' && left && left.state !== 'pending' && left.before !== undefined) s.op = { ...s.op, before: left.before };
      // Sent by an earlier pass where a send may have made tokens (left started, failed with its
      // outcome unknown, or failed after such a send: journaled `earlierSendMayHaveMade`): what its
      // lookup or read-back finds beyond that `before` is the run's, for its rollback to delete (a
      // review: a failed one found whole was done with no device ids). One Graph refused outright made
      // none: what is found since is someone else's (a review: an admin's upload of the same serials
      // was credited to the run, and its rollback deleted them).
      if (op.kind === 'token-bulk-create' && s.sentBefore && left && mayHaveMadeTokens(left)) s.rereadResult = true;
      // Sent by an earlier pass with no answer (left started by a crash, or failed with its outcome
      // unknown): read back before anything is sent again, a token create until its consistency window
      // (from its journaled time) is over. Looked up at once, a resume moments after a failed one found
      // none of the tokens Graph still hid and created every serial again (a review's lead, reproduced in
      // test/apply/unknown-create-resume-lag.test.ts).
      if (left?.state === 'started') void this.readBack(s, 'left started by an earlier run');
      else if (left && isUnknownOutcome(left)) void this.readBack(s, 'sent by an earlier run, its outcome unknown');
      else this.promote(s);
    }
    this.checkFinished();
    await done;
    await this.flush();
    const out = new Map<string, OpOutcome>();
    for (const op of ops) {
      const s = this.slots.get(op.id)!;
      const status: OpState = s.status === 'done' || s.status === 'failed' || s.status === 'skipped' ? s.status : this.leftAs(s, prior.get(op.id));
      out.set(op.id, { status, ...(s.error && status !== 'done' ? { error: s.error } : {}) });
    }
    return out;
  }

  private promote(s: Slot): void {
    if (s.status !== 'waiting') return;
    // The list is scanned only to name the first failed dependency, once: the slot is skipped then.
    const failedDep = s.depsFailed > 0 ? s.op.dependsOn.find((d) => ['failed', 'skipped'].includes(this.slots.get(d)?.status ?? '')) : undefined;
    if (failedDep) {
      this.settle(s, 'skipped', `skipped: ${failedDep} did not succeed`);
      return;
    }
    if (s.depsOpen === 0) this.submit(s);
  }

  /** Sends an operation: its call is made now to learn its version, and again when its batch forms. */
  private submit(s: Slot): void {
    if (this.interrupted) {
      this.markStopped(s);
      return this.checkFinished();
    }
    // What it depends on was done too recently for Graph to show it yet (as its refusals taught):
    // sent once it should, rather than refused (each refusal uses write quota) and sent again.
    const hold = this.visibilityHold(s.op);
    if (hold > 0) {
      this.startWaitingForGraph(s);
      return this.later(s, hold);
    }
    if (s.op.kind === 'token-create' && !s.looked) return void this.lookUpFirst(s);
    if (s.op.kind === 'token-bulk-create' && !s.looked) return void this.lookUpBulk(s);
    const ctx = { ...this.opts.context, results: this.results };
    const first = callFor(s.op, ctx, s.skip);
    if ('error' in first) return this.settle(s, 'failed', first.error);
    if ('deferMs' in first) return this.later(s, first.deferMs);
    s.status = 'submitted';
    // Sent: it waits for Graph no more (a refusal counts it again), nor under two reasons at once while the pace holds it.
    this.stopWaitingForGraph(s);
    if (s.lagRefused) {
      s.lagRefused = false;
      this.stats.caughtUp++;
    }
    s.attempts++;
    s.sends = (s.sends ?? 0) + 1;
    s.sentAt = Date.now();
    this.active++;
    // An activation's code is made when its batch forms, and the pace is kept there, at sending time.
    const lazy = isActivationKind(s.op.kind);
    // When this submission's call was last made, as counted against the pace.
    let countedAt: number | undefined;
    const activation = (): Prepared => {
      // Asked again after a call was made: that send was answered 429 (the pipeline resends a write
      // for nothing else), which Graph did not take nor count, so its slot of the pace is given back.
      if (countedAt !== undefined) {
        this.givePaceBack(countedAt);
        countedAt = undefined;
      }
      const pace = this.opts.activationPace;
      const wait = pace ? this.paceWait(pace) : 0;
      if (wait > 0) {
        // Counted once per activation, however often its turn comes round before the pace allows it.
        if (!s.heldByPace) {
          s.heldByPace = true;
          this.stats.pacedWaiting++;
          if (!s.pacedOnce) {
            s.pacedOnce = true;
            this.stats.paced++;
          }
        }
        return { deferMs: wait };
      }
      this.stopPaceWait(s);
      const made = callFor(s.op, { ...this.opts.context, results: this.results });
      if ('call' in made) {
        s.pacedAt = countedAt = Date.now();
        this.activationTimes.push(s.pacedAt);
      }
      return made;
    };
    this.pipeline
      .submit({ version: first.call.version, call: lazy ? activation : first.call, tag: s.op.id })
      .then((outcome) => this.onOutcome(s, outcome))
      .catch((err: unknown) => this.abort(err))
      .finally(() => {
        this.active--;
        this.syncStats();
        this.checkFinished();
      });
  }

  /** Sends an operation again after `ms` (a time step, a backoff, the policy, Graph's lag), in the round then due. */
  private later(s: Slot, ms: number): void {
    s.status = 'timed';
    this.rounds.after(ms, () => {
      if (s.status === 'timed') {
        s.status = 'waiting';
        this.submit(s);
      }
    });
  }

  /** An activation Graph did not count (answered 429 or 404) leaves the pace. */
  private givePaceBack(at: number): void {
    const i = this.activationTimes.indexOf(at);
    if (i >= 0) this.activationTimes.splice(i, 1);
  }

  /** The pace as of now, for progress: how full its window is, and when it frees. */
  private syncPace(): void {
    const pace = this.opts.activationPace;
    if (!pace) return;
    this.paceWait(pace);
    const times = this.activationTimes;
    const left = this.activationsLeft;
    // Once the window is full, the next that may go: as many as are left, up to the window's, when the last of them ages out.
    const count = Math.min(left ?? this.stats.pacedWaiting, times.length);
    const full = times.length >= pace.activations;
    this.stats.activationPace = {
      ...pace,
      ...(left !== undefined ? { left } : {}),
      inWindow: times.length,
      ...(times.length > 0 ? { firstFreeAt: times[0]! + pace.windowMs } : {}),
      ...(full && count > 0 ? { next: { count, at: times[count - 1]! + pace.windowMs } } : {}),
    };
  }

  /** How long until another activation fits the pace (0: now). */
  private paceWait(pace: { activations: number; windowMs: number }): number {
    const now = Date.now();
    while (this.activationTimes.length > 0 && this.activationTimes[0]! <= now - pace.windowMs) this.activationTimes.shift();
    return this.activationTimes.length < pace.activations ? 0 : this.activationTimes[0]! + pace.windowMs - now;
  }

  private onOutcome(s: Slot, outcome: PipelineOutcome): void {
    if ((outcome.kind === 'answer' || outcome.kind === 'unknown') && outcome.requestId) s.requestId = outcome.requestId;
    switch (outcome.kind) {
      case 'stopped':
        // Not sent again (answered 429, or queued to be sent again after a 404 or a refusal while
        // the policy propagates, when the interrupt came): what its sends were answered applied nothing.
        return this.stopUnapplied(s);
      case 'refused':
        return this.settle(s, 'failed', outcome.reason);
      case 'unknown':
        s.outcomeUnknown = true;
        s.error = outcome.reason;
        // Whatever it made existed by now at the latest: the consistency window counts from here
        // (a write held long in the pipeline, throttled, would otherwise be sent again too soon),
        // and its read-backs start again at short intervals.
        s.sentAt = Date.now();
        s.settleReads = 0;
        // Graph said "exists" to the first send this operation ever had: nothing of this run made it.
        if (outcome.existedAtFirstSend && s.sends === 1 && !s.sentBefore) s.foundThere = true;
        void this.readBack(s, outcome.reason);
        return;
      case 'answer': {
        const res = outcome.response;
        if (isSuccess(res)) {
          if (s.op.kind === 'policy-config' || s.op.kind === 'policy-root') {
            // When the policy changed: how long activations may have to wait for it is counted from here.
            const doneAt = { doneAt: new Date().toISOString() };
            this.results.set(s.op.id, doneAt);
            return this.settle(s, 'done', undefined, doneAt);
          }
          this.stopWaiting(s);
          this.noteShown(s);
          const answered = resultOf(s.op, res.body);
          // Sent again after an attempt that may have applied in part: the answer lists only this
          // send's tokens; the lookup right before it (past the consistency window of the earlier
          // attempt) found what that one made. Done at once: reading back tokens just created would
          // wait for Graph to show them (a black-box test saw the wave wait another 30 s).
          const result =
            s.op.kind !== 'token-bulk-create' ? answered
            : s.rereadResult ? { devices: { ...this.madeEarlier(s), ...(answered?.devices as Record<string, string> | undefined) } }
            : { ...answered, ...this.foundNotMade(s) };
          if (result) this.results.set(s.op.id, result);
          return this.settle(s, 'done', undefined, result);
        }
        // Not found, though this run created it a moment ago: Entra is eventually consistent (a new
        // object may answer 404 at first), so it is tried again within the consistency window. So is a
        // default method refused (400) moments after the method it names was registered or activated.
        const lagKinds = res.status === 404 ? CREATES : res.status === 400 && s.op.kind === 'signin-update' ? METHOD_WRITES : undefined;
        if (lagKinds !== undefined && this.dependsOnJustDone(s.op, lagKinds)) {
          // Not an activation Graph counted (the token was not found): it does not use up the pace.
          if (s.pacedAt !== undefined) this.givePaceBack(s.pacedAt);
          // Interrupted, it is not sent again; nor is it failed: Graph had not caught up (a black-box
          // test saw users blamed for a method they had), and a resume sends it.
          if (this.interrupted) return this.stopUnapplied(s);
          s.attempts--;
          s.replicaWaits = (s.replicaWaits ?? 0) + 1;
          s.lagRefused = true;
          this.startWaitingForGraph(s);
          return this.later(s, this.afterLagRefusal(s, lagKinds));
        }
        // Refused so after the window of what this run wrote: said, with the way on (a rehearsal read a bare
        // "does not have the method 'sms' registered" for a phone the run had registered seconds before).
        if (lagKinds !== undefined) {
          const late = this.lateForLag(s.op, lagKinds, res);
          if (late) return this.settle(s, 'failed', late);
        }
        // Gone already: read back, and done if what the removal wants is there.
        if (res.status === 404 && REMOVALS.has(s.op.kind) && !this.interrupted) return void this.readBack(s, `answered 404 (${errorText(res)})`);
        // Refused for good (a token another user's, an address Graph refuses): no wait for the policy
        // and no resume mends it (a black-box test saw 20 minutes of retries, then a resume offered
        // that failed again at once), so it is failed saying to plan again.
        const final = refusedForGood(s.op, res);
        if (final) return this.settle(s, 'failed', final);
        // Refused, maybe because the hardware OATH policy has not reached this user yet (whoever
        // enabled it): tried again until the propagation time the run allows is over.
        if ((s.op.kind === 'token-activate' || s.op.kind === 'token-assign-activate') && mayBePolicyPropagation(res) && this.opts.policyPropagation) return void this.waitForPolicy(s, res);
        return this.settle(s, 'failed', errorText(res));
      }
    }
  }

  /** An activation refused as the policy's propagation refuses: sent again later while the policy may still be propagating, else failed saying why. */
  private async waitForPolicy(s: Slot, res: GraphResponse): Promise<void> {
    s.status = 'verify';
    this.active++;
    try {
      const verdict = await this.opts.policyPropagation!().catch((err: unknown): PolicyWait => ({ failure: (err as Error).message }));
      if ('until' in verdict && Date.now() < verdict.until) {
        if (this.interrupted) return this.stopUnapplied(s);
        if (!s.waitedForPolicy) {
          s.waitedForPolicy = true;
          this.stats.waitingForPolicy++;
        }
        this.stats.policyWaitUntil = verdict.until;
        s.attempts--;
        return this.later(s, Math.min(this.opts.propagationRetryMs ?? 60_000, verdict.until - Date.now()));
      }
      return this.settle(s, 'failed', 'failure' in verdict ? `${errorText(res)} (${verdict.failure})` : errorText(res));
    } finally {
      this.active--;
      this.checkFinished();
    }
  }

  /** A token is looked up by serial right before it is created: adopted if already the user's, refused if anyone else's. */
  private async lookUpFirst(s: Slot): Promise<void> {
    s.status = 'verify';
    s.looked = true;
    this.active++;
    try {
      const found = await this.lookUp(s.op);
      if (found.found === 'mine') {
        // Adopted (another run's, for its rollback) only before anything of this run's was sent;
        // after a send of its own (this pass, or an earlier one) the token may be this run's.
        const result = !s.sentBefore && !s.sends ? { deviceId: found.deviceId, adopted: true } : { deviceId: found.deviceId };
        this.results.set(s.op.id, result);
        return this.settle(s, 'done', undefined, result);
      }
      if (found.found === 'other') return this.settle(s, 'failed', found.reason);
      s.status = 'waiting';
      this.submit(s);
    } catch (err) {
      // The lookup failed (network): it is tried again with the create, after a pause.
      if (++s.attempts >= this.maxAttempts || this.interrupted) {
        if (this.interrupted) this.markStopped(s);
        else this.settle(s, 'failed', `looking up the token's serial failed: ${(err as Error).message}`);
        return;
      }
      s.looked = false;
      this.later(s, this.backoff(s.attempts));
    } finally {
      this.active--;
      this.checkFinished();
    }
  }

  /** A bulk create leaves out the serials the inventory has already: never two tokens of one serial. */
  private async lookUpBulk(s: Slot): Promise<void> {
    s.status = 'verify';
    s.looked = true;
    this.active++;
    try {
      // Tokens of users this run does not write now (left out as stale) are not created either.
      const wanted = new Set((this.dependents.get(s.op.id) ?? []).map((id) => serialKey(String(this.slots.get(id)?.op.after?.serialNumber ?? ''))));
      s.found = await serialsPresent(s.op, this.opts.client);
      s.skip = new Set(s.found.keys());
      // Not held, but its user not written now: left out too, and journaled apart from what the
      // inventory held (`present` says only that: an auditor read a stale user's serial there).
      const leftOut = new Set<string>();
      for (const t of (s.op.after?.tokens as { serialNumber: string }[]) ?? []) {
        const key = serialKey(t.serialNumber);
        if (wanted.has(key) || s.skip.has(key)) continue;
        s.skip.add(key);
        leftOut.add(key);
      }
      const all = ((s.op.after?.tokens as unknown[]) ?? []).length;
      // What the request leaves out (held already, or its user not written now) is journaled with the
      // write (its `before`): a read-back after an unknown outcome, in this run or after a crash, then
      // credits the run only with what it made, and does not wait for the rest. Looked up again after
      // an attempt that may have applied in part, the first attempt's list stands: what that attempt
      // made is left out of the request now, but it is still the run's.
      const before = (s.op.before as BulkBefore | null) ?? undefined;
      const notMade = s.rereadResult ? {} : this.foundNotMade(s);
      const listed = (xs: Iterable<string>) => [...new Set(xs)].sort();
      if (before?.present === undefined) s.op = { ...s.op, before: { present: listed(s.found.keys()), ...(leftOut.size > 0 ? { leftOut: listed(leftOut) } : {}) } };
      // No earlier send of it may have made any (refused outright, or none): what the inventory holds
      // now is someone else's too (an admin's upload since), so it joins the list, journaled with this
      // send: should its answer be lost, the run is credited only with what it makes (a review: the
      // admin's token was credited, and deleted by the rollback).
      else if (!s.rereadResult) {
        const out = listed([...(before.leftOut ?? []), ...leftOut]);
        s.op = { ...s.op, before: { ...before, present: listed([...before.present, ...s.found.keys()]), ...(out.length > 0 ? { leftOut: out } : {}) } };
      }
      if (s.skip.size === all) {
        if (!s.rereadResult) return this.settle(s, 'done', undefined, { devices: {}, ...notMade });
        // Every token there already, some made by an earlier attempt: what the lookup found is what a read-back would.
        const result = { devices: this.madeEarlier(s) };
        this.results.set(s.op.id, result);
        s.readBackReason = 'made by an earlier attempt';
        return this.settle(s, 'done', undefined, result);
      }
      s.status = 'waiting';
      this.submit(s);
    } catch (err) {
      s.looked = false;
      if (++s.attempts >= this.maxAttempts || this.interrupted) {
        if (this.interrupted) this.markStopped(s);
        else this.settle(s, 'failed', `looking up the tokens' serials failed: ${(err as Error).message}`);
        return;
      }
      this.later(s, this.backoff(s.attempts));
    } finally {
      this.active--;
      this.checkFinished();
    }
  }

  /** Reads an operation back: done if its change is there, else sent again (a bounded number of times). */
  private async readBack(s: Slot, reason: string, reads = 0): Promise<void> {
    s.status = 'verify';
    this.active++;
    this.stats.verified++;
    try {
      let v: Verified;
      try {
        v = await this.verify(s.op);
      } catch (err) {
        // The read failed too (network down, Graph failing): read again later, or give up with the
        // outcome unknown; at once when Graph refused the read itself (a 4xx but a timeout or
        // throttling: reading again gets the same).
        // A masked phone number (the signed-in account's role) reads masked however often it is read.
        const refused = (err instanceof ReadBackError && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) || err instanceof MaskedPhoneError;
        if (refused || reads + 1 >= this.maxAttempts * 2 || this.interrupted) {
          if (this.interrupted) this.markStopped(s);
          // Marked in the journal: a rollback reads it back (it may have been applied).
          else this.settle(s, 'failed', `${reason}${OUTCOME_UNKNOWN_WORDING}${err instanceof MaskedPhoneError ? err.after('it is not sent again; a resume or rollback signed in so reads it back').message : (err as Error).message}`, undefined, true);
          return;
        }
        await new Promise((r) => setTimeout(r, this.backoff(reads + 1)));
        return void this.readBack(s, reason, reads + 1);
      }
      if (v.done) {
        // Made by another run of the plan (a second operator): adopted, so this run's rollback leaves it to theirs.
        // A policy change found made (its answer lost, or left started by a crash) was made by now at
        // the latest: the activations' wait for it counts from here (a black-box test: without it a
        // resume waited for nothing, and the propagating policy failed a wave's activations).
        const policy = s.op.kind === 'policy-config' || s.op.kind === 'policy-root' ? { doneAt: new Date().toISOString() } : undefined;
        const result = s.foundThere ? { ...v.result, ...policy, adopted: true } : policy ? { ...v.result, ...policy } : v.result;
        if (result) this.results.set(s.op.id, result);
        s.readBackReason = reason;
        return this.settle(s, 'done', undefined, result);
      }
      if (v.refused) return this.settle(s, 'failed', `${reason}; ${v.refused}`);
      // A token create Graph would take twice (one serial, two tokens) is not sent again while what it
      // may have made can still be missing from reads: read again until the consistency window is over.
      const sinceSent = s.sentAt === undefined ? Infinity : Date.now() - s.sentAt;
      if (UNGUARDED_CREATES.has(s.op.kind) && sinceSent < this.opts.client.consistencyMs && !this.interrupted) {
        // Read again at growing intervals (found, it is done at once), the last read when the window is over.
        s.settleReads = (s.settleReads ?? 0) + 1;
        this.startWaitingForGraph(s);
        await new Promise((r) => setTimeout(r, Math.max(1, Math.min(growingStep(this.opts.client.consistencyMs, s.settleReads!), this.opts.client.consistencyMs - sinceSent))));
        return void this.readBack(s, reason, reads);
      }
      this.stopWaitingForGraph(s);
      if (s.attempts >= this.maxAttempts) return this.settle(s, 'failed', reason);
      if (this.interrupted) {
        this.markStopped(s);
        return;
      }
      // Not applied: safe to send again, after a pause. A bulk create may have been applied in part:
      // its serials are looked up again (never two tokens of one serial), and what it made read back.
      if (s.op.kind === 'token-bulk-create') {
        s.looked = false;
        s.rereadResult = true;
      }
      this.resent++;
      // After a pause; one that waited out the consistency window (reading) has paused enough.
      this.later(s, s.settleReads ? 0 : this.backoff(s.attempts));
    } finally {
      this.active--;
      this.checkFinished();
    }
  }

  /** Whether an operation depends on one of `kinds` this step (or a pass moments before) did within Graph's consistency window. */
  private dependsOnJustDone(op: Operation, kinds: ReadonlySet<Operation['kind']>): boolean {
    return this.sinceDone(op, kinds, Date.now()) < this.opts.client.consistencyMs;
  }

  /** How long ago the latest of an operation's dependencies of `kinds` was done (this step, or a pass moments before); Infinity when none was. */
  private sinceDone(op: Operation, kinds: ReadonlySet<Operation['kind']>, now: number): number {
    const d = this.latestDone(op, kinds);
    return d === undefined ? Infinity : now - this.dependedOnDoneAt.get(d)!;
  }

  /** The latest done of an operation's dependencies of `kinds` (this step, or a pass moments before), by id; undefined when none was. */
  private latestDone(op: Operation, kinds: ReadonlySet<Operation['kind']>): string | undefined {
    let latest: string | undefined;
    let at = -Infinity;
    for (const d of op.dependsOn) {
      // One done by an earlier pass, not among this step's operations, is of a kind not known here: it counts.
      const kind = this.slots.get(d)?.op.kind;
      const doneAt = this.dependedOnDoneAt.get(d);
      if (doneAt === undefined || doneAt <= at || (kind !== undefined && !kinds.has(kind))) continue;
      latest = d;
      at = doneAt;
    }
    return latest;
  }

  /**
   * An operation refused as Graph's lag refuses (`kinds`: what it depends on) once the consistency window
   * of what this run did is over: the failure says what the run wrote, how long before, and the ways on.
   * Undefined when no such dependency was done by this run at a known time.
   */
  private lateForLag(op: Operation, kinds: ReadonlySet<Operation['kind']>, res: GraphResponse): string | undefined {
    const d = this.latestDone(op, kinds);
    if (d === undefined) return undefined;
    const age = Date.now() - this.dependedOnDoneAt.get(d)!;
    const latest = this.slots.get(d)?.op.kind;
    const [what, did] = (latest && LAG_OBJECT[latest]) ?? ['object', 'wrote'];
    const secs = (ms: number) => String(Math.round(ms / 100) / 10);
    return `${errorText(res)}: Graph did not show the ${what} this run ${did} ${secs(age)} s earlier within --consistency-window ${secs(this.opts.client.consistencyMs)} s: resume (Graph will have caught up), or raise --consistency-window`;
  }

  /** What Graph may not show yet to an operation (kinds of what it depends on), and the lag learned for it. */
  private lagsOf(op: Operation): [ReadonlySet<Operation['kind']>, VisibilityLag][] {
    return op.kind === 'signin-update' ? [[CREATES, this.lag.created], [METHOD_WRITES, this.lag.method]] : [[CREATES, this.lag.created]];
  }

  /** How much longer an operation waits before its send: until what it depends on is as old as Graph was seen to need. */
  private visibilityHold(op: Operation): number {
    const now = Date.now();
    let hold = 0;
    for (const [kinds, lag] of this.lagsOf(op)) {
      const age = this.sinceDone(op, kinds, now);
      if (age < this.opts.client.consistencyMs) hold = Math.max(hold, lag.holdMs(now) - age);
    }
    return hold;
  }

  /**
   * The wait before an operation refused for Graph's lag is sent again: it teaches the lag (it was
   * sent this long after what it depends on), and goes again once what it depends on is older than
   * the lag learned and than its own last try by a step that grows with each refusal; the last try
   * goes before the consistency window is over (refused after it, it fails).
   */
  private afterLagRefusal(s: Slot, kinds: ReadonlySet<Operation['kind']>): number {
    const lag = kinds === METHOD_WRITES ? this.lag.method : this.lag.created;
    const now = Date.now();
    const doneAgo = this.sinceDone(s.op, kinds, now);
    const age = this.sinceDone(s.op, kinds, s.wentAt ?? s.sentAt ?? now);
    lag.refused(age, now);
    const next = Math.max(lag.holdMs(now), age + lag.stepMs(s.replicaWaits ?? 1));
    return Math.min(next, this.opts.client.consistencyMs * 0.95) - doneAgo;
  }

  /** A dependent Graph took: sent this long after what it depends on, it tells the lag learned that Graph needed no longer. */
  private noteShown(s: Slot): void {
    const now = Date.now();
    for (const [kinds, lag] of this.lagsOf(s.op)) {
      const age = this.sinceDone(s.op, kinds, s.wentAt ?? s.sentAt ?? now);
      if (age < this.opts.client.consistencyMs) lag.shown(age, now);
    }
  }

  /** Of a bulk create's serials its last lookup found, those the inventory did not hold before its first send: an earlier attempt's. */
  private madeEarlier(s: Slot): Record<string, string> {
    // Neither what the inventory held nor what the request left out for users not written: never sent.
    const before = bulkNotSent(s.op.before) ?? new Set<string>();
    const devices: Record<string, string> = {};
    for (const t of (s.op.after?.tokens as { serialNumber: string }[]) ?? []) {
      const id = s.found?.get(serialKey(t.serialNumber));
      if (id !== undefined && !before.has(serialKey(t.serialNumber))) devices[t.serialNumber] = id;
    }
    return devices;
  }

  /**
   * Of a bulk create not credited with what it finds (no earlier send of it may have made any), the
   * serials its lookup found beyond what the inventory held before its first send: journaled with its
   * result (`foundNotMade`), so that its rollback knows them for someone else's, not tokens an older
   * version made and did not record.
   */
  private foundNotMade(s: Slot): { foundNotMade?: string[] } {
    const found = Object.keys(this.madeEarlier(s));
    return found.length > 0 ? { foundNotMade: found } : {};
  }

  private startWaitingForGraph(s: Slot): void {
    if (s.waitingForGraph) return;
    s.waitingForGraph = true;
    this.stats.waitingForGraph++;
  }

  private stopWaitingForGraph(s: Slot): void {
    if (!s.waitingForGraph) return;
    s.waitingForGraph = false;
    this.stats.waitingForGraph--;
  }

  private stopPaceWait(s: Slot): void {
    if (!s.heldByPace) return;
    s.heldByPace = false;
    this.stats.pacedWaiting--;
  }

  /**
   * A stopped operation's state for the summary, the --results file and the report alike: started
   * when the journal leaves it so, a send of it that may have applied (this pass's, of unknown
   * outcome; or an earlier pass's), else pending: to be sent by the next pass (a scale test saw the
   * summary call pending what the report called sent with outcome unknown).
   */
  private leftAs(s: Slot, prior: OpRecord | undefined): OpState {
    if (s.startedThisPass) return s.outcomeUnknown || s.sentBefore ? 'started' : 'pending';
    return prior?.state === 'started' ? 'started' : 'pending';
  }

  /**
   * An operation stopped after sends whose every answer applied nothing (429, a 404 waited out, a
   * refusal while the policy propagates): when those were its only sends ever (none of this pass
   * with an unknown outcome, none of an earlier pass), it is journaled pending again, so the run's
   * evidence does not count it among the writes whose outcome is unknown. Otherwise it stays
   * started, and resume reads it back.
   */
  private backToPending(s: Slot): void {
    if (s.startedThisPass && !s.outcomeUnknown && !s.sentBefore) this.record({ op: s.op.id, state: 'pending' });
  }

  /** Stopped by an interrupt after answers that applied nothing: pending again when those were its only sends. */
  private stopUnapplied(s: Slot): void {
    this.markStopped(s);
    this.backToPending(s);
  }

  /** Stopped by an interrupt: it waits for nothing any more (the progress's last line says so). */
  private markStopped(s: Slot): void {
    s.status = 'stopped';
    this.stopWaiting(s);
  }

  /** An operation that waited (for the policy to propagate, for Graph to show a new object, for the pace) is no longer counted as waiting. */
  private stopWaiting(s: Slot): void {
    this.stopWaitingForGraph(s);
    this.stopPaceWait(s);
    if (!s.waitedForPolicy) return;
    s.waitedForPolicy = false;
    this.stats.waitingForPolicy--;
  }

  private settle(s: Slot, status: 'done' | 'failed' | 'skipped', error?: string, result?: Record<string, unknown>, outcomeUnknown?: true): void {
    if (s.status === 'done' || s.status === 'failed' || s.status === 'skipped') return;
    s.status = status;
    // However it ended (an answer, a read-back of an unknown outcome, a refusal), it waits no more.
    this.stopWaiting(s);
    if (error && status !== 'done') s.error = error;
    if (status === 'done' && this.dependents.has(s.op.id)) this.dependedOnDoneAt.set(s.op.id, Date.now());
    this.countRefusal(s, status, error);
    this.stats[status]++;
    if (this.activationsLeft !== undefined && isActivationKind(s.op.kind)) this.activationsLeft = Math.max(0, this.activationsLeft - 1);
    // Not done while an earlier send may have made tokens (its answer lost, then a re-send refused): said,
    // so that a resume credits the run with them even though this outcome is a definite refusal.
    const mayHaveMade = status !== 'done' && s.op.kind === 'token-bulk-create' && s.rereadResult ? { earlierSendMayHaveMade: true as const } : {};
    this.record({ op: s.op.id, state: status, ...(status !== 'done' && s.error ? { error: s.error } : {}), ...(result ? { result } : {}), ...(outcomeUnknown ? { outcomeUnknown } : {}), ...mayHaveMade, ...(s.requestId ? { requestId: s.requestId } : {}), ...(status === 'done' && s.readBackReason ? { readBack: s.readBackReason } : {}) });
    for (const next of this.dependents.get(s.op.id) ?? []) {
      const n = this.slots.get(next);
      if (!n) continue;
      // One entry per occurrence in its dependsOn, as counted in run().
      n.depsOpen--;
      if (status !== 'done') n.depsFailed++;
      this.promote(n);
    }
    this.checkFinished();
  }

  private countRefusal(s: Slot, status: 'done' | 'failed' | 'skipped', error: string | undefined): void {
    const limit = this.opts.stopAfterRefusals;
    if (limit === undefined) return;
    const capabilities = capabilitiesOf(s.op.kind);
    const needs = capabilities.join('+');
    if (status === 'done') this.refusedInARow.delete(needs);
    // Other failures (a phone Graph finds invalid) say nothing of access either way; nor does a write
    // refused again that an earlier pass saw refused (a resume would otherwise stop on the users a
    // first pass failed, those spread among successes, and never reach the waves after them).
    if (status !== 'failed' || error === undefined || !ACCESS_REFUSED.test(error) || s.refusedBefore) return;
    const refused = (this.refusedInARow.get(needs) ?? 0) + 1;
    this.refusedInARow.set(needs, refused);
    if (refused < limit || this.interrupted || this.halt !== undefined) return;
    this.halt = `${refused} writes in a row were refused for access (${capabilities.map((c) => capability(c).what).join(', and ')}), the last: ${error}`;
    // After this settle has run its course (interrupt() settles what waits).
    queueMicrotask(() => this.interrupt());
  }

  /** Outcomes are journaled together: those settled in the same turn share one fsynced line. */
  private record(r: OpRecord): void {
    this.records.push(r);
    if (this.records.length > 1) return;
    queueMicrotask(() => {
      const batch = this.records;
      this.records = [];
      this.flushing = this.flushing.then(() => this.opts.journal.ops(batch)).catch((err: unknown) => this.abort(err));
    });
  }

  private async flush(): Promise<void> {
    await new Promise<void>((r) => queueMicrotask(r));
    await this.flushing;
    if (this.failed !== undefined) throw this.failed;
  }

  private checkFinished(): void {
    if (!this.finish || this.active > 0) return;
    for (const s of this.slots.values()) if (s.status === 'waiting' || s.status === 'timed' || s.status === 'submitted' || s.status === 'verify') return;
    const finish = this.finish;
    this.finish = undefined;
    finish();
  }

  private abort(err: unknown): void {
    if (this.failed !== undefined) return;
    this.failed = err;
    this.interrupted = true;
    this.pipeline.cancel(err);
    this.rounds.clear();
    const fail = this.fail;
    this.finish = undefined;
    fail?.(err);
  }

  /** The figures as of now: the pipeline's move while no operation ends (a pause for throttling), so a progress report takes them fresh. */
  progress(): ExecStats {
    this.syncStats();
    return this.stats;
  }

  private syncStats(): void {
    this.syncPace();
    const p = this.pipeline.stats;
    this.stats.throttled = p.throttled;
    if (p.pausedUntil > Date.now()) this.stats.throttledUntil = p.pausedUntil;
    else delete this.stats.throttledUntil;
    this.stats.batches = p.batches;
    this.stats.concurrency = p.concurrency;
    this.stats.retried = p.retried + this.resent;
  }
}
