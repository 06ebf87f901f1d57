import { addTo } from '../model/add-to.js';
import type { DefaultMethodMode } from '../mapping/default-method-rules.js';
import { cutoverUser, type CutoverMapping, type CutoverSummary, type CutoverUser } from '../mapping/cutover-rules.js';
import type { TenantHardwareToken, TenantUser } from '../model/tenant.js';
import { serialKey } from '../model/serial.js';
import type { ExportBundle } from '../source/export-bundle.js';
import { finishUser, mapOneUser, planContext, planCutover, planOptions, PlanTally, type MappedUser, type PlanContext } from './build-plan.js';
import { canonicalJson, fingerprintOfCanonical, stateFingerprint } from './fingerprint.js';
import { formatMinor, type PlanUserLine, type SavedCutoverChange, type SavedPlan, type SavedPolicyChange } from './plan-file.js';
import type { PlanUserStatus, UserChange } from './plan-model.js';
import { maskPhoneFields } from './plan-json.js';
import { domainFits, domainMayBe, matchedUser, netbiosMapOf, onPremisesName, type MatchedUser } from '../model/user-match.js';

/** User lines re-derived at a time: small, so that what a chunk allocates dies young (V8 then frees it cheaply). */
const CHUNK = 200;

/**
 * Where a saved plan differs from planning its sources. `edited` when no planning rules can give it
 * (a change whose state_fingerprint is not its own before state's: every 2.x version wrote it so),
 * so a file of an earlier format that differs so was edited, not planned by older rules.
 */
export interface PlanDifference {
  where: string;
  edited: boolean;
}

/** A difference that the rules of an earlier version might give. */
const byRules = (where: string | undefined): PlanDifference | undefined => (where === undefined ? undefined : { where, edited: false });

/**
 * Where a saved plan first differs from planning its recorded sources (the export, read afresh)
 * against the tenant state it recorded having seen; undefined when it does not. Planning is pure
 * and deterministic, so a saved plan of this version's format that differs was edited after it was made.
 *
 * A chunk of users at a time, never the whole plan at once: each user's own changes depend only on
 * the export, the policy and the inventory, but the cutover (staged rollout groups filled in order,
 * a domain's unswitched users) needs every user, so the lines are read twice: first to map every
 * user and keep what the cutover reads of them, then to complete and compare each user's plan.
 */
export async function firstDifference(saved: SavedPlan, bundle: ExportBundle): Promise<PlanDifference | undefined> {
  const header = saved.header;
  const o = header.options;
  // The users the plan writes to, as its lines record them (each line's user is checked against its username below).
  const found = new Set(saved.users.filter((u) => u.userId !== null).map((u) => u.upn.toLowerCase()));
  const ctx = planContext({
    bundle,
    policy: header.policy_seen ?? {},
    inTenant: (key) => found.has(key),
    // 2.5 says whether a scope narrowed the plan: if none did, planning its sources gives every user of the export.
    ...(formatMinor(header) >= 5 && o.scope_users === null ? {} : { scope: new Set(saved.users.map((u) => u.upn.toLowerCase())) }),
    options: {
      includeEmail: o.include_email,
      defaultMethod: o.default_method as DefaultMethodMode,
      prune: o.prune,
      ...(o.match_by ? { matchBy: o.match_by } : {}),
      ...(o.netbios_domains ? { netbiosDomains: netbiosMapOf(o.netbios_domains) } : {}),
      target: o.target_group,
      cutover: {
        rolloutGroups: o.rollout_groups ?? [],
        federatedMfa: o.federated_mfa ?? null,
        forceFederation: o.force_federation ?? false,
        campaignGroup: o.campaign_group ?? null,
        ...(o.scope_group ? { scopeGroup: o.scope_group } : {}),
      },
    },
  });
  if (saved.users.length !== ctx.users.length) return byRules(`the plan lists ${saved.users.length} users; planning gives ${ctx.users.length}`);
  // 2.16 judges the tenant users a domain's federation moves outside the plan's users: a plan that sets
  // one without having read them (made before 2.16, or the record taken out) cannot be judged so.
  if (o.federated_mfa === 'reject' && saved.cutoverChanges.some((c) => c.target.startsWith('domains/')) && !header.cutover_seen?.domainUsers) {
    return byRules("it sets a domain's federation to reject the federated IdP's MFA without a record of the domain's tenant users outside the plan (cutover_seen.domainUsers, from format 2.16), whom that moves to Entra MFA too");
  }
  const hardwareTokens = new Map<string, TenantHardwareToken[]>();
  for (const t of saved.tokensSeen) {
    const key = serialKey(t.serialNumber);
    addTo(hardwareTokens, key, t);
  }
  const mapLine = (l: PlanUserLine, i: number): MappedUser =>
    mapOneUser(ctx, ctx.users[i]!, { users: new Map<string, TenantUser>(l.seen ? [[l.upn.toLowerCase(), l.seen]] : []), hardwareTokens, ...(l.match ? { matches: new Map([[l.upn.toLowerCase(), l.match]]) } : {}) });
  const onPremises = o.match_by?.includes('on-premises') ?? false;
  const netbios = netbiosMapOf(o.netbios_domains);

  // Pass 1: every user mapped, the cutover planned over all of them.
  const forCutover: CutoverUser[] = [];
  let i = 0;
  for await (const lines of saved.lines(CHUNK)) {
    for (const l of lines) {
      const user = ctx.users[i]!;
      if (user.username.toLowerCase() !== l.upn.toLowerCase()) return byRules(`line ${l.line} (${l.upn}): planning gives ${user.username} there`);
      const found = matchDifference(l, onPremises, netbios);
      if (found) return byRules(`line ${l.line} (${l.upn}): ${found}`);
      const lean = cutoverUser(mapLine(l, i).mapping);
      // The line's tenant user was parsed afresh: the index's copies of the same id and UPN are kept instead.
      const entry = saved.users[i++]!;
      if (lean.tenantUser?.id === entry.userId && entry.userId !== null) lean.tenantUser.id = entry.userId;
      if (lean.tenantUser?.userPrincipalName === entry.upn) lean.tenantUser.userPrincipalName = entry.upn;
      forCutover.push(lean);
    }
  }
  const cutover = planCutover(ctx, forCutover, { policy: header.policy_seen ?? {}, ...(header.cutover_seen ? { cutover: header.cutover_seen } : {}) });
  forCutover.length = 0;
  // A saved plan was not refused when it was made, from the same state: a refusal now means its users were edited (one left out).
  if (cutover.refusals.length > 0) return byRules(`planning its users refuses it: ${cutover.refusals[0]}`);
  const changed = firstPolicyDifference(saved.policyChanges, cutover) ?? firstCutoverDifference(saved.cutoverChanges, cutover);
  if (changed) return changed;
  const tally = new PlanTally();
  // Only their counts are compared: the per-user ones (the SMS/voice deadline) are let go.
  tally.addCutoverFindings(cutover.findings);
  cutover.findings.length = 0;

  // Pass 2: each user's plan completed and compared with their line.
  const records = formatMinor(header) >= 1;
  i = 0;
  for await (const lines of saved.lines(CHUNK)) {
    for (const l of lines) {
      const planned = finishUser(ctx, mapLine(l, i++), cutover);
      tally.add(planned);
      const where = userDifference(l, planned.status, planned.changes, records);
      if (where) return where;
    }
  }
  return byRules(firstSummaryDifference(saved, ctx, cutover, tally));
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/**
 * Whether the tenant user a line records is one its username can have matched: the user of that UPN,
 * or (2.10, `--match-by upn,on-premises`) the one its `match` names, whose on-premises name is the
 * username's by the rules; a refused match records no user. Where the tenant has a user is apply's
 * to check (it reads them again); that the line holds together is checked here.
 */
function matchDifference(l: PlanUserLine, onPremises: boolean, netbios: ReadonlyMap<string, string>): string | undefined {
  const m = l.match;
  if (!m) {
    if (l.seen && l.seen.userPrincipalName.toLowerCase() !== l.upn.toLowerCase()) return `the tenant user recorded (${l.seen.userPrincipalName}) does not have the username as UPN, and no match says how it was found`;
    return undefined;
  }
  if (!onPremises) return 'the line records a match by on-premises name, but the plan matched by UPN only (--match-by upn)';
  const name = onPremisesName(l.upn);
  if (!name || name.by !== m.by || name.value !== m.value || name.domain !== m.domain) return `its match (${m.by} ${m.value}) is not what the username gives`;
  if ((m.dns_domain ?? undefined) !== (m.domain !== undefined ? netbios.get(m.domain.toLowerCase()) : undefined)) return `its match's domain (${m.dns_domain ?? 'first label'}) is not what the plan's --netbios-domain gives`;
  const fits = (u: MatchedUser) => m.domain === undefined || domainFits(m.domain, u.onPremisesDomainName, netbios);
  const mayBe = (u: MatchedUser) => m.domain === undefined || domainMayBe(m.domain, u.onPremisesDomainName, netbios);
  const byRule = m.by === 'onPremisesUserPrincipalName' ? 'USER-MATCH-ONPREM-UPN' : 'USER-MATCH-SAM';
  const ok =
    m.outcome === 'matched'
      ? m.users.length === 1 && fits(m.users[0]!) && m.rule === byRule
      : m.outcome === 'ambiguous'
        ? m.users.length > 1 && m.users.some(fits) && m.users.every(mayBe) && m.rule === 'USER-MATCH-AMBIGUOUS'
        : m.outcome === 'domain-differs'
          ? m.domain !== undefined && !m.users.some(fits) && m.rule === 'USER-MATCH-SAM'
          : m.users.length === 1 && fits(m.users[0]!) && m.shared_with !== undefined && m.rule === 'USER-MATCH-AMBIGUOUS';
  if (!ok) return `its match (${m.outcome}) does not hold together`;
  const u = matchedUser(m);
  if (u ? !l.seen || l.seen.id !== u.id || l.seen.userPrincipalName !== u.upn || l.userId !== u.id : l.seen !== null || l.userId !== null) return `its match (${m.outcome}) is not the tenant user the line records`;
  return undefined;
}

function firstPolicyDifference(policy: readonly SavedPolicyChange[], cutover: CutoverMapping): PlanDifference | undefined {
  const derived = cutover.policyChanges;
  const fields = (c: Omit<SavedPolicyChange, 'state_fingerprint'>) => ({ target: c.target, property: c.property, before: c.before, after: c.after, rule: c.rule, because: c.because, setting: c.setting });
  for (let i = 0; i < Math.max(policy.length, derived.length); i++) {
    const saved = policy[i];
    const want = derived[i];
    if (saved && saved.state_fingerprint !== stateFingerprint(saved.before)) return { where: `policy change ${i + 1} (${saved.target}.${saved.property}): its state_fingerprint is not its before state's`, edited: true };
    if (!saved || !want || !same(fields(saved), fields(want))) {
      return byRules(`policy change ${i + 1} (${saved ? `${saved.target}.${saved.property}` : 'missing'}) is not what planning gives (${want ? `${want.target}.${want.property} ${JSON.stringify(want.before)} -> ${JSON.stringify(want.after)}` : 'no such change'})`);
    }
  }
  return undefined;
}

function firstCutoverDifference(changes: readonly SavedCutoverChange[], cutover: CutoverMapping): PlanDifference | undefined {
  const derived = cutover.changes;
  const fields = (c: Omit<SavedCutoverChange, 'state_fingerprint'>) => ({ target: c.target, action: c.action, before: c.before, after: c.after, rule: c.rule, because: c.because, switches: c.switches ?? null });
  for (let i = 0; i < Math.max(changes.length, derived.length); i++) {
    const saved = changes[i];
    const want = derived[i];
    if (saved && saved.state_fingerprint !== stateFingerprint(saved.before)) return { where: `cutover change ${i + 1} (${saved.action} ${saved.target}): its state_fingerprint is not its before state's`, edited: true };
    if (!saved || !want || !same(fields(saved), fields(want))) {
      return byRules(`cutover change ${i + 1} (${saved ? `${saved.action} ${saved.target}` : 'missing'}) is not what planning gives (${want ? `${want.action} ${want.target}` : 'no such change'})`);
    }
  }
  return undefined;
}

/**
 * Two values that differ, for an error: phone numbers masked as in every output (an error is printed
 * and logged; the plan file is the only place that holds them in full). When the masks hide where
 * they differ, it says so.
 */
function shownPair(inFile: unknown, derived: unknown, fileSide: string, derivedSide: string): string {
  const a = JSON.stringify(maskPhoneFields(inFile));
  const b = JSON.stringify(maskPhoneFields(derived));
  return `is ${a} ${fileSide}, ${derivedSide} ${b}${a === b ? ' (phone numbers masked: they differ in digits the mask hides)' : ''}`;
}

function userDifference(l: PlanUserLine, u: PlanUserStatus, want: readonly UserChange[], records: boolean): PlanDifference | undefined {
  const at = `line ${l.line} (${l.upn})`;
  if (l.upn !== u.user || l.userId !== u.user_id || l.status !== u.status) return byRules(`${at}: user ${l.upn} ${l.userId ?? '-'} ${l.status} is not what planning gives (${u.user} ${u.user_id ?? '-'} ${u.status})`);
  // 2.1 records the MFA Server record and the methods after the plan: both must be what the sources give.
  if (records) {
    if (!same(l.server ?? null, u.server ?? null)) return byRules(`${at}: the MFA Server record is not what the export gives`);
    if (!same(l.methods_after ?? null, u.methods_after ?? null)) return byRules(`${at}: methods_after ${shownPair(l.methods_after ?? null, u.methods_after ?? null, 'in the file', 'planning gives')}`);
  }
  if (l.changes.length !== want.length) return byRules(`${at}: ${l.changes.length} changes, planning gives ${want.length}`);
  for (let j = 0; j < want.length; j++) {
    const s = l.changes[j]!;
    const w = want[j]!;
    let before = '';
    for (const k of ['resource', 'action', 'before', 'after', 'rule', 'because'] as const) {
      const text = canonicalJson(s[k]);
      if (text !== canonicalJson(w[k])) return byRules(`${at}: ${s.resource} ${k} ${shownPair(s[k], w[k], 'in the file', 'planning its sources gives')}`);
      if (k === 'before') before = text;
    }
    // The pre-flight compares the tenant with the fingerprint, the executor acts on `before`: they must agree.
    if (s.state_fingerprint !== fingerprintOfCanonical(before)) return { where: `${at}: ${s.resource} state_fingerprint is not its before state's`, edited: true };
  }
  return undefined;
}

/**
 * The cutover summary as a file of the header's format holds it: before 2.20 without the forced
 * federation's `unchecked_names`, `out_of_scope_users` and `unswitched_users`, before 2.19 without
 * `outside_without_method` either (each named the first 20 in a finding alone).
 */
function cutoverAsSaved(header: SavedPlan['header'], summary: CutoverSummary): CutoverSummary {
  const minor = formatMinor(header);
  if (minor >= 20) return summary;
  const federation = summary.federation.map(({ unchecked_names: _n, out_of_scope_users: _o, unswitched_users: _u, ...f }) => f);
  return { ...summary, federation: minor >= 19 ? federation : federation.map(({ outside_without_method: _all, ...f }) => f) };
}

/**
 * The plan-wide fields. A file older than 2.2 predates the cutover: its summary (2.0: also without
 * 2.1's counts) and options are compared on the fields it has, but not the findings' counts (the
 * cutover's rules report the SMS/voice deadline and passkeys in their own way), and it has no cutover.
 */
function firstSummaryDifference(saved: SavedPlan, ctx: PlanContext, cutover: CutoverMapping, tally: PlanTally): string | undefined {
  const header = saved.header;
  const { summary: derived, campaign } = tally.finish(ctx, cutover);
  // Before 2.14 the summary did not count what a rollback cannot undo: not compared there.
  const counted = <T extends object>(s: T) => (formatMinor(header) >= 14 ? s : Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'rollback_cannot_undo')));
  const summary = counted(derived);
  // Before 2.5 the options did not record the scope's users: not compared there.
  const planned = planOptions(ctx);
  const [savedOptions, options] = formatMinor(header) >= 5 ? [header.options, planned] : [{ ...header.options, scope_users: undefined }, { ...planned, scope_users: undefined }];
  const onKeysOf = (fields: object, planned: object, drop: readonly string[] = []) =>
    Object.fromEntries(Object.keys(fields).filter((k) => !drop.includes(k)).map((k) => [k, (planned as Record<string, unknown>)[k]]));
  const compared: [string, unknown, unknown][] =
    formatMinor(header) >= 2
      ? [
          ['summary', counted(header.summary), summary],
          ['options', savedOptions, options],
          ['cutover', header.cutover, cutoverAsSaved(header, cutover.summary)],
        ]
      : [
          ['summary', onKeysOf(counted(header.summary), header.summary, ['findings']), onKeysOf(counted(header.summary), summary, ['findings'])],
          ['options', savedOptions, onKeysOf(savedOptions, options)],
        ];
  compared.push(['registration_campaign', header.registration_campaign, campaign]);
  for (const [k, want, got] of compared) if (!same(want, got)) return `the plan's ${k} is not what planning gives`;
  return undefined;
}
