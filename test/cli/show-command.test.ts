import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { Plan } from '../../src/plan/plan-model.js';
import type { CliResult } from '../helpers/run-cli.js';
import { runMain } from '../helpers/run-main.js';
import { tempDir } from '../helpers/migration.js';
import { CONTOSO, runPlan } from '../plan/helpers.js';

/** `show PLANFILE` renders a saved plan offline: the JSON plan printed, the terminal view, the report. */
describe('mfa-migrate show', () => {
  let tmp: ReturnType<typeof tempDir>;
  let planned: CliResult;
  let plannedShown: CliResult;
  let plannedCutover: CliResult;
  const file = (n: string) => join(tmp.dir, n);

  beforeAll(async () => {
    tmp = tempDir('show');
    const emu: RunningEmulator = await startEmulator({ port: 0, throttle: 'off' });
    try {
      planned = await runPlan(emu.url, [...CONTOSO, '--format', 'json', '--out', file('a.plan'), '--report', file('plan.html')]);
      plannedShown = await runPlan(emu.url, [...CONTOSO, '--format', 'json', '--show-phone-numbers', '--out', file('b.plan')]);
      plannedCutover = await runPlan(emu.url, [...CONTOSO, '--format', 'json', '--rollout-group', 'MFA Staged Rollout', '--federated-mfa', 'reject', '--force-federation', '--out', file('c.plan')]);
    } finally {
      // show reads no tenant: Graph is gone from here on.
      await emu.stop();
    }
    for (const r of [planned, plannedShown, plannedCutover]) expect(r.code, r.stderr).toBe(0);
  }, 60_000);
  afterAll(() => tmp?.cleanup());

  it('--format json prints byte for byte what plan --format json printed for the same plan, masked or not', async () => {
    const shown = await runMain(['show', file('a.plan'), '--format', 'json']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe(planned.stdout);
    const full = await runMain(['show', file('b.plan'), '--format', 'json', '--show-phone-numbers']);
    expect(full.stdout).toBe(plannedShown.stdout);
    expect(full.stdout).toContain('"phoneNumber": "+1 4255550132"');
    expect(shown.stdout).not.toContain('4255550132');
  });

  it('a plan with the cutover: the same JSON, byte for byte, and the cutover shown', async () => {
    const shown = await runMain(['show', file('c.plan'), '--format', 'json']);
    expect(shown.stdout).toBe(plannedCutover.stdout);
    const plan = JSON.parse(shown.stdout) as Plan;
    expect(plan.cutover_changes.map((c) => c.action)).toEqual(['create', 'create', 'update']);
    expect(plan.cutover!.switched.by_plan).toBe(35);
    const text = await runMain(['show', file('c.plan')]);
    expect(text.stdout).toMatch(/^ {2}~ domains\/contoso\.com\/federationConfiguration /m);
    expect(text.stdout).toMatch(/^ {2}3 cutover change\(s\) \(staged rollout, federation\): 2 to add, 1 to change/m);
  });

  it('carries the saved file\'s SHA-256 as plan_hash, and every in-scope user once', async () => {
    const plan = JSON.parse(planned.stdout) as Plan;
    expect(plan.plan_hash).toBe(createHash('sha256').update(readFileSync(file('a.plan'))).digest('hex'));
    expect(plan.users.filter((u) => u.user === 'zoe@contoso.com')).toHaveLength(1);
    expect(new Set(plan.users.map((u) => u.user)).size).toBe(plan.users.length);
  });

  it('prints the plan for people, with the same counts as the JSON', async () => {
    const plan = JSON.parse(planned.stdout) as Plan;
    const text = await runMain(['show', file('a.plan')]);
    expect(text.code, text.stderr).toBe(0);
    const s = plan.summary;
    expect(text.stdout).toContain(`Plan: ${s.create} to add, ${s.update} to change, ${s.delete} to destroy, ${s.no_op} unchanged.`);
    expect(text.stdout).toContain(`${s.user_changes!.total} user resource(s): ${s.user_changes!.create} to add`);
    // judy and zoe have nothing to migrate: not counted as matching.
    expect(text.stdout).toContain(`${s.users} user(s) in scope: ${s.user_status!.changes} with changes, ${s.user_status!.unchanged - 2} already match, 2 with nothing to migrate,`);
    expect(text.stdout).toContain(`saved plan sha256 ${plan.plan_hash}`);
    // Every in-scope user appears once: with their changes, or among those with nothing to change (zoe).
    for (const u of plan.users) expect(text.stdout.split('\n').filter((l) => l.startsWith(`  ${u.user}`)), u.user).toHaveLength(1);
    // Nothing to change does not mean it matches: zoe (an email only) is left with nothing, said once (an auditor's black-box test).
    expect(text.stdout).toMatch(/\n {2}zoe@contoso\.com {2}nothing to migrate, and left with no usable method \(see the findings\)\n/);
  });

  it('--report writes the very report plan wrote for that plan, byte for byte; Markdown the same sections', async () => {
    const r = await runMain(['show', file('a.plan'), '--report', file('show.html')]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(file('show.html'), 'utf8')).toBe(readFileSync(file('plan.html'), 'utf8'));
    const plan = JSON.parse(planned.stdout) as Plan;
    expect(readFileSync(file('show.html'), 'utf8')).toContain(`<tr><th>Plan SHA-256</th><td class="mono">${plan.plan_hash}</td></tr>`);
    await runMain(['show', file('a.plan'), '--report', file('show.md')]);
    const md = readFileSync(file('show.md'), 'utf8');
    expect(md).toContain(`| Plan SHA-256 | ${plan.plan_hash} |`);
    const sections = (text: string, re: RegExp) => [...text.matchAll(re)].map((m) => m[1]!.replace(/ \(\d+\)$/, ''));
    expect(sections(md, /^## (.+)$/gm)).toEqual(sections(readFileSync(file('show.html'), 'utf8'), /<h2 id="[^"]+">([^<]+)<\/h2>/g));
  });

  it('refuses what is not a saved plan, naming the file', async () => {
    const r = await runMain(['show', file('nothing.plan')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read the plan file ${file('nothing.plan')}: no such file`);
  });
});
