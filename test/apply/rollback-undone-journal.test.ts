import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chainHash, Journal, splitHash, verifyJournal } from '../../src/apply/journal.js';
import { runReport } from '../../src/app/report.js';
import { renderRunReportHtml, renderRunReportMarkdown, renderRunReportText } from '../../src/report/render-run-report.js';
import { applyFile, journalLines, rollbackIn, tempDir, testDir, planOfUntouched } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

/** Contoso planned and applied, then rolled back (whole, or cut short before it sent anything), in `dir`. */
async function rollBackIn(dir: string, opts: { cutShort?: boolean } = {}) {
  const stateDir = join(dir, 'state');
  const { g } = await planOfUntouched(join(dir, 'p.plan'));
  const { outcome } = await applyFile(g, join(dir, 'p.plan'), stateDir);
  const stop = new AbortController();
  if (opts.cutShort) stop.abort();
  const back = await rollbackIn(g, stateDir, outcome.runId, opts.cutShort ? { signal: stop.signal } : {});
  const runDir = join(stateDir, 'runs', outcome.runId);
  const rollbackDir = join(stateDir, 'runs', back.outcome.runId);
  return { g, dir, stateDir, applyId: outcome.runId, applyHash: outcome.journalHash!, rollbackId: back.outcome.runId, runDir, rollbackDir, journal: join(runDir, 'journal.jsonl') };
}

// The whole rollback is made once for the file, and each test that takes it edits a copy of its
// folder: only its files are in question (a plan, apply and rollback cost about 0.15 s of CPU).
const made = tempDir('undone-journal');
afterAll(() => made.cleanup());
let whole: ReturnType<typeof rollBackIn> | undefined;

/** A test's own rolled-back run (`cutShort`: one of its own, Graph and all; else a copy of the file's, whose Graph is not to be written). */
async function rolledBack(name: string, opts: { cutShort?: boolean } = {}) {
  if (opts.cutShort) return rollBackIn(testDir(name).dir, opts);
  whole ??= rollBackIn(made.dir);
  const r = await whole;
  const { dir } = testDir(name);
  cpSync(r.dir, dir, { recursive: true });
  const at = (path: string) => join(dir, relative(r.dir, path));
  return { ...r, dir, stateDir: at(r.stateDir), runDir: at(r.runDir), rollbackDir: at(r.rollbackDir), journal: at(r.journal) };
}

/** A journal's lines (without their hashes) chained anew from the plan hash: an edit no chain check of that journal alone finds. */
function rechain(path: string, edit: (bodies: string[]) => string[]): void {
  const bodies = edit(
    readFileSync(path, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => splitHash(l)!.body),
  );
  let previous = (JSON.parse(bodies[0]!) as { planHash: string }).planHash;
  const lines = bodies.map((b) => {
    previous = chainHash(previous, b);
    return `${b.slice(0, -1)},"hash":"${previous}"}`;
  });
  writeFileSync(path, `${lines.join('\n')}\n`);
}

const headOf = (path: string, n: number) => writeFileSync(path, `${readFileSync(path, 'utf8').split('\n').slice(0, n).join('\n')}\n`);

/**
 * Found by an auditor's black-box test: lines taken off the end of a rolled-back run's journal
 * (`head -n 30` of 46) left `runs verify` of both runs passing and the rollback's report "verified",
 * exit 0, while it listed 21 undos pending that it counted done, and pointed at a warning it did not print.
 */
describe("a rollback holds the journal of the run it undoes to what it read when it started", () => {
  it('records the undone journal’s whole lines and final hash in its header', async () => {
    const r = await rolledBack('undone-recorded');
    const lines = readFileSync(r.journal, 'utf8').trimEnd().split('\n').length;
    expect(journalLines(r.rollbackDir)[0].undoneJournal).toEqual({ lines, hash: r.applyHash });
    expect(await verifyJournal(r.rollbackDir)).toMatchObject({ state: 'verified' });
    const report = await runReport(r.rollbackId, r.stateDir);
    expect(report.rollback.undone_journal).toEqual({ lines, final_hash: r.applyHash });
    expect(report.journal.state).toBe('verified');
    // Every format shows the record, not the JSON alone.
    const shown = `${lines} lines, final hash ${r.applyHash}, as this rollback found it when it started (runs verify of either run holds that journal to them)`;
    expect(renderRunReportText(report)).toContain(`  Undone run's journal: ${shown}\n`);
    expect(renderRunReportMarkdown(report)).toContain(`| Undone run's journal | ${shown} |`);
    const html = renderRunReportHtml(report);
    expect(html).toContain(`<tr><th>Undone run&#39;s journal</th><td class="mono">${shown}</td></tr>`);
    // Still one self-contained page: the CSP allows its one style and one script by their hashes, and nothing else.
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!;
    const hash = (t: string) => `'sha256-${createHash('sha256').update(t).digest('base64')}'`;
    expect(csp.split('; ')).toEqual([`default-src 'none'`, `style-src ${hash(/<style>([\s\S]*?)<\/style>/.exec(html)![1]!)}`, `script-src ${hash(/<script>([\s\S]*?)<\/script>/.exec(html)![1]!)}`, `img-src 'none'`, `base-uri 'none'`, `form-action 'none'`]);
    expect(html.match(/<(script|style)\b/g)).toEqual(['<style', '<script']);
    expect(html).not.toMatch(/\sstyle="|\son[a-z]+="/i);
    // An apply's report has no such row.
    expect(renderRunReportText(await runReport(r.applyId, r.stateDir))).not.toContain("Undone run's journal");
  });

  it('lines taken off its end: the rollback fails its check, and its report warns first and exits 1', async () => {
    const r = await rolledBack('undone-truncated');
    const whole = readFileSync(r.journal, 'utf8').trimEnd().split('\n').length;
    headOf(r.journal, 30);
    const words = `the journal of the run it undoes (${r.applyId}) has 30 line(s) where this rollback recorded ${whole} line(s), the last with hash ${r.applyHash}, when it started: lines were taken off its end since`;
    const check = await verifyJournal(r.rollbackDir);
    expect(check).toMatchObject({ state: 'broken', line: 1, about: 'undone-run', reason: words });
    // Its own lines are whole: their count and final hash are still given.
    expect(check).toMatchObject({ lines: journalLines(r.rollbackDir).length, head: journalLines(r.rollbackDir).at(-1).hash });

    const verify = await runMain(['runs', 'verify', r.rollbackId, '--state-dir', r.stateDir]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(`${words} (the rollback's own journal, `);
    expect(verify.stdout).toContain("the journal's own");

    const report = await runReport(r.rollbackId, r.stateDir);
    expect(report.journal).toMatchObject({ state: 'broken', edited: false, about: 'undone-run', problem: `${words} (the rollback's own journal is whole)` });
    const alert = `WARNING: ${words} (the rollback's own journal is whole).`;
    expect(renderRunReportText(report).split('\n')[0]).toContain(alert);
    expect(renderRunReportMarkdown(report)).toContain(`> **${alert}`);
    expect(renderRunReportHtml(report)).toContain('<p class="alert" role="alert">WARNING: the journal of the run it undoes');
    const cli = await runMain(['report', r.rollbackId, '--state-dir', r.stateDir]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).not.toContain('Journal: verified');
  });

  it('a line changed and the chain computed anew: the rollback names what changed', async () => {
    const r = await rolledBack('undone-rechained');
    const lines = readFileSync(r.journal, 'utf8').trimEnd().split('\n').length;
    rechain(r.journal, (bodies) => bodies.map((b) => (b.startsWith('{"t":"end"') ? b.replace('"state":"completed"', '"state":"partial"') : b)));
    const check = await verifyJournal(r.rollbackDir);
    expect(check).toMatchObject({ state: 'broken', about: 'undone-run', reason: expect.stringMatching(new RegExp(`^the journal of the run it undoes \\(${r.applyId}\\) is not the one this rollback started from: its line ${lines} has hash [0-9a-f]{64}, where this rollback recorded ${lines} line\\(s\\), the last with hash ${r.applyHash}, when it started: its lines were rewritten since$`)) });
  });

  it('lines added since (a later read-back of writes of unknown outcome) are not in question', async () => {
    const r = await rolledBack('undone-grown');
    const j = await Journal.append(r.runDir);
    await j.settled({ appId: null, upn: 'admin@contoso.com' }, { readBackByRollback: true, applied: 0, notApplied: 0 }, []);
    await j.close();
    expect(await verifyJournal(r.rollbackDir)).toMatchObject({ state: 'verified' });
    expect(await verifyJournal(r.runDir)).toMatchObject({ state: 'verified' });
    expect((await runReport(r.applyId, r.stateDir)).journal.state).toBe('verified');
    expect((await runReport(r.rollbackId, r.stateDir)).journal.state).toBe('verified');
  });

  it('finishing a rollback is refused while the run it undoes has lost lines since it started', async () => {
    const r = await rolledBack('undone-finish', { cutShort: true });
    headOf(r.journal, 30);
    r.g.emu.clearRequests();
    await expect(rollbackIn(r.g, r.stateDir, r.rollbackId)).rejects.toThrow(new RegExp(`^run ${r.rollbackId}: the journal of the run it undoes \\(${r.applyId}\\) has 30 line\\(s\\) .*lines were taken off its end since \\(the rollback's own journal is whole\\): what it records is acted on, so it is refused`));
    expect(r.g.emu.requests().filter((q) => q.method !== 'GET')).toEqual([]);
  });

  it('a rollback made before it recorded this is checked as before; where its listing and counts part, the report prints the warning it points at', async () => {
    const r = await rolledBack('undone-old');
    // As a rollback of an earlier version wrote it: no record of the undone journal.
    rechain(join(r.rollbackDir, 'journal.jsonl'), (bodies) => {
      const header = JSON.parse(bodies[0]!) as Record<string, unknown>;
      delete header.undoneJournal;
      return [JSON.stringify(header), ...bodies.slice(1)];
    });
    expect(await verifyJournal(r.rollbackDir)).toMatchObject({ state: 'verified' });
    headOf(r.journal, 30);
    expect(await verifyJournal(r.rollbackDir)).toMatchObject({ state: 'verified' });
    const report = await runReport(r.rollbackId, r.stateDir);
    expect(report.rollback.undone_journal).toBeNull();
    expect(report.journal.state).toBe('verified');
    const pending = [...report.policy, ...report.shared, ...report.users.flatMap((u) => u.operations)].filter((o) => o.state === 'pending').length;
    expect(pending).toBeGreaterThan(report.run.counts.pending);
    const parted = `${pending - report.run.counts.pending} more operation(s) are listed pending than the run counted`;
    const text = renderRunReportText(report);
    expect(text).toContain(`${parted}: what the run set out to do cannot be read whole (see the warning)`);
    const alert = `WARNING: what this report lists does not agree with what the run counted (${parted}): what the run set out to do cannot be read whole, and the evidence it is listed from (the journal and plan copy of the run it undoes) may have changed since the run.`;
    expect(text.split('\n')[0]).toContain(alert);
    expect(renderRunReportMarkdown(report)).toContain(`> **${alert}`);
    expect(renderRunReportHtml(report)).toContain(`<p class="alert" role="alert">WARNING: what this report lists does not agree with what the run counted`);
    // Nothing recorded to hold the apply's journal to: its own check cannot see the lines gone, and the rollback's report says it has no record.
    expect(await verifyJournal(r.runDir)).toMatchObject({ state: 'verified', lines: 30 });
    expect(text).toContain("  Undone run's journal: not recorded (a rollback made by a version of the tool that did not record it)\n");
  });
});

/**
 * Found by an auditor's black-box test: the last 10 lines cut off an apply run's journal after a
 * rollback undid it, `runs verify APPLY` and `report APPLY` both exited 0 ("Journal: verified: 80
 * lines", "Rolled back by: RB (completed)"), though the rollback's record of that journal said 90.
 */
describe("an apply's own check holds its journal to what its rollbacks recorded of it", () => {
  it('lines taken off its end: runs verify, report (every format) and runs of the apply say so, and exit 1', async () => {
    const r = await rolledBack('apply-truncated');
    const whole = readFileSync(r.journal, 'utf8').trimEnd().split('\n').length;
    headOf(r.journal, whole - 10);
    const left = whole - 10;
    const reason = `it has ${left} line(s) where rollback ${r.rollbackId} recorded ${whole} line(s), the last with hash ${r.applyHash}, when it started: lines were taken off its end since`;
    // What is left chains on its own; the first line missing is named.
    expect(await verifyJournal(r.runDir)).toEqual({ state: 'broken', line: left + 1, reason });

    const verify = await runMain(['runs', 'verify', r.applyId, '--state-dir', r.stateDir]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(`run ${r.applyId}: the journal was changed after it was written: line ${left + 1} of ${r.journal}: ${reason}`);
    expect(verify.stdout).not.toContain('verified');

    const problem = `the journal was changed after it was written: line ${left + 1}: ${reason}`;
    const report = await runReport(r.applyId, r.stateDir);
    expect(report.journal).toEqual({ state: 'broken', final_hash: null, lines: null, problem, edited: true, about: null });
    expect(report.rollback.by).toEqual([{ id: r.rollbackId, state: 'completed', finished: expect.any(String) }]);
    const alert = `WARNING: ${problem}. What this report shows comes from that journal and cannot be taken as the run's record;`;
    const text = renderRunReportText(report);
    expect(text.split('\n')[0]).toContain(alert);
    expect(text).toContain(`  Journal: EDITED: ${problem}\n`);
    expect(renderRunReportMarkdown(report)).toContain(`> **${alert}`);
    expect(renderRunReportHtml(report)).toContain(`<p class="alert" role="alert">${alert.replaceAll("'", '&#39;')}`);
    for (const format of ['text', 'json']) {
      const cli = await runMain(['report', r.applyId, '--state-dir', r.stateDir, '--format', format]);
      expect(cli.code, format).toBe(1);
      expect(cli.stderr, format).toContain(`run ${r.applyId}: ${problem}`);
    }

    // `runs` flags the apply's row as well as the rollback's.
    const runs = await runMain(['runs', '--state-dir', r.stateDir]);
    const row = runs.stdout.split('\n').find((l) => l.trimStart().startsWith(r.applyId))!;
    expect(row).toContain(`edited journal: line ${left + 1}: ${reason}`);
  });

  it('a line changed and every later hash written again: the apply names the line the rollback recorded last', async () => {
    const r = await rolledBack('apply-rechained');
    const lines = readFileSync(r.journal, 'utf8').trimEnd().split('\n').length;
    rechain(r.journal, (bodies) => bodies.map((b) => (b.startsWith('{"t":"end"') ? b.replace('"state":"completed"', '"state":"partial"') : b)));
    const now = journalLines(r.runDir).at(-1).hash as string;
    expect(await verifyJournal(r.runDir)).toEqual({
      state: 'broken',
      line: lines,
      reason: `its line ${lines} has hash ${now}, where rollback ${r.rollbackId} recorded ${lines} line(s), the last with hash ${r.applyHash}, when it started: its lines were rewritten since (this line or one before it changed, and every later hash with it)`,
    });
    expect((await runMain(['runs', 'verify', r.applyId, '--state-dir', r.stateDir])).code).toBe(1);
    expect((await runMain(['report', r.applyId, '--state-dir', r.stateDir])).code).toBe(1);
  });

  it("a rollback header edited without its hash is not held against the apply: the rollback's own check finds it", async () => {
    const r = await rolledBack('apply-forged-record');
    const path = join(r.rollbackDir, 'journal.jsonl');
    const [first, ...rest] = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, [first!.replace(/"undoneJournal":\{"lines":(\d+)/, (_, n: string) => `"undoneJournal":{"lines":${Number(n) + 10}`), ...rest].join('\n'));
    expect(await verifyJournal(r.rollbackDir)).toMatchObject({ state: 'broken', line: 1 });
    expect(await verifyJournal(r.runDir)).toMatchObject({ state: 'verified' });
  });
});
