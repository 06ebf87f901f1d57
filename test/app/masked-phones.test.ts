import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/app/doctor.js';
import { makePlan } from '../../src/app/plan.js';
import { cutoverStatus } from '../../src/app/status.js';
import { MaskedPhoneError } from '../../src/graph/masked-phone.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, CONTOSO, contosoRequest, crashAfterStarted, resumeIn, rollbackIn, runDirs, testDir, planOfUntouched } from '../helpers/migration.js';

/**
 * Graph shows an Authentication Administrator masked phone numbers (graph-api.md §2.1). Read as the
 * users' numbers, a plan showed every phone an update of a number that was right, kept the masked
 * number as what a rollback puts back (which Graph refuses, the number lost), and a read-back never
 * confirmed a phone write. The emulator serves them so with behaviour.maskedPhoneNumbers.
 */

const masked = () => fakeGraph({ behaviour: { maskedPhoneNumbers: true } });

/** Whether the fake Graph serves masked numbers from now on: another sign-in than the plan's. */
const signInAs = (g: FakeGraph, role: 'authentication-administrator' | 'privileged') => {
  g.emu.state.behaviour.maskedPhoneNumbers = role === 'authentication-administrator';
};

/** Every phone number in the emulator's state, by user. */
const phonesOf = (g: FakeGraph) => Object.fromEntries(g.emu.state.users.map((u) => [u.userPrincipalName, Object.fromEntries(Object.entries(u.phones).map(([t, p]) => [t, p?.phoneNumber]))]));

const writes = (g: FakeGraph) => g.operations().filter((o) => o.method !== 'GET');

/** The refusal every command gives: the user and the phone type, why and what to do, never a digit of a number. */
function expectRefusal(err: unknown, outcome?: RegExp): MaskedPhoneError {
  expect(err).toBeInstanceOf(MaskedPhoneError);
  const e = err as MaskedPhoneError;
  expect(e.exitCode).toBe(1);
  expect(e.message).toMatch(/^Graph showed [a-z]+@contoso\.com's (mobile|alternateMobile|office) phone number masked: the signed-in account sees masked phone numbers \(an Authentication Administrator does\)/);
  expect(e.message).toContain('sign in as a Privileged Authentication Administrator, or use an application with UserAuthenticationMethod.Read.All');
  // No number, masked or whole: the refusal up to its fix holds no digit, and what follows it (a run id) no phone.
  expect(e.message.slice(0, e.message.indexOf('(docs/permissions.md)'))).not.toMatch(/\d|XX/);
  expect(e.message).not.toMatch(/\+\d|XX/);
  if (outcome) expect(e.message).toMatch(outcome);
  return e;
}

/** The Contoso sample planned on a Graph that shows the numbers whole, in a test folder of `name`. */
async function planned(name: string): Promise<{ g: FakeGraph; dir: string; planPath: string; stateDir: string }> {
  const { dir } = testDir(name);
  const planPath = join(dir, 'plan.json');
  const { g } = await planOfUntouched(planPath);
  return { g, dir, planPath, stateDir: join(dir, 'state') };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a refusal');
}

describe('masked phone numbers (an Authentication Administrator sign-in)', () => {
  it('plan refuses on the first masked number, naming the user and the phone type (without the fix: updates of every existing phone)', async () => {
    const g = masked();
    const err = await failure(makePlan({ ...contosoRequest(), graph: g.client({ readOnly: true }) }));
    const e = expectRefusal(err);
    expect(['alice@contoso.com', 'rupert@contoso.com', 'igor@contoso.com', 'quinn@contoso.com']).toContain(e.upn);
    // Signed in as one that sees the numbers, the same tenant plans.
    signInAs(g, 'privileged');
    await expect(makePlan({ ...contosoRequest(), graph: g.client({ readOnly: true }) })).resolves.toBeDefined();
  });

  it('status refuses the same way', async () => {
    expectRefusal(await failure(cutoverStatus({ source: CONTOSO, graph: masked().client({ readOnly: true }), concurrency: 4 })));
  });

  it('doctor reports it as a failed check with the fix; numbers read whole are an ok check', async () => {
    const r = await runDoctor(masked().client({ readOnly: true }), { source: CONTOSO });
    expect(r.ready).toBe(false);
    const check = r.checks.find((c) => c.id === 'phone-numbers');
    expect(check).toMatchObject({ state: 'fail', fix: 'sign in as a Privileged Authentication Administrator, or use an application with UserAuthenticationMethod.Read.All (docs/permissions.md)' });
    expect(check!.detail).toMatch(/^Graph showed [a-z]+@contoso\.com's mobile phone number masked: the signed-in account sees masked phone numbers \(an Authentication Administrator does\); plan, status, apply and rollback refuse/);
    expect(check!.detail).not.toMatch(/\d|XX/);
    // Each command refuses, whatever permissions the identity holds.
    expect(r.commands.map((c) => c.ready)).toEqual([false, false, false]);
    const whole = await runDoctor(fakeGraph().client({ readOnly: true }), { source: CONTOSO });
    expect(whole.checks.find((c) => c.id === 'phone-numbers')).toMatchObject({ state: 'ok', detail: expect.stringMatching(/^\d+ phone number\(s\) read, none masked$/) });
  });

  it("apply's pre-flight refuses before anything is sent when apply signs in as one that sees masked numbers (the plan's sign-in did not)", async () => {
    const { g, dir, planPath } = await planned('masked-apply');
    const before = phonesOf(g);
    signInAs(g, 'authentication-administrator');
    g.emu.clearRequests();
    expectRefusal(await failure(applyFile(g, planPath, join(dir, 'state'))), /; nothing was sent$/);
    expect(writes(g)).toEqual([]);
    expect(phonesOf(g)).toEqual(before);
    expect(existsSync(join(dir, 'state', 'runs')) ? runDirs(join(dir, 'state')) : []).toEqual([]);
  });

  it("a resume's wave re-read refuses before the wave is sent, saying the waves before it stand", async () => {
    const { g, planPath, stateDir } = await planned('masked-resume');
    const first = await applyFile(g, planPath, stateDir, { batchSize: 3, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    // Every user has a phone now (the rest of the waves' users too), read masked by the resume.
    const added = g.emu.state.users.filter((u) => !u.phones.office);
    for (const u of added) u.phones.office = { phoneNumber: '+1 4255550177x1', createdDateTime: new Date().toISOString() };
    signInAs(g, 'authentication-administrator');
    g.emu.clearRequests();
    const e = expectRefusal(await failure(resumeIn(g, stateDir)));
    expect(e.message).toMatch(new RegExp(`; nothing of wave 2 was sent \\(what the run sent before stands\\); then go on with mfa-migrate resume ${first.outcome.runId} --state-dir `));
    expect(writes(g)).toEqual([]);
    // As it said: signed in as one that sees the numbers, the run goes on from wave 2.
    for (const u of added) delete u.phones.office;
    signInAs(g, 'privileged');
    const resumed = await resumeIn(g, stateDir);
    expect(resumed.outcome).toMatchObject({ runId: first.outcome.runId, state: 'completed' });
  });

  it('rollback refuses before sending anything: the numbers the run replaced are not "put back" as masked values Graph would refuse', async () => {
    const { g, planPath, stateDir } = await planned('masked-rollback');
    const applied = await applyFile(g, planPath, stateDir);
    expect(applied.outcome.state).toBe('completed');
    const after = phonesOf(g);
    signInAs(g, 'authentication-administrator');
    g.emu.clearRequests();
    expectRefusal(await failure(rollbackIn(g, stateDir, applied.outcome.runId)), /; nothing was sent$/);
    expect(writes(g)).toEqual([]);
    expect(phonesOf(g)).toEqual(after);
    expect(runDirs(stateDir)).toHaveLength(1);
    // Signed in as one that sees the numbers, it rolls back.
    signInAs(g, 'privileged');
    expect((await rollbackIn(g, stateDir, applied.outcome.runId)).outcome.state).toBe('completed');
  });

  it("rollback's read-back of a phone write of unknown outcome refuses rather than taking it as not applied, journaling nothing", async () => {
    const { g, planPath, stateDir } = await planned('masked-readback');
    const applied = await applyFile(g, planPath, stateDir);
    const journal = join(runDirs(stateDir)[0]!, 'journal.jsonl');
    // Cut after the last phone write journaled started: it was sent, and its answer lost.
    const lines = readFileSync(journal, 'utf8').split('\n');
    const phoneStarts = lines.filter((l) => l.includes('"state":"started"')).map((l, i) => [l, i] as const).filter(([l]) => l.includes('/phoneMethods/'));
    expect(phoneStarts.length).toBeGreaterThan(0);
    crashAfterStarted(journal, phoneStarts.at(-1)![1]);
    const cut = readFileSync(journal, 'utf8');
    signInAs(g, 'authentication-administrator');
    g.emu.clearRequests();
    expectRefusal(await failure(rollbackIn(g, stateDir, applied.outcome.runId)), new RegExp(`; run ${applied.outcome.runId}'s writes of unknown outcome were not read back; nothing was sent or journaled$`));
    expect(writes(g)).toEqual([]);
    expect(readFileSync(journal, 'utf8')).toBe(cut);
  });
});
