import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname, userInfo } from 'node:os';
import { toolVersion } from '../../src/io/tool-version.js';
import { afterAll, describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import { runReport } from '../../src/app/report.js';
import { renderRollbackSummary } from '../../src/cli/views/apply-summary.js';
import { renderRunReportHtml, renderRunReportMarkdown, renderRunReportText } from '../../src/report/render-run-report.js';
import { applyFile, crashAfterStarted, resumeIn, rollbackIn, tempDir, planOfUntouched } from '../helpers/migration.js';

/** Found by an auditor's black-box test: a rollback's report showed no user and no policy, and nothing of what it left in place. */
describe('the report of a rollback run', () => {
  const tmp = tempDir('run-report');
  afterAll(() => tmp.cleanup());

  it("puts each undo under the user (or the policy) whose change it undoes, and lists what was left in place and why", async () => {
    const dir = join(tmp.dir, 'state');
    const { g, plan } = await planOfUntouched(join(tmp.dir, 'p.plan'), { rolloutGroups: ['MFA Staged Rollout'] });
    const { outcome } = await applyFile(g, join(tmp.dir, 'p.plan'), dir);
    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.notReversible.length).toBeGreaterThan(0);
    const report = await runReport(back.outcome.runId, dir);
    expect(report.format_version).toBe('1.11');
    // Every user the apply changed is there with the undo of their changes, none under "shared".
    const changed = new Set(plan.user_changes.map((c) => c.user.toLowerCase()));
    expect(new Set(report.users.map((u) => u.user.toLowerCase()))).toEqual(changed);
    expect(report.users.every((u) => u.operations.length > 0 && u.operations.every((o) => o.op.startsWith('rollback/')))).toBe(true);
    expect(plan.policy_changes.length).toBeGreaterThan(0);
    expect(report.policy.length).toBeGreaterThan(0);
    expect(report.policy.every((o) => o.op.startsWith('rollback/policy/'))).toBe(true);
    expect(report.shared.every((o) => o.op.startsWith('rollback/cutover/') || o.op.startsWith('rollback/tokens/'))).toBe(true);
    // What Graph cannot undo, as the rollback found it when it started.
    expect(report.rollback.not_reversible).toEqual(back.outcome.notReversible.map((x) => ({ user: x.user ?? null, target: x.target, reason: x.reason })));
    expect(renderRunReportMarkdown(report)).toContain(`## Left in place: not reversible (${back.outcome.notReversible.length})`);
    expect(renderRunReportText(report)).toContain('Left in place (not reversible):');
  });

  /** Contoso planned and applied in its own state folder; `bob`, the id of the user whose alternate phone the run created. */
  async function appliedContoso(name: string) {
    const dir = join(tmp.dir, name);
    const { g } = await planOfUntouched(join(tmp.dir, `${name}.plan`));
    const { outcome } = await applyFile(g, join(tmp.dir, `${name}.plan`), dir);
    const bob = (await readRun(join(dir, 'runs', outcome.runId))).doneOrder.find((id) => id.endsWith('/phoneMethods/alternateMobile'))!.split('/')[0]!;
    return { g, dir, outcome, bob };
  }

  /** Found by an auditor: users with changes left in place were "done", and those with nothing undone were missing. */
  it("lists every user of the run it concerns, with what it left in place and why, and none of them as done", async () => {
    const { g, dir, outcome, bob } = await appliedContoso('left');
    // Bob's alternate phone, which the run created, is changed by someone since: the rollback leaves it alone.
    expect((await g.raw.patch(`/v1.0/users/${bob}/authentication/phoneMethods/b6332ec1-7057-4abe-9331-3d72feddfe41`, { phoneNumber: '+1 2065550177', phoneType: 'alternateMobile' })).status).toBeLessThan(300);
    const back = await rollbackIn(g, dir, outcome.runId);
    const report = await runReport(back.outcome.runId, dir);
    // Every user the apply changed, those with nothing Graph could undo too.
    const applied = await runReport(outcome.runId, dir);
    const changed = applied.users.filter((u) => u.operations.some((o) => o.state === 'done')).map((u) => u.user);
    expect(report.users.map((u) => u.user)).toEqual(changed);
    const carol = report.users.find((u) => u.user === 'carol@contoso.com')!;
    expect(carol).toMatchObject({ outcome: 'not-undone', operations: [] });
    expect(carol.left_in_place.map((x) => x.target).sort()).toEqual(['phoneMethods/office', 'signInPreferences']);
    expect(report.users.find((u) => u.user_id === bob)!.left_in_place).toContainEqual({ target: 'phoneMethods/alternateMobile', reason: 'changed since the run: left alone (rollback --force overwrites it)' });
    // Each change Graph cannot undo is under its user, and no user with anything left is done.
    const listed = report.users.flatMap((u) => u.left_in_place.filter((x) => !x.reason.startsWith('changed since')).map((x) => ({ user: u.user, ...x })));
    expect(listed.length).toBe(back.outcome.notReversible.length);
    for (const u of report.users) expect(u.outcome, u.user).toBe(u.left_in_place.length === 0 ? 'done' : u.operations.some((o) => o.state === 'done') ? 'partly-undone' : 'not-undone');
    const n = (k: string) => report.users.filter((u) => u.outcome === k).length;
    expect(n('not-undone')).toBeGreaterThan(0);
    expect(n('partly-undone')).toBeGreaterThan(0);
    // The same counts in every format.
    const counts = `${report.users.length} user(s): ${[['done', 'done'], ['partly-undone', 'partly undone (changes left in place)'], ['not-undone', 'not undone (every change left in place)']].filter(([k]) => n(k!) > 0).map(([k, label]) => `${n(k!)} ${label}`).join(', ')}`;
    expect(renderRunReportText(report)).toContain(counts);
    const md = renderRunReportMarkdown(report);
    expect(md).toContain(counts);
    expect(md).toContain('### <a id="user-carol-contoso-com"></a>carol@contoso.com: not undone (every change left in place)\n\n| Left in place | Why |');
    const html = renderRunReportHtml(report);
    expect(html).toContain(counts);
    expect(html.match(/data-outcome="not-undone"/g)).toHaveLength(n('not-undone'));
  });

  /** Found by an auditor: an undo whose object another admin had removed was shown as plain "done". */
  it('shows an undo found gone already (removed outside this tool) apart from one it did, in every format and the summary', async () => {
    const { g, dir, outcome, bob } = await appliedContoso('gone');
    // An admin deletes Bob's alternate phone, which the run created, before the rollback.
    expect((await g.raw.delete(`/v1.0/users/${bob}/authentication/phoneMethods/b6332ec1-7057-4abe-9331-3d72feddfe41`)).status).toBeLessThan(300);
    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.goneAlready).toEqual([{ user: 'bob@contoso.com', target: 'phoneMethods/alternateMobile' }]);
    const summary = renderRollbackSummary(back.outcome, dir, undefined);
    expect(summary).toContain(`operations: ${back.outcome.counts.done} done (1 gone already: removed outside this tool), `);
    expect(summary).toContain('  gone already (removed outside this tool; nothing to undo): bob@contoso.com phoneMethods/alternateMobile');
    const report = await runReport(back.outcome.runId, dir);
    const ops = report.users.flatMap((u) => u.operations);
    expect(ops.filter((o) => o.gone_already).map((o) => o.op)).toEqual([`rollback/${bob}/phoneMethods/alternateMobile`]);
    const counts = `${report.run.total_operations} operation(s): ${report.run.counts.done} done (1 gone already: removed outside this tool), `;
    const text = renderRunReportText(report);
    expect(text).toContain(counts);
    expect(text).toContain('Gone already (removed outside this tool; nothing to undo, counted done):\n  bob@contoso.com phoneMethods/alternateMobile\n');
    const md = renderRunReportMarkdown(report);
    expect(md).toContain(counts);
    expect(md).toContain('| phoneMethods/alternateMobile | done (gone already: removed outside this tool) |');
    const html = renderRunReportHtml(report);
    expect(html).toContain(counts);
    expect(html).toContain('<td class="done">done (gone already: removed outside this tool)</td>');
    // The undos it sent are plain done.
    expect(md.match(/\| done \|/g)!.length).toBe([...report.policy, ...report.shared, ...ops].filter((o) => o.state === 'done').length - 1);
  });

  it('of a rollback interrupted before it undid anything, lists what it still has to undo, under each user and the policy', async () => {
    const dir = join(tmp.dir, 'interrupted');
    const { g, plan } = await planOfUntouched(join(tmp.dir, 'i.plan'), { rolloutGroups: ['MFA Staged Rollout'] });
    const { outcome } = await applyFile(g, join(tmp.dir, 'i.plan'), dir);
    const back = await rollbackIn(g, dir, outcome.runId);
    const whole = await runReport(back.outcome.runId, dir);
    // As a crash right after the rollback was set up leaves it: its journal holds the header alone.
    const journal = join(dir, 'runs', back.outcome.runId, 'journal.jsonl');
    writeFileSync(journal, `${readFileSync(journal, 'utf8').split('\n')[0]!}\n`);
    const report = await runReport(back.outcome.runId, dir);
    expect(report.run.state).toBe('interrupted');
    expect(report.run.counts.pending).toBe(report.run.total_operations);
    const changed = new Set(plan.user_changes.map((c) => c.user.toLowerCase()));
    expect(new Set(report.users.map((u) => u.user.toLowerCase()))).toEqual(changed);
    for (const u of report.users) {
      expect(u.outcome, u.user).toBe('not-started');
      expect(u.operations.length, u.user).toBeGreaterThan(0);
      expect(u.operations.every((o) => o.state === 'pending' && o.op.startsWith('rollback/'))).toBe(true);
    }
    // The same undos the finished rollback did, each in the same place.
    const ids = (r: typeof report) => [...r.policy, ...r.shared, ...r.users.flatMap((u) => u.operations.map((o) => ({ ...o, op: `${u.user} ${o.op}` })))].map((o) => o.op).sort();
    expect(ids(report)).toEqual(ids(whole));
    expect(report.policy.length).toBeGreaterThan(0);
    expect(renderRunReportText(report)).toContain(`${report.users.length} user(s): ${report.users.length} not started`);
    expect(renderRunReportMarkdown(report)).toContain(`## Users (${changed.size})`);
  });

  it('records each resume of a run (when, who, its options): the report names them', async () => {
    const dir = join(tmp.dir, 'resumed');
    const { g } = await planOfUntouched(join(tmp.dir, 'r.plan'));
    const first = await applyFile(g, join(tmp.dir, 'r.plan'), dir, { batchSize: 10, waves: 1 });
    const before = Date.now();
    await resumeIn(g, dir, { waves: 1 });
    await resumeIn(g, dir);
    const report = await runReport(first.outcome.runId, dir);
    expect(report.run.resumed.map((x) => x.options)).toEqual([{ waves: 1 }, {}]);
    expect(report.run.resumed.every((x) => Date.parse(x.at) >= before - 1000)).toBe(true);
    expect(renderRunReportText(report)).toMatch(/Resumed: \S+ by .+ \(waves 1\); \S+ by /);
    // Which mfa-migrate, which OS account, which machine made each pass, and the run's own options (an auditor found them missing).
    const operator = { tool_version: toolVersion(), os_user: userInfo().username, host: hostname() };
    expect(report.run.operator).toEqual(operator);
    expect(report.run.resumed.map((x) => x.operator)).toEqual([operator, operator]);
    expect(report.run.options).toMatchObject({ batchSize: 10, waves: 1, skipStale: false, skippedStale: [] });
    const text = renderRunReportText(report);
    expect(text).toContain(`Run by: mfa-migrate ${operator.tool_version}, OS account ${operator.os_user} on ${operator.host}`);
    expect(text).toMatch(/Options: .*batchSize 10.*skipStale false/);
  });
});

/** Found by an auditor: after a crash, writes that had reached the tenant were reported "not started". */
describe('the report of a run that stopped with writes in flight', () => {
  const tmp = tempDir('run-report-crash');
  afterAll(() => tmp.cleanup());

  it('counts the operations sent with no answer apart from those never sent, and their users as "sent, outcome unknown"', async () => {
    const dir = join(tmp.dir, 'state');
    const { g } = await planOfUntouched(join(tmp.dir, 'c.plan'));
    const { outcome } = await applyFile(g, join(tmp.dir, 'c.plan'), dir);
    // A crash in the middle of the run: the journal ends after a batch of the first wave was journaled
    // `started` (its third; the policy step's batches, one per part of the policy, come before it).
    const journal = join(dir, 'runs', outcome.runId, 'journal.jsonl');
    const policyBatches = readFileSync(journal, 'utf8').split('\n').filter((l) => l.includes('"state":"started"') && l.includes('"op":"policy/')).length;
    crashAfterStarted(journal, policyBatches + 2);
    const report = await runReport(outcome.runId, dir);
    const c = report.run.counts;
    expect(report.run.state).toBe('interrupted');
    expect(c.started).toBeGreaterThan(0);
    expect(c.pending).toBeGreaterThan(0);
    const sent = report.users.filter((u) => u.operations.some((o) => o.state === 'started'));
    expect(sent.length).toBeGreaterThan(0);
    for (const u of sent) expect(u.outcome, u.user).toBe('unknown');
    // Not started means nothing of the user's was sent.
    for (const u of report.users.filter((x) => x.outcome === 'not-started')) expect(u.operations.every((o) => o.state === 'pending'), u.user).toBe(true);
    expect(report.users.some((u) => u.outcome === 'not-started')).toBe(true);
    const counts = `${report.run.total_operations} operation(s): ${c.done} done, ${c.failed} failed, ${c.skipped} skipped, ${c.started} sent with outcome unknown, ${c.pending} pending (not sent)`;
    const text = renderRunReportText(report);
    expect(text).toContain(counts);
    expect(text).toContain(`${sent.length} sent, outcome unknown`);
    expect(text).toContain(`${c.started} operation(s) sent with no answer journaled`);
    expect(text).toContain(`mfa-migrate resume ${outcome.runId} reads them back`);
    const md = renderRunReportMarkdown(report);
    expect(md).toContain(counts);
    expect(md).toMatch(/: sent, outcome unknown\n/);
    const html = renderRunReportHtml(report);
    expect(html).toContain(counts);
    expect(html).toContain('<span class="badge unknown">sent, outcome unknown</span>');
    expect(html.match(/data-outcome="unknown"/g)).toHaveLength(sent.length);
    expect(html).toContain('<option value="unknown">sent, outcome unknown</option>');

    // Resumed, what was in flight is read back: the report says which were found by reading the tenant,
    // not by Graph's answer (an auditor saw them as plain answers with no request id).
    const inFlight = report.users.flatMap((u) => u.operations).filter((o) => o.state === 'started').map((o) => o.op);
    await resumeIn(g, dir);
    const after = await runReport(outcome.runId, dir);
    const ops = new Map([...after.policy, ...after.shared, ...after.users.flatMap((u) => u.operations)].map((o) => [o.op, o]));
    const readBack = inFlight.filter((id) => ops.get(id)?.state === 'done');
    expect(readBack.length).toBeGreaterThan(0);
    for (const id of readBack) expect(ops.get(id)?.read_back, id).toBe('left started by an earlier run');
    // Those Graph answered carry no such mark.
    expect([...ops.values()].filter((o) => o.read_back !== null).map((o) => o.op).sort()).toEqual([...readBack].sort());
    expect(renderRunReportMarkdown(after)).toContain('done (read back: left started by an earlier run)');
  });
});
