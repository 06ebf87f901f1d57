import { cliCommand } from '../model/command-line.js';
import { isLoopbackGraph } from '../plan/render-report.js';
import { escHtml, escMarkdown } from './escape.js';
import { anchorIds, controls, filterSelect, htmlPage } from './html-page.js';
import type { RunReport, RunReportOperation, RunReportUser, RunUserOutcome } from './run-report.js';

/**
 * The run report (`report RUN_ID`), HTML or Markdown with the same sections: the run (tenant, Graph,
 * who, plan hash, the journal's verification and final hash, its rollback), the counts, every
 * failed operation with Graph's error and request id, the policy step, and every user of the plan
 * once with each operation's outcome, time and request id. Deterministic: the same journal renders
 * to the same bytes.
 */

const OUTCOME_LABEL: Record<RunUserOutcome, string> = {
  done: 'done',
  partial: 'partly done',
  failed: 'failed',
  skipped: 'skipped',
  unknown: 'sent, outcome unknown',
  'not-started': 'not started',
  unchanged: 'nothing to do (no change planned)',
  'not-in-tenant': 'not in the tenant (skipped by the plan)',
  disabled: 'disabled in MFA Server (skipped by the plan)',
  'not-selected': 'not selected for this run',
  // A rollback's user with changes left in place (not reversible, or changed since the run): never plain "done".
  'partly-undone': 'partly undone (changes left in place)',
  'not-undone': 'not undone (every change left in place)',
};

/** Outcomes a reader must look at (the HTML marks them). */
const ATTENTION: ReadonlySet<RunUserOutcome> = new Set(['failed', 'partial', 'unknown', 'partly-undone', 'not-undone']);

const OP_HEAD = ['Operation', 'State', 'Time', 'Request id', 'Error', 'Rule', 'Because'];
const LEFT_HEAD = ['Left in place', 'Why'];
const FAILED_HEAD = ['User', 'Operation', 'State', 'Time', 'Request id', 'Error', 'Rule', 'Because'];
const FINDING_HEAD = ['Plan finding', 'Code', 'Rule', 'What the plan says'];

/**
 * How to read an operation's row (an auditor read a request id shared by 20 operations as each one's):
 * said under the summary of the Markdown and HTML forms.
 */
export const OPERATIONS_LEGEND =
  "Each operation: its state, the time of its last journal record, Graph's request id, Graph's error, and the plan's rule and reason for the change (for a rollback's undo, those of the change it undoes). The request id is the $batch request's, shared by every operation that request carried (up to 20), unless Graph gave the operation's own answer one (an error's, say): Microsoft support traces the request by it. Plan findings under a user are what the plan could not migrate, or migrated lossily, for them: a user with nothing to do may be so because of one.";

interface RunData {
  title: string;
  /** What puts the report's evidence in question (an edited journal, a changed plan copy), shown first in every format. */
  alert: string | null;
  header: [string, string][];
  counts: string[];
  failed: string[][];
  policy: string[][];
  shared: string[][];
  /** A rollback's: user, target, why. */
  notReversible: string[][];
  /** A rollback's: user, what switches them, when: taken all the same with --leave-switched-without-method. */
  leftWithoutMethod: string[][];
  users: { u: RunReportUser; anchor: string; rows: string[][]; left: string[][]; findings: string[][] }[];
  /** A rollback's undos done by finding their object gone: who, what. */
  gone: string[][];
  /** A rollback's undos done by finding their object as the run found it (put back outside this rollback): who, what. */
  asBefore: string[][];
}

/** An undo done by finding its object gone: nothing was sent, so the reader must not take it for this tool's removal. */
export const GONE_ALREADY = 'done (gone already: removed outside this tool)';

/**
 * Of a rollback's undos done, those for which nothing was sent (found gone, or as before the run,
 * already), as the counts say them: ` (2 gone already: ...; 1 already as before the run: ...)`, or
 * nothing. The rollback's summary (cli/views/apply-summary.ts) says them so too.
 */
export function doneUnsent(gone: number, asBefore: number): string {
  const parts = [...(gone > 0 ? [`${gone} gone already: removed outside this tool`] : []), ...(asBefore > 0 ? [`${asBefore} already as before the run: put back outside this rollback`] : [])];
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

/** An undo done by finding its object as the run found it: put back outside this rollback, nothing sent. */
const ALREADY_AS_BEFORE = 'done (already as before the run: put back outside this rollback)';

const stateLabel = (o: RunReportOperation) => (o.gone_already ? GONE_ALREADY : o.already_as_before ? ALREADY_AS_BEFORE : o.read_back ? `done (read back: ${o.read_back})` : o.state);
/** Graph's error, or why it was skipped: one left out as stale says why its user was (a black-box test read a bare "stale"). */
const errorText = (o: RunReportOperation) => (o.stale_reason ? `${o.error ?? 'stale'}: ${o.stale_reason}` : (o.error ?? ''));
const opRow = (o: RunReportOperation) => [o.target, stateLabel(o), o.at ?? '', o.request_id ?? '', errorText(o), o.rule ?? '', becauseText(o)];

/** Why, and for a forced federation done, whom outside the plan it moved with nothing to sign in with (no user section holds them). */
const becauseText = (o: RunReportOperation) =>
  [o.because ?? '', ...(o.moved_without_method.length > 0 ? [`moved to Entra MFA with no cloud MFA method they can use (--force-federation), ${o.moved_without_method.length} tenant user(s) outside the plan: ${o.moved_without_method.join(', ')}`] : [])].filter((x) => x !== '').join('; ');

/** The operations `pick` keeps, each a row of whose it is (`policy`, `shared` or its user) then `cells(o)`. */
function opsOf(r: RunReport, pick: (o: RunReportOperation) => boolean, cells: (o: RunReportOperation) => string[]): string[][] {
  return [
    ...r.policy.filter(pick).map((o) => ['policy', ...cells(o)]),
    ...r.shared.filter(pick).map((o) => ['shared', ...cells(o)]),
    ...r.users.flatMap((u) => u.operations.filter(pick).map((o) => [u.user, ...cells(o)])),
  ];
}

const targetOf = (o: RunReportOperation): string[] => [o.target];

/** How the report was asked for: the state folder given (--state-dir), which the commands it names must be given too. */
export interface RunReportWhere {
  stateDir?: string;
}

function runData(r: RunReport, where: RunReportWhere): RunData {
  const run = r.run;
  const command = (words: string[]) => cliCommand([...words, ...(where.stateDir ? ['--state-dir', where.stateDir] : [])]);
  const c = run.counts;
  const named = (i: { appId: string | null; upn: string | null }) => i.upn ?? (i.appId ? `application ${i.appId}` : 'not named by the token (the emulator)');
  const who = run.identity ? named(run.identity) : 'not recorded';
  const by = (o: RunReport['run']['operator'] | undefined) => (o ? `mfa-migrate ${o.tool_version}, OS account ${o.os_user} on ${o.host}` : 'not recorded');
  const resumed = run.resumed.map((x) => `${x.at} by ${named(x.identity)}${x.operator ? ` (${by(x.operator)})` : ''}${Object.keys(x.options).length > 0 ? ` (${Object.entries(x.options).map(([k, v]) => `${k} ${optionText(v)}`).join(', ')})` : ''}`);
  // The journal's check in `runs verify`'s words (journal.problem): a torn last line is a crash, not an edit.
  const journal =
    r.journal.state === 'verified'
      ? r.journal.about === 'torn-tail'
        ? `verified: ${r.journal.lines} whole lines chained from the plan hash; final hash ${r.journal.final_hash}; ${r.journal.problem}`
        : `verified: ${r.journal.lines} lines chained from the plan hash; final hash ${r.journal.final_hash}`
      : r.journal.state === 'unverifiable'
        ? `unverifiable: ${r.journal.problem}`
        : r.journal.edited
          ? `EDITED: ${r.journal.problem}`
          : (r.journal.problem ?? '');
  // A plan copy that cannot be read: the report is the journal's alone, and says what it cannot show.
  const undo = run.kind === 'rollback';
  const journalOnly = run.plan_problem
    ? `What the ${undo ? 'rollback set out to undo' : 'run set out to do'} cannot be shown: this report is made from the journal alone, its users named by their object id${run.unlisted_pending > 0 ? `, the ${run.unlisted_pending} operation(s) it does not record (pending, never sent) counted but not listed` : ''}${undo ? ', what it left in place that Graph cannot undo listed apart (not under each user)' : ''}; the outcomes are the journal's.`
    : undefined;
  // Said once: a check that found the plan copy unreadable already says so in its words.
  const planWords = run.plan_problem && r.journal.about !== 'plan-copy-unreadable' ? `${run.plan_problem.charAt(0).toUpperCase()}${run.plan_problem.slice(1)}. ` : '';
  const alert =
    r.journal.state !== 'broken'
      ? journalOnly
        ? `WARNING: ${planWords}${journalOnly}`
        : null
      : r.journal.edited
        ? `WARNING: ${r.journal.problem}. ${planWords}What this report shows comes from that journal and cannot be taken as the run's record; ${command(['runs', 'verify', run.id])} shows the same.${journalOnly ? ` ${journalOnly}` : ''}`
        : journalOnly
          ? `WARNING: ${r.journal.problem}. ${planWords}${journalOnly}`
          : r.journal.about === 'undone-run'
            ? `WARNING: ${r.journal.problem}. The outcomes listed are this rollback's journal's; the undos it has still to do, and whose changes each undoes, are read from the run it names, and cannot be taken as what it set out to undo.`
            : `WARNING: ${r.journal.problem}. The users and the operations not yet journaled are listed from that plan copy; the outcomes are the journal's.`;
  // Where what the report lists and what the run counted part, the summary says so and points here: a
  // warning there must be (a black-box test found "see the warning" with none printed).
  const parted = partedCounts(r);
  const alertOrParted =
    alert ??
    (parted.length > 0
      ? `WARNING: what this report lists does not agree with what the run counted (${parted.join('; ')}): what the run set out to do cannot be read whole, and the evidence it is listed from (${undo ? 'the journal and plan copy of the run it undoes' : 'its plan copy'}) may have changed since the run. The counts are the run's own journal's; the listing cannot be taken as what the run set out to do.`
      : null);
  const header: [string, string][] = [
    ['Run', `${run.id} (${run.kind})`],
    ['State', run.state],
    ['Tenant', run.tenant ? `${run.tenant.displayName} (${run.tenant.id})` : 'not recorded'],
    ['Graph', run.graph ? `${run.graph}${isLoopbackGraph(run.graph) ? ' (emulator / rehearsal)' : ''}` : 'not recorded'],
    ['Signed in as', who],
    ['Run by', by(run.operator)],
    ['Options', Object.keys(run.options).length > 0 ? Object.entries(run.options).map(([k, v]) => `${k} ${optionText(v)}`).join(', ') : 'none'],
    ['Started', run.started],
    ...(resumed.length > 0 ? [['Resumed', resumed.join('; ')] as [string, string]] : []),
    ...(run.read_back.length > 0 ? [['Read back by a rollback', run.read_back.map((x) => `${x.at} by ${named(x.identity)}: ${x.applied} write(s) of unknown outcome found applied, ${x.not_applied} not`).join('; ')] as [string, string]] : []),
    ['Finished', run.finished ?? 'not finished'],
    ['Plan SHA-256', run.plan_hash],
    ['Journal', journal],
    ...(r.rollback.of ? [['Rollback of', r.rollback.of] as [string, string]] : []),
    // What the rollback undid from (the JSON's rollback.undone_journal): an auditor compares it with the final hash noted for that run.
    ...(undo ? [["Undone run's journal", undoneJournalText(r)] as [string, string]] : []),
    ['Rolled back by', r.rollback.by.length > 0 ? r.rollback.by.map((b) => `${b.id} (${b.state}${b.finished ? `, ${b.finished}` : ''})`).join('; ') : 'none'],
  ];
  const tally = (k: RunUserOutcome) => r.users.filter((u) => u.outcome === k).length;
  const listed = [...r.policy, ...r.shared, ...r.users.flatMap((u) => u.operations)];
  const gone = listed.filter((o) => o.gone_already).length;
  const asBefore = listed.filter((o) => o.already_as_before).length;
  const counts = [
    `${run.total_operations} operation(s): ${c.done} done${doneUnsent(gone, asBefore)}, ${c.failed} failed, ${c.skipped} skipped, ${c.started} sent with outcome unknown, ${c.pending} pending (not sent)`,
    `${r.users.length} user(s): ${(Object.keys(OUTCOME_LABEL) as RunUserOutcome[])
      .map((k) => [k, tally(k)] as const)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${OUTCOME_LABEL[k]}`)
      .join(', ')}`,
    // The counts are the run's own; the listing comes from its plan: where they part, it is said (see the warning).
    ...parted.map((p) => `${p}: what the run set out to do cannot be read whole (see the warning)`),
    // Sent with no answer journaled: the run stopped while they were in flight, and they may have reached the tenant.
    ...(c.started > 0
      ? [
          `${c.started} operation(s) sent with no answer journaled (the run stopped while they were in flight): they may have reached the tenant; ${command([run.kind === 'apply' ? 'resume' : 'rollback', run.id])} reads them back before anything else`,
        ]
      : []),
  ];
  const anchors = anchorIds(r.users.map((u) => u.user), 'user');
  const failed = opsOf(r, (o) => o.state === 'failed' || o.state === 'skipped', opRow);
  return {
    title: `MFA migration ${run.kind} run report: ${run.id}`,
    alert: alertOrParted,
    header,
    counts,
    failed,
    policy: r.policy.map(opRow),
    shared: r.shared.map(opRow),
    notReversible: (r.rollback.not_reversible ?? []).map((x) => [x.user ?? 'policy', x.target, x.reason]),
    leftWithoutMethod: (r.rollback.left_without_method ?? []).flatMap((p) => [
      ...p.users.map((u) => [u.user, `of the run; switched by ${u.by}`, p.at]),
      ...(p.others?.users ?? []).map((u) => [u, `outside the run; switched by ${p.others!.by.join(' and ')}${p.others!.unread > 0 ? ` (${p.others!.unread} member(s) not read: there may be more)` : ''}`, p.at]),
      ...(p.unread !== null ? [['(not read)', `who is switched could not be read (${p.unread}): the run's users' methods were taken unchecked`, p.at]] : []),
    ]),
    gone: [
      // What Graph could not have undone, found gone when the rollback started: not left in place.
      ...r.rollback.not_reversible_gone.map((x) => [x.user ?? 'policy', `${x.target} (not reversible)`]),
      ...opsOf(r, (o) => o.gone_already, targetOf),
    ],
    asBefore: opsOf(r, (o) => o.already_as_before, targetOf),
    users: r.users.map((u, i) => ({ u, anchor: anchors[i]!, rows: u.operations.map(opRow), left: u.left_in_place.map((x) => [x.target, x.reason]), findings: (u.findings ?? []).map((f) => [f.severity, f.code, f.rule, f.message]) })),
  };
}

/** A rollback's record of the journal of the run it undoes, as the report's header says it. */
function undoneJournalText(r: RunReport): string {
  const u = r.rollback.undone_journal;
  if (!u) return 'not recorded (a rollback made by a version of the tool that did not record it)';
  return `${linesOf(u.lines)}, final hash ${u.final_hash}, as this rollback found it when it started (runs verify of either run holds that journal to them)`;
}

/** Where the operations listed and the run's counts part: pending ones not listed, or more listed pending than counted. */
function partedCounts(r: RunReport): string[] {
  const c = r.run.counts;
  const listedPending = [...r.policy, ...r.shared, ...r.users.flatMap((u) => u.operations)].filter((o) => o.state === 'pending').length;
  return [
    ...(r.run.unlisted_pending > 0 ? [`${r.run.unlisted_pending} of the ${c.pending} pending operation(s) are not listed`] : []),
    ...(listedPending > c.pending ? [`${listedPending - c.pending} more operation(s) are listed pending than the run counted`] : []),
  ];
}

/** A user as the report heads them: the export's username, and the Entra UPN where the plan matched them by an on-premises name. */
const shownUser = (u: RunReportUser): string => (u.tenant_upn !== undefined ? `${u.user} (Entra ${u.tenant_upn})` : u.user);

/** What the Shared operations section holds: a bulk create is named by what its journal says it made, not by what it set out to make. */
const SHARED_INTRO = 'Operations of no one user: the staged rollout and federation changes, and bulk creates of hardware tokens, named by the serials each made as its journal records them (then those of the plan it did not make); one not done, by the serials it set out to create.';

const NOT_REVERSIBLE_HEAD = ['User', 'Target', 'Why'];
const LEFT_WITHOUT_HEAD = ['User', 'Still switched to Entra MFA', 'Taken at'];
const LEFT_WITHOUT_TITLE = 'Taken all the same (--leave-switched-without-method)';
const LEFT_WITHOUT_INTRO =
  "Users still switched to Entra MFA whom this rollback's undos left with no method they can use (the run's users lost the methods it took; those outside the run, the methods policy's parts they need): every one, where the warning and the summary name the first few. Give them a method, or take them out of the staged rollout, now.";
const GONE_HEAD = ['User', 'Target'];
const GONE_INTRO = 'Removed outside this tool before the rollback undid them: nothing was sent (an undo is counted done; what Graph cannot undo is marked not reversible).';
const AS_BEFORE_INTRO = 'Found as the run found them, put back since outside this rollback (another run of the plan rolled back, an admin): nothing was sent, and nothing was changed since the run (counted done).';
const NOT_RECORDED = 'Not recorded: this rollback was made by a version of the tool that printed it to the terminal only.';

export function renderRunReportMarkdown(r: RunReport, where: RunReportWhere = {}): string {
  const d = runData(r, where);
  const md = escMarkdown;
  const table = (head: string[], rows: string[][]) => (rows.length === 0 ? ['None.', ''] : [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(md).join(' | ')} |`), '']);
  const out = [`# ${md(d.title)}`, '', ...(d.alert ? [`> **${md(d.alert)}**`, ''] : []), '## Run', '', '| | |', '|---|---|', ...d.header.map(([k, v]) => `| ${k} | ${md(v)} |`), ''];
  out.push('## Summary', '', ...d.counts.map((c) => `- ${md(c)}`), '', md(OPERATIONS_LEGEND), '');
  out.push(`## Failed and skipped operations (${d.failed.length})`, '', ...table(FAILED_HEAD, d.failed));
  out.push(`## Policy (${d.policy.length})`, '', ...table(OP_HEAD, d.policy));
  out.push(`## Shared operations (${d.shared.length})`, '', SHARED_INTRO, '', ...table(OP_HEAD, d.shared));
  if (r.run.kind === 'rollback') {
    out.push(`## Left in place: not reversible (${r.rollback.not_reversible ? d.notReversible.length : 'not recorded'})`, '');
    out.push(...(r.rollback.not_reversible ? table(NOT_REVERSIBLE_HEAD, d.notReversible) : [NOT_RECORDED, '']));
    if (d.leftWithoutMethod.length > 0) out.push(`## ${LEFT_WITHOUT_TITLE} (${d.leftWithoutMethod.length})`, '', md(LEFT_WITHOUT_INTRO), '', ...table(LEFT_WITHOUT_HEAD, d.leftWithoutMethod));
    out.push(`## Gone already (${d.gone.length})`, '', GONE_INTRO, '', ...table(GONE_HEAD, d.gone));
    if (d.asBefore.length > 0) out.push(`## Already as before the run (${d.asBefore.length})`, '', AS_BEFORE_INTRO, '', ...table(GONE_HEAD, d.asBefore));
  }
  out.push(`## Users (${d.users.length})`, '');
  for (const v of d.users) {
    out.push(`### <a id="${v.anchor}"></a>${md(shownUser(v.u))}: ${md(OUTCOME_LABEL[v.u.outcome])}`, '');
    if (v.rows.length > 0) out.push(...table(OP_HEAD, v.rows));
    if (v.left.length > 0) out.push(...table(LEFT_HEAD, v.left));
    if (v.findings.length > 0) out.push(...table(FINDING_HEAD, v.findings));
  }
  return out.join('\n');
}

export function renderRunReportHtml(r: RunReport, where: RunReportWhere = {}): string {
  const d = runData(r, where);
  const e = escHtml;
  // The class is the state's first word: `done (gone already: ...)` is styled as done.
  const cell = (head: string, v: string) => (head === 'State' ? `<td class="${e(v.split(' ')[0]!)}">${e(v)}</td>` : head === 'Operation' || head === 'Request id' || head === 'Time' || head === 'Rule' ? `<td class="mono">${e(v)}</td>` : `<td>${e(v)}</td>`);
  const table = (head: string[], rows: string[][]) =>
    rows.length === 0
      ? '<p class="none">None.</p>'
      : `<table><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>\n${rows.map((row) => `<tr>${row.map((v, i) => cell(head[i]!, v)).join('')}</tr>`).join('\n')}\n</tbody></table>`;
  const body = [`<h1>${e(d.title)}</h1>`, ...(d.alert ? [`<p class="alert" role="alert">${e(d.alert)}</p>`] : []), '<h2 id="run">Run</h2>'];
  body.push(`<table class="kv"><tbody>${d.header.map(([k, v]) => `<tr><th>${e(k)}</th><td class="mono">${e(v)}</td></tr>`).join('')}</tbody></table>`);
  body.push('<h2 id="summary">Summary</h2>', `<ul class="counts">${d.counts.map((c) => `<li>${e(c)}</li>`).join('')}</ul>`, `<p class="intro">${e(OPERATIONS_LEGEND)}</p>`);
  body.push(`<h2 id="failed">Failed and skipped operations (${d.failed.length})</h2>`, table(FAILED_HEAD, d.failed));
  body.push(`<h2 id="policy">Policy (${d.policy.length})</h2>`, table(OP_HEAD, d.policy));
  body.push(`<h2 id="shared">Shared operations (${d.shared.length})</h2>`, `<p class="intro">${e(SHARED_INTRO)}</p>`, table(OP_HEAD, d.shared));
  if (r.run.kind === 'rollback') {
    body.push(`<h2 id="not-reversible">Left in place: not reversible (${r.rollback.not_reversible ? d.notReversible.length : 'not recorded'})</h2>`);
    body.push(r.rollback.not_reversible ? table(NOT_REVERSIBLE_HEAD, d.notReversible) : `<p class="none">${e(NOT_RECORDED)}</p>`);
    if (d.leftWithoutMethod.length > 0) body.push(`<h2 id="left-without-method">${e(LEFT_WITHOUT_TITLE)} (${d.leftWithoutMethod.length})</h2>`, `<p class="intro">${e(LEFT_WITHOUT_INTRO)}</p>`, table(LEFT_WITHOUT_HEAD, d.leftWithoutMethod));
    body.push(`<h2 id="gone-already">Gone already (${d.gone.length})</h2>`, `<p class="intro">${e(GONE_INTRO)}</p>`, table(GONE_HEAD, d.gone));
    if (d.asBefore.length > 0) body.push(`<h2 id="already-as-before">Already as before the run (${d.asBefore.length})</h2>`, `<p class="intro">${e(AS_BEFORE_INTRO)}</p>`, table(GONE_HEAD, d.asBefore));
  }
  body.push(`<h2 id="users">Users (${d.users.length})</h2>`);
  const outcomes = (Object.keys(OUTCOME_LABEL) as RunUserOutcome[]).filter((k) => d.users.some((v) => v.u.outcome === k)).map((k) => [k, OUTCOME_LABEL[k]] as const);
  body.push(controls([filterSelect('outcome', 'Outcome', outcomes), filterSelect('states', 'Operation state', ['done', 'failed', 'skipped', 'started', 'pending'].map((s) => [s, s] as const))]));
  for (const v of d.users) {
    const data = `data-user="${e(v.u.user.toLowerCase())}" data-outcome="${v.u.outcome}" data-states="${[...new Set(v.u.operations.map((o) => o.state))].join(' ')}"`;
    const title = `${e(shownUser(v.u))}<span class="badge ${v.u.outcome}">${e(OUTCOME_LABEL[v.u.outcome])}</span>`;
    const found = v.findings.length > 0 ? table(FINDING_HEAD, v.findings) : '';
    if (v.rows.length === 0 && v.left.length === 0) body.push(`<details class="entry" id="${v.anchor}" ${data}><summary>${title}</summary><p class="none">No operation.</p>${found}</details>`);
    else body.push(`<section class="entry${ATTENTION.has(v.u.outcome) ? ' attention' : ''}" id="${v.anchor}" ${data}><h3>${title}</h3>${v.rows.length > 0 ? table(OP_HEAD, v.rows) : ''}${v.left.length > 0 ? table(LEFT_HEAD, v.left) : ''}${found}</section>`);
  }
  return htmlPage(d.title, body.join('\n'));
}

/** The run report for the terminal: the header, the counts and the failures. */
export function renderRunReportText(r: RunReport, where: RunReportWhere = {}): string {
  const d = runData(r, where);
  const lines = [...(d.alert ? [d.alert, ''] : []), d.title, ...d.header.map(([k, v]) => `  ${k}: ${v}`), ...d.counts.map((c) => `  ${c}`)];
  if (d.notReversible.length > 0) lines.push('Left in place (not reversible):', ...d.notReversible.map(([user, target, reason]) => `  ${user} ${target}: ${reason}`));
  if (d.leftWithoutMethod.length > 0) lines.push(`${LEFT_WITHOUT_TITLE}:`, ...d.leftWithoutMethod.map(([user, by, at]) => `  ${user}: ${by} (${at})`));
  if (d.gone.length > 0) lines.push(`Gone already (removed outside this tool; nothing to undo, counted done):`, ...d.gone.map(([user, target]) => `  ${user} ${target}`));
  if (d.asBefore.length > 0) lines.push(`Already as before the run (put back outside this rollback; nothing to undo, counted done):`, ...d.asBefore.map(([user, target]) => `  ${user} ${target}`));
  if (d.failed.length > 0) lines.push('Failed and skipped operations:', ...d.failed.map(([user, op, state, at, id, err]) => `  ${user} ${op}: ${state} at ${at}${id ? ` (request-id ${id})` : ''}: ${err}`));
  return `${lines.join('\n')}\n`;
}

/** An option's value as the report shows it: lists joined, nothing of objects hidden. */
function optionText(v: unknown): string {
  // A long list (the users left out as stale) is counted past its first 20: the JSON has it whole.
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.slice(0, 20).map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ') + (v.length > 20 ? ` and ${v.length - 20} more` : '');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** "1 line", "80 lines". */
function linesOf(n: number): string {
  return `${n} ${n === 1 ? 'line' : 'lines'}`;
}
