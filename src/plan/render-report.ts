import { RULES, type RuleId } from '../mapping/rules.js';
import { formatValue } from './render-terminal.js';
import type { Plan } from './plan-model.js';

export interface ReportOptions {
  showPhoneNumbers: boolean;
}

interface Table {
  title: string;
  intro?: string;
  head: string[];
  rows: string[][];
}

/**
 * The auditors' mapping report: what each MFA Server setting and user becomes in Entra, with the
 * rule and the reason, every finding, and the fingerprints that tie it to one export and one
 * tenant read. Deterministic: the same plan renders byte-identically apart from its timestamp.
 */
function reportTables(plan: Plan, opts: ReportOptions): { summary: [string, string][]; tables: Table[] } {
  const show = (v: unknown) => (v === null || v === undefined ? '' : formatValue(v, opts.showPhoneNumbers));
  const s = plan.summary;
  const phoneOnly = s.phone_only_after_retirement ?? 0;
  const summary: [string, string][] = [
    // First: these users are stopped at sign-in from the retirement day unless they register something else.
    ['Users left with SMS/voice only', `${phoneOnly}${phoneOnly > 0 ? ': a blocking passkey registration prompt from 2027-02-01 (findings phone-only-after-retirement)' : ''}`],
    ['Generated', plan.created],
    ['Tenant', plan.tenant.id],
    ['Source fingerprint', plan.source_fingerprint],
    ['Plan format', plan.format_version],
    ['Options', `default method ${plan.options.default_method}; prune ${plan.options.prune ? 'yes' : 'no'}; include email ${plan.options.include_email ? 'yes' : 'no'}; target ${plan.options.target_group.displayName}`],
    ['Users in scope', String(s.users)],
    ['Changes', `${s.create} to add, ${s.update} to change, ${s.delete} to destroy, ${s.no_op} unchanged`],
    ['Findings', `${s.findings.error} error(s), ${s.findings.warning} warning(s), ${s.findings.info} info`],
  ];
  const settings: Table = {
    title: 'Settings mapping',
    intro: 'Each MFA Server setting or use, the cloud setting it maps to, the value before and after, the rule and the reason. Settings without a cloud equivalent are listed with the manual step.',
    head: ['On-premises setting', 'Cloud target', 'Before', 'After', 'Rule', 'Reason'],
    rows: [
      ...plan.policy_changes.map((c) => [c.setting, `${c.target}.${c.property}`, show(c.before), show(c.after), c.rule, c.because]),
      ...plan.findings.filter((f) => f.rule === 'POL-MANUAL').map((f) => [f.code, 'no cloud setting through Graph', '', '', f.rule, f.message]),
    ],
  };
  const users: Table = {
    title: 'User changes',
    intro: 'Every resource the plan would touch, unchanged ones included.',
    head: ['User', 'Resource', 'Action', 'Before', 'After', 'Rule', 'Reason'],
    rows: plan.user_changes.map((c) => [c.user, c.resource, c.action, show(c.before), show(c.after), c.rule, c.because]),
  };
  const findings: Table = {
    title: 'Findings',
    head: ['Severity', 'User', 'Code', 'Rule', 'Finding'],
    rows: plan.findings.map((f) => [f.severity, f.user ?? '', f.code, f.rule, f.message]),
  };
  const cut = plan.cutover;
  const cutover: Table = {
    title: 'Cutover',
    intro: 'Staged rollout (the policy, the groups users are switched by) and the federated domains, the final step. Users switched are among the user changes (rolloutGroup/<group>).',
    head: ['Target', 'Action', 'Before', 'After', 'Rule', 'Reason'],
    rows: [
      ...(plan.cutover_changes ?? []).map((x) => [x.target, x.action, show(x.before), show(x.after), x.rule, x.switches !== undefined ? `${x.because} (apply: last, after the ${x.switches} switch(es))` : x.because]),
      ...(cut?.rollout_groups ?? []).map((g) => [`rollout group ${g.displayName}`, 'fill', `${g.members_before} member(s)`, `${g.members_before + g.added} member(s)`, 'CUTOVER-SWITCH-USER', `${g.added} user(s) switched by this plan`]),
      ...(cut?.federation ?? []).filter((f) => !f.planned).map((f) => [`domains/${f.domain}`, 'no-op', show(f.federatedIdpMfaBehavior), '', 'CUTOVER-FEDERATION', f.users === 0 ? 'no user of the plan in the domain' : 'left as it is']),
      ...(cut ? [['passkeys (FIDO2)', 'read', show(cut.passkeys.state), '', 'CUTOVER-PHONE-DEADLINE', `targets ${cut.passkeys.include_targets.join(', ') || 'none'}; for the users left with SMS/voice only: ${cut.passkeys.allowed_for_phone_only}`]] : []),
    ],
  };
  const campaign: Table = {
    title: 'Registration campaign',
    intro: 'Users whose MFA Server mobile app registrations cannot move and who must register Microsoft Authenticator.',
    head: ['User'],
    rows: plan.registration_campaign.map((u) => [u]),
  };
  const used = new Set<RuleId>([...plan.policy_changes.map((c) => c.rule), ...(plan.cutover_changes ?? []).map((c) => c.rule), ...plan.user_changes.map((c) => c.rule), ...plan.findings.map((f) => f.rule)]);
  const rules: Table = {
    title: 'Rules applied',
    head: ['Rule', 'What it does'],
    rows: (Object.keys(RULES) as RuleId[]).filter((r) => used.has(r)).map((r) => [r, RULES[r]]),
  };
  return { summary, tables: [settings, cutover, users, findings, campaign, rules] };
}

export function renderReportMarkdown(plan: Plan, opts: ReportOptions): string {
  const { summary, tables } = reportTables(plan, opts);
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const out = ['# MFA Server to Entra migration: mapping report', '', '| | |', '|---|---|', ...summary.map(([k, v]) => `| ${k} | ${cell(v)} |`), ''];
  for (const t of tables) {
    out.push(`## ${t.title} (${t.rows.length})`, '');
    if (t.intro) out.push(t.intro, '');
    if (t.rows.length === 0) {
      out.push('None.', '');
      continue;
    }
    out.push(`| ${t.head.join(' | ')} |`, `|${t.head.map(() => '---').join('|')}|`);
    for (const r of t.rows) out.push(`| ${r.map(cell).join(' | ')} |`);
    out.push('');
  }
  return out.join('\n');
}

/**
 * Lets long identifiers wrap where a reader would split them rather than mid-word: paths and
 * property paths (`authenticationMethodConfigurations/Voice.isOfficePhoneAllowed`) after `/` and
 * `.`; values (`{userPreferredMethodForSecondaryAuthentication: null}`) also between the words of a
 * long camelCase property name. `<wbr>` adds no text, so copying a cell still gives the exact value.
 */
const breakPaths = (html: string) => html.replace(/([/.])(?=[A-Za-z0-9])/g, '$1<wbr>');
const breakWords = (html: string) => breakPaths(html).replace(/[A-Za-z]{16,}(?=:)/g, (key) => key.replace(/([a-z])(?=[A-Z][a-z])/g, '$1<wbr>'));

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const CSS = `
:root { --ink: #1b1f24; --muted: #5b6470; --line: #d7dce2; --head: #f3f5f8; --create: #116329; --update: #7d4e00; --delete: #a40e26; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 2rem auto; max-width: 1200px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 2px solid var(--line); padding-bottom: .25rem; }
p.intro { color: var(--muted); margin: .25rem 0 .75rem; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1rem; }
th, td { border: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
td.action, td.sev { white-space: nowrap; }
table.summary { width: auto; }
table.summary th { width: 12rem; }
td.mono, td code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
tr.create td.action { color: var(--create); font-weight: 600; }
tr.update td.action { color: var(--update); font-weight: 600; }
tr.delete td.action { color: var(--delete); font-weight: 600; }
tr.no-op { color: var(--muted); }
tr.error td.sev { color: var(--delete); font-weight: 600; }
tr.warning td.sev { color: var(--update); font-weight: 600; }
.none { color: var(--muted); font-style: italic; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5px; }
  h2 { break-after: avoid; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
}`;

export function renderReportHtml(plan: Plan, opts: ReportOptions): string {
  const { summary, tables } = reportTables(plan, opts);
  const body: string[] = [];
  body.push('<h1>MFA Server to Entra migration: mapping report</h1>');
  body.push(`<table class="summary"><tbody>${summary.map(([k, v]) => `<tr><th>${esc(k)}</th><td class="mono">${esc(v)}</td></tr>`).join('')}</tbody></table>`);
  for (const t of tables) {
    body.push(`<h2>${esc(t.title)} (${t.rows.length})</h2>`);
    if (t.intro) body.push(`<p class="intro">${esc(t.intro)}</p>`);
    if (t.rows.length === 0) {
      body.push('<p class="none">None.</p>');
      continue;
    }
    const actionCol = t.head.indexOf('Action');
    const sevCol = t.head.indexOf('Severity');
    const rows = t.rows
      .map((r) => {
        const cls = actionCol >= 0 ? r[actionCol] : sevCol >= 0 ? r[sevCol] : '';
        const cells = r.map((v, i) => {
          const head = t.head[i] ?? '';
          if (i === actionCol) return `<td class="action">${esc(v)}</td>`;
          if (i === sevCol) return `<td class="sev">${esc(v)}</td>`;
          if (/^(Before|After)$/.test(head)) return `<td class="mono">${breakWords(esc(v))}</td>`;
          if (/^(Rule|Resource|Cloud target)$/.test(head)) return `<td class="mono">${breakPaths(esc(v))}</td>`;
          if (head === 'On-premises setting') return `<td>${breakPaths(esc(v))}</td>`;
          return `<td>${esc(v)}</td>`;
        }).join('');
        return `<tr class="${esc(cls ?? '')}">${cells}</tr>`;
      })
      .join('\n');
    body.push(`<table><thead><tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>\n${rows}\n</tbody></table>`);
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MFA migration mapping report: ${esc(plan.tenant.id)}</title>
<style>${CSS}
</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}
