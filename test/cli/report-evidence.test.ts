import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport, RunReportOperation } from '../../src/report/run-report.js';
import { applyFile, rollbackIn, testDir, planOfUntouched } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

/** Every operation the report lists, by id. */
const listed = (r: RunReport): Map<string, RunReportOperation> => new Map([...r.policy, ...r.shared, ...r.users.flatMap((u) => u.operations)].map((o) => [o.op, o]));
const pendingListed = (r: RunReport) => [...listed(r).values()].filter((o) => o.state === 'pending').length;

/** Contoso planned (with the staged rollout) and applied in a state folder of the test's own. */
async function applied(name: string) {
  const { dir } = testDir(name);
  const stateDir = join(dir, 'state');
  const { g } = await planOfUntouched(join(dir, 'p.plan'), { rolloutGroups: ['MFA Staged Rollout'] });
  const { outcome } = await applyFile(g, join(dir, 'p.plan'), stateDir);
  expect(outcome.state).toBe('completed');
  return { g, dir, stateDir, runId: outcome.runId, runDir: join(stateDir, 'runs', outcome.runId) };
}

async function report(runId: string, stateDir: string, ...more: string[]) {
  const r = await runMain(['report', runId, '--state-dir', stateDir, ...more]);
  return { ...r, json: more.includes('json') ? (JSON.parse(r.stdout) as RunReport) : undefined };
}

/**
 * Found by an auditor: `report RUN` wrote nothing at all when the run's plan copy was missing or
 * unreadable, though apply.md says the report is still made and written (as `runs verify` still checks).
 */
describe('report of a run whose plan copy cannot be read', () => {
  it('a missing plan copy: the report is made from the journal alone, says so first in every format, and exits 1 as runs verify does', async () => {
    const { dir, stateDir, runId, runDir } = await applied('report-no-plan');
    const whole = (await report(runId, stateDir, '--format', 'json')).json!;
    expect(whole.run).toMatchObject({ plan_problem: null, unlisted_pending: 0 });
    renameSync(join(runDir, 'plan.jsonl'), join(dir, 'plan.jsonl.moved'));

    const verify = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
    expect(verify.code).toBe(1);
    const text = await report(runId, stateDir, '--report', join(dir, 'run.html'));
    expect(text.code).toBe(verify.code);
    const first = text.stdout.split('\n')[0]!;
    expect(first).toMatch(/^WARNING: the run's plan copy \(plan\.jsonl\) cannot be read \(its journal is whole\)\. What the run set out to do cannot be shown: this report is made from the journal alone, its users named by their object id; the outcomes are the journal's\.$/);
    expect(text.stdout).toContain("Journal: the run's plan copy (plan.jsonl) cannot be read (its journal is whole)");
    expect(text.stdout).toContain(`${whole.run.total_operations} operation(s): ${whole.run.counts.done} done, 0 failed`);
    expect(text.stderr).toContain(`mfa-migrate: run ${runId}: the run's plan copy (plan.jsonl) cannot be read (its journal is whole)`);
    const html = readFileSync(join(dir, 'run.html'), 'utf8');
    expect(html).toMatch(/<h1>[^<]*<\/h1>\n<p class="alert" role="alert">WARNING: the run&#39;s plan copy \(plan\.jsonl\) cannot be read/);
    const md = await report(runId, stateDir, '--report', join(dir, 'run.md'));
    expect(md.code).toBe(1);
    expect(readFileSync(join(dir, 'run.md'), 'utf8')).toMatch(/^# .*\n\n> \*\*WARNING: the run's plan copy \(plan\.jsonl\) cannot be read .*What the run set out to do cannot be shown/);

    const json = await report(runId, stateDir, '--format', 'json');
    expect(json.code).toBe(1);
    const r = json.json!;
    expect(r.journal).toEqual({ ...whole.journal, state: 'broken', problem: "the run's plan copy (plan.jsonl) cannot be read (its journal is whole)", about: 'plan-copy-unreadable' });
    expect(r.run.plan_problem).toMatch(/^the plan copy it applied cannot be read \(cannot read the plan file .*plan\.jsonl: no such file\)$/);
    expect(r.run.counts).toEqual(whole.run.counts);
    expect(r.run.unlisted_pending).toBe(0);
    // Every operation the journal records, with its outcome, time and request id, under its user (by object id);
    // the plan's rule for it is the plan's to say, and it cannot be read.
    const noRule = (o: RunReportOperation) => ({ ...o, rule: null, because: null });
    expect(listed(r)).toEqual(new Map([...listed(whole)].map(([id, o]) => [id, noRule(o)])));
    const byId = new Map(whole.users.map((u) => [u.user_id, u]));
    const changed = whole.users.filter((u) => u.operations.length > 0);
    expect(r.users.map((u) => u.user_id).sort()).toEqual(changed.map((u) => u.user_id).sort());
    for (const u of r.users) {
      expect(u.user, u.user).toBe(u.user_id);
      expect(u.operations, u.user).toEqual(byId.get(u.user_id)!.operations.map(noRule));
      expect(u.findings, u.user).toEqual([]);
      expect(u.outcome, u.user).toBe(byId.get(u.user_id)!.outcome);
    }
  });

  it('a plan copy that is not a plan: the check says it changed, the report says it cannot be read either, and exits 1', async () => {
    const { dir, stateDir, runId, runDir } = await applied('report-garbage-plan');
    writeFileSync(join(runDir, 'plan.jsonl'), 'not a plan\n');
    const text = await report(runId, stateDir, '--report', join(dir, 'run.md'));
    expect(text.code).toBe(1);
    const first = text.stdout.split('\n')[0]!;
    expect(first).toMatch(/^WARNING: the run's plan copy \(plan\.jsonl\) is not the plan the journal records .*: it was changed after the run \(its journal is not in question\)\. The plan copy it applied cannot be read \(.*\)\. What the run set out to do cannot be shown: this report is made from the journal alone/);
    expect(readFileSync(join(dir, 'run.md'), 'utf8')).toContain('> **WARNING: ');
    const json = await report(runId, stateDir, '--format', 'json');
    expect(json.code).toBe(1);
    expect(json.json!.journal).toMatchObject({ state: 'broken', edited: false, about: 'plan-copy-changed' });
    expect(json.json!.run.plan_problem).toMatch(/^the plan copy it applied cannot be read /);
    expect(json.json!.users.length).toBeGreaterThan(0);
  });
});

/**
 * Found by an auditor: a rollback's report read the journal of the run it undoes without checking it.
 * With the apply's journal edited (`runs verify` exits 1), the rollback's report said "verified",
 * exited 0, and listed fewer pending undos than its own counts held.
 */
describe("report of a rollback whose undone run's evidence is in question", () => {
  /** Applied, then rolled back, and the rollback cut short as a crash leaves it (its journal: the header alone). */
  async function rolledBackPart(name: string) {
    const a = await applied(name);
    const back = await rollbackIn(a.g, a.stateDir, a.runId);
    const rollbackJournal = join(a.stateDir, 'runs', back.outcome.runId, 'journal.jsonl');
    writeFileSync(rollbackJournal, `${readFileSync(rollbackJournal, 'utf8').split('\n')[0]!}\n`);
    return { ...a, rollbackId: back.outcome.runId };
  }

  it("an edited journal of the run it undoes: the rollback's report warns first, exits 1, and its counts and listing agree", async () => {
    const { dir, stateDir, runId, runDir, rollbackId } = await rolledBackPart('report-undone-edited');
    const before = await report(rollbackId, stateDir, '--format', 'json');
    expect(before.code, before.stderr).toBe(0);
    expect(before.json!.journal.state).toBe('verified');
    expect(before.json!.run.unlisted_pending).toBe(0);
    expect(pendingListed(before.json!)).toBe(before.json!.run.counts.pending);

    // The apply's journal line that records the first policy change and the rollout policy done, deleted.
    const journal = join(runDir, 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"op":"cutover/featureRolloutPolicy","state":"done"') && /"op":"policy\/[^"]+","state":"done"/.test(l));
    expect(at).toBeGreaterThan(0);
    lines.splice(at, 1);
    writeFileSync(journal, lines.join('\n'));
    const verify = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
    expect(verify.code).toBe(1);
    const words = `the journal of the run it undoes (${runId}) was changed after it was written: line ${at + 1}: its hash does not match its content and the line before it (the rollback's own journal is whole)`;

    const text = await report(rollbackId, stateDir, '--report', join(dir, 'rollback.html'));
    expect(text.code).toBe(1);
    expect(text.stdout.split('\n')[0]).toBe(
      `WARNING: ${words}. The outcomes listed are this rollback's journal's; the undos it has still to do, and whose changes each undoes, are read from the run it names, and cannot be taken as what it set out to undo.`,
    );
    expect(text.stdout).not.toContain('Journal: verified');
    expect(text.stdout).toContain(`Journal: ${words}`);
    expect(text.stderr).toContain(`mfa-migrate: run ${rollbackId}: ${words}`);
    expect(readFileSync(join(dir, 'rollback.html'), 'utf8')).toContain(`<p class="alert" role="alert">WARNING: the journal of the run it undoes (${runId}) was changed after it was written`);

    const json = await report(rollbackId, stateDir, '--format', 'json');
    expect(json.code).toBe(1);
    const r = json.json!;
    expect(r.journal).toEqual({ ...before.json!.journal, state: 'broken', problem: words, edited: false, about: 'undone-run' });
    // The counts are the rollback's own; the undos the edited journal no longer yields are counted apart, never contradicting them.
    expect(r.run.counts).toEqual(before.json!.run.counts);
    expect(r.run.unlisted_pending).toBeGreaterThan(0);
    expect(pendingListed(r) + r.run.unlisted_pending).toBe(r.run.counts.pending);
    expect(text.stdout).toContain(`  ${r.run.unlisted_pending} of the ${r.run.counts.pending} pending operation(s) are not listed: what the run set out to do cannot be read whole (see the warning)`);
    // `runs verify` of the rollback holds the run it undoes to the lines the rollback recorded when it started: it fails alike.
    const own = await runMain(['runs', 'verify', rollbackId, '--state-dir', stateDir]);
    expect(own.code, own.stderr).toBe(1);
    expect(own.stderr).toContain(`the journal of the run it undoes (${runId}) was changed after it was written: line ${at + 1}: its hash does not match its content and the line before it (the rollback's own journal, `);
  });

  it("a run it undoes that is gone: runs verify and the report say so alike, and the report is still written", async () => {
    const { dir, stateDir, runId, runDir, rollbackId } = await rolledBackPart('report-undone-gone');
    renameSync(runDir, join(dir, 'moved-run'));
    const verify = await runMain(['runs', 'verify', rollbackId, '--state-dir', stateDir]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(new RegExp(`: the run it undoes \\(${runId}\\) cannot be read \\(the rollback's own journal, .*journal\\.jsonl, is whole\\)`));
    const md = await report(rollbackId, stateDir, '--report', join(dir, 'rollback.md'));
    expect(md.code).toBe(1);
    expect(md.stderr).toContain(`mfa-migrate: run ${rollbackId}: the run it undoes (${runId}) cannot be read (the rollback's own journal is whole)`);
    expect(readFileSync(join(dir, 'rollback.md'), 'utf8')).toMatch(/^# .*\n\n> \*\*WARNING: the run it undoes \(\S+\) cannot be read \(the rollback's own journal is whole\)\. The plan copy of the run it undoes \(\S+\) cannot be read \(.*\)\. What the rollback set out to undo cannot be shown/);
  });

  it("a plan copy of the run it undoes that is missing: the rollback's report is the journal's alone, warns, and exits 1", async () => {
    const { dir, stateDir, runId, runDir, rollbackId } = await rolledBackPart('report-undone-no-plan');
    renameSync(join(runDir, 'plan.jsonl'), join(dir, 'plan.jsonl.moved'));
    const json = await report(rollbackId, stateDir, '--format', 'json');
    expect(json.code).toBe(1);
    const r = json.json!;
    expect(r.journal).toMatchObject({ state: 'broken', edited: false, about: 'undone-run', problem: `the run it undoes (${runId}) does not pass runs verify: the run's plan copy (plan.jsonl) cannot be read (the rollback's own journal is whole)` });
    expect(r.run.plan_problem).toMatch(new RegExp(`^the plan copy of the run it undoes \\(${runId}\\) cannot be read \\(`));
    // Nothing journaled (the rollback was cut short): every undo is counted, none can be listed.
    expect(r.run.unlisted_pending).toBe(r.run.counts.pending);
    expect(r.run.counts.pending).toBe(r.run.total_operations);
    expect(pendingListed(r)).toBe(0);
    const text = await report(rollbackId, stateDir);
    expect(text.code).toBe(1);
    expect(text.stdout.split('\n')[0]).toContain(`What the rollback set out to undo cannot be shown: this report is made from the journal alone, its users named by their object id, the ${r.run.counts.pending} operation(s) it does not record (pending, never sent) counted but not listed`);
  });
});
