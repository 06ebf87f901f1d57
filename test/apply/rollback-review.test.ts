import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderRollbackSummary } from '../../src/cli/views/apply-summary.js';
import { afterAll, describe, expect, it } from 'vitest';
import { connectGraph } from '../../src/graph/connect.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, crashAfterStarted, crashWithAnswersLost, journalLines, planOfUntouched, planTo, rollbackIn, runDirs, tempDir } from '../helpers/migration.js';
import { writes, type Snapshot } from '../helpers/tenant-checks.js';
import { Journal, readRun } from '../../src/apply/journal.js';
import { updatePhoneMethod } from '../../src/graph/calls/user-methods.js';

/** Rollback's gaps a review found: each test fails without its fix. */
describe('rollback, as a review tried it', () => {
  const tmp = tempDir('rollback-review');
  afterAll(() => tmp.cleanup());

  /** A plan applied in full to a fresh fake Graph, and its run's journal file. */
  async function appliedRun(name: string) {
    const dir = join(tmp.dir, name);
    const { g } = await planOfUntouched(`${dir}.plan`);
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    return { g, dir, outcome, journal: join(runDirs(dir)[0]!, 'journal.jsonl') };
  }

  it("an edited journal (a write's recorded before state) is refused before anything is sent", async () => {
    const { g, dir, outcome, journal } = await appliedRun('edited');
    const lines = readFileSync(journal, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"state":"started"') && l.includes('phoneNumber'));
    expect(at).toBeGreaterThan(0);
    lines[at] = lines[at]!.replace(/"phoneNumber":"\+1 [0-9]+"/, '"phoneNumber":"+1 9995550123"');
    writeFileSync(journal, lines.join('\n'));
    g.emu.clearRequests();
    await expect(rollbackIn(g, dir, outcome.runId)).rejects.toThrow(new RegExp(`the journal of run ${outcome.runId} was edited or damaged \\(line ${at + 1}: .*; mfa-migrate runs verify ${outcome.runId} --state-dir ${dir.replace(/[/.]/g, '\\$&')} shows the same`));
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it('a run stopped with writes in flight (outcome unknown) in a wave: rollback reads them back itself, journals them in the run, and undoes them (no resume first)', async () => {
    const { g, dir, outcome, journal } = await appliedRun('started');
    // As a crash leaves it: the journal ends after a batch's `started` line (Graph applied the batch),
    // and an alternate phone's write, sent beside it, has its answer lost too (an undo to check,
    // whichever batch the run happened to send last; nothing of the run waits on that phone).
    const runDir = runDirs(dir)[0]!;
    const alternate = journalLines(runDir).flatMap((l) => (l.t === 'ops' ? l.ops : [])).find((o: { op: string }) => o.op.endsWith('/phoneMethods/alternateMobile'))!.op;
    crashWithAnswersLost(journal, (op) => op === alternate);
    const started = [...(await readRun(runDir)).ops.values()].filter((r) => r.state === 'started').map((r) => r.op);
    expect(started.length).toBeGreaterThan(0);
    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.state).toBe('completed');
    const after = await readRun(runDir);
    for (const op of started) expect(after.ops.get(op)?.state).toBe('done');
    // Each was undone by the rollback.
    const undone = await readRun(join(dir, 'runs', back.outcome.runId));
    const inverted = (op: string) => [...undone.ops.keys()].some((id) => id.startsWith(`rollback/${op}`));
    // Or named as what Graph cannot undo (a default set where there was none, the phone behind it).
    const kept = (op: string) => back.outcome.notReversible.some((n) => op.split('/').slice(1).join('/').startsWith(n.target));
    expect(started.filter((op) => !inverted(op) && !kept(op))).toEqual([]);
    expect(started.filter(inverted).length).toBeGreaterThan(0);
  });

  /** Found by a black-box test: a rollback of a run still going said "finish it first with resume", which the lock then refused. */
  it('a run still going (its lock held) is named as such, not judged by the journal it is writing', async () => {
    const { g, dir, outcome, journal } = await appliedRun('going');
    crashAfterStarted(journal);
    const { acquireLock } = await import('../../src/apply/state-lock.js');
    const lock = await acquireLock(dir, 'apply');
    try {
      await expect(rollbackIn(g, dir, outcome.runId)).rejects.toThrow(/the state directory is in use by apply/);
    } finally {
      await lock.release();
    }
  });

  it('operations skipped because one they depend on failed are tried again when the rollback is finished', async () => {
    const dir = join(tmp.dir, 'dependency');
    const { g } = await planOfUntouched(`${dir}.plan`);
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    expect(outcome.state).toBe('completed');
    // The first token deactivation of the rollback fails (a method Graph refuses for it; a 404 would be read back, since a removal's target may be gone already).
    let broke = 0;
    const failOnce: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (broke === 0 && url.endsWith('/$batch') && init?.body) {
        const body = JSON.parse(String(init.body)) as { requests: { url: string; method: string }[] };
        const item = body.requests.find((r) => /\/deactivate$/.test(r.url));
        if (item) {
          broke++;
          item.method = 'PUT';
          init = { ...init, body: JSON.stringify(body) };
        }
      }
      return g.emu.fetch(input, init);
    };
    const connect = () => connectGraph({ graphUrl: g.emu.url, fetch: failOnce, readOnly: false, concurrency: 4, retry: { capMs: 300 } });
    const first = await rollbackIn(g, dir, outcome.runId, { connect });
    expect(broke).toBe(1);
    expect(first.outcome.state).toBe('partial');
    expect(first.outcome.counts.skipped).toBeGreaterThan(0);
    // The summary names the failure with Graph's answer (a black-box test saw "1 failed" and nothing more).
    expect(first.outcome.failures).toEqual([expect.objectContaining({ target: expect.stringMatching(/^hardwareOathMethods\//), reason: expect.stringMatching(/^\d{3} /) })]);
    expect(renderRollbackSummary(first.outcome, dir, undefined)).toMatch(/\n {2}failed: \S+@contoso\.com hardwareOathMethods\/\S+: \d{3} /);
    const finished = await rollbackIn(g, dir, first.outcome.runId);
    expect(finished.outcome.state).toBe('completed');
    expect(finished.outcome.counts).toMatchObject({ failed: 0, skipped: 0, pending: 0 });
  });

  /** Found by a black-box test: interrupted after its last inverse was journaled, a rollback exited 130 asking to be resumed. */
  it('a rollback interrupted with nothing left to do writes its end and completes', async () => {
    const { g, dir, outcome } = await appliedRun('nothing-left');
    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.state).toBe('completed');
    // As an interrupt right after the last inverse leaves it: every operation journaled, no end line.
    const journal = join(dir, 'runs', back.outcome.runId, 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').trimEnd().split('\n');
    expect(JSON.parse(lines.at(-1)!).t).toBe('end');
    writeFileSync(journal, `${lines.slice(0, -1).join('\n')}\n`);
    const stopped = new AbortController();
    stopped.abort();
    g.emu.clearRequests();
    const again = await rollbackIn(g, dir, back.outcome.runId, { signal: stopped.signal });
    expect(again.outcome.state).toBe('completed');
    expect(JSON.parse(readFileSync(journal, 'utf8').trimEnd().split('\n').at(-1)!)).toMatchObject({ t: 'end', state: 'completed' });
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it('finishing an interrupted rollback leaves alone what was changed since it stopped, and says so', async () => {
    const dir = join(tmp.dir, 'changed-meanwhile');
    const { g } = await planOfUntouched(`${dir}.plan`);
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    const stopped = new AbortController();
    stopped.abort();
    const first = await rollbackIn(g, dir, outcome.runId, { signal: stopped.signal });
    expect(first.outcome.state).toBe('interrupted');
    // Meanwhile an admin sets igor's mobile to another number.
    const igor = (g.emu.snapshot() as Snapshot).users.find((u: { userPrincipalName: string }) => u.userPrincipalName === 'igor@contoso.com');
    await g.client().request(updatePhoneMethod(igor.id, { phoneNumber: '+1 2065550777', phoneType: 'mobile' }));
    const finished = await rollbackIn(g, dir, first.outcome.runId);
    expect(finished.outcome.changedSince).toEqual([expect.objectContaining({ user: 'igor@contoso.com', target: 'phoneMethods/mobile', reason: expect.stringMatching(/changed since the run/) })]);
    const now = (g.emu.snapshot() as Snapshot).users.find((u: { id: string }) => u.id === igor.id);
    expect(now.methods.phone.find((p: { phoneType: string }) => p.phoneType === 'mobile').phoneNumber).toBe('+1 2065550777');
  });

  it("what is gone already is undone, not 'changed since the run': the rollback completes, and finishing one that left it alone completes too (found by a black-box test)", async () => {
    const dir = join(tmp.dir, 'gone-already');
    const { g, plan } = await planOfUntouched(`${dir}.plan`);
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    // Two phones the run created that no default of its own rests on (one that does is kept, not undone).
    const BEHIND: Record<string, string> = { sms: 'phoneMethods/mobile', voiceMobile: 'phoneMethods/mobile', voiceAlternateMobile: 'phoneMethods/alternateMobile', voiceOffice: 'phoneMethods/office' };
    const newDefault = (u: string) => plan.user_changes.find((c) => c.user === u && c.resource === 'signInPreferences' && c.action !== 'no-op' && !(c.before as { userPreferredMethodForSecondaryAuthentication?: unknown } | null)?.userPreferredMethodForSecondaryAuthentication)?.after?.userPreferredMethodForSecondaryAuthentication;
    const undoable = plan.user_changes.filter((c) => c.resource.startsWith('phoneMethods/') && c.action === 'create' && BEHIND[String(newDefault(c.user))] !== c.resource);
    const [first, second] = undoable;
    expect(first && second).toBeTruthy();
    const snap = g.emu.snapshot() as Snapshot;
    const idOf = (upn: string) => snap.users.find((u: { userPrincipalName: string }) => u.userPrincipalName === upn).id as string;
    const typeOf = (c: { resource: string }) => c.resource.slice('phoneMethods/'.length);
    const removePhone = async (c: { user: string; resource: string }) => {
      const phone = ((await g.raw.get(`/v1.0/users/${idOf(c.user)}/authentication/phoneMethods`)).body.value as { id: string; phoneType: string }[]).find((p) => p.phoneType === typeOf(c))!;
      expect((await g.raw.delete(`/v1.0/users/${idOf(c.user)}/authentication/phoneMethods/${phone.id}`)).status).toBe(204);
    };
    // Another run's rollback (or an admin) removed the first's alternate mobile; the second's was changed (left alone).
    await removePhone(first!);
    await g.client().request(updatePhoneMethod(idOf(second!.user), { phoneNumber: '+1 2065550777', phoneType: typeOf(second!) as 'mobile' }));
    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.changedSince.filter((c) => c.target.startsWith('phoneMethods/')).map((c) => `${c.user} ${c.target}`)).toEqual([`${second!.user} ${second!.resource}`]);
    const records = (await readRun(runDirs(dir).find((d) => d.endsWith(back.outcome.runId))!)).ops;
    expect(records.get(`rollback/${idOf(first!.user)}/${first!.resource}`)).toMatchObject({ state: 'done', result: { goneAlready: true } });
    // The second's is then removed too: finishing the rollback no longer leaves it alone.
    await removePhone(second!);
    const finished = await rollbackIn(g, dir, back.outcome.runId);
    expect(finished.outcome.changedSince.filter((c) => c.target.startsWith('phoneMethods/'))).toEqual([]);
    const after = (await readRun(runDirs(dir).find((d) => d.endsWith(back.outcome.runId))!)).ops;
    expect(after.get(`rollback/${idOf(second!.user)}/${second!.resource}`)).toMatchObject({ state: 'done', result: { goneAlready: true } });
  });

  it('a rollback that crashed while writing a journal line (a torn last line) can be finished', async () => {
    const dir = join(tmp.dir, 'torn');
    const { g } = await planOfUntouched(`${dir}.plan`);
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    const stopped = new AbortController();
    stopped.abort();
    const first = await rollbackIn(g, dir, outcome.runId, { signal: stopped.signal });
    const rollbackDir = runDirs(dir).find((d) => d.endsWith(first.outcome.runId))!;
    appendFileSync(join(rollbackDir, 'journal.jsonl'), '{"t":"op","op":"x","sta');
    const finished = await rollbackIn(g, dir, first.outcome.runId);
    expect(finished.outcome.state).toBe('completed');
  });

  it("finishing a rollback that crashed with writes in flight reads them back: its own writes are not 'changed since the run'", async () => {
    const dir = join(tmp.dir, 'rollback-started');
    const { g } = await planOfUntouched(`${dir}.plan`);
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    const first = await rollbackIn(g, dir, outcome.runId);
    const journal = join(runDirs(dir).find((d) => d.endsWith(first.outcome.runId))!, 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').split('\n');
    // As a crash leaves it: the first batch's writes were sent (and made), their outcome not journaled.
    const at = lines.findIndex((l) => l.includes('"state":"started"'));
    const sent = (JSON.parse(lines[at]!) as { ops: { op: string }[] }).ops.map((o) => o.op);
    expect(sent.length).toBeGreaterThan(0);
    writeFileSync(journal, `${lines.slice(0, at + 1).join('\n')}\n`);
    const finished = await rollbackIn(g, dir, first.outcome.runId);
    const view = await readRun(join(runDirs(dir).find((d) => d.endsWith(first.outcome.runId))!));
    // Read back and found done, not compared and skipped as an admin's change (the writes after the cut were
    // made too, which this cut hides: those are compared, and some are reported; a real crash sends none of them).
    for (const op of sent) expect(view.ops.get(op)?.state, op).toBe('done');
    expect(finished.outcome.changedSince.length).toBeLessThan(finished.outcome.counts.done + finished.outcome.counts.skipped);
  });
});

describe('a rollback finished after it stopped with an inverse sent and no answer journaled', () => {
  const tmp = tempDir('rollback-started');
  afterAll(() => tmp.cleanup());
  const BOB = 'fd706bef-ca38-5a2c-9c94-df554914bf7b'; // the plan creates his mobile and alternate mobile
  const ALTERNATE = 'b6332ec1-7057-4abe-9331-3d72feddfe41';

  it('leaves alone a phone someone set to another number meanwhile (neither as the run left it nor as the delete makes it)', async () => {
    const planFile = join(tmp.dir, 'p.plan');
    const { g } = await planOfUntouched(planFile);
    const stateDir = join(tmp.dir, 'state');
    const { outcome } = await applyFile(g, planFile, stateDir);
    expect(outcome.state).toBe('completed');
    const stopped = new AbortController();
    stopped.abort();
    const first = await rollbackIn(g, stateDir, outcome.runId, { signal: stopped.signal });
    expect(first.outcome.state).toBe('interrupted');
    // As a kill would leave it: the delete of bob's alternate mobile sent, its answer never journaled.
    const j = await Journal.append(join(stateDir, 'runs', first.outcome.runId));
    await j.ops([{ op: `rollback/${BOB}/phoneMethods/alternateMobile`, state: 'started' }]);
    await j.close();
    // Meanwhile an admin gives bob another alternate number.
    expect((await g.raw.patch(`/v1.0/users/${BOB}/authentication/phoneMethods/${ALTERNATE}`, { phoneNumber: '+1 2065550177', phoneType: 'alternateMobile' })).status).toBeLessThan(300);
    const finished = await rollbackIn(g, stateDir, first.outcome.runId);
    expect(finished.outcome.changedSince).toContainEqual(expect.objectContaining({ user: 'bob@contoso.com', target: 'phoneMethods/alternateMobile', reason: 'the phone changed since the run' }));
    const phones = (await g.raw.get(`/v1.0/users/${BOB}/authentication/phoneMethods`)).body.value as { phoneType: string; phoneNumber: string }[];
    expect(phones).toContainEqual(expect.objectContaining({ phoneType: 'alternateMobile', phoneNumber: '+1 2065550177' }));
  });

  it("a phone whose delete waits for the user's default, which someone changed since the run, is left alone with it: not sent (Graph refuses it) pass after pass", async () => {
    const g = fakeGraph();
    const dir = join(tmp.dir, 'default-left');
    // Dave had an office phone as his default before the migration: the run gives him a mobile and moves his default to it.
    const dave = (await g.raw.get('/v1.0/users/dave@contoso.com')).body.id as string;
    expect((await g.raw.post(`/v1.0/users/${dave}/authentication/phoneMethods`, { phoneNumber: '+1 4255550188', phoneType: 'office' })).status).toBe(201);
    expect((await g.raw.patch(`/beta/users/${dave}/authentication/signInPreferences`, { userPreferredMethodForSecondaryAuthentication: 'voiceOffice' })).status).toBe(204);
    const { plan } = await planTo(g, `${dir}.plan`, { defaultMethod: 'always' });
    const user = plan.users.find((u) => u.user === 'dave@contoso.com')!;
    const changes = plan.user_changes.filter((c) => c.user === user.user);
    expect(changes.find((c) => c.resource === 'phoneMethods/mobile')?.action).toBe('create');
    expect(changes.find((c) => c.resource === 'signInPreferences')?.before).toEqual({ userPreferredMethodForSecondaryAuthentication: 'voiceOffice' });
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    // An admin makes the new mobile the user's default after the run.
    expect((await g.raw.patch(`/beta/users/${user.user_id}/authentication/signInPreferences`, { userPreferredMethodForSecondaryAuthentication: 'voiceMobile' })).status).toBe(204);
    g.emu.clearRequests();
    const first = await rollbackIn(g, dir, outcome.runId);
    expect(first.outcome.changedSince).toContainEqual(expect.objectContaining({ user: user.user, target: 'signInPreferences' }));
    const mobileDeletes = () => writes(g.emu.requests()).filter((w) => w.method === 'DELETE' && w.path.includes(user.user_id!) && w.path.includes('phoneMethods'));
    expect(mobileDeletes()).toEqual([]);
    expect(first.outcome.resumable).toBe(false);
    const view = await readRun(runDirs(dir).find((d) => d.endsWith(first.outcome.runId))!);
    const waiting = [...view.ops.entries()].filter(([id, r]) => id.includes(user.user_id!) && id.includes('phoneMethods/mobile') && r.state === 'skipped');
    expect(waiting.map(([, r]) => r.error)).toEqual(['changed since the run: it waits for the undo of signInPreferences, left alone']);
    // A second pass sends it no more either.
    const again = await rollbackIn(g, dir, first.outcome.runId);
    expect(again.outcome.resumable).toBe(false);
    expect(mobileDeletes()).toEqual([]);
  });
});
