import { addTo } from '../model/add-to.js';
import { saysNoUsableMethod, statusLabel, userTitle } from './status-label.js';
import { maskPhone } from '../model/mask.js';
import type { Plan, UserChange } from './plan-model.js';
import { printable } from '../model/printable.js';
import { planOptionsText } from './options-text.js';
import { countLines, planCounts } from './plan-counts.js';
import { outsideExportText } from '../mapping/cutover-rules.js';
import { FINDINGS_PER_CODE, findingLines } from './terminal-findings.js';

export interface TerminalOptions {
  color: boolean;
  showPhoneNumbers: boolean;
  /** Also list unchanged resources (and, as --all, every user and finding). */
  verbose?: boolean;
  /** Every user with changes and every finding on its own line: the terminal's caps lifted (--all). */
  all?: boolean;
}

const SYMBOL: Record<UserChange['action'], string> = { create: '+', update: '~', delete: '-', 'no-op': '=' };


/** Users with nothing to change listed by name (beyond: a count), unless --verbose or --all. */
const REST_LISTED = 200;

/**
 * Users with changes listed with their changes (beyond: a count and where to see them all), unless
 * --all or --verbose: the terminal is for deciding whether to apply; a 30,000-user plan printed
 * some 96,000 lines here. The JSON, the saved plan and the reports hold every user.
 */
const USERS_LISTED = 200;

/** Where every user and finding is shown, for the lines that say some were left out. */
const SEE_ALL = 'plan --all or show PLANFILE --all prints them here; --report FILE and --format json hold them all';

/**
 * Terraform-style plan for admins: `+` create, `~` update, `-` delete, grouped by policy section
 * and by user, findings by severity, one summary line. Phone numbers are masked unless asked.
 */
export function renderPlanTerminal(plan: Plan, opts: TerminalOptions): string {
  const c = (code: string) => (s: string) => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const green = c('32');
  const yellow = c('33');
  const red = c('31');
  const bold = c('1');
  const dim = c('2');
  const paint: Record<UserChange['action'], (s: string) => string> = { create: green, update: yellow, delete: red, 'no-op': dim };
  const show = (v: unknown) => formatValue(v, opts.showPhoneNumbers);
  const lines: string[] = [];
  const all = opts.all === true || opts.verbose === true;

  lines.push(
    bold(`Plan for tenant ${printable(plan.tenant.displayName ? `${plan.tenant.displayName} (${plan.tenant.id})` : plan.tenant.id)}`),
    dim(`  source ${plan.source_fingerprint}; ${printable(planOptionsText(plan.options, false).join('; '))}`),
    '',
  );
  if (plan.plan_hash) lines.push(dim(`  saved plan sha256 ${plan.plan_hash}, made ${plan.created}`));
  const counts = planCounts(plan);
  // First: these users are stopped at sign-in from the retirement day unless they register something else.
  if (counts.phoneOnly > 0) {
    lines.push(
      yellow(bold(`${counts.phoneOnly} user(s) left with SMS and voice only: from 2027-02-01, when Microsoft-provided SMS and voice retire, a blocking passkey registration prompt stops their sign-in (findings phone-only-after-retirement).`)),
      '',
    );
  }
  lines.push(dim('Actions: + create, ~ update in place, - delete'), '');

  if (plan.policy_changes.length > 0) {
    lines.push(bold('Authentication methods policy'));
    const byTarget = new Map<string, Plan['policy_changes']>();
    for (const ch of plan.policy_changes) addTo(byTarget, ch.target, ch);
    for (const [target, changes] of byTarget) {
      lines.push(yellow(`  ~ ${printable(target)}`));
      for (const ch of changes) lines.push(`      ${ch.property}: ${show(ch.before)} -> ${show(ch.after)}  ${dim(`[${ch.rule}] ${printable(ch.because)}`)}`);
    }
    lines.push('');
  }

  const cutover = plan.cutover_changes ?? [];
  // The users a domain's federation moves beyond the export's: said beside the change that moves them.
  const outside = (plan.cutover?.federation ?? []).filter((f) => f.planned && (f.outside_export ?? 0) > 0);
  if (cutover.length > 0 || (plan.cutover?.rollout_groups.length ?? 0) > 0) {
    lines.push(bold('Cutover (staged rollout, federation)'));
    for (const ch of cutover) {
      const detail = ch.action === 'create' ? describe(ch.after, show) : changedFields({ ...ch, user: '', user_id: '', resource: ch.target }, show);
      const last = ch.switches !== undefined ? dim(` (${lastStep(ch.switches)})`) : '';
      lines.push(paint[ch.action](`  ${SYMBOL[ch.action]} ${printable(ch.target)}`) + `  ${detail}${last}  ${dim(`[${ch.rule}] ${printable(ch.because)}`)}`);
    }
    for (const g of plan.cutover?.rollout_groups ?? []) {
      lines.push(`  rollout group ${printable(JSON.stringify(g.displayName))}: ${g.members_before} -> ${g.members_before + g.added} member(s)${g.attached ? '' : ', added to staged rollout first'}`);
    }
    for (const f of outside) lines.push(`  federation of ${printable(f.domain)}: ${outsideExportText(f.outside_export!)}`);
    lines.push('');
  }

  const byUser = new Map<string, UserChange[]>();
  for (const ch of plan.user_changes) {
    if (ch.action === 'no-op' && !opts.verbose) continue;
    addTo(byUser, ch.user, ch);
  }
  const noUsable = new Set(plan.users.filter((u) => u.methods_after?.length === 0).map((u) => u.user));
  // A user matched by an on-premises name is shown with the Entra UPN the plan writes to.
  const titles = new Map(plan.users.filter((u) => u.match).map((u) => [u.user, userTitle(u)]));
  const title = (user: string) => titles.get(user) ?? user;
  const flag = (user: string) => (noUsable.has(user) ? `  ${red('no usable method after the plan')}` : '');
  // The signed-in admin's own phone and email changes, and what waits for them: a run signed in so does not send them.
  const notApplicable = plan.not_applicable ?? [];
  const signedIn = printable(plan.identity?.upn ?? plan.identity?.objectId ?? 'the signed-in user');
  const notSent = new Set(notApplicable.map((n) => `${n.user_id.toLowerCase()} ${n.resource}`));
  const notSentTag = (ch: UserChange) => (notSent.has(`${ch.user_id.toLowerCase()} ${ch.resource}`) ? `  ${yellow(`not applicable signed in as ${signedIn} [USER-SIGNED-IN-SELF]`)}` : '');
  if (byUser.size > 0) {
    lines.push(bold('Users'));
    const shown = all ? [...byUser] : [...byUser].slice(0, USERS_LISTED);
    for (const [user, changes] of shown) {
      lines.push(`  ${printable(title(user))}${flag(user)}`);
      for (const ch of changes) {
        const sym = SYMBOL[ch.action];
        const detail =
          ch.action === 'create'
            ? describe(ch.after, show)
            : ch.action === 'delete'
              ? describe(ch.before, show)
              : ch.action === 'update'
                ? changedFields(ch, show)
                : describe(ch.after, show);
        // The resource carries a serial from a vendor's file: its control characters are shown, not sent.
        // The rule and its reason, as for policy changes (reasons name no phone number: the numbers are the change's before and after, masked above).
        lines.push(paint[ch.action](`    ${sym} ${printable(ch.resource)}`) + `  ${detail}  ${dim(`[${ch.rule}] ${printable(ch.because)}`)}${notSentTag(ch)}`);
      }
    }
    if (shown.length < byUser.size) lines.push(dim(`  ... and ${byUser.size - shown.length} more user(s) with changes (${SEE_ALL})`));
    lines.push('');
  }
  if (notApplicable.length > 0) {
    lines.push(bold(yellow(`Not applicable to this sign-in (${signedIn}): ${notApplicable.length} change(s) a run signed in so does not send`)));
    for (const n of notApplicable) lines.push(`  ${printable(`${title(n.user)} ${n.resource} (${n.action})`)}: ${printable(n.because)} ${dim(`[${n.rule}]`)}`);
    const others = (plan.options.rollout_groups?.length ?? 0) > 0 ? 'another admin (an application cannot manage the staged rollout)' : 'another admin or an application';
    lines.push(dim(`  The saved plan holds them all the same: apply or resume signed in as ${others} sends them.`), '');
  }

  // Every in-scope user is accounted for: those with nothing to change are listed with why.
  const rest = plan.users.filter((u) => !byUser.has(u.user));
  if (rest.length > 0) {
    lines.push(bold(`Users with nothing to change (${rest.length})`));
    const listed = all ? rest : rest.slice(0, REST_LISTED);
    // A user with changes that are all no-ops (listed only with --verbose above) has no-ops only.
    for (const u of listed) {
      const label = u.status === 'changes' ? 'no-ops only' : statusLabel(u);
      // The label of a user left with nothing says so already: not twice.
      lines.push(`  ${printable(title(u.user))}  ${saysNoUsableMethod(label) ? red(label) : `${dim(label)}${flag(u.user)}`}`);
    }
    if (listed.length < rest.length) lines.push(dim(`  ... and ${rest.length - listed.length} more (${SEE_ALL})`));
    lines.push('');
  }

  if (plan.findings.length > 0) {
    lines.push(bold('Findings'));
    let grouped = false;
    for (const sev of ['error', 'warning', 'info'] as const) {
      const list = plan.findings.filter((f) => f.severity === sev);
      if (list.length === 0) continue;
      const tint = sev === 'error' ? red : sev === 'warning' ? yellow : dim;
      lines.push(tint(`  ${sev} (${list.length})`));
      const shown = findingLines(list, all, dim);
      lines.push(...shown.lines);
      grouped ||= shown.grouped;
    }
    if (grouped) lines.push(dim(`  (a code with more than ${FINDINGS_PER_CODE} findings is one line, with its first users: ${SEE_ALL})`));
    lines.push('');
  }

  const words = countLines(counts);
  lines.push(bold(words.plan), `  ${words.userChanges}`, `  ${words.policy}`, ...(words.cutover ? [`  ${words.cutover}`] : []), `  ${words.users}`, `  Findings: ${words.findings}`, `  ${words.cannotUndo}`);
  return `${lines.join('\n')}\n`;
}

function describe(v: Record<string, unknown> | null, show: (v: unknown) => string): string {
  if (!v) return '';
  // A group membership: its name says more than its id (which the resource carries).
  if (typeof v.groupId === 'string' && typeof v.displayName === 'string') return `group=${show(v.displayName)}`;
  return Object.entries(v)
    .filter(([k]) => k !== 'phoneType')
    .map(([k, x]) => `${k}=${show(x)}`)
    .join(' ');
}

function changedFields(ch: UserChange, show: (v: unknown) => string): string {
  const after = afterInFull(ch);
  const keys = new Set([...Object.keys(ch.before ?? {}), ...Object.keys(after ?? {})]);
  const parts: string[] = [];
  for (const k of keys) {
    const a = ch.before?.[k];
    const b = after?.[k];
    if (JSON.stringify(a) !== JSON.stringify(b)) parts.push(`${k}: ${show(a ?? null)} -> ${show(b ?? null)}${k === 'assignedTo' && b === ch.user_id ? ' (this user)' : ''}`);
  }
  return parts.join(', ');
}

/**
 * The state an update leaves, with what its `after` leaves unsaid: a token of the inventory is
 * activated in place (the device keeps its id) and assigned to the user. Diffed as recorded, the
 * line read as the device id removed and the assignment unchanged (a black-box test).
 */
function afterInFull(ch: UserChange): Record<string, unknown> | null {
  if (!ch.resource.startsWith('hardwareOathMethods/') || !ch.before || !ch.after) return ch.after;
  return { id: ch.before.id, ...ch.after, assignedTo: ch.user_id };
}

const PHONE = /^\+\d{1,4} \d+(x\d+)?$/;

/**
 * JSON-ish value display; phone numbers masked unless shown on purpose. A masked number is quoted as
 * every other string is (`"+1 ********01"`): the same shape as with --show-phone-numbers, and its space
 * does not read as the end of the value (a black-box review: it was left bare).
 */
export function formatValue(v: unknown, showPhoneNumbers: boolean): string {
  if (typeof v === 'string') return printable(JSON.stringify(PHONE.test(v) && !showPhoneNumbers ? maskPhone(v) : v));
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x, showPhoneNumbers)).join(', ')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.id === 'string' && Object.keys(o).every((k) => ['id', 'targetType', 'isRegistrationRequired', 'isUsableForSignIn', 'authenticationMode', 'targetedAuthenticationMethod'].includes(k))) {
      // SMS sign-in (no password) is the one target setting a reader must see change.
      return o.isUsableForSignIn === true ? `${o.id} (usable for sign-in)` : o.id;
    }
    return `{${Object.entries(o).map(([k, x]) => `${k}: ${formatValue(x, showPhoneNumbers)}`).join(', ')}}`;
  }
  return String(v);
}

/** When the federation change goes: after the switches it waits for, or, with none (every user switched already), simply last. */
function lastStep(switches: number): string {
  return switches > 0 ? `last: once the ${switches} switch(es) of the domain succeeded` : 'last: no switch of the domain is left to wait for';
}
