import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_USERS } from '../../src/mapping/policy-rules.js';
import { readTenant } from '../../src/graph/tenant-reader.js';
import type { TenantSnapshot } from '../../src/model/tenant.js';
import { buildPlan, type PlanInput } from '../../src/plan/build-plan.js';
import { formatValue, renderPlanTerminal } from '../../src/plan/render-terminal.js';
import { renderReportHtml, renderReportMarkdown } from '../helpers/report-text.js';
import { readExport, type ExportBundle } from '../../src/source/export-bundle.js';
import { fakeGraph } from '../helpers/graph.js';
import { contosoRequest } from '../helpers/migration.js';

/** buildPlan itself: the Contoso export against the Contoso tenant, read once, planned in memory. */
describe('buildPlan (pure)', () => {
  let bundle: ExportBundle;
  let tenant: TenantSnapshot;
  let input: PlanInput;
  beforeAll(async () => {
    const req = contosoRequest();
    bundle = await readExport({ source: req.source, tokens: req.tokens, seeds: req.seeds });
    const serials = bundle.tokens.map((t) => t.seed.serial);
    tenant = await readTenant(fakeGraph().client({ readOnly: true }), { upns: bundle.users.map((u) => u.username), serials, policy: true, organization: true, concurrency: 4 });
    input = { bundle, tenant, options: { includeEmail: false, defaultMethod: 'if-unset', prune: false, target: ALL_USERS }, sourceFingerprint: 'f'.repeat(64), now: new Date('2026-12-01T00:00:00Z') };
  });

  it('is deterministic: the same inputs give the same plan', () => {
    expect(buildPlan(input).plan).toEqual(buildPlan(input).plan);
  });

  it('lists every in-scope user once, with a status that agrees with their changes', () => {
    const { plan } = buildPlan(input);
    expect(plan.users.map((u) => u.user)).toEqual(bundle.users.map((u) => u.username));
    for (const u of plan.users) {
      const changes = plan.user_changes.filter((c) => c.user === u.user);
      const pending = changes.filter((c) => c.action !== 'no-op');
      if (u.status === 'changes') expect(pending.length, u.user).toBeGreaterThan(0);
      else expect(pending, u.user).toEqual([]);
      if (u.status === 'not-in-tenant') expect(u.user_id, u.user).toBeNull();
      else if (u.status !== 'disabled') expect(u.user_id, u.user).toBe(tenant.users.get(u.user.toLowerCase())!.id);
    }
    const statuses = new Set(plan.users.map((u) => u.status));
    for (const s of ['changes', 'unchanged', 'not-in-tenant', 'disabled'] as const) expect(statuses, s).toContain(s);
  });

  it('has summary counts that agree with its arrays', () => {
    const { plan } = buildPlan(input);
    const n = (a: string) => plan.user_changes.filter((c) => c.action === a).length;
    expect(plan.summary).toMatchObject({ users: bundle.users.length, create: n('create'), delete: n('delete'), no_op: n('no-op'), update: n('update') + new Set(plan.policy_changes.map((c) => c.target)).size });
    expect(plan.summary.findings.warning).toBe(plan.findings.filter((f) => f.severity === 'warning').length);
  });

  it('keeps to the scope it is given', () => {
    const scope = new Set(['alice@contoso.com', 'grace@contoso.com', 'nobody@contoso.com']);
    const { plan } = buildPlan({ ...input, scope });
    expect(plan.users.map((u) => u.user).sort()).toEqual(['alice@contoso.com', 'grace@contoso.com']);
    expect(new Set(plan.user_changes.map((c) => c.user))).toEqual(new Set(['alice@contoso.com', 'grace@contoso.com']));
  });

  /** A review saw SMS and voice enabled for every user for the sake of a user the tenant does not have. */
  it('enables for the policy what the users the tenant has use, not what one it lacks would', () => {
    const noSettings = { ...input, bundle: { ...bundle, settings: undefined }, scope: new Set(['sybil@contoso.com']) };
    expect(tenant.users.has('sybil@contoso.com')).toBe(false);
    expect(buildPlan(noSettings).plan.policy_changes.filter((c) => /Voice|Sms/.test(c.target))).toEqual([]);
    // The same user, were the tenant to have them, turns phone calls on with their count.
    const alice = tenant.users.get('alice@contoso.com')!;
    const users = new Map(tenant.users).set('sybil@contoso.com', { ...alice, id: '00000000-0000-4000-8000-0000000000aa', userPrincipalName: 'sybil@contoso.com' });
    const voice = buildPlan({ ...noSettings, tenant: { ...tenant, users } }).plan.policy_changes.find((c) => /\/Voice$/.test(c.target) && c.property === 'state');
    expect(voice?.because).toMatch(/1 migrating user\(s\) use phone calls/);
  });

  it('renders for the terminal with phone numbers masked unless asked, and without colour unless asked', () => {
    const { plan } = buildPlan(input);
    const numbers = plan.user_changes.flatMap((c) => [c.after?.phoneNumber, c.before?.phoneNumber]).filter((x): x is string => typeof x === 'string');
    expect(numbers.length).toBeGreaterThan(10);
    const masked = renderPlanTerminal(plan, { color: false, showPhoneNumbers: false });
    for (const n of numbers) expect(masked).not.toContain(n);
    expect(masked).not.toMatch(/\u001b/);
    const shown = renderPlanTerminal(plan, { color: true, showPhoneNumbers: true });
    expect(numbers.filter((n) => plan.user_changes.some((c) => c.action === 'create' && c.after?.phoneNumber === n)).every((n) => shown.includes(n))).toBe(true);
    expect(shown).toMatch(/\u001b\[32m/);
  });

  /** An auditor found the terminal plan gave a policy change's reason but only the rule of a user change. */
  it('shows each user change with its rule and its reason, as a policy change, its phone numbers still masked', () => {
    const { plan } = buildPlan(input);
    const text = renderPlanTerminal(plan, { color: false, showPhoneNumbers: false });
    const shown = plan.user_changes.filter((c) => c.action !== 'no-op');
    expect(shown.length).toBeGreaterThan(30);
    for (const c of shown) expect(text, `${c.user} ${c.resource}`).toContain(`  [${c.rule}] ${c.because}\n`);
    // Quoted as every string, and as with --show-phone-numbers (a black-box review: masked, it was bare).
    expect(text).toMatch(/\n {4}\+ phoneMethods\/office {2}phoneNumber="\+1 \*{8}03x\*{3}" {2}\[PHONE-PRIMARY-OFFICE\] primary phone has an extension\n/);
    expect(renderPlanTerminal(plan, { color: false, showPhoneNumbers: true })).toMatch(/\n {4}\+ phoneMethods\/office {2}phoneNumber="\+1 \d{10}x\d+" {2}\[PHONE-PRIMARY-OFFICE\]/);
    expect(text).toMatch(/\n {4}~ signInPreferences {2}userPreferredMethodForSecondaryAuthentication: null -> "sms" {2}\[DEFAULT-PUSH-NEEDS-APP\] the user has no Microsoft Authenticator registration in the tenant yet; sms is the most secure method available\n/);
    // The numbers are in the changes' before and after only: masked there, never in a reason.
    for (const n of shown.flatMap((c) => [c.before?.phoneNumber, c.after?.phoneNumber]).filter((x): x is string => typeof x === 'string')) expect(text).not.toContain(n.replace(/^\+\d+ /, ''));
  });

  /** Found by a review: a federation change with no switch left to wait for said "once the 0 switch(es) ... succeeded". */
  it('says when a federation change goes: after the switches it waits for, or with none left, simply last', () => {
    const { plan } = buildPlan(input);
    const fed = (switches: number) => ({ target: 'domains/contoso.com/federationConfiguration', action: 'update' as const, before: { federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' }, after: { federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' }, rule: plan.policy_changes[0]!.rule, because: 'b', switches });
    const text = (switches: number) => renderPlanTerminal({ ...plan, cutover_changes: [fed(switches)] }, { color: false, showPhoneNumbers: false });
    expect(text(3)).toContain('(last: once the 3 switch(es) of the domain succeeded)');
    expect(text(0)).toContain('(last: no switch of the domain is left to wait for)');
    expect(text(0)).not.toContain('0 switch(es)');
    // Unchanged user resources are not counted as "changes".
    expect(text(0)).toMatch(/\n {2}\d+ user resource\(s\): \d+ to add, \d+ to change, \d+ to destroy, \d+ unchanged\n/);
  });

  it('shows a policy target by its id, and says when it is usable for SMS sign-in', () => {
    const sms = (on: boolean) => [{ id: 'all_users', targetType: 'group', isRegistrationRequired: false, isUsableForSignIn: on }];
    expect(`${formatValue(sms(true), false)} -> ${formatValue(sms(false), false)}`).toBe('[all_users (usable for sign-in)] -> [all_users]');
  });

  /** An auditor found judy (an 8-digit token only) and zoe (an email only) counted as "already match", beside their "nothing to migrate". */
  it('counts users with nothing to migrate apart from those who already match, alike in the terminal and the reports', () => {
    const { plan } = buildPlan(input);
    const s = plan.summary.user_status!;
    // The JSON's status counts them all as unchanged (nothing to write), as plan-format.md says.
    expect(plan.users.filter((u) => u.status === 'unchanged').map((u) => u.user).sort()).toEqual(['judy@contoso.com', 'quinn@contoso.com', 'zoe@contoso.com']);
    expect(s.unchanged).toBe(3);
    const line = `${plan.users.length} user(s) in scope: ${s.changes} with changes, 1 already match, 2 with nothing to migrate, ${s.not_in_tenant} not in the tenant, ${s.disabled} disabled; ${s.no_usable_method} left with no usable method`;
    const text = renderPlanTerminal(plan, { color: false, showPhoneNumbers: false });
    expect(text).toContain(`\n  ${line}\n`);
    expect(text).toMatch(/\n {2}quinn@contoso\.com {2}already matches\n/);
    expect(text).toMatch(/\n {2}zoe@contoso\.com {2}nothing to migrate, and left with no usable method/);
    expect(renderReportMarkdown(plan, { showPhoneNumbers: false })).toContain(`\n- ${line}\n`);
    const html = renderReportHtml(plan, { showPhoneNumbers: false });
    expect(html).toContain(`<li>${line}</li>`);
    // The report's outcome filter tells them apart as the counts do.
    expect(html).toContain('<option value="unchanged">already matches</option><option value="nothing-to-migrate">nothing to migrate</option>');
    expect(html).toMatch(/data-user="zoe@contoso\.com" data-outcome="nothing-to-migrate no-usable-method"/);
    expect(html).toMatch(/data-user="quinn@contoso\.com" data-outcome="unchanged"/);
  });

  it('renders the reports the same bytes for the same plan', () => {
    const { plan } = buildPlan(input);
    expect(renderReportHtml(plan, { showPhoneNumbers: false })).toBe(renderReportHtml(structuredClone(plan), { showPhoneNumbers: false }));
    expect(renderReportMarkdown(plan, { showPhoneNumbers: false })).toBe(renderReportMarkdown(structuredClone(plan), { showPhoneNumbers: false }));
  });
});
