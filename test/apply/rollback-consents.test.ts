import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutoverStatus } from '../../src/app/status.js';
import { runReport } from '../../src/app/report.js';
import { renderRunReportText } from '../../src/report/render-run-report.js';
import { renderRollbackSummary } from '../../src/cli/views/apply-summary.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { rechain } from '../helpers/graph-proxies.js';
import { applyFile, CONTOSO, journalLines, planTo, rollbackIn, testDir, planOfUntouched } from '../helpers/migration.js';

/**
 * Found by a black-box test of the cutover: run A (Wave 1, with the rollout group) then run B (dave and
 * frank, the same rollout group); `rollback A` was refused, saying "add --out-of-order", and with it the
 * methods policy's undo turned SMS and voice off, leaving dave and frank switched to Entra MFA with no
 * method they could use, said only by a warning. --out-of-order now lifts the newest-first rule alone;
 * leaving users switched without a method is --leave-switched-without-method's.
 */
const ROLLOUT = 'MFA Staged Rollout';
const CONFIGS = '/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations';
const configState = async (g: FakeGraph, id: string): Promise<string> => (await g.raw.get(`${CONFIGS}/${id}`)).body.state;
const lockedOut = async (g: FakeGraph) => (await cutoverStatus({ source: CONTOSO, graph: g.client(), concurrency: 4 })).users.filter((u) => u.switched && u.blocked).map((u) => u.user);
const BY_ROLLOUT = `the group "${ROLLOUT}" of the staged rollout policy`;
/** The switchedHints the CLI passes to the summary. */
const hints = (id: string) => ({ again: `mfa-migrate rollback ${id}`, leave: `mfa-migrate rollback ${id} --leave-switched-without-method` });

/** Run A: Wave 1 with the rollout group; then run B: dave and frank with the same rollout group. Both completed. */
async function twoRuns(name: string) {
  const { dir } = testDir(name);
  const state = join(dir, 'state');
  const { g } = await planOfUntouched(join(dir, 'a.plan'), { group: 'MFA Migration Wave 1', rolloutGroups: [ROLLOUT] });
  const a = await applyFile(g, join(dir, 'a.plan'), state);
  expect(a.outcome.state).toBe('completed');
  writeFileSync(join(dir, 'users.txt'), 'dave@contoso.com\nfrank@contoso.com\n');
  await planTo(g, join(dir, 'b.plan'), { users: join(dir, 'users.txt'), rolloutGroups: [ROLLOUT] });
  const b = await applyFile(g, join(dir, 'b.plan'), state);
  expect(b.outcome.state).toBe('completed');
  expect(await lockedOut(g)).toEqual([]);
  for (const id of ['Sms', 'Voice']) expect(await configState(g, id), id).toBe('enabled');
  return { g, state, a: a.outcome.runId, b: b.outcome.runId };
}

/** What the staged rollout keeps dave and frank needing: the methods policy's SMS and voice undos, left in place for them. */
function expectHeldForDaveAndFrank(o: Awaited<ReturnType<typeof rollbackIn>>['outcome']) {
  expect(o.state).toBe('partial');
  expect(o.stillSwitchedOthers).toMatchObject({ first: ['dave@contoso.com', 'frank@contoso.com'], count: 2, by: [BY_ROLLOUT] });
  expect(o.stillSwitched.map((x) => x.target).sort()).toEqual(['authenticationMethodConfigurations/Sms', 'authenticationMethodConfigurations/Voice']);
  expect(o.leftWithoutMethod).toBeUndefined();
}

describe('rollback: --out-of-order and --leave-switched-without-method are two consents', () => {
  it("--out-of-order lifts the newest-first rule alone: dave and frank (run B's) keep SMS and voice, named with the flag that would take them; --leave-switched-without-method then takes them, said in the summary", async () => {
    const { g, state, a, b } = await twoRuns('consents-split');
    // The refusal says what --out-of-order does and does not do.
    await expect(rollbackIn(g, state, a)).rejects.toThrow(
      new RegExp(`not the newest run in effect on this tenant: a run made after it is not rolled back: ${b} .*to roll back run ${a} anyway, add --out-of-order \\(it lifts this rule alone: what the rollback would take from users the staged rollout still switches to Entra MFA, leaving them no method they can use, stays in place unless --leave-switched-without-method is added too\\)$`),
    );
    // --leave-switched-without-method is no way past the newest-first rule.
    await expect(rollbackIn(g, state, a, { leaveSwitchedWithoutMethod: true })).rejects.toThrow(/not the newest run in effect on this tenant/);

    const said: string[] = [];
    const held = await rollbackIn(g, state, a, { outOfOrder: true, log: (l) => said.push(l) });
    expectHeldForDaveAndFrank(held.outcome);
    for (const id of ['Sms', 'Voice']) expect(await configState(g, id), id).toBe('enabled');
    expect(await lockedOut(g)).toEqual([]);
    expect(said.filter((l) => l.startsWith('Warning:'))).toEqual([]);
    // Both consents recorded at its start.
    const [header] = journalLines(join(state, 'runs', held.outcome.runId));
    expect(header.options).toEqual({ force: false, outOfOrder: true, leaveSwitchedWithoutMethod: false });
    const summary = renderRollbackSummary(held.outcome, state, undefined, undefined, undefined, hints(held.outcome.runId));
    expect(summary).toContain(`Left in place: 2 user(s) outside the run are still switched to Entra MFA by ${BY_ROLLOUT} and would have no method they can use: dave@contoso.com, frank@contoso.com.`);
    expect(summary).toContain(`to take them all the same, leaving them with nothing to sign in with (--leave-switched-without-method; --out-of-order does not): mfa-migrate rollback ${held.outcome.runId} --leave-switched-without-method\n`);

    // Finished again without either flag: the newest-first rule stays lifted (recorded), and they are held again.
    expectHeldForDaveAndFrank((await rollbackIn(g, state, held.outcome.runId)).outcome);

    const told: string[] = [];
    const taken = await rollbackIn(g, state, held.outcome.runId, { leaveSwitchedWithoutMethod: true, log: (l) => told.push(l) });
    // What is left is the rollout policy and group, changed since (dave and frank were added): only --force.
    expect(taken.outcome.stillSwitched).toEqual([]);
    expect(taken.outcome.changedSince.map((c) => c.target.split('/appliesTo/')[0])).toEqual(['featureRolloutPolicies/multiFactorAuthentication', 'featureRolloutPolicies/multiFactorAuthentication']);
    for (const id of ['Sms', 'Voice']) expect(await configState(g, id), id).toBe('disabled');
    expect(await lockedOut(g)).toEqual(['dave@contoso.com', 'frank@contoso.com']);
    expect(told).toContainEqual(`Warning: --leave-switched-without-method: 2 user(s) outside the run still switched to Entra MFA (by ${BY_ROLLOUT}) are left with no method they can use by the methods policy's undo: dave@contoso.com, frank@contoso.com`);
    // Said in the summary too, not only as it happened.
    expect(taken.outcome.leftWithoutMethod).toEqual({ users: [], others: expect.objectContaining({ first: ['dave@contoso.com', 'frank@contoso.com'], count: 2 }) });
    expect(renderRollbackSummary(taken.outcome, state, undefined)).toContain(
      `Taken all the same (--leave-switched-without-method): 2 user(s) outside the run still switched to Entra MFA (by ${BY_ROLLOUT}) have no method they can use since the methods policy's undo: dave@contoso.com, frank@contoso.com. They may be left with nothing to sign in with`,
    );
    // The pass's flag is journaled with it.
    const resumes = journalLines(join(state, 'runs', held.outcome.runId)).filter((l) => l.t === 'resume');
    expect(resumes.at(-1).options).toEqual({ leaveSwitchedWithoutMethod: true });
  });

  it('both flags at the start: rolled back under the later run, SMS and voice taken, said', async () => {
    const { g, state, a } = await twoRuns('consents-both');
    const back = await rollbackIn(g, state, a, { outOfOrder: true, leaveSwitchedWithoutMethod: true });
    expect(back.outcome.stillSwitched).toEqual([]);
    expect(back.outcome.leftWithoutMethod?.others?.first).toEqual(['dave@contoso.com', 'frank@contoso.com']);
    expect(journalLines(join(state, 'runs', back.outcome.runId))[0].options).toEqual({ force: false, outOfOrder: true, leaveSwitchedWithoutMethod: true });
    expect(await lockedOut(g)).toEqual(['dave@contoso.com', 'frank@contoso.com']);
  });

  it('a rollback started with --out-of-order by an older version (it meant both) is not finished until the operator says which: --out-of-order holds them, --leave-switched-without-method takes them', async () => {
    const { g, state, a } = await twoRuns('consents-old-journal');
    const stopped = new AbortController();
    stopped.abort();
    const interrupted = await rollbackIn(g, state, a, { outOfOrder: true, signal: stopped.signal });
    expect(interrupted.outcome.state).toBe('interrupted');
    const id = interrupted.outcome.runId;
    // Its journal as the older version wrote it: outOfOrder, and no word of the second consent.
    const journal = join(state, 'runs', id, 'journal.jsonl');
    rechain(journal, () => {}, (h) => delete (h.options as Record<string, unknown>).leaveSwitchedWithoutMethod);
    expect(journalLines(join(state, 'runs', id))[0].options).toEqual({ force: false, outOfOrder: true });

    g.emu.clearRequests();
    const refused = new RegExp(
      `^rollback ${id} was started with --out-of-order when that flag also took methods from users it left switched to Entra MFA with no method they can use .*Nothing was read or sent\\. Say which you mean: mfa-migrate rollback ${id} --out-of-order --state-dir \\S+ finishes it leaving what those users need in place \\(named; exit 3\\), or mfa-migrate rollback ${id} --out-of-order --leave-switched-without-method --state-dir \\S+ finishes it as it was started, taking their methods all the same$`,
    );
    await expect(rollbackIn(g, state, id)).rejects.toThrow(refused);
    await expect(rollbackIn(g, state, id, { force: true })).rejects.toThrow(/Say which you mean: mfa-migrate rollback \S+ --force --out-of-order --state-dir/);
    expect(g.emu.requests()).toEqual([]);

    // --out-of-order: the newest-first rule lifted as recorded, dave and frank held.
    expectHeldForDaveAndFrank((await rollbackIn(g, state, id, { outOfOrder: true })).outcome);
    expect(await lockedOut(g)).toEqual([]);
    // Every finish of it says again (the old header is what it goes on with).
    await expect(rollbackIn(g, state, id)).rejects.toThrow(refused);
    // --leave-switched-without-method: as it was started.
    const taken = await rollbackIn(g, state, id, { leaveSwitchedWithoutMethod: true });
    expect(taken.outcome.stillSwitched).toEqual([]);
    expect(await lockedOut(g)).toEqual(['dave@contoso.com', 'frank@contoso.com']);
  });
});

/**
 * A lead of an earlier session: the warning named five users outside the run, then "...", with no count
 * and nowhere to find the rest. Four more members of the rollout group (phones of their own, nothing
 * else) make six such users: five named, "and 1 more", and every one in the rollback's run report.
 */
describe('rollback --leave-switched-without-method: who it leaves without a method, counted and listed whole', () => {
  it('the warning and the summary say how many more and where; the run report lists every one', async () => {
    const doc = JSON.parse(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8')) as { users: Record<string, unknown>[]; groups: { displayName: string; members?: string[] }[] };
    const extra = ['xeno', 'yuri', 'zola', 'walt'].map((n, i) => ({ userPrincipalName: `${n}.extra@contoso.com`, displayName: n, methods: { phone: [{ phoneType: 'mobile', phoneNumber: `+1 42555501${80 + i}` }] } }));
    doc.users.push(...extra);
    const group = doc.groups.find((x) => x.displayName === ROLLOUT)!;
    group.members = [...(group.members ?? []), ...extra.map((u) => u.userPrincipalName)];
    const g = fakeGraph({ tenant: doc });
    const { dir } = testDir('consents-many-others');
    const state = join(dir, 'state');
    await planTo(g, join(dir, 'a.plan'), { group: 'MFA Migration Wave 1', rolloutGroups: [ROLLOUT] });
    const applied = await applyFile(g, join(dir, 'a.plan'), state);
    expect(applied.outcome.state).toBe('completed');
    writeFileSync(join(dir, 'users.txt'), 'dave@contoso.com\nfrank@contoso.com\n');
    await planTo(g, join(dir, 'b.plan'), { users: join(dir, 'users.txt'), rolloutGroups: [ROLLOUT] });
    expect((await applyFile(g, join(dir, 'b.plan'), state)).outcome.state).toBe('completed');
    const a = applied.outcome.runId;

    const told: string[] = [];
    const taken = await rollbackIn(g, state, a, { outOfOrder: true, leaveSwitchedWithoutMethod: true, log: (l) => told.push(l) });
    const others = ['dave@contoso.com', 'frank@contoso.com', ...['walt', 'xeno', 'yuri', 'zola'].map((n) => `${n}.extra@contoso.com`)];
    expect(taken.outcome.leftWithoutMethod?.others).toMatchObject({ first: others.slice(0, 5), count: 6 });
    const report = `mfa-migrate report ${taken.outcome.runId} --state-dir ${state}`;
    expect(told).toContainEqual(`Warning: --leave-switched-without-method: 6 user(s) outside the run still switched to Entra MFA (by ${BY_ROLLOUT}) are left with no method they can use by the methods policy's undo: ${others.slice(0, 5).join(', ')}, and 1 more (every one: ${report})`);
    expect(renderRollbackSummary(taken.outcome, state, undefined, state)).toContain(`have no method they can use since the methods policy's undo: ${others.slice(0, 5).join(', ')}, and 1 more (mfa-migrate report ${taken.outcome.runId} --state-dir ${state} --report ${taken.outcome.runId}.html lists every one).`);
    // Every one, in the journal and the run report.
    const left = (await runReport(taken.outcome.runId, state)).rollback.left_without_method;
    expect(left).toEqual([{ at: expect.any(String), users: [], others: { users: others, by: [BY_ROLLOUT], unread: 0 }, unread: null }]);
    expect(renderRunReportText(await runReport(taken.outcome.runId, state))).toContain('Taken all the same (--leave-switched-without-method):\n  dave@contoso.com: outside the run; switched by');
  });
});
