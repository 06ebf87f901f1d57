import { describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import { renderApplySummary } from '../../src/cli/views/apply-summary.js';
import { renderResultsCsv, resultsRun } from '../../src/cli/views/results-csv.js';
import { applyFile, resumeIn } from '../helpers/migration.js';
import { CHEN, newMobileForChen, plannedContoso, SERIAL, uploadToZoe, ZOE } from '../helpers/stale-chen.js';
import { parseCsv } from '../helpers/tenant-checks.js';

/**
 * An auditor's black-box round: with --skip-stale, why a user was left out was lost (stdout, the
 * journal and --results said only "stale", where the pre-flight without it names the reason).
 */
describe('apply --skip-stale: why each user was left out, in the run\'s evidence', () => {
  const t = plannedContoso('stale-reason');

  /** What the pre-flight says of chen without --skip-stale: `<target>: <reason>` for each of his objects. */
  async function preflightSays(dir: string): Promise<string[]> {
    const err = (await applyFile(t.g, t.planFile, dir, { tokenPath: 'bulk' }).catch((e: unknown) => e)) as Error;
    const said = [...err.message.matchAll(/^ {2}chen@contoso\.com (.+)$/gm)].map((m) => m[1]!);
    expect(said.length).toBeGreaterThan(0);
    return said;
  }

  it("journals, with each of the user's skipped operations, the pre-flight's reason; --results, the summary and the outcome carry it", async () => {
    await uploadToZoe(t.g);
    const dir = t.stateDir();
    const said = await preflightSays(dir);
    expect(said).toEqual([expect.stringMatching(new RegExp(`^hardwareOathMethods/${SERIAL}: the token with serial ${SERIAL} is assigned to another user \\(${ZOE}\\)`))]);

    const r = await applyFile(t.g, t.planFile, dir, { tokenPath: 'bulk', skipStale: true });
    const view = await readRun(r.outcome.runDir);
    const chens = [...view.ops.values()].filter((o) => o.op.startsWith(`${CHEN}/`));
    expect(chens.length).toBeGreaterThan(1);
    // The error stays `stale` (resume, runs and report key on it); the reason is beside it.
    for (const o of chens) expect(o).toMatchObject({ state: 'skipped', error: 'stale', staleReason: said.join('; ') });
    expect([...view.ops.values()].filter((o) => o.staleReason !== undefined).every((o) => o.op.startsWith(`${CHEN}/`))).toBe(true);

    expect(r.outcome.users.find((u) => u.upn === 'chen@contoso.com')).toMatchObject({ outcome: 'skipped', error: 'stale', staleReason: said.join('; ') });
    const rows = parseCsv(renderResultsCsv(r.results, resultsRun(r.outcome)));
    expect(rows.find((x) => x.user === 'chen@contoso.com')).toMatchObject({ outcome: 'skipped', first_error: 'stale', stale_reason: said.join('; ') });
    expect(rows.filter((x) => x.user !== 'chen@contoso.com').every((x) => x.stale_reason === '')).toBe(true);
    expect(renderApplySummary(r.outcome, dir, undefined)).toContain(`\n  stale (left out): chen@contoso.com ${said[0]}\n`);
    // Never a secret: the seed uploaded to zoe is nowhere in it.
    expect(JSON.stringify(chens)).not.toMatch(/JBSWY3DP/);
  }, 60_000);

  it('a user left out by a later pass (a wave read again on resume) journals why too', async () => {
    const dir = t.stateDir();
    const first = await applyFile(t.g, t.planFile, dir, { tokenPath: 'bulk', batchSize: 5, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    await newMobileForChen(t.g);
    const r = await resumeIn(t.g, dir);
    expect(r.outcome.stale).toEqual([expect.objectContaining({ user: 'chen@contoso.com', target: 'phoneMethods/mobile' })]);
    const reason = `phoneMethods/mobile: ${r.outcome.stale[0]!.reason}`;
    const view = await readRun(r.outcome.runDir);
    const chens = [...view.ops.values()].filter((o) => o.op.startsWith(`${CHEN}/`));
    expect(chens.length).toBeGreaterThan(1);
    for (const o of chens) expect(o).toMatchObject({ state: 'skipped', error: 'stale', staleReason: reason });
    expect(r.results.find((x) => x.user === 'chen@contoso.com')).toMatchObject({ outcome: 'skipped', first_error: 'stale', stale_reason: reason });
  }, 60_000);

});
