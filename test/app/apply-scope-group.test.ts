import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEFT_ON_SERVER } from '../../src/app/results.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, journalLines, planTo, resumeIn, runDirs, testDir } from '../helpers/migration.js';
import { contosoTenant, userId } from '../plan/helpers.js';

const WAVE = 'MFA Migration Wave 2';
const WAVE_ID = '0b7e8c52-0000-4000-8000-0000000000a2';
const ROLLOUT = 'MFA Staged Rollout';
const tenant = contosoTenant();
const ERIN = userId(tenant, 'erin@contoso.com');
const ALICE = userId(tenant, 'alice@contoso.com');

/** Contoso with the wave group "MFA Migration Wave 2": dave, erin, frank, judy and zoe (judy and zoe have no cloud method). */
function waveTenant() {
  const doc = contosoTenant();
  doc.groups.push({ id: WAVE_ID, displayName: WAVE, members: ['dave', 'erin', 'frank', 'judy', 'zoe'].map((n) => userId(doc, `${n}@contoso.com`)) });
  return doc;
}

/** The wave planned with --group and --rollout-group, saved. */
async function wavePlan(dir: string): Promise<{ g: FakeGraph; file: string }> {
  const g = fakeGraph({ tenant: waveTenant() });
  const file = join(dir, 'w2.plan');
  const { plan } = await planTo(g, file, { group: WAVE, rolloutGroups: [ROLLOUT] });
  expect(plan.users.map((u) => u.user)).toEqual(['dave@contoso.com', 'erin@contoso.com', 'frank@contoso.com', 'judy@contoso.com', 'zoe@contoso.com']);
  return { g, file };
}

const rolloutMembers = async (g: FakeGraph) => {
  const groups = (await g.raw.get(`/v1.0/groups?$filter=displayName eq '${ROLLOUT}'`)).body.value as { id: string }[];
  return ((await g.raw.get(`/v1.0/groups/${groups[0]!.id}/members`)).body.value as { id: string }[]).map((m) => m.id);
};
const writesTo = (g: FakeGraph, id: string) => g.operations().filter((o) => o.method !== 'GET' && o.path.includes(id));
const row = <T extends { user: string }>(rows: readonly T[], user: string): T | undefined => rows.find((r) => r.user === user);

describe('apply and resume of a plan made with --group read the group again', () => {
  it('a user taken out of the group since the plan is left out, not selected, with a note naming them; nothing is sent to them', async () => {
    const t = testDir('scope-group-left');
    const { g, file } = await wavePlan(t.dir);
    expect((await g.raw.delete(`/v1.0/groups/${WAVE_ID}/members/${ERIN}/$ref`)).status).toBe(204);
    g.emu.clearRequests();
    const notes: string[] = [];
    const applied = await applyFile(g, file, join(t.dir, 'state'), { log: (l) => notes.push(l) });
    expect(applied.outcome.state).toBe('completed');
    expect(writesTo(g, ERIN)).toEqual([]);
    expect(await rolloutMembers(g)).not.toContain(ERIN);
    expect(notes).toContainEqual(`Note: 1 user(s) left the group "${WAVE}" since the plan, the plan's scope (plan --group): left out of this run (not selected): nothing is sent to them: erin@contoso.com`);
    expect(row(applied.results, 'erin@contoso.com')).toEqual({ user: 'erin@contoso.com', outcome: 'not-selected', done: 0, failed: 0, skipped: 0, first_error: `left the group "${WAVE}" since the plan`, stale_reason: '' });
    expect(applied.outcome.leftScopeGroup).toEqual({ group: WAVE, users: ['erin@contoso.com'] });
    // Said on its own line, not among the users a new plan should take.
    expect(applied.outcome.notSelected.users).toBe(0);
    expect(row(applied.results, 'dave@contoso.com')?.outcome).toBe('done');
    // The run's evidence: erin is not among the users it selected.
    expect(journalLines(runDirs(join(t.dir, 'state'))[0]!)[0].options.users).not.toContain('erin@contoso.com');
  });

  it('a user who joined the group since the plan is not added, and said: plan again', async () => {
    const t = testDir('scope-group-joined');
    const { g, file } = await wavePlan(t.dir);
    expect((await g.raw.post(`/v1.0/groups/${WAVE_ID}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${ALICE}` })).status).toBe(204);
    const notes: string[] = [];
    const applied = await applyFile(g, file, join(t.dir, 'state'), { log: (l) => notes.push(l) });
    expect(applied.outcome.state).toBe('completed');
    expect(notes).toContainEqual(expect.stringMatching(new RegExp(`^Note: 1 user\\(s\\) of the export are members of "${WAVE}" now but not users of this plan \\(they joined the group since it was made.*plan again to take them in: alice@contoso\\.com$`)));
    expect(writesTo(g, ALICE)).toEqual([]);
    expect(applied.results.map((r) => r.user)).not.toContain('alice@contoso.com');
    expect(applied.outcome.leftScopeGroup).toBeUndefined();
  });

  it('a resume leaves out a user of the run who left the group between its passes: what is left of theirs, their switch included, is never sent', async () => {
    const t = testDir('scope-group-resume');
    const { g, file } = await wavePlan(t.dir);
    const state = join(t.dir, 'state');
    // One user a wave, one wave: dave is done, erin and frank are left for the resume.
    const first = await applyFile(g, file, state, { batchSize: 1, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    expect(writesTo(g, ERIN)).toEqual([]);
    expect((await g.raw.delete(`/v1.0/groups/${WAVE_ID}/members/${ERIN}/$ref`)).status).toBe(204);
    g.emu.clearRequests();
    const notes: string[] = [];
    const resumed = await resumeIn(g, state, { log: (l) => notes.push(l) });
    expect(writesTo(g, ERIN)).toEqual([]);
    expect(await rolloutMembers(g)).not.toContain(ERIN);
    expect(notes).toContainEqual(expect.stringMatching(new RegExp(`^Note: 1 user\\(s\\) left the group "${WAVE}" since the plan, the plan's scope \\(plan --group\\): left out of the rest of this run, journaled as stale .*: erin@contoso\\.com$`)));
    // Why, as --skip-stale says it of a user it leaves out: the stale_reason column, from the journal.
    const why = `scope group "${WAVE}": left the group "${WAVE}" since the plan, the plan's scope (plan --group): what is left of theirs is not sent`;
    expect(row(resumed.results, 'erin@contoso.com')).toMatchObject({ outcome: 'skipped', done: 0, first_error: 'stale', stale_reason: why });
    expect(row(resumed.results, 'frank@contoso.com')?.stale_reason).toBe('');
    expect(row(resumed.results, 'frank@contoso.com')?.outcome).toBe('done');
    expect(resumed.outcome.leftScopeGroup).toEqual({ group: WAVE, users: ['erin@contoso.com'] });
    // Journaled skipped as stale: no later resume sends them either.
    const ops = journalLines(runDirs(state)[0]!).filter((l) => l.t === 'ops').flatMap((l) => l.ops).filter((o: { op: string }) => o.op.startsWith(ERIN));
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.every((o: { state: string; error?: string; staleReason?: string }) => o.state === 'skipped' && o.error === 'stale' && o.staleReason === why)).toBe(true);
  });

  it("a resume's results list the users the apply left out as they had left the group, as apply's do: not-selected, with why (exactly one row per user in scope)", async () => {
    const t = testDir('scope-group-left-resume');
    const { g, file } = await wavePlan(t.dir);
    const state = join(t.dir, 'state');
    expect((await g.raw.delete(`/v1.0/groups/${WAVE_ID}/members/${ERIN}/$ref`)).status).toBe(204);
    g.emu.clearRequests();
    // One user a wave, one wave: dave is done, frank (and judy, zoe: nothing to write) left for the resume.
    const first = await applyFile(g, file, state, { batchSize: 1, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    const erinRow = { user: 'erin@contoso.com', outcome: 'not-selected', done: 0, failed: 0, skipped: 0, first_error: `left the group "${WAVE}" since the plan`, stale_reason: '' };
    expect(row(first.results, 'erin@contoso.com')).toEqual(erinRow);
    // The run records whom it left out so, for its resumes.
    expect(journalLines(runDirs(state)[0]!)[0].options.scopeGroupLeft).toEqual(['erin@contoso.com']);
    const resumed = await resumeIn(g, state);
    expect(resumed.outcome.state).toBe('completed');
    expect(writesTo(g, ERIN)).toEqual([]);
    expect(resumed.results.map((r) => r.user)).toEqual(first.results.map((r) => r.user));
    expect(row(resumed.results, 'erin@contoso.com')).toEqual(erinRow);
    expect(row(resumed.results, 'frank@contoso.com')?.outcome).toBe('done');
    // The summary says them on their own line, as apply's does, not among the users to take with a new plan.
    expect(resumed.outcome.leftScopeGroup).toEqual({ group: WAVE, users: ['erin@contoso.com'] });
    expect(resumed.outcome.notSelected.users).toBe(0);
  });

  it('a plan all of whose users left the group is refused before anything is sent', async () => {
    const t = testDir('scope-group-empty');
    const { g, file } = await wavePlan(t.dir);
    for (const n of ['dave', 'erin', 'frank', 'judy', 'zoe']) await g.raw.delete(`/v1.0/groups/${WAVE_ID}/members/${userId(tenant, `${n}@contoso.com`)}/$ref`);
    g.emu.clearRequests();
    await expect(applyFile(g, file, join(t.dir, 'state'))).rejects.toThrow(`every user of the plan left the group "${WAVE}" since the plan, the plan's scope (plan --group): nothing was sent`);
    expect(g.operations().filter((o) => o.method !== 'GET')).toEqual([]);
  });

  it('a plan whose scope group is gone is refused before anything is sent', async () => {
    const t = testDir('scope-group-gone');
    const { g, file } = await wavePlan(t.dir);
    g.emu.reset(contosoTenant() as unknown as Record<string, unknown>);
    await expect(applyFile(g, file, join(t.dir, 'state'))).rejects.toThrow(`the plan's scope group "${WAVE}" (${WAVE_ID}, plan --group) is no longer in the tenant`);
    expect(g.operations().filter((o) => o.method !== 'GET')).toEqual([]);
  });
});

describe('--results and the summary name the users a wave leaves on MFA Server', () => {
  it('judy and zoe (no cloud method, not-switched in the plan) are said to be left on MFA Server, not bare unchanged', async () => {
    const t = testDir('left-on-server');
    const { g, file } = await wavePlan(t.dir);
    const applied = await applyFile(g, file, join(t.dir, 'state'));
    expect(row(applied.results, 'judy@contoso.com')).toEqual({ user: 'judy@contoso.com', outcome: 'unchanged', done: 0, failed: 0, skipped: 0, first_error: LEFT_ON_SERVER, stale_reason: '' });
    expect(row(applied.results, 'zoe@contoso.com')?.first_error).toBe(LEFT_ON_SERVER);
    expect(row(applied.results, 'dave@contoso.com')?.first_error).toBe('');
    expect(applied.outcome.leftOnMfaServer).toEqual(['judy@contoso.com', 'zoe@contoso.com']);
  });
});
