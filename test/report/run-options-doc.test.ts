import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/io/package-root.js';
import type { RunReport } from '../../src/report/run-report.js';
import { applyFile, resumeIn, rollbackIn, testDir, planOfUntouched } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

/** The section of docs/apply.md that names the keys of a run's journaled options. */
function documented(): { section: string; tableKeys: Set<string> } {
  const doc = readFileSync(join(packageRoot(), 'docs', 'apply.md'), 'utf8');
  const start = doc.indexOf("### The run's options\n");
  expect(start).toBeGreaterThan(0);
  const section = doc.slice(start, doc.indexOf('\n### ', start + 1));
  return { section, tableKeys: new Set([...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]!)) };
}

async function reportJson(runId: string, stateDir: string): Promise<RunReport> {
  const r = await runMain(['report', runId, '--state-dir', stateDir, '--format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RunReport;
}

/**
 * An auditor's black-box round: `report --format json`'s `run.options` uses camelCase keys
 * (`batchSize`, `tokenPath`, `groupUsersAtStart`...) that docs/apply.md did not document, where the
 * rest of the report is snake_case. They stay as the journal header records them (a contract others
 * may parse); each is documented.
 */
describe("report --format json's run.options: the journal header's options as recorded, each key documented", () => {
  it('every key an apply, its resume and its rollback record is in docs/apply.md, under its own name', async () => {
    const { dir } = testDir('options-doc');
    const stateDir = join(dir, 'state');
    const planFile = join(dir, 'p.plan');
    // The staged rollout and a federation change, so that the run records what it settles about them.
    const { g } = await planOfUntouched(planFile, { rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject', forceFederation: true });
    const applied = await applyFile(g, planFile, stateDir, {
      users: ['bob@contoso.com', 'grace@contoso.com', 'igor@contoso.com'],
      maxUsers: 3,
      batchSize: 1,
      waves: 1,
      skipStale: true,
      activationRate: 100,
      policyPropagationWait: 1,
      tokenPath: 'bulk',
    });
    const resumed = await resumeIn(g, stateDir, { waves: 1 });
    const apply = await reportJson(applied.outcome.runId, stateDir);
    // Not renamed: the journal header's options, as recorded.
    expect(apply.run.options).toMatchObject({ batchSize: 1, tokenPath: 'bulk-by-id', methodsFirst: true, skipStale: true, activationRate: 100, policyPropagationWait: 1 });
    expect(apply.run.options).toHaveProperty('groupUsersAtStart');
    expect(apply.run.options).toHaveProperty('federationNotSelected');
    const undo = await rollbackIn(g, stateDir, resumed.outcome.runId, { force: true, outOfOrder: true });
    const rollback = await reportJson(undo.outcome.runId, stateDir);

    const { section, tableKeys } = documented();
    const recorded = [...Object.keys(apply.run.options), ...apply.run.resumed.flatMap((x) => Object.keys(x.options))];
    for (const key of ['batchSize', 'tokenPath', 'groupUsersAtStart', 'stalePolicy', 'activationRate', 'policyPropagationWait', 'concurrency', 'methodsFirst']) expect(recorded).toContain(key);
    for (const key of Object.keys(apply.run.options)) expect(tableKeys, `apply option ${key}`).toContain(key);
    for (const key of [...apply.run.resumed.flatMap((x) => Object.keys(x.options)), ...Object.keys(rollback.run.options)]) expect(section, `option ${key}`).toContain(`\`${key}\``);
    // Each documented key is one a run records (the table does not drift from the code).
    const source = ['run-apply.ts', 'run-rollback.ts'].map((f) => readFileSync(join(packageRoot(), 'src', 'apply', f), 'utf8')).join('\n');
    for (const key of tableKeys) expect(source, `documented key ${key}`).toMatch(new RegExp(`\\b${key}\\b`));
    // The report's section says what they are, where it lists run.options.
    const doc = readFileSync(join(packageRoot(), 'docs', 'apply.md'), 'utf8');
    expect(doc).toMatch(/`options`: the journal header's `options` as recorded[^]*?\[The run's options\]\(#the-runs-options\)/);
  }, 120_000);
});
