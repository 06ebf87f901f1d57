import { addTo } from '../model/add-to.js';
import { hasNothingToMigrate, saysNoUsableMethod, STATUS_LABELS, statusLabel, userTitle } from './status-label.js';
import { RULES, type RuleId } from '../mapping/rules.js';
import type { Finding } from '../mapping/finding.js';
import { outsideExportText } from '../mapping/cutover-rules.js';
import { escHtml, escMarkdown } from '../report/escape.js';
import { anchorIds, controls, filterSelect, htmlPageAround } from '../report/html-page.js';
import { joinedChunks } from '../io/text-chunks.js';
import { countLines, planCounts } from './plan-counts.js';
import { maskServerRecord } from './plan-json.js';
import type { MethodKind, Plan, PlanUserStatus, ServerPhone, ServerRecord, UserChange } from './plan-model.js';
import { planOptionsText } from './options-text.js';
import { formatValue } from './render-terminal.js';

export interface ReportOptions {
  showPhoneNumbers: boolean;
}

/**
 * The auditors' mapping report, HTML or Markdown, the same sections in both: a header to sign off
 * (tenant, Graph, who, tool, plan hash, input files and their hashes, options, a sign-off block),
 * the counts by the plan's one rule, the users left with no usable method first, the settings
 * mapping, every in-scope user exactly once (their MFA Server record beside the planned cloud state,
 * each change with its rule and reason, their findings), the other findings, the registration
 * campaign and the rule glossary (docs/mapping.md's rules, from mapping/rules.ts, which a test keeps
 * in step with it). Deterministic: the same plan renders to the same bytes.
 */

const TITLE = 'MFA Server to Entra migration: mapping report';


const METHOD_LABEL: Record<MethodKind, string> = {
  microsoftAuthenticator: 'Microsoft Authenticator',
  hardwareOath: 'hardware OATH token',
  softwareOath: 'software OATH token',
  mobilePhone: 'mobile phone',
  alternateMobilePhone: 'alternate mobile phone',
  officePhone: 'office phone',
};

const DEFAULT_LABEL: Record<string, string> = { phone_call: 'phone call', text_message: 'text message', mobile_app: 'mobile app', oath_token: 'OATH token' };

/** One in-scope user as the report shows them. */
interface UserView {
  u: PlanUserStatus;
  anchor: string;
  changes: UserChange[];
  findings: Finding[];
  server: ServerRecord | undefined;
  noUsableMethod: boolean;
}

interface ReportData {
  header: [string, string][];
  rehearsal: boolean;
  inputs: string[][];
  counts: string[];
  settings: string[][];
  /** The cutover: staged rollout, the rollout groups' fill, the federation, passkeys. */
  cutover: string[][];
  /**
   * Per domain whose federation the plan forces, every one its federation-forced findings count (each
   * names the first 20): (JSON 1.9) the tenant users outside the export it moves with no cloud MFA
   * method; (1.10) the usernames not checked, the users outside the plan's scope, those not switched.
   */
  forcedFederationLists: { title: string; intro: string; users: string[] }[];
  phoneOnly: UserView[];
  users: UserView[];
  otherFindings: Finding[];
  usedRules: RuleId[];
}

const isRule = (r: string): r is RuleId => Object.hasOwn(RULES, r);

/** Whether the Graph root is a loopback address: the emulator, a rehearsal, not a tenant. */
export function isLoopbackGraph(root: string | undefined): boolean {
  if (!root) return false;
  try {
    const host = new URL(root).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

function reportData(plan: Plan, opts: ReportOptions): ReportData {
  const o = plan.options;
  const rehearsal = isLoopbackGraph(plan.graph);
  const who = plan.identity ? (plan.identity.upn ?? (plan.identity.appId ? `application ${plan.identity.appId}` : 'not named by the token (the emulator)')) : 'not recorded';
  const header: [string, string][] = [
    ['Tenant', plan.tenant.displayName ? `${plan.tenant.displayName} (${plan.tenant.id})` : plan.tenant.id],
    ['Graph', plan.graph ? `${plan.graph}${rehearsal ? ' (emulator / rehearsal)' : ''}` : 'not recorded'],
    ['Signed in as', who],
    ['Tool version', plan.tool_version ? `mfa-migrate ${plan.tool_version}` : 'not recorded'],
    ['Plan created', plan.created],
    ['Plan SHA-256', plan.plan_hash ?? 'not saved: a plan made without --out has no file to hash (save it with plan --out and report it with show PLANFILE --report)'],
    ['Source fingerprint', plan.source_fingerprint],
    // The JSON output's version (plan --format json), not the saved plan's (plan-format.md): named so (an auditor took one for the other).
    ['Plan JSON format', `${plan.format_version} (of plan --format json; the saved plan file has its own)`],
    ['Options', planOptionsText(o, true).join('; ')],
    // A report with numbers in full is handled as such: it says so at its head (an auditor found no mark).
    ['Phone numbers', opts.showPhoneNumbers ? 'SHOWN IN FULL (--show-phone-numbers): handle this report as personal data' : 'masked (--show-phone-numbers shows them)'],
  ];
  const inputs = (plan.inputs ?? []).map((f) => [f.role, f.path, f.sha256, String(f.bytes)]);
  const planned = planCounts(plan);
  const words = countLines(planned);
  const counts = [
    // First: these users are stopped at sign-in from the retirement day unless they register something else.
    ...(planned.phoneOnly > 0 ? [`${planned.phoneOnly} user(s) left with SMS and voice only: from 2027-02-01 a blocking passkey registration prompt stops their sign-in`] : []),
    words.plan,
    words.userChanges,
    words.policy,
    ...(words.cutover ? [words.cutover] : []),
    words.users,
    `Findings: ${words.findings}`,
    words.cannotUndo,
  ];
  const show = (v: unknown) => (v === null || v === undefined ? '' : formatValue(v, opts.showPhoneNumbers));
  const settings = [
    ...plan.policy_changes.map((c) => [c.setting, `${c.target}.${c.property}`, show(c.before), show(c.after), c.rule, c.because]),
    ...plan.findings.filter((f) => f.rule === 'POL-MANUAL').map((f) => [f.code, 'no cloud setting through Graph', '', '', f.rule, f.message]),
  ];
  const cut = plan.cutover;
  const cutover = [
    ...(plan.cutover_changes ?? []).map((x) => [x.target, x.action, show(x.before), show(x.after), x.rule, x.switches !== undefined ? `${x.because} (apply: last, after the ${x.switches} switch(es))` : x.because]),
    ...(cut?.rollout_groups ?? []).map((g) => [`rollout group ${g.displayName}`, 'fill', `${g.members_before} member(s)`, `${g.members_before + g.added} member(s)`, 'CUTOVER-SWITCH-USER', `${g.added} user(s) switched by this plan`]),
    ...(cut?.federation ?? []).filter((f) => !f.planned).map((f) => [`domains/${f.domain}`, 'no-op', show(f.federatedIdpMfaBehavior), '', 'CUTOVER-FEDERATION', f.users === 0 ? 'no user of the plan in the domain' : 'left as it is']),
    ...(cut?.federation ?? []).filter((f) => f.planned && (f.outside_export ?? 0) > 0).map((f) => [`domains/${f.domain}`, 'outside the export', '', `${f.outside_export} user(s)`, 'CUTOVER-FEDERATION', `${outsideExportText(f.outside_export!)}${f.outside_without_method?.length ? `; ${f.outside_without_method.length} of them with no cloud MFA method they can use (--force-federation), every one listed below` : ''}`]),
    ...(cut ? [['passkeys (FIDO2)', 'read', show(cut.passkeys.state), '', 'CUTOVER-PHONE-DEADLINE', `targets ${cut.passkeys.include_targets.join(', ') || 'none'}; for the users left with SMS/voice only: ${cut.passkeys.allowed_for_phone_only}`]] : []),
  ];
  const changesOf = new Map<string, UserChange[]>();
  for (const c of plan.user_changes) addTo(changesOf, c.user.toLowerCase(), c);
  const findingsOf = new Map<string, Finding[]>();
  // The changes a run signed in as the plan's identity does not send, shown among the user's findings first.
  for (const n of plan.not_applicable ?? []) addTo(findingsOf, n.user.toLowerCase(), { severity: 'warning', code: 'not-applicable-signed-in', user: n.user, rule: n.rule, message: `${n.resource} (${n.action}) is not sent by a run signed in as ${plan.identity?.upn ?? plan.identity?.objectId ?? 'the signed-in user'}: ${n.because}` });
  for (const f of plan.findings) if (f.user !== undefined && f.rule !== 'POL-MANUAL') addTo(findingsOf, f.user.toLowerCase(), f);
  const anchors = anchorIds(plan.users.map((u) => u.user), 'user');
  const users = plan.users.map((u, i) => ({
    u,
    anchor: anchors[i]!,
    changes: changesOf.get(u.user.toLowerCase()) ?? [],
    findings: findingsOf.get(u.user.toLowerCase()) ?? [],
    server: u.server && !opts.showPhoneNumbers ? maskServerRecord(u.server) : u.server,
    noUsableMethod: u.methods_after?.length === 0,
  }));
  const inScope = new Set(plan.users.map((u) => u.user.toLowerCase()));
  const otherFindings = plan.findings.filter((f) => f.rule !== 'POL-MANUAL' && (f.user === undefined || !inScope.has(f.user.toLowerCase())));
  const used = new Set<string>([...plan.policy_changes.map((c) => c.rule), ...(plan.cutover_changes ?? []).map((c) => c.rule), ...plan.user_changes.map((c) => c.rule), ...plan.findings.map((f) => f.rule), ...(plan.not_applicable ?? []).map((n) => n.rule)]);
  const usedRules = (Object.keys(RULES) as RuleId[]).filter((r) => used.has(r));
  const phoneOnlyUsers = new Set(plan.findings.filter((f) => f.code === 'phone-only-after-retirement').map((f) => f.user?.toLowerCase()));
  const phoneOnly = users.filter((v) => phoneOnlyUsers.has(v.u.user.toLowerCase()));
  // Every one, not a finding's first 20: an approver sees each user a forced federation moves unchecked, unswitched or with nothing to sign in with.
  const forcedFederationLists = (cut?.federation ?? [])
    .filter((f) => f.planned)
    .flatMap((f) =>
      [
        { title: movedTitle(f.domain, f.outside_without_method?.length ?? 0), intro: MOVED_INTRO, users: f.outside_without_method ?? [] },
        { title: `Usernames of the export not checked for ${f.domain}: no one tenant user alone, users of the domain among their candidates (${f.unchecked_names?.length ?? 0})`, intro: FORCED_INTRO, users: f.unchecked_names ?? [] },
        { title: `Users of ${f.domain} in the export outside this plan's scope, not checked (${f.out_of_scope_users?.length ?? 0})`, intro: FORCED_INTRO, users: f.out_of_scope_users ?? [] },
        { title: `Users of ${f.domain} in scope not switched (${f.unswitched_users?.length ?? 0})`, intro: FORCED_INTRO, users: f.unswitched_users ?? [] },
      ].filter((l) => l.users.length > 0),
    );
  return { header, rehearsal, inputs, counts, settings, cutover, forcedFederationLists, phoneOnly, users, otherFindings, usedRules };
}

const SETTINGS_HEAD = ['On-premises setting', 'Cloud target', 'Before', 'After', 'Rule', 'Reason'];
const CUTOVER_HEAD = ['Cloud target', 'Action', 'Before', 'After', 'Rule', 'Reason'];
const CUTOVER_INTRO =
  'Staged rollout (the policy, the groups users are switched by, their fill), the federated domains (the final step) and the passkey configuration. Each user switched is among their changes (rolloutGroup/<group>).';
const movedTitle = (domain: string, n: number) => `Tenant users of ${domain} outside the export moved to Entra MFA with no cloud method (${n})`;
const FORCED_INTRO = 'The federation this plan sets (--force-federation) moves every user of the domain to Entra MFA: any of them not switched by then meets Entra MFA, and one with no cloud method they can use cannot complete it. Each is counted in a federation-forced finding, which names the first 20.';
const MOVED_INTRO =
  'The federation this plan sets (--force-federation) moves them to Entra MFA with nothing to sign in with: they cannot complete MFA (whoever has their password could register a method). Give them a method first, or disable the accounts no one uses.';
const PHONE_ONLY_TITLE = 'Users left with SMS and voice only';
const PHONE_ONLY_INTRO = 'From 2027-02-01 (2027-07-01 for Global Administrators and external users), when Microsoft-provided SMS and voice retire, a blocking passkey registration prompt stops their sign-in unless they register something else.';
const CHANGE_HEAD = ['Resource', 'Action', 'Before', 'After', 'Rule', 'Reason'];
const FINDING_HEAD = ['Severity', 'Code', 'Rule', 'Finding'];
const INPUT_HEAD = ['Role', 'File', 'SHA-256', 'Bytes'];
const SIGNOFF = ['Prepared by', 'Reviewed by', 'Approved by'];

function phoneCells(p: ServerPhone | null): [string, string] {
  if (!p) return ['none', ''];
  const asExported = [p.country_code !== null ? `country code ${p.country_code}` : 'no country code', p.number, p.extension !== null ? `extension ${p.extension}` : 'no extension'].join(' · ');
  return [asExported, p.entra ?? 'not a valid number: never sent (see the findings)'];
}

/** The MFA Server record as rows: field, as exported, what the plan makes of it. */
function serverRows(r: ServerRecord | undefined): [string, string, string][] {
  if (!r) return [['Record', 'not in this plan (saved before format 2.1)', '']];
  const [p1, e1] = phoneCells(r.phone);
  const [p2, e2] = phoneCells(r.backup_phone);
  return [
    ['users.csv line', String(r.line), ''],
    ['Enabled', r.enabled ? 'yes' : 'no', ''],
    ['Primary phone', p1, e1],
    ['Backup phone', p2, e2],
    ['Default method', r.default_method ? (DEFAULT_LABEL[r.default_method] ?? r.default_method) : 'none', ''],
    ['OATH token serials', r.token_serials.length > 0 ? r.token_serials.join(', ') : 'none', ''],
    ['Mobile app registrations', String(r.mobile_app_devices), ''],
  ];
}

function methodsText(v: UserView): string {
  const m = v.u.methods_after;
  if (m === undefined) return 'not in this plan (saved before format 2.1)';
  if (m === null) return 'not touched by the plan';
  return m.length === 0 ? 'none: the user is left with no usable method' : m.map((k) => METHOD_LABEL[k] ?? k).join(', ');
}

function changeRow(c: UserChange, show: (v: unknown) => string): string[] {
  return [c.resource, c.action, show(c.before), show(c.after), c.rule, c.because];
}

function entryTitle(v: UserView): string {
  const label = statusLabel(v.u);
  return `${label}${noUsableTold(v, label) ? '' : '; no usable method'}`;
}

/** Whether the user's status label says it already (a user with nothing to change left with no usable method), or there is nothing to say. */
function noUsableTold(v: UserView, label: string): boolean {
  return !v.noUsableMethod || saysNoUsableMethod(label);
}

// ---------------------------------------------------------------- Markdown

/**
 * The Markdown report, a chunk at a time: written as it is made, never held whole. The report's data
 * is gathered here, before the first chunk is asked for (seconds for 100,000 users): not while the
 * writer's temporary file is open, so a Ctrl-C then ends the process at once, leaving no file.
 */
export function reportMarkdownChunks(plan: Plan, opts: ReportOptions): Generator<string> {
  return joinedChunks(markdownLines(reportData(plan, opts), plan, opts), '\n');
}

/** The Markdown report's lines, a user's at a time. */
function* markdownLines(d: ReportData, plan: Plan, opts: ReportOptions): Generator<string> {
  const show = (v: unknown) => (v === null || v === undefined ? '' : formatValue(v, opts.showPhoneNumbers));
  const md = escMarkdown;
  const ruleLink = (r: string) => (isRule(r) ? `[${r}](#rule-${r.toLowerCase()})` : md(r));
  const table = (head: string[], rows: string[][], raw: ReadonlySet<number> = new Set()) =>
    rows.length === 0 ? ['None.', ''] : [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map((c, i) => (raw.has(i) ? c : md(c))).join(' | ')} |`), ''];
  const ruleCol = (rows: string[][], at: number) => rows.map((r) => r.map((c, i) => (i === at ? ruleLink(c) : md(c))));
  const out: string[] = [`# ${TITLE}`, ''];

  out.push('## Sign-off', '', '| | |', '|---|---|', ...d.header.map(([k, v]) => `| ${k} | ${md(v)} |`), '');
  out.push('### Input files', '', ...table(INPUT_HEAD, d.inputs));
  out.push('| Sign-off | Name | Date | Signature |', '|---|---|---|---|', ...SIGNOFF.map((s) => `| ${s} | | | |`), '');

  out.push('## Summary', '', ...d.counts.map((c) => `- ${md(c)}`), '');

  out.push(`## ${PHONE_ONLY_TITLE} (${d.phoneOnly.length})`, '', PHONE_ONLY_INTRO, '');
  out.push(...(d.phoneOnly.length === 0 ? ['None.', ''] : [...d.phoneOnly.map((v) => `- [${md(v.u.user)}](#${v.anchor})`), '']));

  const attention = d.users.filter((v) => v.noUsableMethod);
  out.push(`## Users left with no usable method (${attention.length})`, '');
  out.push(...(attention.length === 0 ? ['None.', ''] : [...attention.map((v) => `- [${md(v.u.user)}](#${v.anchor}): ${md(statusLabel(v.u))}`), '']));

  out.push(`## Settings mapping (${d.settings.length})`, '', 'Each MFA Server setting or use, the cloud setting it maps to, the value before and after, the rule and the reason. Settings without a cloud equivalent are listed with the manual step.', '');
  out.push(...table(SETTINGS_HEAD, ruleCol(d.settings, 4), new Set([0, 1, 2, 3, 4, 5])));
  out.push(`## Cutover (${d.cutover.length})`, '', CUTOVER_INTRO, '');
  out.push(...table(CUTOVER_HEAD, ruleCol(d.cutover, 4), new Set([0, 1, 2, 3, 4, 5])));
  for (const m of d.forcedFederationLists) out.push(`### ${md(m.title)}`, '', m.intro, '', ...m.users.map((u) => `- ${md(u)}`), '');

  out.push(`## Users (${d.users.length})`, '', 'Every user in scope, once: the MFA Server record as exported beside the planned cloud state, each change with its rule and reason, and the user\'s findings.', '');
  for (const v of d.users) {
    yield* out.splice(0);
    out.push(`### <a id="${v.anchor}"></a>${md(userTitle(v.u))}: ${md(entryTitle(v))}`, '');
    out.push('MFA Server record:', '', ...table(['Field', 'As exported', 'Entra form'], serverRows(v.server)));
    out.push(`Methods after the plan: ${md(methodsText(v))}`, '');
    if (v.changes.length > 0) out.push('Planned changes:', '', ...table(CHANGE_HEAD, ruleCol(v.changes.map((c) => changeRow(c, show)), 4), new Set([0, 1, 2, 3, 4, 5])));
    if (v.findings.length > 0) out.push('Findings:', '', ...table(FINDING_HEAD, ruleCol(v.findings.map((f) => [f.severity, f.code, f.rule, f.message]), 2), new Set([0, 1, 2, 3])));
  }

  out.push(`## Other findings (${d.otherFindings.length})`, '', ...table(['Severity', 'User', 'Code', 'Rule', 'Finding'], ruleCol(d.otherFindings.map((f) => [f.severity, f.user ?? '', f.code, f.rule, f.message]), 3), new Set([0, 1, 2, 3, 4])));
  out.push(`## Registration campaign (${plan.registration_campaign.length})`, '', 'Users whose MFA Server mobile app registrations cannot move and who must register Microsoft Authenticator.', '');
  out.push(...(plan.registration_campaign.length === 0 ? ['None.', ''] : [...plan.registration_campaign.map((u) => `- ${md(u)}`), '']));
  out.push('## Rule glossary', '', 'The rules of docs/mapping.md; those this plan applied are marked.', '', '| Rule | Applied | What it does |', '|---|---|---|');
  for (const r of Object.keys(RULES) as RuleId[]) out.push(`| <a id="rule-${r.toLowerCase()}"></a>${r} | ${d.usedRules.includes(r) ? 'yes' : ''} | ${md(RULES[r])} |`);
  out.push('');
  yield* out;
}

// ---------------------------------------------------------------- HTML

/**
 * Lets long identifiers wrap where a reader would split them: after `/` and `.` in paths, and
 * between the words of a long camelCase property name. `<wbr>` adds no text, so copying a cell
 * still gives the exact value.
 */
const breakPaths = (html: string) => html.replace(/([/.])(?=[A-Za-z0-9])/g, '$1<wbr>');
const breakWords = (html: string) => breakPaths(html).replace(/[A-Za-z]{16,}(?=:)/g, (key) => key.replace(/([a-z])(?=[A-Z][a-z])/g, '$1<wbr>'));

/** The HTML report, a chunk at a time: written as it is made, never held whole; its data gathered first, as the Markdown's. */
export function reportHtmlChunks(plan: Plan, opts: ReportOptions): Generator<string> {
  return htmlPageChunks(plan, reportData(plan, opts), opts);
}

function* htmlPageChunks(plan: Plan, d: ReportData, opts: ReportOptions): Generator<string> {
  const page = htmlPageAround(`MFA migration mapping report: ${plan.tenant.displayName ?? plan.tenant.id}`);
  yield page.head;
  yield* joinedChunks(htmlBody(d, plan, opts), '\n');
  yield page.tail;
}

/** The HTML report's body, a part (a user's entry) at a time, the parts to be joined by line breaks. */
function* htmlBody(d: ReportData, plan: Plan, opts: ReportOptions): Generator<string> {
  const show = (v: unknown) => (v === null || v === undefined ? '' : formatValue(v, opts.showPhoneNumbers));
  const e = escHtml;
  const rule = (r: string) => (isRule(r) ? `<a class="mono" href="#rule-${r.toLowerCase()}">${r}</a>` : `<span class="mono">${e(r)}</span>`);
  const cell = (head: string, v: string): string => {
    if (head === 'Rule') return `<td>${rule(v)}</td>`;
    if (head === 'Action' || head === 'Severity') return `<td class="${e(v)}">${e(v)}</td>`;
    if (head === 'Before' || head === 'After') return `<td class="mono">${breakWords(e(v))}</td>`;
    if (head === 'Resource' || head === 'Cloud target' || head === 'SHA-256' || head === 'File') return `<td class="mono">${breakPaths(e(v))}</td>`;
    if (head === 'On-premises setting') return `<td>${breakPaths(e(v))}</td>`;
    return `<td>${e(v)}</td>`;
  };
  const table = (head: string[], rows: string[][], cls = '') =>
    rows.length === 0
      ? '<p class="none">None.</p>'
      : `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>\n${rows.map((r) => `<tr>${r.map((v, i) => cell(head[i] ?? '', v)).join('')}</tr>`).join('\n')}\n</tbody></table>`;
  const body: string[] = [`<h1>${e(TITLE)}</h1>`];

  body.push('<h2 id="sign-off">Sign-off</h2>');
  body.push(`<table class="kv"><tbody>${d.header.map(([k, v]) => `<tr><th>${e(k)}</th><td class="mono">${k === 'Graph' && d.rehearsal ? `${e(plan.graph!)} <span class="rehearsal">emulator / rehearsal</span>` : e(v)}</td></tr>`).join('')}</tbody></table>`);
  body.push('<h3>Input files</h3>', table(INPUT_HEAD, d.inputs));
  body.push(`<table class="signoff"><thead><tr><th>Sign-off</th><th>Name</th><th>Date</th><th>Signature</th></tr></thead><tbody>${SIGNOFF.map((s) => `<tr><th>${s}</th><td></td><td></td><td></td></tr>`).join('')}</tbody></table>`);

  body.push('<h2 id="summary">Summary</h2>', `<ul class="counts">${d.counts.map((c) => `<li>${e(c)}</li>`).join('')}</ul>`);

  body.push(`<h2 id="phone-only">${e(PHONE_ONLY_TITLE)} (${d.phoneOnly.length})</h2>`, `<p class="intro">${e(PHONE_ONLY_INTRO)}</p>`);
  body.push(d.phoneOnly.length === 0 ? '<p class="none">None.</p>' : `<ul>${d.phoneOnly.map((v) => `<li><a href="#${v.anchor}">${e(v.u.user)}</a></li>`).join('')}</ul>`);

  const attention = d.users.filter((v) => v.noUsableMethod);
  body.push(`<h2 id="no-usable-method">Users left with no usable method (${attention.length})</h2>`);
  body.push(attention.length === 0 ? '<p class="none">None.</p>' : `<ul>${attention.map((v) => `<li><a href="#${v.anchor}">${e(v.u.user)}</a>: ${e(statusLabel(v.u))}</li>`).join('')}</ul>`);

  body.push(`<h2 id="settings">Settings mapping (${d.settings.length})</h2>`, '<p class="intro">Each MFA Server setting or use, the cloud setting it maps to, the value before and after, the rule and the reason. Settings without a cloud equivalent are listed with the manual step.</p>', table(SETTINGS_HEAD, d.settings));

  body.push(`<h2 id="cutover">Cutover (${d.cutover.length})</h2>`, `<p class="intro">${e(CUTOVER_INTRO)}</p>`, table(CUTOVER_HEAD, d.cutover));
  for (const m of d.forcedFederationLists) body.push(`<h3>${e(m.title)}</h3>`, `<p class="intro">${e(m.intro)}</p>`, `<ul>${m.users.map((u) => `<li>${e(u)}</li>`).join('')}</ul>`);

  body.push(`<h2 id="users">Users (${d.users.length})</h2>`, '<p class="intro">Every user in scope, once: the MFA Server record as exported beside the planned cloud state, each change with its rule and reason, and the user\'s findings. Users with nothing to change are collapsed.</p>');
  const actions = ['create', 'update', 'delete', 'no-op'].map((a) => [a, a] as const);
  // Users with nothing to change are filtered as the summary counts them: already matching, or with nothing to migrate.
  const outcomes = [
    ...(Object.keys(STATUS_LABELS) as PlanUserStatus['status'][]).flatMap((s) => [[s, STATUS_LABELS[s]] as const, ...(s === 'unchanged' ? [['nothing-to-migrate', 'nothing to migrate'] as const] : [])]),
    ['no-usable-method', 'no usable method'] as const,
  ];
  body.push(
    controls([
      filterSelect('actions', 'Action', actions),
      filterSelect('rules', 'Rule', d.usedRules.map((r) => [r, r] as const)),
      filterSelect('severities', 'Severity', ['error', 'warning', 'info'].map((s) => [s, s] as const)),
      filterSelect('outcome', 'Outcome', outcomes),
    ]),
  );
  yield* body.splice(0);
  for (const v of d.users) yield userEntry(v, show, table);

  body.push(`<h2 id="other-findings">Other findings (${d.otherFindings.length})</h2>`, table(['Severity', 'User', 'Code', 'Rule', 'Finding'], d.otherFindings.map((f) => [f.severity, f.user ?? '', f.code, f.rule, f.message])));
  body.push(`<h2 id="campaign">Registration campaign (${plan.registration_campaign.length})</h2>`, '<p class="intro">Users whose MFA Server mobile app registrations cannot move and who must register Microsoft Authenticator.</p>');
  body.push(plan.registration_campaign.length === 0 ? '<p class="none">None.</p>' : `<ul>${plan.registration_campaign.map((u) => `<li>${e(u)}</li>`).join('')}</ul>`);
  body.push('<h2 id="rules">Rule glossary</h2>', '<p class="intro">The rules of docs/mapping.md; those this plan applied are marked.</p>');
  body.push(`<table><thead><tr><th>Rule</th><th>Applied</th><th>What it does</th></tr></thead><tbody>\n${(Object.keys(RULES) as RuleId[]).map((r) => `<tr id="rule-${r.toLowerCase()}"><td class="mono">${r}</td><td>${d.usedRules.includes(r) ? 'yes' : ''}</td><td>${e(RULES[r])}</td></tr>`).join('\n')}\n</tbody></table>`);
  yield* body;
}

function userEntry(v: UserView, show: (v: unknown) => string, table: (head: string[], rows: string[][], cls?: string) => string): string {
  const e = escHtml;
  const data = [
    `data-user="${e(v.u.user.toLowerCase())}"`,
    `data-outcome="${hasNothingToMigrate(v.u) ? 'nothing-to-migrate' : v.u.status}${v.noUsableMethod ? ' no-usable-method' : ''}"`,
    `data-actions="${[...new Set(v.changes.map((c) => c.action))].join(' ')}"`,
    `data-rules="${e([...new Set([...v.changes.map((c) => c.rule), ...v.findings.map((f) => f.rule)])].join(' '))}"`,
    `data-severities="${[...new Set(v.findings.map((f) => f.severity))].join(' ')}"`,
  ].join(' ');
  const label = statusLabel(v.u);
  const badge = `<span class="badge ${v.u.status}">${e(label)}</span>${noUsableTold(v, label) ? '' : '<span class="badge none-usable">no usable method</span>'}`;
  const server = `<div><h4>MFA Server record</h4><table class="kv"><tbody>${serverRows(v.server)
    .map(([k, a, b]) => `<tr><th>${e(k)}</th><td class="mono">${e(a)}${b ? `<br>→ ${e(b)}` : ''}</td></tr>`)
    .join('')}</tbody></table></div>`;
  const cloud = `<div><h4>Planned cloud state</h4><p>Methods after the plan: ${e(methodsText(v))}</p>${v.changes.length > 0 ? table(CHANGE_HEAD, v.changes.map((c) => changeRow(c, show))) : '<p class="none">No change.</p>'}</div>`;
  const findings = v.findings.length > 0 ? `<h4>Findings</h4>${table(FINDING_HEAD, v.findings.map((f) => [f.severity, f.code, f.rule, f.message]))}` : '';
  const inner = `<div class="cols">${server}${cloud}</div>${findings}`;
  const title = `${e(userTitle(v.u))}${badge}`;
  // Users with nothing to change are collapsed; those with changes, or left with no usable method, are open.
  if (v.u.status !== 'changes' && !v.noUsableMethod) return `<details class="entry" id="${v.anchor}" ${data}><summary>${title}</summary>${inner}</details>`;
  return `<section class="entry${v.noUsableMethod ? ' attention' : ''}" id="${v.anchor}" ${data}><h3>${title}</h3>${inner}</section>`;
}
