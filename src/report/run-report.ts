import { addTo } from '../model/add-to.js';
import { serialKey } from '../model/serial.js';
import { journalProblem, type JournalCheck, type OpRecord, type OpState, type RunHeader, type RunSummary, type RunView } from '../apply/journal.js';
import { bulkNotSent } from '../apply/bulk-before.js';
import type { UserStatus } from '../plan/plan-file.js';
import { isLeftAloneError } from '../apply/rollback-inverses.js';
import { isStillSwitchedError, LEAVE_SWITCHED } from '../apply/rollback-switched.js';
import type { Operator } from '../apply/operator.js';
import type { Finding } from '../mapping/finding.js';

/** The version of `report RUN_ID --format json`. */
export const RUN_REPORT_FORMAT_VERSION = '1.11';

/** 1.3: `not-selected`, an operation the run's --users/--group/--max-users left out (never sent, and no resume sends it). */
export type RunReportOpState = OpState | 'not-selected';

/** One Graph write of the run, as its journal recorded it. */
export interface RunReportOperation {
  /** The operation's id in the journal (`<user id>/<resource>[/<step>]`, `policy/<target>`). */
  op: string;
  /** The plan resource or policy target, with its step (`hardwareOathMethods/123/activate`). */
  target: string;
  /**
   * `pending`: never sent (the run stopped before it, or it is still to be resumed); `started`: sent
   * with no answer journaled (the run stopped while it was in flight), so it may have reached the tenant.
   */
  state: RunReportOpState;
  /** When the journal last recorded it (null: never journaled). */
  at: string | null;
  /** Graph's request id of its answer, when Graph answered. */
  request_id: string | null;
  /** Graph's error (or why it was skipped), for operations that did not succeed. */
  error: string | null;
  /**
   * 1.3, a rollback's: `done` because what it removes was gone already when the rollback came to it
   * (removed outside this tool: an admin, another run's rollback); nothing was sent.
   */
  gone_already: boolean;
  /**
   * 1.9, a rollback's: `done` because its object held already what the undo puts back (the run's
   * `before`: put back since by another run's rollback, an admin); nothing was sent.
   */
  already_as_before: boolean;
  /** 1.5: `done` as found by reading the tenant back (why: its answer was lost, a pass before left it sent), not by Graph's answer; null otherwise. */
  read_back: string | null;
  /**
   * 1.7: the plan's rule for the change the operation makes (a rollback's undo: for the change it
   * undoes), and why (`because`); a policy operation that writes several properties joins theirs.
   * Null where the plan has none (a bulk token create) or cannot be read.
   */
  rule: string | null;
  because: string | null;
  /**
   * 1.8: for an operation skipped as stale (`error` `stale`), why its user (or the policy) was left
   * out: each object that changed since the plan with why, as the pre-flight words it without
   * --skip-stale (`hardwareOathMethods/20010006: the token with serial ...`); null otherwise, and for
   * journals written before it recorded this.
   */
  stale_reason: string | null;
  /**
   * 1.10: a domain's federation change done, planned with --force-federation over tenant users of the
   * domain outside the plan with no cloud MFA method they can use (its `federation-forced` finding):
   * those users, as the plan recorded them, whom it moved to Entra MFA with nothing to sign in with
   * (no user row holds them). Empty for every other operation, and for one not done.
   */
  moved_without_method: string[];
}

/** 1.7: what the plan found of a user (a token it could not migrate, a default method it could not set...), as the plan says it. */
export interface RunReportFinding {
  severity: Finding['severity'];
  code: string;
  rule: string;
  message: string;
}

/**
 * `unknown` (1.2): an operation of the user's was sent with no answer journaled (the run stopped while
 * it was in flight): the write may have reached the tenant; resume (or, for a rollback, rollback)
 * reads it back. Never `not-started`, which means nothing of the user's was sent.
 * `partly-undone`, `not-undone` (1.3; rollbacks): some, or none, of the user's changes were undone and
 * the rest left in place (`left_in_place` says why); never `done` while anything is left.
 */
export type RunUserOutcome = 'done' | 'partial' | 'failed' | 'skipped' | 'unknown' | 'not-started' | 'unchanged' | 'not-in-tenant' | 'disabled' | 'not-selected' | 'partly-undone' | 'not-undone';

/** One change of the user's a rollback left in place, and why. */
export interface LeftInPlace {
  target: string;
  reason: string;
}

export interface RunReportUser {
  user: string;
  user_id: string | null;
  /** 1.6: the user's UPN in the tenant, for a user the plan matched by an on-premises name (`user` is the export's username then). */
  tenant_upn?: string;
  /** What the plan decided for the user. */
  plan_status: UserStatus;
  outcome: RunUserOutcome;
  operations: RunReportOperation[];
  /**
   * 1.3, a rollback's: the user's changes it left in place, with why (Graph cannot undo it, as the
   * rollback recorded when it started; or it changed since the run and was left alone). Empty for an apply.
   */
  left_in_place: LeftInPlace[];
  /**
   * 1.7: the plan's findings for the user (what it could not migrate, or migrated lossily: a token
   * Entra cannot take, a default method it cannot set), so that a user `unchanged` for such a reason
   * says why. Empty when the plan found nothing of the user, or cannot be read.
   */
  findings: RunReportFinding[];
}

/** `report RUN_ID`: what a run did, per user, with its evidence. */
export interface RunReport {
  format_version: string;
  run: {
    id: string;
    kind: RunHeader['kind'];
    state: RunSummary['state'];
    started: string;
    finished: string | null;
    graph: string | null;
    tenant: { id: string; displayName: string } | null;
    identity: { appId: string | null; upn: string | null } | null;
    /** 1.5: the tool version, OS account and machine that made the run (null in journals before it). */
    operator: { tool_version: string; os_user: string; host: string } | null;
    /** 1.5: the run's options as it journaled them (apply: waves, batch size, --skip-stale, the users it left out as stale...; rollback: --force...). */
    options: Record<string, unknown>;
    /** 1.1: each later pass (resume; a rollback finished): when, who signed in, its options (none in journals before it); 1.5: its operator. */
    resumed: { at: string; identity: { appId: string | null; upn: string | null }; operator?: { tool_version: string; os_user: string; host: string }; options: Record<string, unknown> }[];
    /** 1.4: each read-back of the run's writes of unknown outcome by a rollback: who, when, how many were found applied and not. */
    read_back: { at: string; identity: { appId: string | null; upn: string | null }; operator?: { tool_version: string; os_user: string; host: string }; applied: number; not_applied: number }[];
    /** The plan hash the run applied (for a rollback, the one of the run it undoes). */
    plan_hash: string;
    total_operations: number;
    /** By operation state: `started` counts the operations sent with no answer journaled (outcome unknown), apart from `pending` (never sent). */
    counts: Record<OpState, number>;
    /**
     * 1.6: why the plan copy the report lists from (a rollback's: the run it undoes) cannot be read, or
     * null. The report is then made from the journal alone: its users are named by their object id
     * (`user` is `user_id`), and what the journal does not record is counted but not listed.
     */
    plan_problem: string | null;
    /**
     * 1.6: operations `counts.pending` holds that the report does not list (never sent, and what the
     * run set out to do cannot be read whole: its plan copy unreadable, or the run a rollback undoes
     * failing its check); 0 when every one is listed.
     */
    unlisted_pending: number;
  };
  /**
   * `runs verify`'s finding, and the journal's final hash when its chain is whole. `problem`: what is
   * wrong, in `runs verify`'s words. 1.2: `edited`, a line of the journal changed after it was written
   * (what the report shows from it cannot be trusted); `about`, what else the check found: `torn-tail`
   * (state `verified`: the last line was left incomplete by a crash, not an edit; `lines` and
   * `final_hash` are of the whole lines), `plan-copy-changed`, `plan-copy-unreadable` or `undone-run`
   * (state `broken`, the journal's own lines whole), else null.
   */
  journal: {
    state: JournalCheck['state'];
    final_hash: string | null;
    lines: number | null;
    problem: string | null;
    edited: boolean;
    about: 'torn-tail' | 'plan-copy-changed' | 'plan-copy-unreadable' | 'undone-run' | null;
  };
  /**
   * `not_reversible` (1.1; rollbacks): what the rollback found Graph cannot undo, left in place with
   * the reason, as it recorded when it started; null for a rollback made before it recorded this,
   * empty for an apply.
   */
  rollback: {
    of: string | null;
    by: { id: string; state: RunSummary['state']; finished: string | null }[];
    not_reversible: { user: string | null; target: string; reason: string }[] | null;
    /** 1.6: what Graph cannot undo that the rollback found gone already when it started (not left in place); empty for an apply. */
    not_reversible_gone: { user: string | null; target: string }[];
    /**
     * 1.7, a rollback's: the undone run's journal as the rollback found it when it started, its whole
     * lines and the last one's hash (the journal check holds that run's journal to them); null for an
     * apply, and for a rollback made before it recorded this.
     */
    undone_journal: { lines: number; final_hash: string } | null;
    /**
     * 1.11, a rollback's: what each pass with --leave-switched-without-method took all the same, every
     * one named (its warning and summary name the first few): the run's users still switched to Entra
     * MFA and what switches them; the users outside the run the methods policy's undo left with no
     * method they can use (`unread`: members not read, so there may be more); or why who is switched
     * could not be read. Empty when none did (and for a rollback whose journal, of an earlier version, records none).
     */
    left_without_method: { at: string; users: { user: string; by: string }[]; others: { users: string[]; by: string[]; unread: number } | null; unread: string | null }[];
  };
  policy: RunReportOperation[];
  /** Operations of no one user: a wave's bulk token create (`tokens/<hash>`), anything else the journal holds. */
  shared: RunReportOperation[];
  users: RunReportUser[];
}

export interface RunReportInput {
  view: RunView;
  summary: RunSummary;
  check: JournalCheck;
  /** Rollback runs of this run (from the state folder's listing). */
  rolledBackBy: RunSummary[];
  /** The plan's users, in order (for a rollback: the plan of the run it undoes). */
  roster: readonly { upn: string; userId: string | null; status: UserStatus; tenantUpn?: string; findings?: readonly Finding[] }[];
  /** Every operation the run set out to do, when known (an apply: from its plan copy), with the plan's rule for it; journaled ones are added. */
  planned: readonly { id: string; userId?: string; kind?: string; after?: unknown; rule?: string; because?: string; movedWithoutMethod?: readonly string[] }[];
  /** Users the run selected (lower-case UPNs), when it was narrowed. */
  selected?: ReadonlySet<string>;
  /** Operations of the plan the run's selection left out (a domain's federation waiting for users not selected). */
  notSelectedOps?: ReadonlySet<string>;
  /** Why the plan copy cannot be read, when it cannot: `roster` and `planned` are then the journal's alone. */
  planProblem?: string;
}

/** The apply operation a rollback's operation undoes (`rollback/<id>`), or the id itself. */
const undone = (id: string): string => (id.startsWith('rollback/') ? id.slice('rollback/'.length) : id);

/** Builds the run report from the journal replayed and the plan's roster. Pure. */
export function buildRunReport(input: RunReportInput): RunReport {
  const { view, summary, check } = input;
  const h = view.header;
  // A bulk create is named by the serials it creates (its id is a hash of them).
  const bulkSerials = new Map(
    input.planned.filter((p) => p.kind === 'token-bulk-create').map((p) => [p.id, ((p.after as { tokens?: { serialNumber?: unknown }[] } | null)?.tokens ?? []).map((t) => String(t.serialNumber))]),
  );
  const why = new Map(input.planned.map((p) => [p.id, p]));
  const opView = (id: string): RunReportOperation => {
    const r = view.ops.get(id);
    const state: RunReportOpState = r?.state ?? (input.notSelectedOps?.has(id) ? 'not-selected' : 'pending');
    const unsettled = state === 'started' || state === 'pending';
    const key = undone(id);
    const bulk = bulkSerials.has(id) || /^tokens\/[0-9a-f]+$/.test(id) ? bulkTarget(state, bulkSerials.get(id), r) : undefined;
    // A rollback deletes a bulk-created token by serial (`tokens/<bulk hash>/<serial>`).
    const bulkToken = /^tokens\/[0-9a-f]+\/(.+)$/.exec(key)?.[1];
    return {
      op: id,
      target: bulk ?? (bulkToken ? `hardware token ${bulkToken} (created in bulk)` : key.slice(key.indexOf('/') + 1)),
      state,
      at: view.times.get(id) ?? null,
      request_id: r?.requestId ?? null,
      error: state !== 'done' && !unsettled ? (r?.error ?? null) : null,
      gone_already: state === 'done' && r?.result?.goneAlready === true,
      already_as_before: state === 'done' && r?.result?.alreadyAsBefore === true,
      read_back: state === 'done' ? (r?.readBack ?? null) : null,
      rule: why.get(id)?.rule ?? null,
      because: why.get(id)?.because ?? null,
      stale_reason: state === 'skipped' ? (r?.staleReason ?? null) : null,
      moved_without_method: state === 'done' ? [...(why.get(id)?.movedWithoutMethod ?? [])] : [],
    };
  };
  // Every operation once: those planned, in the plan's order, then any other the journal holds.
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const o of [...input.planned.map((p) => p.id), ...view.ops.keys()]) if (!seen.has(o) && (seen.add(o), true)) ids.push(o);
  const byUser = new Map<string, string[]>();
  const userIds = new Set(input.roster.flatMap((u) => (u.userId !== null ? [u.userId] : [])));
  const policy: RunReportOperation[] = [];
  const shared: RunReportOperation[] = [];
  for (const id of ids) {
    // A rollback's operation is the inverse of the apply's of the same id: it belongs where that one does.
    const key = undone(id);
    const owner = key.slice(0, key.indexOf('/'));
    if (owner === 'policy') policy.push(opView(id));
    else if (userIds.has(owner)) addTo(byUser, owner, id);
    else shared.push(opView(id));
  }
  const notReversible = new Map<string, LeftInPlace[]>();
  for (const x of h.notReversible ?? []) if (x.user) addTo(notReversible, x.user.toLowerCase(), { target: x.target, reason: x.reason });
  const users: RunReportUser[] = input.roster
    .map((u) => {
      const operations = (u.userId !== null ? (byUser.get(u.userId) ?? []) : []).map(opView);
      const left = h.kind === 'rollback' ? leftInPlace(notReversible.get(u.upn.toLowerCase()) ?? [], operations, h.id) : [];
      const base = outcomeOf(u, operations, input.selected);
      return { user: u.upn, user_id: u.userId, ...(u.tenantUpn !== undefined ? { tenant_upn: u.tenantUpn } : {}), plan_status: u.status, outcome: h.kind === 'rollback' ? undoOutcome(base, operations, left) : base, operations, left_in_place: left, findings: (u.findings ?? []).map((f) => ({ severity: f.severity, code: f.code, rule: f.rule, message: f.message })) };
    })
    // A rollback concerns the users whose changes it undoes or leaves in place (all of the apply's, a user
    // whose every change Graph cannot undo included).
    .filter((u) => h.kind === 'apply' || u.operations.length > 0 || u.left_in_place.length > 0);
  // The counts are the run's own (its journal, and the total it recorded when it started); what is listed
  // comes from its plan. Pending ones the listing cannot name are counted apart, so that the two never disagree unsaid.
  const listedPending = [...policy, ...shared, ...users.flatMap((u) => u.operations)].filter((o) => o.state === 'pending').length;
  return {
    format_version: RUN_REPORT_FORMAT_VERSION,
    run: {
      // The run asked for, by its folder: a journal moved there from another run's says so in its check.
      id: summary.id,
      kind: h.kind,
      state: summary.state,
      started: h.created,
      finished: view.end?.at ?? null,
      graph: h.graph ?? null,
      tenant: h.tenant ?? null,
      identity: h.identity ?? null,
      operator: h.operator ? operatorJson(h.operator) : null,
      options: h.options,
      resumed: view.resumes.map((x) => ({ at: x.at, identity: x.identity, ...(x.operator ? { operator: operatorJson(x.operator) } : {}), options: x.options })),
      read_back: view.readBacks.map((x) => ({ at: x.at, identity: x.identity, ...(x.operator ? { operator: operatorJson(x.operator) } : {}), applied: Number(x.options.applied ?? 0), not_applied: Number(x.options.notApplied ?? 0) })),
      plan_hash: h.planHash,
      total_operations: h.totalOps,
      counts: summary.counts,
      plan_problem: input.planProblem ?? null,
      unlisted_pending: Math.max(0, summary.counts.pending - listedPending),
    },
    journal:
      check.state === 'verified'
        ? { state: 'verified', final_hash: check.head, lines: check.lines, problem: journalProblem(check) ?? null, edited: false, about: check.tornLine === undefined ? null : 'torn-tail' }
        : check.state === 'broken'
          ? { state: 'broken', final_hash: check.head ?? null, lines: check.lines ?? null, problem: journalProblem(check)!, edited: !check.about, about: check.about ?? null }
          : { state: check.state, final_hash: null, lines: null, problem: check.reason, edited: false, about: null },
    rollback: {
      of: h.rollbackOf ?? null,
      by: input.rolledBackBy.map((r) => ({ id: r.id, state: r.state, finished: r.finished })),
      not_reversible: h.notReversible ? h.notReversible.map((x) => ({ user: x.user ?? null, target: x.target, reason: x.reason })) : h.kind === 'rollback' ? null : [],
      not_reversible_gone: (h.notReversibleGone ?? []).map((x) => ({ user: x.user ?? null, target: x.target })),
      undone_journal: h.undoneJournal ? { lines: h.undoneJournal.lines, final_hash: h.undoneJournal.hash } : null,
      left_without_method: view.leftWithoutMethod.map((x) => ({ at: x.at, users: x.users, others: x.others ?? null, unread: x.unread ?? null })),
    },
    policy,
    shared,
    users,
  };
}

/**
 * A bulk token create as the report names it: done, by the serials its journaled result says it made
 * (`devices`), then those of the plan's it did not make (held in the inventory already, its user's
 * writes left out as stale, found not the run's: an auditor read a stale user's serial among those
 * "created"), and any it sent whose making the journal does not record (an older version's `devices:
 * {}`); not done, by the serials it set out to create. Undefined when neither plan nor journal names any.
 */
function bulkTarget(state: RunReportOpState, planned: readonly string[] | undefined, r: OpRecord | undefined): string | undefined {
  const devices = state === 'done' && isRecord(r?.result?.devices) ? Object.keys(r.result.devices) : undefined;
  if (!devices) return planned ? `hardware tokens to create in bulk: ${planned.join(', ')}` : undefined;
  const made = new Set(devices.map(serialKey));
  const listed = (v: unknown) => (Array.isArray(v) ? v.map((x) => serialKey(String(x))) : []);
  const notMade = new Set([...(bulkNotSent(r?.before) ?? []), ...listed(r?.result?.foundNotMade), ...listed(r?.result?.notFound)]);
  const of = (keep: (key: string) => boolean) => (planned ?? []).filter((x) => keep(serialKey(x)));
  // In the plan's order; any the plan does not name (its copy unreadable) after them.
  const named = [...of((k) => made.has(k)), ...devices.filter((x) => !(planned ?? []).some((p) => serialKey(p) === serialKey(x)))];
  const left = of((k) => !made.has(k) && notMade.has(k));
  const unsaid = of((k) => !made.has(k) && !notMade.has(k));
  return [
    `hardware tokens created in bulk: ${named.length > 0 ? named.join(', ') : 'none'}`,
    ...(left.length > 0 ? [`not created by this run: ${left.join(', ')}`] : []),
    ...(unsaid.length > 0 ? [`sent, its journal not recording whether made: ${unsaid.join(', ')}`] : []),
  ].join('; ');
}

function outcomeOf(u: RunReportInput['roster'][number], ops: RunReportOperation[], selected: ReadonlySet<string> | undefined): RunUserOutcome {
  if (ops.length === 0) {
    if (u.status !== 'changes') return u.status;
    return selected && !selected.has(u.upn.toLowerCase()) ? 'not-selected' : 'not-started';
  }
  const n = (s: OpState) => ops.filter((o) => o.state === s).length;
  if (n('done') === ops.length) return 'done';
  // A write sent with no answer journaled may have reached the tenant: what the user holds is not known
  // until it is read back, whatever else the user's operations did.
  if (n('started') > 0) return 'unknown';
  if (n('failed') > 0) return n('done') > 0 ? 'partial' : 'failed';
  if (n('skipped') > 0) return n('done') > 0 ? 'partial' : 'skipped';
  return n('done') > 0 ? 'partial' : 'not-started';
}

/** What a rollback left of the user's changes: what Graph cannot undo, then what changed since the run. */
function leftInPlace(notReversible: LeftInPlace[], ops: RunReportOperation[], runId: string): LeftInPlace[] {
  const changed = ops.filter(isLeftAlone).map((o) => ({
    target: o.target,
    reason: isStillSwitchedError(o.error ?? undefined)
      ? `${o.error}: left in place while they are (rollback ${runId} sends it once they are not; with ${LEAVE_SWITCHED}, all the same)`
      : `${o.error}: left alone (rollback --force overwrites it)`,
  }));
  return [...notReversible, ...changed];
}

/** Left alone as changed since the run (only --force sends it), or for a user still switched to Entra MFA. */
const isLeftAlone = (o: RunReportOperation) => o.state === 'skipped' && (isLeftAloneError(o.error ?? undefined) || isStillSwitchedError(o.error ?? undefined));

/**
 * A rollback's user with anything left in place is not `done`: `partly-undone` when some undo was done,
 * `not-undone` when none was. An outcome that still calls for action (failed, unknown, pending) stays.
 */
function undoOutcome(base: RunUserOutcome, ops: RunReportOperation[], left: LeftInPlace[]): RunUserOutcome {
  if (left.length === 0 || !ops.every((o) => o.state === 'done' || isLeftAlone(o))) return base;
  return ops.some((o) => o.state === 'done') ? 'partly-undone' : 'not-undone';
}

function operatorJson(o: Operator): { tool_version: string; os_user: string; host: string } {
  return { tool_version: o.toolVersion, os_user: o.osUser, host: o.host };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
