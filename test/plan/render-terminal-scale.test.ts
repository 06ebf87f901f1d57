import { beforeAll, describe, expect, it } from 'vitest';
import { readTenant } from '../../src/graph/tenant-reader.js';
import type { Finding } from '../../src/mapping/finding.js';
import { ALL_USERS } from '../../src/mapping/policy-rules.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { renderPlanTerminal } from '../../src/plan/render-terminal.js';
import { readExport } from '../../src/source/export-bundle.js';
import { fakeGraph } from '../helpers/graph.js';
import { contosoRequest } from '../helpers/migration.js';
import { contosoTenant } from './helpers.js';

const PHONE_ONLY = 'SMS/voice only: from 2027-02-01 a blocking passkey registration prompt stops their sign-in';

/** The Contoso plan, and one of N users made from alice's changes, with a finding of the same code for each. */
let contoso: Plan;
function scaled(n: number, differing = 0): Plan {
  const alice = contoso.users.find((u) => u.user === 'alice@contoso.com')!;
  const changes = contoso.user_changes.filter((c) => c.user === alice.user && c.action !== 'no-op');
  const names = Array.from({ length: n }, (_, i) => `u${String(i).padStart(5, '0')}@contoso.com`);
  const findings: Finding[] = [
    ...names.map((user): Finding => ({ severity: 'warning', code: 'phone-only-after-retirement', user, rule: 'CUTOVER-PHONE-DEADLINE', message: PHONE_ONLY })),
    ...names.slice(0, differing).map((user, i): Finding => ({ severity: 'info', code: 'default-method-fallback', user, rule: 'DEFAULT-PUSH-NEEDS-APP', message: `default method push replaced by sms (${i})` })),
  ];
  return {
    ...contoso,
    users: names.map((user) => ({ ...alice, user })),
    user_changes: names.flatMap((user) => changes.map((c) => ({ ...c, user }))),
    findings,
  };
}

const text = (plan: Plan, all = false) => renderPlanTerminal(plan, { color: false, showPhoneNumbers: false, all });
const section = (out: string, name: string) => out.split('\n\n').find((s) => s.startsWith(`${name}\n`)) ?? '';
const summary = (out: string) => out.slice(out.indexOf('\nPlan: '));

describe('renderPlanTerminal at scale', () => {
  beforeAll(async () => {
    const req = contosoRequest();
    const bundle = await readExport({ source: req.source, tokens: req.tokens, seeds: req.seeds });
    const snapshot = await readTenant(fakeGraph({ tenant: contosoTenant() }).client({ readOnly: true }), { upns: bundle.users.map((u) => u.username), serials: bundle.tokens.map((t) => t.seed.serial), policy: true, organization: true, concurrency: 4 });
    contoso = buildPlan({ bundle, tenant: snapshot, options: { includeEmail: false, defaultMethod: 'if-unset', prune: false, target: ALL_USERS }, sourceFingerprint: 'f'.repeat(64), now: new Date('2026-12-01T00:00:00Z') }).plan;
  });

  it('prints the Contoso sample as --all does: every user and finding, one a line (24 phone-only findings are not grouped)', () => {
    expect(contoso.findings.filter((f) => f.code === 'phone-only-after-retirement').length).toBeGreaterThan(20);
    expect(text(contoso)).toBe(text(contoso, true));
    expect(text(contoso)).not.toContain('more user(s) with changes');
  });

  it('lists the first 200 users with changes, then how many more and where to see them all', () => {
    const plan = scaled(300);
    const users = section(text(plan), 'Users');
    const titles = users.split('\n').filter((l) => /^ {2}u\d{5}@/.test(l));
    expect(titles).toHaveLength(200);
    expect(titles[0]).toBe('  u00000@contoso.com');
    expect(titles[199]).toBe('  u00199@contoso.com');
    expect(users.split('\n').at(-1)).toBe('  ... and 100 more user(s) with changes (plan --all or show PLANFILE --all prints them here; --report FILE and --format json hold them all)');
    // --all (and show --verbose) print every one.
    expect(section(text(plan, true), 'Users').split('\n').filter((l) => /^ {2}u\d{5}@/.test(l))).toHaveLength(300);
    const verbose = renderPlanTerminal(plan, { color: false, showPhoneNumbers: false, verbose: true });
    expect(section(verbose, 'Users').split('\n').filter((l) => /^ {2}u\d{5}@/.test(l))).toHaveLength(300);
  });

  it('200 users with changes are all listed, with no line of more', () => {
    expect(section(text(scaled(200)), 'Users')).not.toContain('more user(s)');
  });

  it('groups a code with more than 50 findings of the same message into one line: count, the first users, the message', () => {
    const out = text(scaled(300));
    const findings = section(out, 'Findings').split('\n');
    expect(findings.filter((l) => l.includes('phone-only-after-retirement'))).toEqual([
      `    phone-only-after-retirement (300): u00000@contoso.com, u00001@contoso.com, u00002@contoso.com, u00003@contoso.com, u00004@contoso.com and 295 more: ${PHONE_ONLY} [phone-only-after-retirement, CUTOVER-PHONE-DEADLINE]`,
    ]);
    expect(findings.at(-1)).toBe('  (a code with more than 50 findings is one line, with its first users: plan --all or show PLANFILE --all prints them here; --report FILE and --format json hold them all)');
    // --all: each finding on its line, as before.
    const all = section(text(scaled(300), true), 'Findings').split('\n');
    expect(all.filter((l) => l.includes(`: ${PHONE_ONLY} [phone-only-after-retirement, CUTOVER-PHONE-DEADLINE]`))).toHaveLength(300);
    expect(all.some((l) => l.includes('more'))).toBe(false);
  });

  it('a grouped code whose messages differ shows its first findings in full, then how many more', () => {
    const findings = section(text(scaled(60, 60)), 'Findings').split('\n');
    const at = findings.indexOf('    default-method-fallback (60), the first 5:');
    expect(at).toBeGreaterThan(0);
    expect(findings.slice(at + 1, at + 7)).toEqual([
      ...[0, 1, 2, 3, 4].map((i) => `      u0000${i}@contoso.com: default method push replaced by sms (${i}) [default-method-fallback, DEFAULT-PUSH-NEEDS-APP]`),
      '      ... and 55 more',
    ]);
  });

  it('50 findings of a code are each on their line', () => {
    const findings = section(text(scaled(50)), 'Findings').split('\n');
    expect(findings.filter((l) => l.includes('[phone-only-after-retirement, CUTOVER-PHONE-DEADLINE]'))).toHaveLength(50);
    expect(findings.join('\n')).not.toContain('is one line');
  });

  it('keeps the summary counts whatever is left out', () => {
    const plan = scaled(300, 60);
    expect(summary(text(plan))).toBe(summary(text(plan, true)));
    expect(summary(text(plan))).toContain('Findings: 0 error(s), 300 warning(s), 60 info');
  });
});
