import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutoverStatus } from '../../src/app/status.js';
import { renderApplySummary, renderRollbackSummary } from '../../src/cli/views/apply-summary.js';
import { clearDefaultMethod, fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, CONTOSO, crashWithAnswersLost, journalLines, planTo, resumeIn, rollbackIn, runDirs, testDir } from '../helpers/migration.js';
import { writes, type Snapshot } from '../helpers/tenant-checks.js';
import { runReport } from '../../src/app/report.js';
import { renderRunReportMarkdown } from '../../src/report/render-run-report.js';

/**
 * Found by a black-box test: a user whose methods the first pass wrote but whose switch (rollout group
 * add) failed had those methods deleted by an admin; `resume` sent the switch, called the user done,
 * and `status` showed them switched to Entra MFA with no cloud method. And the rollback after it said
 * of the phone and default the admin had removed "left in place".
 */
const ROLLOUT = 'MFA Staged Rollout';
const WAVE1 = 'MFA Migration Wave 1';
const MOBILE = '3179e48a-750b-4051-897c-87b9720928f7';
const ALT_MOBILE = 'b6332ec1-7057-4abe-9331-3d72feddfe41';

const idOf = (s: Snapshot, upn: string): string => s.users.find((u: Snapshot) => u.userPrincipalName === upn).id;
const groupId = (s: Snapshot, name: string): string => s.groups.find((x: Snapshot) => x.displayName === name).id;
/** An operation's last journal record. */
const opRecord = (runDir: string, op: string) => journalLines(runDir).filter((l) => l.t === 'ops').flatMap((l) => l.ops).filter((o: Snapshot) => o.op === op).at(-1);
const isSwitch = (path: string, group: string) => path.includes(`/groups/${group}/members/$ref`);

/** An admin removes bob's default method and both phones the first pass wrote. */
async function deleteBobsMethods(g: FakeGraph, bob: string): Promise<void> {
  clearDefaultMethod(g.emu, bob);
  expect((await g.raw.delete(`/v1.0/users/${bob}/authentication/phoneMethods/${ALT_MOBILE}`)).status).toBe(204);
  expect((await g.raw.delete(`/v1.0/users/${bob}/authentication/phoneMethods/${MOBILE}`)).status).toBe(204);
}

/**
 * The wave-1 users planned into a rollout group that holds 3 members: the first pass writes every
 * method, and the adds past the third fail (group full), bob's among them.
 */
async function firstPassWithBobUnswitched() {
  const tenant = JSON.parse(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8'));
  tenant.behaviour = { stagedRolloutLimits: { groupsPerFeature: 10, membersPerGroup: 3, membersAtFirstAdd: 200 } };
  const g = fakeGraph({ tenant });
  const { dir } = testDir('resume-switch');
  const file = join(dir, 'w.plan');
  const stateDir = join(dir, 'state');
  await planTo(g, file, { group: WAVE1, rolloutGroups: [ROLLOUT] });
  const first = await applyFile(g, file, stateDir);
  expect(first.outcome.state).toBe('partial');
  const bobRow = first.results.find((r) => r.user === 'bob@contoso.com')!;
  // The premise: bob's phones and default written, his switch refused (the group is full).
  expect(bobRow).toMatchObject({ outcome: 'partial', done: 3, failed: 1 });
  expect(bobRow.first_error).toMatch(/already has 3 members/);
  const s = g.emu.snapshot() as Snapshot;
  return { g, dir, stateDir, runId: first.outcome.runId, bob: idOf(s, 'bob@contoso.com'), alice: idOf(s, 'alice@contoso.com'), group: groupId(s, ROLLOUT) };
}

describe('resume holds back a switch whose methods are gone since an earlier pass wrote them', () => {
  it('not sent, never done, the user and the missing methods named; sent by a later resume once they are back', async () => {
    const { g, stateDir, runId, bob, alice, group } = await firstPassWithBobUnswitched();
    await deleteBobsMethods(g, bob);
    // Room in the group: alice out.
    expect((await g.raw.delete(`/v1.0/groups/${group}/members/${alice}/$ref`)).status).toBe(204);
    g.emu.clearRequests();

    const again = await resumeIn(g, stateDir, { runId });
    // bob's switch was not sent (grace's, which failed the same way with her methods in place, was).
    const switches = writes(g.emu.requests()).filter((w) => isSwitch(w.path, group));
    expect(switches.map((w) => JSON.stringify(w.body))).not.toContainEqual(expect.stringContaining(bob));
    expect(switches.filter((w) => w.status === 204)).toHaveLength(1);
    const row = again.results.find((r) => r.user === 'bob@contoso.com')!;
    expect(row.outcome).not.toBe('done');
    expect(row).toMatchObject({ outcome: 'partial', done: 3, skipped: 1, failed: 0 });
    expect(row.first_error).toMatch(/^held back, not sent: bob@contoso\.com's switch to Entra MFA rests on what is no longer there: /);
    expect(row.first_error).toContain('phoneMethods/mobile, which the run wrote in an earlier pass, is no longer in the tenant');
    expect(row.first_error).toContain('phoneMethods/alternateMobile, which the run wrote in an earlier pass, is no longer in the tenant');
    expect(again.results.find((r) => r.user === 'grace@contoso.com')!.outcome).toBe('done');
    // Something left a resume can do: the held switch (not settled as a stale user is).
    expect(again.outcome).toMatchObject({ state: 'partial', resumable: true, staleUsers: { count: 0 } });
    expect(again.outcome.counts).toMatchObject({ skipped: 1, failed: 0, pending: 0, started: 0 });
    const rec = opRecord(runDirs(stateDir)[0]!, `${bob}/rolloutGroup/${group}`);
    expect(rec).toMatchObject({ state: 'skipped', error: row.first_error });
    const summary = renderApplySummary(again.outcome, stateDir, 'mfa-migrate resume');
    expect(summary).toContain(`bob@contoso.com: ${row.first_error}`);
    let status = await cutoverStatus({ source: CONTOSO, graph: g.client({ readOnly: true }), concurrency: 4, group: WAVE1 });
    expect(status.users.find((u) => u.user === 'bob@contoso.com')).toMatchObject({ switched: false });

    // The admin puts the phones back: a plain resume (no id) finds the run (not passed by as one with
    // only stale users left), reads bob again and sends his switch.
    for (const [phoneType, phoneNumber] of [
      ['mobile', '+1 4255550102'],
      ['alternateMobile', '+1 2065550102'],
    ] as const) {
      expect((await g.raw.post(`/v1.0/users/${bob}/authentication/phoneMethods`, { phoneType, phoneNumber })).status).toBe(201);
    }
    // Grace took alice's place: room again (niaj out).
    expect((await g.raw.delete(`/v1.0/groups/${group}/members/${idOf(g.emu.snapshot() as Snapshot, 'niaj@contoso.com')}/$ref`)).status).toBe(204);
    const third = await resumeIn(g, stateDir);
    expect(third.outcome.runId).toBe(runId);
    expect(third.outcome.state).toBe('completed');
    expect(third.results.find((r) => r.user === 'bob@contoso.com')).toMatchObject({ outcome: 'done', done: 4 });
    status = await cutoverStatus({ source: CONTOSO, graph: g.client({ readOnly: true }), concurrency: 4, group: WAVE1 });
    expect(status.users.find((u) => u.user === 'bob@contoso.com')).toMatchObject({ switched: true, switched_by: ROLLOUT });
  });

  it('one put back is not enough: the switch waits while any method it rests on is missing, and says which', async () => {
    const { g, stateDir, runId, bob, alice, group } = await firstPassWithBobUnswitched();
    await deleteBobsMethods(g, bob);
    expect((await g.raw.delete(`/v1.0/groups/${group}/members/${alice}/$ref`)).status).toBe(204);
    expect((await g.raw.post(`/v1.0/users/${bob}/authentication/phoneMethods`, { phoneType: 'mobile', phoneNumber: '+1 4255550102' })).status).toBe(201);
    const again = await resumeIn(g, stateDir, { runId });
    const error = again.results.find((r) => r.user === 'bob@contoso.com')!.first_error;
    expect(error).toContain('phoneMethods/alternateMobile');
    expect(error).not.toContain('phoneMethods/mobile,');
    const s = g.emu.snapshot() as Snapshot;
    expect(s.groups.find((x: Snapshot) => x.id === group).members).not.toContain(bob);
  });

  it('a user whose methods are still there is switched by the resume as before (one read of them, no more)', async () => {
    const { g, stateDir, runId, bob, alice, group } = await firstPassWithBobUnswitched();
    expect((await g.raw.delete(`/v1.0/groups/${group}/members/${alice}/$ref`)).status).toBe(204);
    g.emu.clearRequests();
    const again = await resumeIn(g, stateDir, { runId });
    const done = writes(g.emu.requests()).filter((w) => isSwitch(w.path, group) && w.status === 204);
    expect(done).toHaveLength(1);
    // One of bob and grace took alice's place; the other's add was refused again (the group is full), not held back.
    const rows = again.results.filter((r) => /^(bob|grace)@/.test(r.user));
    expect(rows.map((r) => r.outcome).sort()).toEqual(['done', 'partial']);
    expect(rows.find((r) => r.outcome === 'partial')!.first_error).toMatch(/already has 3 members/);
    // bob's and grace's methods read once each (their switches are the ones left).
    const reads = g.operations().filter((o) => o.method === 'GET' && /\/users\/[^/]+\/authentication\/methods/.test(o.path));
    expect(reads.map((o) => o.path.split('/users/')[1]!.split('/')[0]).sort()).toEqual([bob, idOf(g.emu.snapshot() as Snapshot, 'grace@contoso.com')].sort());
  });
  it('a switch an earlier pass sent with no answer (a crash) is held back too, its record kept for a rollback to read back', async () => {
    const { g, stateDir, runId, bob, alice, group } = await firstPassWithBobUnswitched();
    const runDir = runDirs(stateDir)[0]!;
    const switchOp = `${bob}/rolloutGroup/${group}`;
    // The run crashed with the switches' batch sent and no answer journaled.
    crashWithAnswersLost(join(runDir, 'journal.jsonl'), (op) => op === switchOp);
    expect(opRecord(runDir, switchOp)).toMatchObject({ state: 'started' });
    await deleteBobsMethods(g, bob);
    expect((await g.raw.delete(`/v1.0/groups/${group}/members/${alice}/$ref`)).status).toBe(204);
    g.emu.clearRequests();
    const log: string[] = [];
    const again = await resumeIn(g, stateDir, { runId, log: (l) => log.push(l) });
    expect(writes(g.emu.requests()).filter((w) => isSwitch(w.path, group) && JSON.stringify(w.body).includes(bob))).toEqual([]);
    expect(log).toContainEqual(expect.stringMatching(/^Wave 1: 1 user\(s\) not switched to Entra MFA: methods the switch rests on are gone since an earlier pass wrote them \(bob@contoso\.com\)/));
    // (The crash left his alternate phone's write unanswered too: read back, gone, sent again, refused without the mobile.)
    const user = again.outcome.users.find((u) => u.upn === 'bob@contoso.com')!;
    expect(user.outcome).toBe('unknown');
    // Still started in the journal: the rollback reads it back (not applied: the group was full) and undoes the rest.
    expect(opRecord(runDir, switchOp)).toMatchObject({ state: 'started' });
    expect(again.outcome.resumable).toBe(true);
    const rb = await rollbackIn(g, stateDir, runId);
    expect(rb.outcome.state).toBe('completed');
    expect(opRecord(runDir, switchOp)).toMatchObject({ state: 'failed', outcomeUnknown: false });
  });
});

describe('rollback after methods were deleted outside the tool', () => {
  it('says the phone behind the default and the default itself were gone already, not left in place', async () => {
    const { g, stateDir, runId, bob } = await firstPassWithBobUnswitched();
    await deleteBobsMethods(g, bob);
    const rb = await rollbackIn(g, stateDir, runId);
    const o = rb.outcome;
    expect(o.notReversible.filter((x) => x.user === 'bob@contoso.com')).toEqual([]);
    expect(o.goneAlready).toEqual(
      expect.arrayContaining([
        { user: 'bob@contoso.com', target: 'phoneMethods/alternateMobile' },
        { user: 'bob@contoso.com', target: 'phoneMethods/mobile', notReversible: true },
        { user: 'bob@contoso.com', target: 'signInPreferences', notReversible: true },
      ]),
    );
    // The others' defaults, still there, are still not reversible.
    expect(o.notReversible).toContainEqual(expect.objectContaining({ user: 'alice@contoso.com', target: 'signInPreferences' }));
    const text = renderRollbackSummary(o, stateDir, undefined);
    expect(text).not.toMatch(/not reversible: bob@contoso\.com/);
    expect(text).toContain('gone already (removed outside this tool; nothing to undo): bob@contoso.com phoneMethods/mobile');
    expect(text).toContain('gone already (removed outside this tool; nothing to undo): bob@contoso.com signInPreferences');
    // The count of operations found gone counts undos only (the alternate phone's delete), not what Graph could not undo.
    expect(text).toMatch(/operations: \d+ done \(1 gone already: removed outside this tool\)/);
    // The rollback's journal records them apart from what it left in place (its report reads that).
    const header = journalLines(runDirs(stateDir).find((d) => d.endsWith(o.runId))!)[0];
    expect(header.notReversible.filter((x: Snapshot) => x.user === 'bob@contoso.com')).toEqual([]);
    expect(header.notReversibleGone).toEqual([
      { user: 'bob@contoso.com', target: 'signInPreferences' },
      { user: 'bob@contoso.com', target: 'phoneMethods/mobile' },
    ]);
    // The report keeps them in the audit trail, as gone already (a review found them in neither list).
    const report = await runReport(o.runId, stateDir);
    expect(report.rollback.not_reversible_gone).toEqual([
      { user: 'bob@contoso.com', target: 'signInPreferences' },
      { user: 'bob@contoso.com', target: 'phoneMethods/mobile' },
    ]);
    expect(renderRunReportMarkdown(report)).toMatch(/## Gone already \(3\)[^#]*\| bob@contoso\.com \| signInPreferences \(not reversible\) \|/);
  });
});
