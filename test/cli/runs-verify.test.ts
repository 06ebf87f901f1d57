import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { splitHash } from '../../src/apply/journal.js';
import type { RunReport } from '../../src/report/run-report.js';
import { runMain } from '../helpers/run-main.js';
import { runDirs, tempDir } from '../helpers/migration.js';
import { CONTOSO, runPlan } from '../plan/helpers.js';

/** `apply` prints the journal's final hash; `runs verify` checks the chain (exit 0), an edit (1), a journal before the chain (2). */
describe('mfa-migrate runs verify', () => {
  let emu: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let stateDir: string;
  let runId: string;
  let applied: Awaited<ReturnType<typeof runMain>>;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    tmp = tempDir('verify');
    stateDir = join(tmp.dir, 'state');
    const planFile = join(tmp.dir, 'contoso.plan');
    const planned = await runPlan(emu.url, [...CONTOSO, '--out', planFile]);
    expect(planned.code, planned.stderr).toBe(0);
    applied = await runMain(['apply', planFile, '--state-dir', stateDir, '--graph-url', emu.url]);
    expect(applied.code, applied.stderr).toBe(0);
    runId = runDirs(stateDir)[0]!.split('/').at(-1)!;
  }, 60_000);
  afterAll(async () => {
    await emu?.stop();
    tmp?.cleanup();
  });

  it('apply prints the final hash, and verify finds the same one', async () => {
    const printed = /journal hash ([0-9a-f]{64})/.exec(applied.stdout)?.[1];
    expect(printed).toBeDefined();
    const r = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Run ${runId}: journal verified`);
    expect(r.stdout).toContain(`Final hash ${printed}`);
  });

  it('exits 1 naming the first bad line after an edit, and 2 for a journal before the chain', async () => {
    const path = join(stateDir, 'runs', runId, 'journal.jsonl');
    const original = readFileSync(path, 'utf8');
    try {
      const lines = original.split('\n');
      const at = lines.findIndex((l) => l.includes('"state":"done"'));
      expect(at).toBeGreaterThan(0);
      lines[at] = lines[at]!.replace('"state":"done"', '"state":"dona"');
      writeFileSync(path, lines.join('\n'));
      const edited = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
      expect(edited.code).toBe(1);
      expect(edited.stderr).toMatch(/the journal was changed after it was written: line \d+ of .*journal\.jsonl: its hash does not match/);
      expect(edited.stderr).toContain(`line ${at + 1} of`);
      // `runs` says so too (an auditor's black-box test saw an edited run listed as a normal one).
      const listed = JSON.parse((await runMain(['runs', '--state-dir', stateDir, '--format', 'json'])).stdout) as { id: string; problem?: string }[];
      expect(listed.find((r) => r.id === runId)?.problem).toBe(`edited journal: line ${at + 1}: its hash does not match its content and the line before it`);
      writeFileSync(path, `${original.trimEnd().split('\n').map((l) => splitHash(l)!.body).join('\n')}\n`);
      // Hashes taken out of a run whose plan copy only versions with the chain wrote: an edit.
      const stripped = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
      expect(stripped.code).toBe(1);
      expect(stripped.stderr).toMatch(/line 1 .*it has no hash, though the run's plan copy is of format 2\.\d+/);
      // A run from before the chain (its plan copy of format 2.1): unverifiable.
      const copyPath = join(stateDir, 'runs', runId, 'plan.jsonl');
      const copyText = readFileSync(copyPath, 'utf8');
      const older = copyText.replace(/"format_version":"2\.\d+"/, '"format_version":"2.1"');
      writeFileSync(copyPath, older);
      const legacyLines = original.trimEnd().split('\n').map((l) => splitHash(l)!.body);
      const header = JSON.parse(legacyLines[0]!) as { planHash: string };
      header.planHash = createHash('sha256').update(older).digest('hex');
      writeFileSync(path, `${[JSON.stringify(header), ...legacyLines.slice(1)].join('\n')}\n`);
      const legacy = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
      writeFileSync(copyPath, copyText);
      expect(legacy.code).toBe(2);
      expect(legacy.stderr).toMatch(/unverifiable: the journal was written before journals carried a hash chain/);
      writeFileSync(path, original);
      // An edit to the plan copy is named as such, not blamed on the journal.
      const copy = join(stateDir, 'runs', runId, 'plan.jsonl');
      const plan = readFileSync(copy);
      const finalHash = /Final hash ([0-9a-f]{64})/.exec((await runMain(['runs', 'verify', runId, '--state-dir', stateDir])).stdout)?.[1];
      expect(finalHash).toBeDefined();
      try {
        writeFileSync(copy, Buffer.concat([plan, Buffer.from(' ')]));
        const copyEdited = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
        expect(copyEdited.code).toBe(1);
        expect(copyEdited.stderr).toMatch(/the run's plan copy \(plan\.jsonl\) is not the plan the journal records .*: it was changed after the run \(its journal, .* is not in question\)/);
        // The journal's own final hash is still said, for the auditor to compare with the one noted (an auditor lost it).
        expect(copyEdited.stdout).toBe(`Run ${runId}: the journal's own ${original.trimEnd().split('\n').length} lines are whole; final hash ${finalHash}\n`);
        // A copy that cannot be read is said so, not called changed; `runs` lists it with that problem.
        rmSync(copy);
        const gone = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
        expect(gone.stderr).toMatch(/the run's plan copy \(plan\.jsonl\) cannot be read \(its journal, .* is whole\)/);
        const listed = JSON.parse((await runMain(['runs', '--state-dir', stateDir, '--format', 'json'])).stdout) as { id: string; problem?: string }[];
        expect(listed.find((r) => r.id === runId)?.problem).toBe("the run's plan copy (plan.jsonl) cannot be read");
      } finally {
        writeFileSync(copy, plan);
      }
      const missing = await runMain(['runs', 'verify', 'nope', '--state-dir', stateDir]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/no run nope/);
    } finally {
      writeFileSync(path, original);
    }
  });

  /** Found by an auditor: `runs verify` called a crash's torn line an edit, and `report` called a changed plan copy an edited journal, and exited 0 on an edited one. */
  describe('runs verify and report word each finding the same way', () => {
    const journal = () => join(stateDir, 'runs', runId, 'journal.jsonl');
    const report = async (...more: string[]) => {
      const r = await runMain(['report', runId, '--state-dir', stateDir, ...more]);
      return { ...r, json: more.includes('json') ? (JSON.parse(r.stdout) as RunReport) : undefined };
    };

    it('a torn last line is a crash, not an edit: both say so, and both exit 0', async () => {
      const original = readFileSync(journal(), 'utf8');
      const whole = original.trimEnd().split('\n').length;
      try {
        appendFileSync(journal(), '{"t":"ops","at":"2026');
        const v = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
        expect(v.code, v.stderr).toBe(0);
        const words = `line ${whole + 1} is incomplete: a crash while writing leaves this, not an edit (the next resume or rollback of the run cuts it off); the lines before it are whole`;
        expect(v.stdout).toContain(`journal verified: ${whole} whole lines chained`);
        expect(v.stdout).toMatch(new RegExp(`Note: line ${whole + 1} of .*journal\\.jsonl is incomplete: a crash while writing leaves this, not an edit`));
        expect(v.stdout + v.stderr).not.toMatch(/changed after it was written|edited/i);
        const text = await report();
        expect(text.code, text.stderr).toBe(0);
        expect(text.stdout).toContain(`Journal: verified: ${whole} whole lines chained from the plan hash; final hash `);
        expect(text.stdout).toContain(words);
        expect(text.stdout).not.toMatch(/EDITED|WARNING/);
        const json = (await report('--format', 'json')).json!;
        expect(json.journal).toMatchObject({ state: 'verified', lines: whole, edited: false, about: 'torn-tail', problem: words });
      } finally {
        writeFileSync(journal(), original);
      }
    });

    it('a changed plan copy is not an edited journal: report says what runs verify says, warns first, and exits 1', async () => {
      const copy = join(stateDir, 'runs', runId, 'plan.jsonl');
      const plan = readFileSync(copy);
      const finalHash = /Final hash ([0-9a-f]{64})/.exec((await runMain(['runs', 'verify', runId, '--state-dir', stateDir])).stdout)?.[1];
      expect(finalHash).toBeDefined();
      try {
        // An edit the plan file's own checks let through (a finding's text), so that the report can still be made.
        writeFileSync(copy, plan.toString('utf8').replace(/("t":"finding".*?"message":")(.)/, '$1X'));
        const v = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
        expect(v.code).toBe(1);
        const words = /^mfa-migrate: run \S+: (.*) \(its journal, .*, is not in question\)$/m.exec(v.stderr)![1]!;
        const text = await report('--report', join(tmp.dir, 'copy.md'));
        expect(text.code, text.stderr).toBe(1);
        expect(text.stdout, text.stderr).not.toContain('EDITED');
        expect(text.stdout, text.stderr).toContain('Journal:');
        expect(text.stdout).toContain(`Journal: ${words} (its journal is not in question)`);
        expect(text.stdout.split('\n')[0]).toBe(`WARNING: ${words} (its journal is not in question). The users and the operations not yet journaled are listed from that plan copy; the outcomes are the journal's.`);
        expect(text.stderr).toContain(`mfa-migrate: run ${runId}: ${words} (its journal is not in question)`);
        expect(readFileSync(join(tmp.dir, 'copy.md'), 'utf8')).toMatch(/^# .*\n\n> \*\*WARNING: /);
        const json = await report('--format', 'json');
        expect(json.code).toBe(1);
        expect(json.json!.journal).toMatchObject({ state: 'broken', edited: false, about: 'plan-copy-changed' });
      } finally {
        writeFileSync(copy, plan);
      }
    });

    it('an edited journal: report warns first in every format and exits 1, in the words of runs verify', async () => {
      const original = readFileSync(journal(), 'utf8');
      try {
        const lines = original.split('\n');
        const at = lines.findIndex((l) => l.includes('"state":"done"'));
        lines[at] = lines[at]!.replace('"state":"done"', '"state":"dona"');
        writeFileSync(journal(), lines.join('\n'));
        const words = `the journal was changed after it was written: line ${at + 1}: its hash does not match its content and the line before it`;
        const text = await report('--report', join(tmp.dir, 'edited.html'));
        expect(text.code).toBe(1);
        expect(text.stdout.split('\n')[0]).toBe(`WARNING: ${words}. What this report shows comes from that journal and cannot be taken as the run's record; mfa-migrate runs verify ${runId} --state-dir ${stateDir} shows the same.`);
        expect(text.stdout).toContain(`Journal: EDITED: ${words}`);
        expect(text.stderr).toContain(`mfa-migrate: run ${runId}: ${words}`);
        const html = readFileSync(join(tmp.dir, 'edited.html'), 'utf8');
        expect(html).toMatch(/<h1>[^<]*<\/h1>\n<p class="alert" role="alert">WARNING: the journal was changed after it was written: line \d+: /);
        const json = await report('--format', 'json');
        expect(json.code).toBe(1);
        expect(json.json!.journal).toEqual({ state: 'broken', final_hash: null, lines: null, problem: words, edited: true, about: null });
        const md = await report('--report', join(tmp.dir, 'edited.md'));
        expect(md.code).toBe(1);
        expect(readFileSync(join(tmp.dir, 'edited.md'), 'utf8')).toContain(`> **WARNING: ${words}.`);
      } finally {
        writeFileSync(journal(), original);
      }
    });
  });
});
