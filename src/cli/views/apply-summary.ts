import { addTo } from '../../model/add-to.js';
import type { ApplyOutcome } from '../../apply/run-apply.js';
import type { RollbackOutcome } from '../../apply/run-rollback.js';
import { LEAVE_SWITCHED, othersText } from '../../apply/rollback-switched.js';
import { isFederationSwitches } from '../../apply/rollback-others.js';
import { cliCommand, shellArg } from '../../model/command-line.js';
import { printable } from '../../model/printable.js';
import { doneUnsent } from '../../report/render-run-report.js';

/**
 * What apply and resume print at the end: the run, its tenant, the counts, what failed, what to do
 * next. `given`: the --state-dir the command was given, which the commands the summary names need too.
 */
export function renderApplySummary(o: ApplyOutcome, stateDir: string, hint: string | undefined, given?: string): string {
  const c = o.counts;
  const s = o.stats;
  const seconds = Math.max(0.001, (Date.now() - s.startedAt) / 1000);
  const users = (k: keyof ApplyOutcome['userCounts']) => o.userCounts[k];
  const lines = [
    `Run ${o.runId}: ${o.state}${o.state !== 'stopped' ? '' : o.refusedStop ? `${o.refusedStop.wave !== undefined ? ` in wave ${o.refusedStop.wave} of ${o.waves}` : ''}: writes were refused for access (above)` : ` after wave ${o.wavesDone} of ${o.waves}`}. Tenant ${o.tenant.displayName} (${o.tenant.id}); state folder ${stateDir}`,
    `  operations: ${c.done} done, ${c.failed} failed, ${c.skipped} skipped, ${c.pending} pending${c.started > 0 ? `, ${c.started} sent with outcome unknown` : ''}`,
    `  users: ${users('done')} done, ${users('partial')} partial, ${users('failed')} failed, ${users('skipped')} skipped, ${users('not-started')} not started${users('unknown') > 0 ? `, ${users('unknown')} sent with outcome unknown` : ''}`,
    // Writes Graph refused for its lag are no throttling: said apart (a rehearsal read `148 retried` for 2,355 of them).
    `  Graph: ${s.batches} batches, ${s.throttled} throttled, ${s.retried} retried, ${s.caughtUp > 0 ? `${s.caughtUp} write(s) sent again while Graph caught up (it had not shown yet what the run created moments before), ` : ''}${s.verified} read back; ${((s.done - s.doneBefore) / seconds).toFixed(1)} ops/s`,
    // Minutes of waiting that no throttling explains (a black-box test read 5.2 ops/s and 0 throttled after a 5-minute pause).
    ...(s.paced > 0 ? [`  ${s.paced} token activation(s) waited for the activation pace (${s.activationPace ? `${s.activationPace.activations} per ${Math.round(s.activationPace.windowMs / 60_000)} minutes, ` : ''}--activation-rate)`] : []),
    ...notSelectedLine(o.notSelected),
    ...leftGroupLine(o.leftScopeGroup),
    // Users the plan cannot switch: `unchanged` or `done` alone read as migrated and switched (a black-box test).
    ...leftOnServerLine(o.leftOnMfaServer),
    // A shared operation, no user's: the --results rows never show it.
    ...o.federationLeft.map((f) => `  federation of ${f.domain} (shared, no user's): ${f.status === 'pending' ? 'not sent' : f.status === 'started' ? 'sent, outcome unknown (the next pass reads it back)' : f.status}${f.error ? `: ${f.error}` : ''}`),
    // Shared too: what the staged rollout's step held back, and why (the run is partial for it).
    ...(o.switchesHeld ?? []).map((h) => `  staged rollout (shared, no user's): ${h.doing}: not sent: ${h.error}`),
    // Graph refuses a signed-in user's writes to their own phone and email methods: left out, and how to send them.
    ...(o.ownMethodsLeftOut ?? []).map(
      (x) =>
        `  not sent: ${x.user}'s own phone and email changes (${x.own} operation(s)${x.waiting > 0 ? `, and ${x.waiting} that wait for them: the default method, the switch to Entra MFA` : ''}): this run is signed in as ${x.signedInAs}, and Graph does not let a user change their own phone or email methods through this API. Resume the run signed in as ${x.resumeAs} to send them`,
    ),
    // The one change that moves every user of a domain at once: said when made (a black-box test saw only "1 done").
    ...o.federationDone.map((d) => federationDoneLine(o, d)),
    // Not left on MFA Server: moved by it with nothing to sign in with (a black-box review read "left on MFA Server" right above).
    ...(o.movedByForcedFederation ?? []).map((m) => movedByFederationLine(withSubdomains(o, m.domain), m.users)),
    // Outside the plan, named by its federation-forced finding alone: moved all the same (a black-box test read "every user of the domain meets Entra MFA").
    ...(o.outsidersMovedByFederation ?? []).map((m) => outsidersMovedLine(withSubdomains(o, m.domain), m.users, fullReport(o.runId, given))),
    // Each with why, as the pre-flight says it without --skip-stale (a black-box test read the objects alone).
    ...firstOf(o.stale.map((x) => `  stale (left out): ${x.user ?? 'policy'} ${x.target}: ${x.reason}`), o.runId, 'left out as stale', given),
    // Named up to LISTED, then counted, with where the rest are (a scale test saw 20 of 192 and no more said).
    // From a worker, `users` holds only the first of them and `failedOrPartial` their total.
    ...firstOf(o.users.filter((u) => u.outcome === 'failed' || u.outcome === 'partial').map((u) => `  ${u.upn}: ${u.error ?? unexplained(u)}`), o.runId, 'users failed or partly done', given, o.failedOrPartial),
    journalLine(o.journalHash, o.runId, given),
    ...(hint ? [`Resume with: ${hint}`] : []),
    ...newPlanLine(o.staleUsers, o.runId, given, (o.switchesHeld ?? []).some((h) => h.forGood)),
  ];
  return `${lines.map((l) => printable(l)).join('\n')}\n`;
}

/** A user partly done with no error: the run stopped (an interrupt, --waves) before the rest was sent (a black-box test read a bare "partial"). */
function unexplained(u: ApplyOutcome['users'][number]): string {
  if (u.outcome !== 'partial' || u.failed > 0) return u.outcome;
  if (u.skipped > 0) return `partly done (${u.done} of ${u.operations} operation(s), ${u.skipped} skipped)`;
  return `partly done (${u.done} of ${u.operations} operation(s)): the run stopped before the rest was sent`;
}

/**
 * Users left out as stale: a resume never sends them (it would write over what changed), so the way on
 * is a new plan of them; of the whole scope when a staged rollout step is held for good (one of them a
 * member it switches): every switch of the run waits for that step (a black-box test followed the
 * advice for the one user, and the run's other 31 were never switched).
 */
function newPlanLine(s: ApplyOutcome['staleUsers'], runId: string, given: string | undefined, heldForGood: boolean): string[] {
  if (s.count === 0) return [];
  const named = `${s.first.join(', ')}${s.count > s.first.length ? ` and ${s.count - s.first.length} more (the --results rows with first_error stale, or ${fullReport(runId, given)})` : ''}`;
  if (heldForGood) return [`Left out as stale, which no resume sends: ${s.count} user(s): ${named}. A staged rollout step is held for good (above), and every switch of this run waits for it: make a new plan with this plan's options and whole scope (what this run wrote shows as done in it), then apply it`];
  return [`Left out as stale, which no resume sends: ${s.count} user(s): ${named}. Finish them with a new plan: mfa-migrate plan ... --users FILE --out FILE (this plan's options; FILE lists them, one a line), then apply it`];
}

/**
 * `hint`: the command that goes on with the rollback, when one without --force can do more;
 * `forceHint`: the same with --force, offered when objects changed since the run were left alone;
 * `switchedHints`: the command that finishes it once its users still switched to Entra MFA are not,
 * and the same with --leave-switched-without-method, offered when what they need was left in place.
 */
export function renderRollbackSummary(o: RollbackOutcome, stateDir: string, hint: string | undefined, given?: string, forceHint?: string, switchedHints?: { again: string; leave: string }): string {
  const c = o.counts;
  const lines = [
    `Rollback ${o.runId} of run ${o.rollbackOf}: ${o.state}. Tenant ${o.tenant.displayName} (${o.tenant.id}); state folder ${stateDir}`,
    `  operations: ${c.done} done${doneUnsent(undosGone(o), o.alreadyAsBefore.length)}, ${c.failed} failed, ${c.skipped} skipped, ${c.pending} pending${c.started > 0 ? `, ${c.started} sent with outcome unknown` : ''}`,
    // What moves users back to MFA Server at once, said as the apply summary says the federation it set (a black-box test found no line).
    ...o.cutoverUndone.map(cutoverUndoLine),
    ...firstOf(o.failures.map((x) => `  failed: ${whose(x)} ${x.target}: ${x.reason}`), o.runId, 'failed', given),
    ...firstOf(o.goneAlready.map((x) => `  gone already (removed outside this tool; nothing to undo): ${whose(x)} ${x.target}`), o.runId, 'gone already', given),
    // Put back since by another run's rollback or an admin: not changed since the run, so no --force is offered for them.
    ...firstOf(o.alreadyAsBefore.map((x) => `  already as before the run (put back outside this rollback; nothing to undo): ${whose(x)} ${x.target}`), o.runId, 'already as before the run', given),
    ...firstOf(o.changedSince.map((x) => `  left alone (changed since the run): ${whose(x)} ${x.target}: ${x.reason}`), o.runId, 'left alone', given),
    // Taken away, these would leave users switched to Entra MFA with nothing to sign in with (a black-box test saw them taken, unsaid).
    ...firstOf(o.stillSwitched.map((x) => `  left alone (user still switched to Entra MFA): ${whose(x)} ${x.target}: ${x.reason}`), o.runId, 'left alone for users still switched', given),
    ...notReversibleLines(o.notReversible, o.runId, given),
    journalLine(o.journalHash, o.runId, given),
    ...(hint ? [`Resume with: ${hint}`] : []),
    // A rollback without --force leaves them alone again: only --force makes progress on them.
    ...(forceHint && o.changedSince.length > 0
      ? [`Left alone: ${o.changedSince.length} object(s) changed since the run, which no rollback without --force touches. To put them back as the run found them, overwriting what was changed since: ${forceHint}`]
      : []),
    ...stillSwitchedLine(o, switchedHints),
    ...leftWithoutMethodLine(o, given),
    // Graph refuses a signed-in user's writes to their own phone and email methods: left out, and who finishes them.
    ...(o.ownMethodsLeftOut ?? []).map(
      (x) =>
        `Not sent: ${x.user}'s own phone and email undos (${x.own} operation(s)${x.waiting > 0 ? `, and ${x.waiting} that wait for them: the user's undos after them, the methods policy's` : ''}): this rollback is signed in as ${x.signedInAs}, and Graph does not let a user change their own phone or email methods through this API. Finish the rollback signed in as another admin or an application to send them${hint ? `: ${hint}` : ''}`,
    ),
  ];
  return `${lines.map((l) => printable(l)).join('\n')}\n`;
}

/** Whose object an undo is: its user's, else the token inventory's or the policy's. */
const whose = (x: { user?: string; target: string }) => x.user ?? (x.target.startsWith('hardwareOathMethods/') ? 'inventory' : 'policy');

/** Undos done by finding their object gone (what Graph could not have undone, found gone, is no operation). */
const undosGone = (o: RollbackOutcome) => o.goneAlready.filter((x) => !x.notReversible).length;

/** The users a rollback left methods to because the staged rollout still switches them, and the ways on. */
function stillSwitchedLine(o: RollbackOutcome, hints: { again: string; leave: string } | undefined): string[] {
  const users = o.stillSwitchedUsers;
  if (o.stillSwitched.length === 0) return [];
  const by = [...new Set(users.map((u) => u.by))];
  const others = o.stillSwitchedOthers;
  const ofRun = users.length > 0 ? `${users.length} user(s) of the run are still switched to Entra MFA${by.length > 0 ? ` by ${by.join(' and ')}` : ''}: ${users.slice(0, LISTED).map((u) => u.user).join(', ')}${users.length > LISTED ? `, and ${users.length - LISTED} more` : ''}` : undefined;
  // Not the run's (an admin added them to a rollout group since): named, since the policy's undo would lock them out too.
  const outside = others
    ? `${othersText(others)} ${others.count === 1 && others.unread === 0 ? 'is' : 'are'} still switched to Entra MFA by ${others.by.join(' and ')} and would have no method they can use: ${others.first.join(', ')}${others.count > others.first.length ? `, and ${others.count - others.first.length}${others.unread > 0 ? ' or more' : ''} more` : ''}${others.unread > 0 ? ` (${others.unread} of them not read: every undo was left in place already)` : ''}`
    : undefined;
  const named = [ofRun, outside].filter((x) => x !== undefined).join('; ') || 'Users of the run are still switched to Entra MFA';
  // A domain's federation is put back, not left by a group.
  const byFederation = [...by, ...(others?.by ?? [])].some(isFederationSwitches);
  const byRollout = [...by, ...(others?.by ?? [])].some((b) => !isFederationSwitches(b));
  const notSwitched = [...(byRollout ? ['out of the group, or the staged rollout policy disabled'] : []), ...(byFederation ? ["the domain's federation put back to accept the federated IdP's MFA"] : [])].join('; or ');
  const ways = hints ? ` Once they are not (${notSwitched}${others ? `; or, outside the run, with another method they can use` : ''}), finish with: ${hints.again}; to take them all the same, leaving them with nothing to sign in with (${LEAVE_SWITCHED}; --out-of-order does not): ${hints.leave}` : '';
  return [`Left in place: ${named}. What this rollback would take from them (${ofRun ? "their methods, the methods policy's parts they need" : "the methods policy's parts they need"}) stays, ${o.stillSwitched.length} object(s): taken away, it could leave them with nothing to sign in with.${ways}`];
}

/**
 * What --leave-switched-without-method took that would otherwise have been left in place: said in the
 * summary too, not only as a warning while it happened (a black-box test found only that).
 */
function leftWithoutMethodLine(o: RollbackOutcome, given: string | undefined): string[] {
  const l = o.leftWithoutMethod;
  if (!l) return [];
  const parts = [
    ...(l.users.length > 0 ? [`${l.users.length} user(s) of the run still switched to Entra MFA lost the methods this rollback took: ${l.users.slice(0, LISTED).map((u) => `${u.user} (by ${u.by})`).join(', ')}${l.users.length > LISTED ? `, and ${l.users.length - LISTED} more (${fullReport(o.runId, given)} lists every one)` : ''}`] : []),
    ...(l.others ? [`${othersText(l.others)} still switched to Entra MFA (by ${l.others.by.join(' and ')}) have no method they can use since the methods policy's undo: ${l.others.first.join(', ')}${l.others.count > l.others.first.length ? `, and ${l.others.count - l.others.first.length} more (${fullReport(o.runId, given)} lists every one)` : ''}`] : []),
    ...(l.unread !== undefined ? [`who the staged rollout still switches to Entra MFA could not be read (${l.unread}): the run's users' methods were taken unchecked`] : []),
  ];
  return [`Taken all the same (${LEAVE_SWITCHED}): ${parts.join('; ')}. They may be left with nothing to sign in with (mfa-migrate status shows them switched with none): take them out of the staged rollout, or give them a method, now.`];
}

function cutoverUndoLine(x: RollbackOutcome['cutoverUndone'][number]): string {
  if (x.kind === 'federation-update') return `  federation of ${x.target.split('/')[1]}: put back: its users meet the federated IdP's MFA again (allow up to 24 hours)`;
  if (x.kind === 'rollout-policy-delete') return "  staged rollout policy: deleted (the run created it): its groups' users are back on MFA Server";
  if (x.kind === 'rollout-policy-update') return "  staged rollout policy: disabled again: its groups' users are back on MFA Server";
  return `  staged rollout: group ${x.target.slice(x.target.lastIndexOf('/') + 1)} detached: its users are back on MFA Server`;
}

/**
 * What Graph cannot undo: one a line up to LISTED; past that, by reason, most first, each with its
 * count and the first few named on a line of their own (a scale test read one line of ~1,500
 * characters, every reason run together after 20 named one by one). The report lists every one.
 */
function notReversibleLines(items: RollbackOutcome['notReversible'], runId: string, given: string | undefined): string[] {
  if (items.length <= LISTED) return items.map((x) => `  not reversible: ${whose(x)} ${x.target}: ${x.reason}`);
  const groups = new Map<string, RollbackOutcome['notReversible']>();
  for (const x of items) addTo(groups, x.reason, x);
  const lines = [`  not reversible: ${items.length} object(s) Graph cannot undo, by reason (${fullReport(runId, given)} lists every one):`];
  for (const [reason, xs] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    // One target for the whole reason (a default method: signInPreferences) is said with it, not with each user.
    const target = xs.every((x) => x.target === xs[0]!.target) ? xs[0]!.target : undefined;
    const named = xs.slice(0, NAMED_PER_REASON).map((x) => `${whose(x)}${target ? '' : ` ${x.target}`}`);
    const noun = xs.every((x) => x.user !== undefined) ? 'user(s)' : 'object(s)';
    lines.push(`    ${xs.length} ${noun}${target ? ` (${target})` : ''}: ${reason}`, `        ${named.join(', ')}${xs.length > named.length ? `, and ${xs.length - named.length} more` : ''}`);
  }
  return lines;
}

/** Of each reason Graph cannot undo, past LISTED in all: the first this many named. */
const NAMED_PER_REASON = 3;

/** Lines a summary names one by one: a 100,000-user rollback has as many defaults it cannot unset; the report lists them all. */
const LISTED = 20;

/** `total`: how many there are in all, when `lines` holds only the first of them. */
function firstOf(lines: string[], runId: string, what: string, given: string | undefined, total = lines.length): string[] {
  const all = Math.max(total, lines.length);
  if (all <= LISTED) return lines;
  const shown = lines.slice(0, LISTED);
  return [...shown, `  ... and ${all - shown.length} more ${what} (${all} in all): ${fullReport(runId, given)} lists every one`];
}

/** What the run's --users/--group/--max-users left out of the plan, and how to go on with it (not a resume: the run never had it). */
function notSelectedLine(n: ApplyOutcome['notSelected'] | undefined): string[] {
  if (!n || (n.users === 0 && n.federation.length === 0)) return [];
  const what = [
    ...(n.users > 0 ? [`${n.users} user(s) of the plan with changes`] : []),
    ...n.federation.map((d) => `the federation of ${d} (it waits for every switch of the domain's users)`),
  ];
  return [`  not selected for this run: ${what.join('; ')}. To go on with them, make a new plan: what this run did shows as done in it`];
}

/** The run's users who left the plan's scope group since the plan: left out, named. */
function leftGroupLine(l: ApplyOutcome['leftScopeGroup']): string[] {
  if (!l || l.users.length === 0) return [];
  return [`  left the group "${l.group}" since the plan (the plan's scope, plan --group): ${l.users.length} user(s), left out (nothing more sent to them): ${named(l.users)}`];
}

/** The run's users the plan leaves on MFA Server (not-switched): named, with the way on. */
function leftOnServerLine(users: readonly string[] | undefined): string[] {
  if (!users || users.length === 0) return [];
  return [`  ${users.length} user(s) left on MFA Server (no cloud MFA method the policy lets them use, so the plan does not switch them; not-switched): ${named(users)}. Migrate or enable a method for them, then plan again`];
}

/** The plan's not-switched users the run's forced federation of a domain moved to Entra MFA with no cloud method: a warning, named. */
function movedByFederationLine(domain: string, users: readonly string[]): string {
  return `  ${users.length} user(s) moved to Entra MFA by the federation of ${domain} (--force-federation) with no cloud MFA method the policy lets them use: they cannot complete MFA (not-switched): ${named(users)}. Migrate or enable a method for them now`;
}

/**
 * A domain's federation set by the run: every user of the domain (and of the subdomains that take its
 * federation, named: a black-box test counted eu.contoso.com's users under contoso.com unsaid) meets
 * Entra MFA; those forced over with no cloud method are counted here and named on the lines below it.
 */
function federationDoneLine(o: ApplyOutcome, domain: string): string {
  const of = (x: { domain: string }) => x.domain.toLowerCase() === domain.toLowerCase();
  const forced = [...(o.movedByForcedFederation ?? []), ...(o.outsidersMovedByFederation ?? [])].filter(of).reduce((n, x) => n + x.users.length, 0);
  const meets = forced > 0 ? `its users meet Entra MFA, ${forced} of them with no cloud MFA method they can use (below)` : 'every user of the domain meets Entra MFA';
  return `  federation of ${withSubdomains(o, domain)}: done: it rejects the federated IdP's MFA now, so ${meets} (allow up to 24 hours)`;
}

/** A domain with the non-root subdomains that take its federation, as the plan read them: `contoso.com (with eu.contoso.com, x.eu.contoso.com)`. */
function withSubdomains(o: ApplyOutcome, domain: string): string {
  const subs = o.federationSubdomains?.[domain.toLowerCase()] ?? [];
  return subs.length > 0 ? `${domain} (with ${subs.join(', ')})` : domain;
}

/** The tenant users outside the plan the run's forced federation moved to Entra MFA with no cloud method (as the plan read them): a warning, named. */
function outsidersMovedLine(domain: string, users: readonly string[], report: string): string {
  const more = users.length > LISTED ? `, and ${users.length - LISTED} more (${report} lists every one)` : '';
  return `  ${users.length} tenant user(s) outside the plan moved to Entra MFA by the federation of ${domain} (--force-federation) with no cloud MFA method they can use, as the plan read them: ${users.slice(0, LISTED).join(', ')}${more}. Give them a method now (or disable the accounts no one uses)`;
}

/** Users a line names: the first LISTED, then how many more (the --results rows have every one). */
function named(users: readonly string[]): string {
  return `${users.slice(0, LISTED).join(', ')}${users.length > LISTED ? `, and ${users.length - LISTED} more (the --results rows)` : ''}`;
}

/** The journal's final hash: noted now, it shows later that the journal was not edited or cut (`runs verify`). */
function journalLine(hash: string | undefined, runId: string, given: string | undefined): string {
  return hash ? `  journal hash ${hash} (note it: ${onRun(['runs', 'verify', runId], given)} prints the same while the journal is unedited)` : '  journal hash: none (a journal written before the hash chain)';
}

/** A command on the run, with the --state-dir given: without it the command looks only in the state base (and may find another copy of the run). */
function onRun(words: string[], given: string | undefined): string {
  return cliCommand([...words, ...(given ? ['--state-dir', given] : [])]);
}

/** The command whose report lists every one: a report file (`report RUN` alone prints a summary, no names; a large-tenant test followed it and found none). */
function fullReport(runId: string, given: string | undefined): string {
  return `${onRun(['report', runId], given)} --report ${shellArg(`${runId}.html`)}`;
}
