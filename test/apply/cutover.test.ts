import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CutoverRefusedError } from '../../src/app/plan.js';
import { cutoverStatus } from '../../src/app/status.js';
import { cutoverStale } from '../../src/apply/cutover-preflight.js';
import { SavedPlan } from '../../src/plan/plan-file.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, CONTOSO, journalLines, planOfUntouched, planTo, resumeIn, rollbackIn, runDirs, tempDir } from '../helpers/migration.js';
import { LEFT_ON_SERVER, movedByFederationNote, type ResultRow } from '../../src/app/results.js';
import { expectPlanApplied, writes, type Snapshot } from '../helpers/tenant-checks.js';
import { connectGraph } from '../../src/graph/connect.js';
import { renderApplySummary } from '../../src/cli/views/apply-summary.js';
import { runReport } from '../../src/app/report.js';
import { renderRunReportMarkdown } from '../../src/report/render-run-report.js';

const ROLLOUT = 'MFA Staged Rollout';
const tmp = tempDir('cutover');
afterAll(() => tmp.cleanup());
let n = 0;
const fresh = () => join(tmp.dir, `case${++n}`);

const groupOf = (s: Snapshot, name: string) => s.groups.find((g: Snapshot) => g.displayName === name);
const idOf = (s: Snapshot, upn: string) => s.users.find((u: Snapshot) => u.userPrincipalName.toLowerCase() === upn.toLowerCase())?.id;
const switchedBy = (plan: Plan) => plan.user_changes.filter((c) => c.resource.startsWith('rolloutGroup/') && c.action === 'create').map((c) => c.user);
const federation = (s: Snapshot, domain = 'contoso.com') => s.domains.find((d: Snapshot) => d.id === domain).federatedIdpMfaBehavior;
/**
 * Every Contoso user but judy and zoe (the two left with no cloud method), in one file for the tests
 * that scope a plan to them, so that planOfUntouched makes their plan once.
 */
let switchable: string | undefined;
function switchableUsers(): string {
  if (!switchable) {
    switchable = join(tmp.dir, 'switchable.txt');
    const users = (fakeGraph().emu.snapshot() as Snapshot).users as Snapshot[];
    writeFileSync(switchable, users.map((u) => u.userPrincipalName as string).filter((u) => !/^(judy|zoe)@/.test(u)).join('\n'));
  }
  return switchable;
}
/** An operation's last journal record. */
const opRecord = (runDir: string, op: string) => journalLines(runDir).filter((l) => l.t === 'ops').flatMap((l) => l.ops).filter((o: Snapshot) => o.op === op).at(-1);

describe('apply switches a user only once their data is there', () => {
  it('the Contoso sample, switched by staged rollout: policy created, group attached, every user with a cloud method added; re-planning shows no change', async () => {
    const dir = fresh();
    const { g, plan } = await planOfUntouched(`${dir}.plan`, { rolloutGroups: [ROLLOUT] });
    const switched = switchedBy(plan);
    expect(switched).toHaveLength(35);
    // judy (an 8-digit token, no phone) and zoe (email only) have no cloud method: not switched.
    expect(switched).not.toContain('judy@contoso.com');
    expect(plan.findings.filter((f) => f.code === 'not-switched').map((f) => f.user)).toEqual(['judy@contoso.com', 'zoe@contoso.com']);
    // Said once, by the cutover: not again as no-usable-method (a review saw two warnings for one fact).
    expect(plan.findings.filter((f) => f.code === 'no-usable-method')).toEqual([]);

    const { outcome } = await applyFile(g, `${dir}.plan`, dir, { batchSize: 10 });
    expect(outcome.state).toBe('completed');
    const s = g.emu.snapshot() as Snapshot;
    expectPlanApplied(plan, s);
    const group = groupOf(s, ROLLOUT);
    expect(s.featureRolloutPolicies).toEqual([expect.objectContaining({ feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: false, appliesTo: [group.id] })]);
    expect(group.members.sort()).toEqual(switched.map((u) => idOf(s, u)).sort());
    // Each user's switch came after every other write of theirs.
    const log = writes(g.emu.requests());
    for (const upn of ['grace@contoso.com', 'bob@contoso.com']) {
      const id = idOf(s, upn);
      const mine = log.map((w, i) => [w, i] as const).filter(([w]) => w.path.includes(id) || JSON.stringify(w.body ?? '').includes(id));
      expect(mine.at(-1)![0].path).toMatch(/\/groups\/[^/]+\/members\/\$ref$/);
    }

    const again = (await planTo(g, `${dir}-again.plan`, { rolloutGroups: [ROLLOUT] })).plan;
    expect([again.summary.create, again.summary.update, again.summary.delete]).toEqual([0, 0, 0]);
    expect(again.cutover_changes).toEqual([]);
    expect(again.cutover!.switched).toEqual({ already: 35, by_plan: 0, not_switched: 2 });
  });

  it('a user whose token activation fails is not switched, and the results say why; the others are', async () => {
    const g = fakeGraph();
    // A token of grace's serial in the inventory with another seed: the plan activates it, the code from the export's seed is refused.
    const device = await g.raw.post('/beta/directory/authenticationMethodDevices/hardwareOathDevices', { serialNumber: '20010001', manufacturer: 'Other', model: 'T', secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', timeIntervalInSeconds: 30, hashFunction: 'hmacsha1' });
    expect(device.status).toBe(201);
    const dir = fresh();
    const { plan } = await planTo(g, `${dir}.plan`, { rolloutGroups: [ROLLOUT] });
    expect(plan.user_changes.find((c) => c.user === 'grace@contoso.com' && c.resource === 'hardwareOathMethods/20010001')?.rule).toBe('OATH-ACTIVATE-EXISTING');
    expect(switchedBy(plan)).toContain('grace@contoso.com');

    const { outcome, results } = await applyFile(g, `${dir}.plan`, dir);
    expect(outcome.state).toBe('partial');
    // A failure is for resume to send again.
    expect(outcome.resumable).toBe(true);
    const grace = results.find((r) => r.user === 'grace@contoso.com')!;
    expect(grace).toMatchObject({ outcome: 'partial', failed: 1 });
    expect(grace.first_error).toMatch(/^400/);
    const s = g.emu.snapshot() as Snapshot;
    const graceId = idOf(s, 'grace@contoso.com');
    expect(groupOf(s, ROLLOUT).members).not.toContain(graceId);
    expect(groupOf(s, ROLLOUT).members).toHaveLength(34);
    const rec = opRecord(runDirs(dir)[0]!, `${graceId}/rolloutGroup/${groupOf(s, ROLLOUT).id}`);
    // Whichever token path the run took (bulk: assign-and-activate in one write; single: activate).
    expect(rec.state).toBe('skipped');
    expect(rec.error).toMatch(new RegExp(`^skipped: ${graceId}/hardwareOathMethods/20010001/(assign-)?activate did not succeed$`));
  });
});

describe('the staged rollout limits are met in the plan, not discovered in apply', () => {
  it('a dynamic group is refused, with the reason', async () => {
    const g = fakeGraph();
    const err = await planTo(g, `${fresh()}.plan`, { rolloutGroups: ['Contoso Sales'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CutoverRefusedError);
    expect((err as Error).message).toMatch(/--rollout-group "Contoso Sales": a dynamic group: staged rollout does not take dynamic groups/);
    const nested = await planTo(g, `${fresh()}.plan`, { rolloutGroups: ['MFA Migration All'] }).catch((e: unknown) => e);
    expect((nested as Error).message).toMatch(/"MFA Migration All": it holds 1 group\(s\): staged rollout does not take nested groups/);
  });
});

describe('federation: the final step', () => {
  it('is refused while users of the domain are left on MFA Server, naming them', async () => {
    const g = fakeGraph();
    const err = await planTo(g, `${fresh()}.plan`, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CutoverRefusedError);
    expect((err as Error).message).toMatch(/2 user\(s\) of contoso\.com in scope would be left on MFA Server, neither switched already nor switched by this plan \(it switches only users left with a cloud MFA method they can use\): judy@contoso\.com, zoe@contoso\.com/);
    expect(writes(g.emu.requests())).toEqual([]);
  });

  /** A review found the first version inert: the plan did not read disabled users, so it never knew their Entra account could sign in. */
  it('counts users disabled in MFA Server whose Entra account can still sign in; --force-federation names them, and the plan applies as planned', async () => {
    const tenant = JSON.parse(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8')) as { users: { userPrincipalName: string; accountEnabled?: boolean; methods?: unknown }[] };
    for (const u of tenant.users) if (/^(rupert|ravi)@/.test(u.userPrincipalName)) u.accountEnabled = true;
    const g = fakeGraph({ tenant });
    const err = await planTo(g, `${fresh()}.plan`, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject' }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/4 user\(s\) of contoso\.com in scope would be left on MFA Server, .*\(2 of them disabled in MFA Server, whose Entra account can still sign in\): judy@contoso\.com, rupert@contoso\.com, zoe@contoso\.com, ravi@contoso\.com\./);
    const file = `${fresh()}.plan`;
    const { plan } = await planTo(g, file, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    expect(plan.findings.find((f) => f.code === 'federation-forced')!.message).toMatch(/\(2 of them disabled in MFA Server, whose Entra account can still sign in\)/);
    // Nothing planned for them: they stay disabled in the plan, with their tenant account recorded.
    expect(plan.users.filter((u) => /^(rupert|ravi)@/.test(u.user)).map((u) => [u.status, u.user_id !== null])).toEqual([
      ['disabled', true],
      ['disabled', true],
    ]);
    expect(plan.user_changes.filter((c) => /^(rupert|ravi)@/.test(c.user))).toEqual([]);
    // The saved plan is the plan its sources give: apply takes it.
    expect((await applyFile(g, file, `${fresh()}-state`, { maxUsers: 1 })).outcome.state).toBe('completed');
  });

  it('is applied last when every switch of the domain succeeded; rollback puts back the groups, the policy and the federation', async () => {
    const dir = fresh();
    // The users with a cloud method: judy and zoe are left out of this plan's scope, which the
    // federation step cannot check, so it is forced.
    const users = switchableUsers();
    const { g, plan } = await planOfUntouched(`${dir}.plan`, { users, rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    const before = g.emu.snapshot() as Snapshot;
    const fed = plan.cutover_changes.find((c) => c.target === 'domains/contoso.com/federationConfiguration')!;
    expect(fed).toMatchObject({ switches: 35, after: { federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' } });
    expect(plan.findings.find((f) => f.code === 'federation-reject')!.message).toMatch(/up to 24 hours/);

    const { outcome } = await applyFile(g, `${dir}.plan`, dir, { batchSize: 10 });
    expect(outcome.state).toBe('completed');
    expect([outcome.federationDone, outcome.federationLeft]).toEqual([['contoso.com'], []]);
    const after = g.emu.snapshot() as Snapshot;
    expect(federation(after)).toBe('rejectMfaByFederatedIdp');
    // Last: after every member add.
    const log = writes(g.emu.requests());
    expect(log.at(-1)).toMatchObject({ method: 'PATCH' });
    expect(log.at(-1)!.path).toMatch(/\/domains\/contoso\.com\/federationConfiguration\//);

    const events: { phase: string; done: number; total: number }[] = [];
    const rolled = await rollbackIn(g, dir, outcome.runId, { onProgress: (e) => events.push({ phase: e.phase, done: e.stats.done, total: e.stats.total }) });
    expect(rolled.outcome.state).toBe('completed');
    // Said in its summary: the federation put back and the policy it created deleted move users back at once.
    expect(rolled.outcome.cutoverUndone.map((x) => x.kind).sort()).toEqual(expect.arrayContaining(['federation-update', 'rollout-policy-delete']));
    // Progress for the admin: the last event is the end, every inverse done.
    expect(events.at(-1)).toEqual({ phase: 'done', done: rolled.outcome.counts.done, total: rolled.outcome.counts.done });
    const back = g.emu.snapshot() as Snapshot;
    expect(federation(back)).toBe('acceptIfMfaDoneByFederatedIdp');
    expect(back.featureRolloutPolicies).toEqual([]);
    expect(groupOf(back, ROLLOUT).members).toEqual([]);
    expect(back.groups).toEqual(before.groups);
  });

  it('is left as it is, saying why, when a switch of the domain did not succeed', async () => {
    const g = fakeGraph();
    await g.raw.post('/beta/directory/authenticationMethodDevices/hardwareOathDevices', { serialNumber: '20010002', manufacturer: 'Other', model: 'T', secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', timeIntervalInSeconds: 60, hashFunction: 'hmacsha256' });
    const dir = fresh();
    const { plan } = await planTo(g, `${dir}.plan`, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    expect(plan.findings.find((f) => f.code === 'federation-forced')!.message).toContain('judy@contoso.com, zoe@contoso.com');
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    expect(outcome.state).toBe('partial');
    expect(federation(g.emu.snapshot() as Snapshot)).toBe('acceptIfMfaDoneByFederatedIdp');
    const rec = opRecord(runDirs(dir)[0]!, 'cutover/domains/contoso.com/federationConfiguration');
    expect(rec).toMatchObject({ state: 'skipped', error: '1 of the 35 switch(es) of contoso.com did not succeed: its federation is left as it is' });
    // Found by an auditor: the summary counted it skipped but named only the users.
    expect(renderApplySummary(outcome, dir, undefined)).toContain("\n  federation of contoso.com (shared, no user's): skipped: 1 of the 35 switch(es) of contoso.com did not succeed: its federation is left as it is\n");
  });

  /** Found by a review: a run left with only stale users offered a resume, which could never send them nor the federation waiting for them. */
  it('waits for a stale user\'s switch that no resume sends: the run is not offered for resume, and says who needs a new plan', async () => {
    const dir = fresh();
    const { g } = await planOfUntouched(`${dir}.plan`, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    expect((await g.raw.patch('/v1.0/users/igor@contoso.com/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7', { phoneNumber: '+1 2065550188', phoneType: 'mobile' })).status).toBe(204);
    const { outcome } = await applyFile(g, `${dir}.plan`, dir, { skipStale: true });
    expect(outcome.state).toBe('partial');
    expect(opRecord(runDirs(dir)[0]!, 'cutover/domains/contoso.com/federationConfiguration')).toMatchObject({ state: 'skipped', error: expect.stringMatching(/^1 of the 35 switch\(es\) of contoso\.com did not succeed/) });
    expect(outcome.resumable).toBe(false);
    expect(outcome.staleUsers).toEqual({ count: 1, first: ['igor@contoso.com'] });
  });
});

/** A black-box review: apply said judy and zoe were left on MFA Server right above "federation of contoso.com: done". */
describe('the users a forced federation moves to Entra MFA with no cloud method', () => {
  const summaryOf = (applied: Awaited<ReturnType<typeof applyFile>>, dir: string) => renderApplySummary(applied.outcome, dir, undefined);
  const firstErrors = (applied: { results: readonly ResultRow[] }) => applied.results.filter((r) => /^(judy|zoe)@/.test(r.user)).map((r) => [r.user, r.outcome, r.first_error]);
  const moved = 'moved to Entra MFA by the federation of contoso.com (--force-federation) with no cloud MFA method the authentication methods policy lets them use: they cannot complete MFA (not-switched); migrate or enable a method for them now';
  const movedLine = '\n  2 user(s) moved to Entra MFA by the federation of contoso.com (--force-federation) with no cloud MFA method the policy lets them use: they cannot complete MFA (not-switched): judy@contoso.com, zoe@contoso.com. Migrate or enable a method for them now\n';

  it('the federation done: the summary and the rows say the federation moved them, with nothing to sign in with, not that they are left on MFA Server', async () => {
    const dir = fresh();
    const { g, plan } = await planOfUntouched(`${dir}.plan`, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    const planned = expect.stringMatching(/^no cloud MFA method .*: not added to a rollout group, but moved to Entra MFA all the same by the federation of contoso\.com \(--force-federation\), with nothing to sign in with/);
    expect(plan.findings.filter((f) => f.code === 'not-switched').map((f) => [f.user, f.message])).toEqual([
      ['judy@contoso.com', planned],
      ['zoe@contoso.com', planned],
    ]);
    const applied = await applyFile(g, `${dir}.plan`, dir);
    expect(applied.outcome.federationDone).toEqual(['contoso.com']);
    expect(applied.outcome.leftOnMfaServer).toBeUndefined();
    expect(applied.outcome.movedByForcedFederation).toEqual([{ domain: 'contoso.com', users: ['judy@contoso.com', 'zoe@contoso.com'] }]);
    expect(movedByFederationNote('contoso.com')).toBe(moved);
    expect(firstErrors(applied)).toEqual([
      ['judy@contoso.com', 'unchanged', moved],
      ['zoe@contoso.com', 'unchanged', moved],
    ]);
    const summary = summaryOf(applied, dir);
    expect(summary).toContain(movedLine);
    expect(summary).not.toContain('left on MFA Server');
    // Said right below the federation's own line.
    expect(summary.indexOf(movedLine)).toBeGreaterThan(summary.indexOf('  federation of contoso.com: done:'));
  });

  it('the federation left as it is (a switch failed): they are on MFA Server still, and said so', async () => {
    const g = fakeGraph();
    await g.raw.post('/beta/directory/authenticationMethodDevices/hardwareOathDevices', { serialNumber: '20010002', manufacturer: 'Other', model: 'T', secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', timeIntervalInSeconds: 60, hashFunction: 'hmacsha256' });
    const dir = fresh();
    await planTo(g, `${dir}.plan`, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    const applied = await applyFile(g, `${dir}.plan`, dir);
    expect(applied.outcome.federationDone).toEqual([]);
    expect(applied.outcome.leftOnMfaServer).toEqual(['judy@contoso.com', 'zoe@contoso.com']);
    expect(applied.outcome.movedByForcedFederation).toBeUndefined();
    expect(firstErrors(applied).map(([, , e]) => e)).toEqual([LEFT_ON_SERVER, LEFT_ON_SERVER]);
    expect(summaryOf(applied, dir)).toContain('\n  2 user(s) left on MFA Server (no cloud MFA method the policy lets them use, so the plan does not switch them; not-switched): judy@contoso.com, zoe@contoso.com.');
  });

  it('the run stopped before the federation: left on MFA Server; the resume that sets it says the federation moved them', async () => {
    const dir = fresh();
    const { g } = await planOfUntouched(`${dir}.plan`, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    const first = await applyFile(g, `${dir}.plan`, dir, { batchSize: 10, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    expect(federation(g.emu.snapshot() as Snapshot)).toBe('acceptIfMfaDoneByFederatedIdp');
    expect(first.outcome.movedByForcedFederation).toBeUndefined();
    expect(first.outcome.leftOnMfaServer).toEqual(['judy@contoso.com', 'zoe@contoso.com']);
    expect(firstErrors(first).map(([, , e]) => e)).toEqual([LEFT_ON_SERVER, LEFT_ON_SERVER]);
    const resumed = await resumeIn(g, dir);
    expect(resumed.outcome.state).toBe('completed');
    expect(federation(g.emu.snapshot() as Snapshot)).toBe('rejectMfaByFederatedIdp');
    expect(resumed.outcome.leftOnMfaServer).toBeUndefined();
    expect(resumed.outcome.movedByForcedFederation).toEqual([{ domain: 'contoso.com', users: ['judy@contoso.com', 'zoe@contoso.com'] }]);
    expect(firstErrors(resumed).map(([, , e]) => e)).toEqual([moved, moved]);
    expect(renderApplySummary(resumed.outcome, dir, undefined)).toContain(movedLine);
  });
});

/** Found by a black-box test: a run narrowed by --users could never send the federation, and its advice (resume) went round in circles. */
describe('federation with a narrowed run', () => {
  it('is left out of the run, and said, when users whose switch it waits for are not selected; the run completes', async () => {
    const dir = fresh();
    const { g, plan } = await planOfUntouched(`${dir}.plan`, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    const withChanges = new Set(plan.user_changes.map((c) => c.user.toLowerCase())).size;
    const { outcome } = await applyFile(g, `${dir}.plan`, dir, { users: ['bob@contoso.com', 'grace@contoso.com'] });
    expect(outcome.state).toBe('completed');
    expect(outcome.counts).toMatchObject({ failed: 0, skipped: 0, pending: 0 });
    expect(outcome.notSelected).toEqual({ users: withChanges - 2, federation: ['contoso.com'] });
    expect(federation(g.emu.snapshot() as Snapshot)).toBe('acceptIfMfaDoneByFederatedIdp');
    const lines = journalLines(runDirs(dir)[0]!);
    expect(lines[0].options.federationNotSelected).toEqual(['contoso.com']);
    expect(lines.filter((l) => l.t === 'ops').flatMap((l) => l.ops).map((o: { op: string }) => o.op)).not.toContain('cutover/domains/contoso.com/federationConfiguration');
    expect(renderApplySummary(outcome, dir, undefined)).toContain(`not selected for this run: ${withChanges - 2} user(s) of the plan with changes; the federation of contoso.com (it waits for every switch of the domain's users). To go on with them, make a new plan`);
    // Found by an auditor: the report listed it pending (to be sent) while its counts said 0 pending.
    const report = await runReport(outcome.runId, dir);
    expect(report.run.counts.pending).toBe(0);
    expect(report.shared.find((o) => o.op === 'cutover/domains/contoso.com/federationConfiguration')).toMatchObject({ state: 'not-selected', at: null, error: null });
    expect(report.shared.filter((o) => o.state === 'pending')).toEqual([]);
    expect(renderRunReportMarkdown(report)).toContain('| domains/contoso.com/federationConfiguration | not-selected |');
  });

  it('is kept when every switch of the domain is selected', async () => {
    const dir = fresh();
    const { g, plan } = await planOfUntouched(`${dir}.plan`, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    const { outcome } = await applyFile(g, `${dir}.plan`, dir, { users: [...new Set(plan.user_changes.map((c) => c.user.toLowerCase()))] });
    expect(outcome.notSelected).toEqual({ users: 0, federation: [] });
    expect(federation(g.emu.snapshot() as Snapshot)).toBe('rejectMfaByFederatedIdp');
  });
});

describe('members of a rollout group outside the plan (a black-box test saw them switched with no method, unwarned)', () => {
  const addTo = async (g: FakeGraph, group: string, upns: string[]) => {
    const s = g.emu.snapshot() as Snapshot;
    for (const upn of upns) expect((await g.raw.post(`/v1.0/groups/${groupOf(s, group).id}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${idOf(s, upn)}` })).status).toBe(204);
  };

  it('plan users the attach switches before their methods are written are warned of; one with a phone in Entra already is not (a black-box test)', async () => {
    const g = fakeGraph();
    await addTo(g, ROLLOUT, ['bob@contoso.com', 'grace@contoso.com']);
    // grace has a phone in Entra before the plan: the attach leaves her something to sign in with.
    const s = g.emu.snapshot() as Snapshot;
    expect((await g.raw.post(`/v1.0/users/${idOf(s, 'grace@contoso.com')}/authentication/phoneMethods`, { phoneNumber: '+1 4255550199', phoneType: 'office' })).status).toBe(201);
    const users = join(tmp.dir, `scope-before${n}.txt`);
    writeFileSync(users, 'bob@contoso.com\ngrace@contoso.com\ncarol@contoso.com\n');
    const { plan } = await planTo(g, `${fresh()}.plan`, { users, rolloutGroups: [ROLLOUT] });
    expect(plan.findings.filter((f) => f.code === 'switched-before-methods').map((f) => f.user)).toEqual(['bob@contoso.com']);
  });

  const removeFrom = async (g: FakeGraph, group: string, upns: string[]) => {
    const s = g.emu.snapshot() as Snapshot;
    for (const upn of upns) expect((await g.raw.delete(`/v1.0/groups/${groupOf(s, group).id}/members/${idOf(s, upn)}/$ref`)).status).toBe(204);
  };
  const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

  it('a plan whose staged rollout step would switch a user with no cloud method is refused, a plan user or not (a black-box test saw zoe switched, exit 0)', async () => {
    const g = fakeGraph();
    // zoe (email only) has no cloud method; bob gets his phones from the plan.
    await addTo(g, ROLLOUT, ['zoe@contoso.com', 'bob@contoso.com']);
    g.emu.clearRequests();
    const err = await refusal(planTo(g, `${fresh()}.plan`, { rolloutGroups: [ROLLOUT] }));
    expect(err).toBeInstanceOf(CutoverRefusedError);
    expect((err as Error).message).toMatch(
      /the rollout group "MFA Staged Rollout": creating the staged rollout policy for it switches 1 member\(s\) to Entra MFA who have no cloud MFA method .*: zoe@contoso\.com\. Take them out of the group, or give them a method first \(migrate or enable one for them\), and plan again \(or plan without --rollout-group for now\)/,
    );
    // zoe outside the plan's users: the same.
    const users = join(tmp.dir, `scope-zoe${n}.txt`);
    writeFileSync(users, 'bob@contoso.com\n');
    expect(((await refusal(planTo(g, `${fresh()}.plan`, { users, rolloutGroups: [ROLLOUT] }))) as Error).message).toMatch(/switches 1 member\(s\) .*: zoe@contoso\.com\./);
    expect(writes(g.emu.requests())).toEqual([]);
    // Taken out, the plan is made: bob, whose phones the plan writes, is no reason to refuse it.
    await removeFrom(g, ROLLOUT, ['zoe@contoso.com']);
    const { plan } = await planTo(g, `${fresh()}.plan`, { rolloutGroups: [ROLLOUT] });
    expect(plan.findings.filter((f) => f.code === 'switched-before-methods').map((f) => f.user)).toEqual(['bob@contoso.com']);
  });

  it('attaching a group, or enabling the policy, switches every member: those outside the plan with nothing to sign in with refuse it; once switched, a plan that switches no one new says nothing of them', async () => {
    const g = fakeGraph();
    // judy (a token Entra cannot take) and zoe (email only) have no cloud method; alice has phones.
    await addTo(g, ROLLOUT, ['judy@contoso.com', 'zoe@contoso.com', 'alice@contoso.com']);
    const dir = fresh();
    const users = join(tmp.dir, `scope${n}.txt`);
    writeFileSync(users, 'bob@contoso.com\ncarol@contoso.com\n');
    const err = await refusal(planTo(g, `${dir}-refused.plan`, { users, rolloutGroups: [ROLLOUT] }));
    expect((err as CutoverRefusedError).reasons).toEqual([expect.stringMatching(/^the rollout group "MFA Staged Rollout": creating the staged rollout policy for it switches 2 member\(s\) .*: judy@contoso\.com, zoe@contoso\.com\. Take them out/)]);
    await removeFrom(g, ROLLOUT, ['judy@contoso.com', 'zoe@contoso.com']);
    const { plan } = await planTo(g, `${dir}.plan`, { users, rolloutGroups: [ROLLOUT] });
    expect(plan.findings.filter((f) => f.code === 'switched-without-method')).toEqual([]);
    // Saved with what was read of them, so the saved plan is checked against the same.
    const saved = await SavedPlan.open(`${dir}.plan`);
    expect(saved.header.cutover_seen?.rolloutMembers?.map((m) => m.userPrincipalName).sort()).toEqual(['alice@contoso.com']);
    expect((await applyFile(g, `${dir}.plan`, dir)).outcome.state).toBe('completed');

    // Back in the group, now attached to the enabled policy: switched already, not this plan's doing, nothing to refuse.
    await addTo(g, ROLLOUT, ['judy@contoso.com', 'zoe@contoso.com']);
    const third = (await planTo(g, `${dir}-third.plan`, { users, rolloutGroups: [ROLLOUT] })).plan;
    expect(third.findings.filter((f) => f.code === 'switched-without-method')).toEqual([]);
    // A plan user among them is warned of, as switched already.
    writeFileSync(users, 'bob@contoso.com\nzoe@contoso.com\n');
    const fourth = (await planTo(g, `${dir}-fourth.plan`, { users, rolloutGroups: [ROLLOUT] })).plan;
    expect(fourth.findings.filter((f) => f.code === 'switched-without-method').map((f) => [f.user, f.message])).toEqual([['zoe@contoso.com', expect.stringMatching(/switched to Entra MFA already/)]]);
    // The policy disabled since, with its group: enabling it again would switch them, refused the same way.
    const s = g.emu.snapshot() as Snapshot;
    expect((await g.raw.patch(`/v1.0/policies/featureRolloutPolicies/${s.featureRolloutPolicies[0].id}`, { isEnabled: false })).status).toBe(204);
    writeFileSync(users, 'bob@contoso.com\ncarol@contoso.com\n');
    const again = await refusal(planTo(g, `${dir}-again.plan`, { users, rolloutGroups: [ROLLOUT] }));
    expect((again as CutoverRefusedError).reasons).toEqual([expect.stringMatching(/^the rollout group "MFA Staged Rollout": enabling the staged rollout policy switches 2 member\(s\) .*: judy@contoso\.com, zoe@contoso\.com\./)]);
  });

  it('a user who joined a group the plan attaches, or holds in the policy it enables, since the plan makes it stale, before anything is written', async () => {
    const g = fakeGraph();
    const dir = fresh();
    const users = join(tmp.dir, `scope${n}.txt`);
    writeFileSync(users, 'bob@contoso.com\n');
    await planTo(g, `${dir}.plan`, { users, rolloutGroups: [ROLLOUT] });
    await addTo(g, ROLLOUT, ['judy@contoso.com']);
    g.emu.clearRequests();
    await expect(applyFile(g, `${dir}.plan`, dir, { skipStale: true })).rejects.toThrow(/1 user\(s\) joined "MFA Staged Rollout" since the plan \(judy@contoso\.com\): attaching the group would switch them to Entra MFA without the plan having checked that they have a method to sign in with: make a new plan/);
    expect(writes(g.emu.requests())).toEqual([]);
    // Planned again, judy is judged (and named: the plan is refused); taken out, the plan applies.
    expect(((await refusal(planTo(g, `${dir}-refused.plan`, { users, rolloutGroups: [ROLLOUT] }))) as Error).message).toMatch(/switches 1 member\(s\) .*: judy@contoso\.com\./);
    await removeFrom(g, ROLLOUT, ['judy@contoso.com']);
    await planTo(g, `${dir}-again.plan`, { users, rolloutGroups: [ROLLOUT] });
    expect((await applyFile(g, `${dir}-again.plan`, `${dir}-again`)).outcome.state).toBe('completed');

    // The policy disabled, then a plan that enables it; zoe joins its group since.
    const s = g.emu.snapshot() as Snapshot;
    expect((await g.raw.patch(`/v1.0/policies/featureRolloutPolicies/${s.featureRolloutPolicies[0].id}`, { isEnabled: false })).status).toBe(204);
    writeFileSync(users, 'carol@contoso.com\n');
    await planTo(g, `${dir}-enable.plan`, { users, rolloutGroups: [ROLLOUT] });
    await addTo(g, ROLLOUT, ['zoe@contoso.com']);
    await expect(applyFile(g, `${dir}-enable.plan`, `${dir}-enable`)).rejects.toThrow(/1 user\(s\) joined "MFA Staged Rollout" since the plan \(zoe@contoso\.com\): enabling the staged rollout policy would switch them/);
  });

  it("a user of the plan it chose not to switch (no cloud method) who joins the group since is stale too (a review: the plan's users were let through)", async () => {
    const g = fakeGraph();
    const dir = fresh();
    const users = join(tmp.dir, `scope${n}.txt`);
    writeFileSync(users, 'bob@contoso.com\njudy@contoso.com\n');
    const { plan } = await planTo(g, `${dir}.plan`, { users, rolloutGroups: [ROLLOUT] });
    expect(plan.findings.filter((f) => f.code === 'not-switched').map((f) => f.user)).toEqual(['judy@contoso.com']);
    await addTo(g, ROLLOUT, ['judy@contoso.com']);
    g.emu.clearRequests();
    await expect(applyFile(g, `${dir}.plan`, dir)).rejects.toThrow(/1 user\(s\) joined "MFA Staged Rollout" since the plan \(judy@contoso\.com\): attaching the group would switch them/);
    expect(writes(g.emu.requests())).toEqual([]);
  });
});

/**
 * A reviewer's repro: judy (no cloud method) in "MFA Migration Wave 1", attached to the enabled
 * policy, and in the group the plan attaches: switched already, so warned of, not refused. Taken out
 * of Wave 1 (or it detached) since the plan, the attach would switch her itself with nothing.
 */
describe('a member the plan took as switched already by another attached group, no longer so since', () => {
  const WAVE1 = 'MFA Migration Wave 1';
  const WAVE2 = '0b5c6f1e-2d3a-4b7c-8e9f-a1b2c3d4e5f6';
  const addTo = async (g: FakeGraph, group: string, upns: string[]) => {
    const s = g.emu.snapshot() as Snapshot;
    for (const upn of upns) expect((await g.raw.post(`/v1.0/groups/${groupOf(s, group).id}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${idOf(s, upn)}` })).status).toBe(204);
  };
  /** The enabled policy with Wave 1 attached; judy in Wave 1 and in the rollout group; a plan of bob (and judy, as a plan user) attaching the rollout group. */
  async function judySwitchedByWave1(users: string[]) {
    // The sample tenant with an empty group more, to attach later.
    const tenant = JSON.parse(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8')) as { groups: unknown[] };
    const g = fakeGraph({ tenant: { ...tenant, groups: [...tenant.groups, { id: WAVE2, displayName: 'MFA Migration Wave 2', members: [] }] } });
    const policy = await g.raw.post('/v1.0/policies/featureRolloutPolicies', { displayName: 'Waves', feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: false });
    const wave1 = groupOf(g.emu.snapshot() as Snapshot, WAVE1).id as string;
    expect((await g.raw.post(`/v1.0/policies/featureRolloutPolicies/${policy.body.id}/appliesTo/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${wave1}` })).status).toBe(204);
    await addTo(g, WAVE1, ['judy@contoso.com']);
    await addTo(g, ROLLOUT, ['judy@contoso.com']);
    const dir = fresh();
    const list = join(tmp.dir, `scope${n}.txt`);
    writeFileSync(list, users.join('\n'));
    const { plan } = await planTo(g, `${dir}.plan`, { users: list, rolloutGroups: [ROLLOUT] });
    return { g, dir, plan, policyId: policy.body.id as string, wave1, judy: idOf(g.emu.snapshot() as Snapshot, 'judy@contoso.com') as string };
  }

  it('the plan warns of her, naming the group that switched her (Wave 1), not the one it attaches', async () => {
    const { plan } = await judySwitchedByWave1(['bob@contoso.com', 'judy@contoso.com']);
    expect(plan.findings.filter((f) => f.code === 'switched-without-method').map((f) => [f.user, f.message])).toEqual([
      ['judy@contoso.com', expect.stringMatching(/^a member of the rollout group "MFA Migration Wave 1" with no cloud MFA method .*switched to Entra MFA already by it, .*take them out of the rollout groups\)$/)],
    ]);
  });

  it('taken out of Wave 1 since the plan, a plan user or not: apply refuses before any write, naming her; left there, it applies', async () => {
    for (const users of [['bob@contoso.com', 'judy@contoso.com'], ['bob@contoso.com']]) {
      const { g, dir, wave1, judy } = await judySwitchedByWave1(users);
      expect((await g.raw.delete(`/v1.0/groups/${wave1}/members/${judy}/$ref`)).status).toBe(204);
      g.emu.clearRequests();
      await expect(applyFile(g, `${dir}.plan`, dir, { skipStale: true })).rejects.toThrow(
        /1 user\(s\) the plan took as switched to Entra MFA already are no longer switched by "MFA Migration Wave 1" since the plan \(judy@contoso\.com\): attaching the group would switch them itself, and the plan did not refuse one of them with no cloud MFA method, who would have nothing to sign in with: make a new plan/,
      );
      expect(writes(g.emu.requests())).toEqual([]);
      // Back in Wave 1: the plan holds again, and applies.
      await addTo(g, WAVE1, ['judy@contoso.com']);
      expect((await applyFile(g, `${dir}.plan`, `${dir}-back`)).outcome.state).toBe('completed');
    }
  });

  it('taken out of Wave 1 and out of the group the plan attaches: no one the attach switches, so not refused for her (a review: a false refusal)', async () => {
    const { g, dir, wave1, judy } = await judySwitchedByWave1(['bob@contoso.com']);
    expect((await g.raw.delete(`/v1.0/groups/${wave1}/members/${judy}/$ref`)).status).toBe(204);
    const rollout = groupOf(g.emu.snapshot() as Snapshot, ROLLOUT).id as string;
    expect((await g.raw.delete(`/v1.0/groups/${rollout}/members/${judy}/$ref`)).status).toBe(204);
    const applied = await applyFile(g, `${dir}.plan`, dir);
    expect(applied.outcome.state).toBe('completed');
  });

  it('asks the users it took as switched elsewhere for their groups rather than listing every member of every attached group (a review: up to 50,000 a group)', async () => {
    const { g, dir, policyId } = await judySwitchedByWave1(['bob@contoso.com']);
    // Another group attached since, unrelated to judy: its members are not listed.
    expect((await g.raw.post(`/v1.0/policies/featureRolloutPolicies/${policyId}/appliesTo/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${WAVE2}` })).status).toBe(204);
    g.emu.clearRequests();
    const applied = await applyFile(g, `${dir}.plan`, dir);
    expect(applied.outcome.state).toBe('completed');
    const paths = g.operations().map((o) => o.path);
    expect(paths.filter((p) => p.includes(`/groups/${WAVE2}/`))).toEqual([]);
    expect(paths.some((p) => /\/users\/[^/]+\/memberOf/.test(p))).toBe(true);
  });

  it('Wave 1 detached since the plan: refused the same way', async () => {
    const { g, dir, policyId, wave1 } = await judySwitchedByWave1(['bob@contoso.com']);
    expect((await g.raw.delete(`/v1.0/policies/featureRolloutPolicies/${policyId}/appliesTo/${wave1}/$ref`)).status).toBe(204);
    g.emu.clearRequests();
    await expect(applyFile(g, `${dir}.plan`, dir)).rejects.toThrow(/are no longer switched by "MFA Migration Wave 1" since the plan \(judy@contoso\.com\)/);
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it('moved from Wave 1 to another group attached to the policy: still switched, the plan applies', async () => {
    const { g, dir, policyId, wave1, judy } = await judySwitchedByWave1(['bob@contoso.com']);
    expect((await g.raw.post(`/v1.0/policies/featureRolloutPolicies/${policyId}/appliesTo/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${WAVE2}` })).status).toBe(204);
    await addTo(g, 'MFA Migration Wave 2', ['judy@contoso.com']);
    expect((await g.raw.delete(`/v1.0/groups/${wave1}/members/${judy}/$ref`)).status).toBe(204);
    expect((await applyFile(g, `${dir}.plan`, dir)).outcome.state).toBe('completed');
  });
});

/** From a review: checks of the cutover that a narrowed run, a late attach or a late leaver slipped through. */
describe('the cutover pre-flight and final step, as a review tried them', () => {
  it('a group attached to the disabled policy since the plan makes its enabling stale (it would switch that group too)', async () => {
    const g = fakeGraph();
    const pilot = await g.raw.post('/v1.0/policies/featureRolloutPolicies', { displayName: 'Earlier pilot', feature: 'multiFactorAuthentication', isEnabled: false, isAppliedToOrganization: false });
    const dir = fresh();
    await planTo(g, `${dir}.plan`, { rolloutGroups: [ROLLOUT] });
    const wave1 = groupOf(g.emu.snapshot() as Snapshot, 'MFA Migration Wave 1').id;
    expect((await g.raw.post(`/v1.0/policies/featureRolloutPolicies/${pilot.body.id}/appliesTo/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${wave1}` })).status).toBe(204);
    g.emu.clearRequests();
    await expect(applyFile(g, `${dir}.plan`, dir)).rejects.toThrow(/1 group\(s\) were attached to the disabled staged rollout policy since the plan .*: enabling it would switch their users too/);
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it('a run narrowed away from a domain\'s federation is not refused for that federation\'s premise', async () => {
    const g = fakeGraph();
    const dir = fresh();
    const users = join(tmp.dir, `first${n}.txt`);
    const before = g.emu.snapshot() as Snapshot;
    writeFileSync(users, (before.users as Snapshot[]).map((u) => u.userPrincipalName as string).filter((u) => !/^(judy|zoe|bob|carol)@/.test(u)).join('\n'));
    await planTo(g, `${dir}-first.plan`, { users, rolloutGroups: [ROLLOUT] });
    expect((await applyFile(g, `${dir}-first.plan`, `${dir}-first`)).outcome.state).toBe('completed');
    await planTo(g, `${dir}.plan`, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    const s = g.emu.snapshot() as Snapshot;
    expect((await g.raw.delete(`/v1.0/groups/${groupOf(s, ROLLOUT).id}/members/${idOf(s, 'alice@contoso.com')}/$ref`)).status).toBe(204);
    // bob's switch alone (carol's is left): the federation is not this run's, so alice's leaving is not its business.
    const { outcome } = await applyFile(g, `${dir}.plan`, dir, { users: ['bob@contoso.com'] });
    expect(outcome.state).toBe('completed');
    expect(outcome.notSelected.federation).toEqual(['contoso.com']);
    // The whole plan is refused, naming her.
    await expect(applyFile(g, `${dir}.plan`, `${dir}-all`)).rejects.toThrow(/no longer in their rollout group \(alice@contoso\.com\)/);
  });

  it('a user counted switched who leaves the rollout group during the run keeps the domain as it is', async () => {
    const dir = fresh();
    const { g } = await planOfUntouched(`${dir}.plan`, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    const s = g.emu.snapshot() as Snapshot;
    const group = groupOf(s, ROLLOUT).id;
    const grace = idOf(s, 'grace@contoso.com');
    // Once grace has been added (the pre-flight is long done), an admin takes her out again.
    let removed = false;
    const fetch: typeof g.emu.fetch = async (input, init) => {
      const res = await g.emu.fetch(input, init);
      if (!removed && (g.emu.snapshot() as Snapshot).groups.find((x: Snapshot) => x.id === group).members.includes(grace)) {
        removed = true;
        await g.raw.delete(`/v1.0/groups/${group}/members/${grace}/$ref`);
      }
      return res;
    };
    const graph = connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4, retry: { capMs: 300 } });
    const { outcome } = await applyFile(g, `${dir}.plan`, dir, { graph });
    expect(removed).toBe(true);
    expect(outcome.state).toBe('partial');
    expect(federation(g.emu.snapshot() as Snapshot)).toBe('acceptIfMfaDoneByFederatedIdp');
    expect(opRecord(runDirs(dir)[0]!, 'cutover/domains/contoso.com/federationConfiguration')).toMatchObject({ state: 'skipped', error: expect.stringMatching(/^1 user\(s\) of contoso\.com the plan counts switched by staged rollout are not switched now \(grace@contoso\.com\)/) });
  });
});

describe('rollback of a policy that was there, disabled', () => {
  it('disables it again and detaches the group it attached; users it added leave the group', async () => {
    const g = fakeGraph();
    const created = await g.raw.post('/v1.0/policies/featureRolloutPolicies', { displayName: 'Earlier pilot', feature: 'multiFactorAuthentication', isEnabled: false, isAppliedToOrganization: false });
    const dir = fresh();
    const { plan } = await planTo(g, `${dir}.plan`, { rolloutGroups: [ROLLOUT] });
    expect(plan.cutover_changes.map((c) => c.action)).toEqual(['update', 'create']);
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    expect((g.emu.snapshot() as Snapshot).featureRolloutPolicies[0]).toMatchObject({ id: created.body.id, isEnabled: true });
    await rollbackIn(g, dir, outcome.runId);
    const back = g.emu.snapshot() as Snapshot;
    expect(back.featureRolloutPolicies).toEqual([expect.objectContaining({ id: created.body.id, isEnabled: false, appliesTo: [] })]);
    expect(groupOf(back, ROLLOUT).members).toEqual([]);
  });
});

/** Found by a black-box test: an admin who extended the staged rollout after the run had its users switched back by the rollback. */
describe('rollback of the staged rollout policy, after a group was added to it since the run', () => {
  const attach = (g: FakeGraph, policyId: string, name: string) =>
    g.raw.post(`/v1.0/policies/featureRolloutPolicies/${policyId}/appliesTo/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${groupOf(g.emu.snapshot() as Snapshot, name).id}` });

  it('leaves a policy the run created (reported, not deleted); the run\'s own group is detached', async () => {
    const dir = fresh();
    const { g } = await planOfUntouched(`${dir}.plan`, { rolloutGroups: [ROLLOUT] });
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    const policy = (g.emu.snapshot() as Snapshot).featureRolloutPolicies[0];
    expect((await attach(g, policy.id, 'MFA Migration Wave 1')).status).toBe(204);
    const result = await rollbackIn(g, dir, outcome.runId);
    expect(result.outcome.changedSince).toEqual([expect.objectContaining({ reason: expect.stringMatching(/^1 group\(s\) were added to the staged rollout policy since the run \(.+\): its users would be switched back$/) })]);
    const back = g.emu.snapshot() as Snapshot;
    expect(back.featureRolloutPolicies).toEqual([expect.objectContaining({ id: policy.id, isEnabled: true, appliesTo: [groupOf(back, 'MFA Migration Wave 1').id] })]);
    expect(groupOf(back, ROLLOUT).members).toEqual([]);
  });

  it('is compared again when an interrupted rollback is finished (a review found the finish deleted it)', async () => {
    const dir = fresh();
    const { g } = await planOfUntouched(`${dir}.plan`, { rolloutGroups: [ROLLOUT] });
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    const stopped = new AbortController();
    stopped.abort();
    const first = await rollbackIn(g, dir, outcome.runId, { signal: stopped.signal });
    expect(first.outcome.state).toBe('interrupted');
    const policy = (g.emu.snapshot() as Snapshot).featureRolloutPolicies[0];
    expect((await attach(g, policy.id, 'MFA Migration Wave 1')).status).toBe(204);
    const finished = await rollbackIn(g, dir, first.outcome.runId);
    expect(finished.outcome.changedSince.map((c: { reason: string }) => c.reason)).toEqual([expect.stringMatching(/were added to the staged rollout policy since the run/)]);
    expect((g.emu.snapshot() as Snapshot).featureRolloutPolicies).toEqual([expect.objectContaining({ id: policy.id, isEnabled: true })]);
  });

  it('leaves enabled a policy the run enabled; with --force it is disabled all the same', async () => {
    for (const force of [false, true]) {
      const g = fakeGraph();
      await g.raw.post('/v1.0/policies/featureRolloutPolicies', { displayName: 'Earlier pilot', feature: 'multiFactorAuthentication', isEnabled: false, isAppliedToOrganization: false });
      const dir = fresh();
      await planTo(g, `${dir}.plan`, { rolloutGroups: [ROLLOUT] });
      const { outcome } = await applyFile(g, `${dir}.plan`, dir);
      const policy = (g.emu.snapshot() as Snapshot).featureRolloutPolicies[0];
      expect((await attach(g, policy.id, 'MFA Migration Wave 1')).status).toBe(204);
      const result = await rollbackIn(g, dir, outcome.runId, { force });
      expect(result.outcome.changedSince.map((c: { reason: string }) => c.reason)).toEqual(force ? [] : [expect.stringMatching(/were added to the staged rollout policy since the run/)]);
      expect((g.emu.snapshot() as Snapshot).featureRolloutPolicies[0]).toMatchObject({ isEnabled: !force });
    }
  });
});

describe('apply re-reads the cutover before it writes', () => {
  it('a user added to the rollout group since the plan is stale (apply refuses; --skip-stale leaves the user out)', async () => {
    const dir = fresh();
    const { g } = await planOfUntouched(`${dir}.plan`, { rolloutGroups: [ROLLOUT] });
    const s = g.emu.snapshot() as Snapshot;
    const ref = { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${idOf(s, 'alice@contoso.com')}` };
    expect((await g.raw.post(`/v1.0/groups/${groupOf(s, ROLLOUT).id}/members/$ref`, ref)).status).toBe(204);
    await expect(applyFile(g, `${dir}.plan`, dir)).rejects.toThrow(/alice@contoso\.com rolloutGroup\/\S+: the user was added to the group since the plan/);
    const { results } = await applyFile(g, `${dir}.plan`, dir, { skipStale: true });
    expect(results.find((r) => r.user === 'alice@contoso.com')).toMatchObject({ outcome: 'skipped', first_error: 'stale' });
  });

  it("a domain that rejected the IdP's MFA when planned (its users counted switched by it, none added to a group) and accepts it now is stale, even with --skip-stale (a review)", async () => {
    const g = fakeGraph();
    const dir = fresh();
    const federation = '/v1.0/domains/contoso.com/federationConfiguration/1a72dea7-5ea5-52f2-b6fe-45661bf854b3';
    expect((await g.raw.patch(federation, { federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' })).status).toBe(204);
    const { plan } = await planTo(g, `${dir}.plan`, { rolloutGroups: [ROLLOUT] });
    expect(switchedBy(plan)).toEqual([]);
    expect(plan.findings.some((f) => f.code === 'switched-by-federation')).toBe(true);
    expect((await g.raw.patch(federation, { federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' })).status).toBe(204);
    const stale = /policy domains\/contoso\.com\/federationConfiguration: the plan counted the users of contoso\.com switched to Entra MFA by its federation .* it is acceptIfMfaDoneByFederatedIdp now, so they would stay on MFA Server/;
    await expect(applyFile(g, `${dir}.plan`, dir)).rejects.toThrow(stale);
    await expect(applyFile(g, `${dir}.plan`, dir, { skipStale: true })).rejects.toThrow(stale);
    // Only for a run holding users of that domain (a review: a run of other users was refused too).
    const saved = await SavedPlan.open(`${dir}.plan`);
    expect((await cutoverStale(saved, [], g.client({ readOnly: true }), [], [])).stale).toEqual([]);
    expect((await cutoverStale(saved, [], g.client({ readOnly: true }), [], [0])).stale).toHaveLength(1);
    // Rejecting again as planned: it goes ahead.
    expect((await g.raw.patch(federation, { federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' })).status).toBe(204);
    expect((await applyFile(g, `${dir}.plan`, dir)).outcome.state).toBe('completed');
  });
});

describe('status', () => {
  it('counts what the tenant holds: migrated, switched, phone-only, blocked', async () => {
    const dir = fresh();
    const { g } = await planOfUntouched(`${dir}.plan`, { rolloutGroups: [ROLLOUT] });
    await applyFile(g, `${dir}.plan`, dir, { maxUsers: 12 });
    const status = await cutoverStatus({ source: join(process.cwd(), 'fixtures', 'contoso'), graph: g.client({ readOnly: true }), concurrency: 4 });
    const s = g.emu.snapshot() as Snapshot;
    const members = new Set(groupOf(s, ROLLOUT).members);
    const rows = new Map(status.users.map((r) => [r.user.toLowerCase(), r]));
    const tenantUsers = (s.users as Snapshot[]).filter((u) => rows.has(u.userPrincipalName.toLowerCase()));
    const cloud = (u: Snapshot) => u.methods.phone.length + u.methods.hardwareOath.length + u.methods.microsoftAuthenticator.length + u.methods.softwareOath.length;
    expect(status.counts.users).toBe(40);
    expect(status.counts.switched).toBe(tenantUsers.filter((u) => members.has(u.id)).length);
    expect(status.counts.switched).toBe(12);
    expect(status.counts.migrated).toBe(tenantUsers.filter((u) => cloud(u) > 0).length);
    expect(status.counts.phone_only).toBe(tenantUsers.filter((u) => u.methods.phone.length > 0 && cloud(u) === u.methods.phone.length).length);
    expect(rows.get('sybil@contoso.com')).toMatchObject({ migrated: false, blocked: 'not in the tenant' });
    expect(rows.get('judy@contoso.com')).toMatchObject({ migrated: false, switched: false, blocked: 'no cloud MFA method: migrate the user first' });
    expect(status.rollout_policy).toMatchObject({ isEnabled: true, groups: [{ displayName: ROLLOUT, members: 12 }] });
    expect(status.federation).toEqual([{ domain: 'contoso.com', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' }]);
    expect(g.operations().filter((o) => o.method !== 'GET').length).toBeGreaterThan(0); // the apply's; status itself reads only:
    const writesBefore = writes(g.emu.requests()).length;
    await cutoverStatus({ source: join(process.cwd(), 'fixtures', 'contoso'), graph: g.client({ readOnly: true }), concurrency: 4 });
    expect(writes(g.emu.requests())).toHaveLength(writesBefore);

    // Found by a black-box test: judy put in the rollout group by hand, with no method, read as switched and not blocked.
    const judyRef = { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${idOf(s, 'judy@contoso.com')}` };
    expect((await g.raw.post(`/v1.0/groups/${groupOf(s, ROLLOUT).id}/members/$ref`, judyRef)).status).toBe(204);
    const after = await cutoverStatus({ source: join(process.cwd(), 'fixtures', 'contoso'), graph: g.client({ readOnly: true }), concurrency: 4 });
    const judy = after.users.find((r) => r.user.toLowerCase() === 'judy@contoso.com');
    expect(judy).toMatchObject({ migrated: false, switched: true, switched_by: ROLLOUT, blocked: expect.stringMatching(/^switched to Entra MFA \(MFA Staged Rollout\) with no cloud MFA method at all: they cannot complete MFA/) });
    // Still counted blocked (she was, for no method, before she was switched).
    expect([after.counts.switched, after.counts.blocked]).toEqual([status.counts.switched + 1, status.counts.blocked]);
    expect(judy!.blocked).toMatch(/\(migrate a method, or take them out of the rollout group MFA Staged Rollout\)$/);
    // Found by a review: switched by her domain's federation, she was told to leave staged rollout, which does not switch her back.
    expect((await g.raw.patch('/v1.0/domains/contoso.com/federationConfiguration/1a72dea7-5ea5-52f2-b6fe-45661bf854b3', { federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' })).status).toBe(204);
    const afterFederation = await cutoverStatus({ source: join(process.cwd(), 'fixtures', 'contoso'), graph: g.client({ readOnly: true }), concurrency: 4 });
    const federated = afterFederation.users.find((r) => r.user.toLowerCase() === 'judy@contoso.com');
    expect(federated).toMatchObject({ switched_by: 'federation', blocked: "switched to Entra MFA (federation) with no cloud MFA method at all: they cannot complete MFA (migrate a method: their domain rejects the federated IdP's MFA, for every user of it)" });
    // Found by a new admin: ravi, whose Entra sign-in is turned off, was flagged as unable to complete MFA.
    expect(afterFederation.users.find((r) => r.user.toLowerCase() === 'ravi@contoso.com')).toMatchObject({ switched: true, switched_by: 'federation', blocked: null });
  });
});

/** Found by a review: a saved final step applied after the switching run was rolled back flipped the domain all the same. */
describe('the federation final step, saved, after the switching was undone', () => {
  const tmpFed = tempDir('cutover-final-step');
  afterAll(() => tmpFed.cleanup());

  it('is refused (the staged rollout it counted on is gone), and the domain keeps accepting its IdP\'s MFA', async () => {
    const dir = join(tmpFed.dir, 'a');
    const users = switchableUsers();
    const { g } = await planOfUntouched(`${dir}.plan`, { users, rolloutGroups: [ROLLOUT] });
    const first = await applyFile(g, `${dir}.plan`, dir);
    expect(first.outcome.state).toBe('completed');
    await planTo(g, `${dir}-final.plan`, { users, rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject', forceFederation: true });
    await rollbackIn(g, dir, first.outcome.runId);
    g.emu.clearRequests();
    await expect(applyFile(g, `${dir}-final.plan`, join(tmpFed.dir, 'b'))).rejects.toThrow(/the staged rollout the plan counted the domain's users switched by changed since/);
    expect(writes(g.emu.requests())).toEqual([]);
    expect((g.emu.snapshot() as Snapshot).domains.find((d: Snapshot) => d.id === 'contoso.com').federatedIdpMfaBehavior).not.toBe('rejectMfaByFederatedIdp');
  });
});

/** Found by a black-box test: one member taken out of the rollout group and another put in kept the count, and the domain was flipped. */
describe('the federation final step, with a user counted switched taken out of the rollout group', () => {
  const tmpSwap = tempDir('cutover-swap');
  afterAll(() => tmpSwap.cleanup());

  async function switchedTenant() {
    const dir = join(tmpSwap.dir, `t${++n}`);
    const users = switchableUsers();
    const { g } = await planOfUntouched(`${dir}.plan`, { users, rolloutGroups: [ROLLOUT] });
    expect((await applyFile(g, `${dir}.plan`, dir)).outcome.state).toBe('completed');
    const final = await planTo(g, `${dir}-final.plan`, { users, rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    const s = g.emu.snapshot() as Snapshot;
    const group = groupOf(s, ROLLOUT);
    const member = (upn: string, add: boolean) =>
      add
        ? g.raw.post(`/v1.0/groups/${group.id}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${idOf(s, upn)}` })
        : g.raw.delete(`/v1.0/groups/${group.id}/members/${idOf(s, upn)}/$ref`);
    return { g, dir, final: final.plan, member };
  }

  it('is refused by the pre-flight, naming the user, though the group has as many members as before', async () => {
    const { g, dir, member } = await switchedTenant();
    expect((await member('alice@contoso.com', false)).status).toBe(204);
    expect((await member('judy@contoso.com', true)).status).toBe(204);
    g.emu.clearRequests();
    await expect(applyFile(g, `${dir}-final.plan`, `${dir}-b`)).rejects.toThrow(/1 user\(s\) of the domain the plan counted switched by staged rollout are no longer in their rollout group \(alice@contoso\.com\)/);
    expect(writes(g.emu.requests())).toEqual([]);
    expect(federation(g.emu.snapshot() as Snapshot)).toBe('acceptIfMfaDoneByFederatedIdp');
  });

  it('is checked again right before it is sent: a user taken out after the pre-flight leaves the federation as it is', async () => {
    const { g, dir, member } = await switchedTenant();
    const client = g.client();
    const { unswitchedNow } = await import('../../src/apply/cutover-preflight.js');
    const { SavedPlan } = await import('../../src/plan/plan-file.js');
    const saved = await SavedPlan.open(`${dir}-final.plan`);
    expect(saved.countedSwitches.filter((c) => c.by === 'member')).toHaveLength(35);
    expect(await unswitchedNow(client, saved.countedSwitches, ['contoso.com'])).toEqual(new Map([['contoso.com', []]]));
    expect((await member('alice@contoso.com', false)).status).toBe(204);
    expect(await unswitchedNow(client, saved.countedSwitches, ['contoso.com'])).toEqual(new Map([['contoso.com', ['alice@contoso.com']]]));
    // The policy off: nobody is switched.
    const policy = (g.emu.snapshot() as Snapshot).featureRolloutPolicies[0];
    expect((await g.raw.patch(`/v1.0/policies/featureRolloutPolicies/${policy.id}`, { isEnabled: false })).status).toBe(204);
    expect((await unswitchedNow(client, saved.countedSwitches, ['contoso.com'])).get('contoso.com')).toHaveLength(35);
  });
});

/** Found by a black-box test: a rollout group named twice (once by name, once by id) was listed twice ("rollout groups MFA Staged Rollout, MFA Staged Rollout"). */
describe('a rollout group named twice', () => {
  it('by name and by id is one group of the plan: attached once, filled once, listed once', async () => {
    const { g, plan: once } = await planOfUntouched(`${fresh()}.plan`, { rolloutGroups: [ROLLOUT] });
    const id = groupOf(g.emu.snapshot() as Snapshot, ROLLOUT).id as string;
    const file = `${fresh()}.plan`;
    const { plan } = await planTo(g, file, { rolloutGroups: [ROLLOUT, id, ROLLOUT.toUpperCase()] });
    expect(plan.options.rollout_groups).toEqual([{ id, displayName: ROLLOUT }]);
    expect(plan.cutover!.rollout_groups).toEqual(once.cutover!.rollout_groups);
    expect(plan.cutover_changes.map((c) => c.target)).toEqual(['featureRolloutPolicies/multiFactorAuthentication', `featureRolloutPolicies/multiFactorAuthentication/appliesTo/${id}`]);
    expect(switchedBy(plan)).toEqual(switchedBy(once));
    // And the saved plan applies as planned.
    expect((await applyFile(g, file, fresh())).outcome.state).toBe('completed');
  });
});
