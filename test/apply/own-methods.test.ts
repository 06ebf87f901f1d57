import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OWN_METHODS_NOT_SENT, OWN_UNDOS_NOT_SENT } from '../../src/apply/own-methods.js';
import { renderApplySummary, renderRollbackSummary } from '../../src/cli/views/apply-summary.js';
import { DEFAULT_APPLICATION_PERMISSIONS } from '../../src/emulator/identity.js';
import { OWN_METHODS_BECAUSE } from '../../src/model/own-methods.js';
import { showPlan } from '../../src/app/show.js';
import type { Plan } from '../../src/plan/plan-model.js';
import type { RunReport } from '../../src/report/run-report.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, CONTOSO, contosoRequest, planTo, resumeIn, rollbackIn, testDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

const ADMIN = 'admin@contoso.com';
const ADMIN_ID = 'f7c95df9-eaaa-5618-8b3c-7fe02e555d48';
const HELPDESK = { userPrincipalName: 'helpdesk@contoso.com', objectId: '65188bbb-814c-58a8-88f7-d827fa7e1a31' };
const SPARE_TOKEN = '20019998';

/**
 * alice (the tenant has her mobile already), bob (a phone to create) and the signed-in admin
 * themselves (admin@contoso.com: a phone, an email, a token and a text-message default), as an
 * operator who is also an MFA Server user exports them. A review: plan and apply reported the
 * admin `done`, where Graph refuses a user's own phone and email writes.
 */
function exportWithAdmin(dir: string, adminDefault = 'text_message'): { source: string; tokens: string[] } {
  const source = join(dir, 'export');
  mkdirSync(source);
  writeFileSync(
    join(source, 'users.csv'),
    'username,email,phone_country_code,phone,default_method,oath_token_serial\n' +
      'alice@contoso.com,alice@contoso.com,1,4255550101,phone_call,\n' +
      'bob@contoso.com,bob@contoso.com,1,4255550102,text_message,\n' +
      `${ADMIN},${ADMIN},1,4255550199,${adminDefault},${SPARE_TOKEN}\n`,
  );
  const seeds = join(dir, 'seeds.pskc');
  copyFileSync(join(CONTOSO, 'tokens', 'seeds.pskc'), seeds);
  return { source, tokens: [seeds] };
}

/** The Contoso tenant signed in as another admin (helpdesk@contoso.com, not in the export), with the same scopes. */
function signInAsAnotherAdmin(g: FakeGraph): void {
  const id = g.emu.state.identity;
  g.emu.state.identity = { ...id, user: { ...id.user!, ...HELPDESK } };
}

/** The Contoso tenant signed in as an application (app-only: no user, every application permission). */
function signInAsApplication(g: FakeGraph): void {
  const { user: _admin, ...app } = g.emu.state.identity;
  g.emu.state.identity = { ...app, roles: [...DEFAULT_APPLICATION_PERMISSIONS] };
}

const adminMethods = (g: FakeGraph) => {
  const u = g.emu.state.findUser(ADMIN)!;
  return { phones: Object.keys(u.phones).sort(), email: u.email?.emailAddress ?? null, tokens: g.emu.state.devices.filter((d) => d.assignedTo === ADMIN_ID).map((d) => [d.serialNumber, d.status]) };
};

/** Writes sent for the admin's own phone and email methods (by UPN or id). */
const ownWrites = (g: FakeGraph) => g.operations().filter((o) => o.method !== 'GET' && new RegExp(`/users/(${ADMIN}|${ADMIN_ID})/authentication/(phone|email)Methods`, 'i').test(decodeURIComponent(o.path)));

async function planned(g: FakeGraph, dir: string, over: Parameters<typeof planTo>[2] = {}, adminDefault?: string) {
  const { source, tokens } = exportWithAdmin(dir, adminDefault);
  const file = join(dir, 'p.plan');
  const { plan } = await planTo(g, file, { ...contosoRequest(source, tokens), includeEmail: true, ...over });
  return { file, plan };
}

/** The id of the group "MFA Staged Rollout". */
const rolloutGroupOf = (g: FakeGraph) => g.emu.state.groups.find((x) => x.props['displayName'] === 'MFA Staged Rollout')!.id;

const adminChanges = (plan: Plan) => plan.user_changes.filter((c) => c.user === ADMIN).map((c) => `${c.resource} ${c.action}`);

describe('the signed-in admin is also a user of the export (delegated sign-in)', () => {
  it('plan keeps their changes in the plan and lists their phone, email, default and switch as not applicable, with the rule and why; show says the same', async () => {
    const { dir } = testDir('own-plan');
    const g = fakeGraph();
    const { file, plan } = await planned(g, dir, { rolloutGroups: ['MFA Staged Rollout'] });
    const rollout = plan.user_changes.find((c) => c.user === ADMIN && c.resource.startsWith('rolloutGroup/'))!.resource;
    // The plan is the same whoever signs in: the admin's changes are planned, and counted.
    expect(adminChanges(plan)).toEqual(expect.arrayContaining(['phoneMethods/mobile create', 'emailMethods create', `hardwareOathMethods/${SPARE_TOKEN} update`, 'signInPreferences update', `${rollout} create`]));
    expect(plan.identity).toEqual({ appId: expect.any(String), upn: ADMIN, objectId: ADMIN_ID });
    expect(plan.format_version).toBe('1.10');
    const notSent = plan.not_applicable!.map((n) => [n.user, n.user_id, n.resource, n.rule, n.because]);
    expect(notSent).toEqual([
      [ADMIN, ADMIN_ID, 'phoneMethods/mobile', 'USER-SIGNED-IN-SELF', OWN_METHODS_BECAUSE],
      [ADMIN, ADMIN_ID, 'emailMethods', 'USER-SIGNED-IN-SELF', OWN_METHODS_BECAUSE],
      [ADMIN, ADMIN_ID, 'signInPreferences', 'USER-SIGNED-IN-SELF', expect.stringMatching(/^waits for the signed-in admin's own phone or email changes/)],
      [ADMIN, ADMIN_ID, rollout, 'USER-SIGNED-IN-SELF', expect.stringMatching(/^waits for/)],
    ]);
    // Worked out from the saved file alone (no sign-in): show prints what plan printed.
    const shown = await runMain(['show', file, '--format', 'json']);
    expect(shown.code).toBe(0);
    const fromFile = JSON.parse(shown.stdout) as Plan;
    expect(fromFile.not_applicable).toEqual(plan.not_applicable);
    expect(Object.keys(fromFile)).toContain('not_applicable');
    // A file of an earlier saved format shows in the JSON format its plan printed: not_applicable from 2.15 (JSON 1.6) on.
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    for (const [saved, json] of [['2.12', '1.4'], ['2.14', '1.5'], ['2.15', '1.6'], ['2.16', '1.7'], ['2.17', '1.7'], ['2.18', '1.8']] as const) {
      const relabelled = join(dir, `v${saved}.plan`);
      writeFileSync(relabelled, `${[JSON.stringify({ ...JSON.parse(lines[0]!), format_version: saved }), ...lines.slice(1)].join('\n')}\n`);
      const old = await showPlan(relabelled);
      expect([saved, old.format_version, old.not_applicable]).toEqual([saved, json, saved >= '2.15' ? plan.not_applicable : undefined]);
    }
    const text = await runMain(['show', file]);
    expect(text.stdout).toContain(`Not applicable to this sign-in (${ADMIN}): 4 change(s) a run signed in so does not send`);
    expect(text.stdout).toMatch(/\+ phoneMethods\/mobile .*not applicable signed in as admin@contoso\.com \[USER-SIGNED-IN-SELF\]/);
    // The report marks it under the user, and the rule in the glossary.
    const md = join(dir, 'plan.md');
    expect((await runMain(['show', file, '--report', md])).code).toBe(0);
    const report = readFileSync(md, 'utf8');
    expect(report).toContain('phoneMethods/mobile (create) is not sent by a run signed in as admin@contoso.com');
    expect(report).toMatch(/\| <a id="rule-user-signed-in-self"><\/a>USER-SIGNED-IN-SELF \| yes \|/);
  });

  it('apply leaves their phone and email writes (and the default and switch waiting for them) out before sending anything, does everything else, and says so; a resume as another admin sends them', async () => {
    const { dir } = testDir('own-apply');
    const g = fakeGraph();
    const { file } = await planned(g, dir, { rolloutGroups: ['MFA Staged Rollout'] });
    const state = join(dir, 'state');
    const { outcome, results } = await applyFile(g, file, state);

    expect(ownWrites(g)).toEqual([]);
    // Their token is written (Graph documents no refusal for it); their phone and email are not.
    expect(adminMethods(g)).toEqual({ phones: [], email: null, tokens: [[SPARE_TOKEN, 'activated']] });
    expect(Object.keys(g.emu.state.findUser('bob@contoso.com')!.phones)).toEqual(['mobile']);
    // Not a failed run: partial (exit 3), resumable; every other user done.
    expect(outcome.state).toBe('partial');
    expect(outcome.counts.failed).toBe(0);
    expect(outcome.resumable).toBe(true);
    expect(results.map((r) => [r.user, r.outcome])).toEqual([
      ['alice@contoso.com', 'done'],
      ['bob@contoso.com', 'done'],
      [ADMIN, 'partial'],
    ]);
    const admin = results.find((r) => r.user === ADMIN)!;
    expect(admin).toMatchObject({ done: 2, failed: 0, skipped: 4, first_error: OWN_METHODS_NOT_SENT });
    expect(outcome.ownMethodsLeftOut).toEqual([{ user: ADMIN, signedInAs: ADMIN, own: 2, waiting: 2, resumeAs: expect.stringMatching(/^another admin \(/) }]);
    const summary = renderApplySummary(outcome, state, `mfa-migrate resume ${outcome.runId}`);
    expect(summary).toContain(
      `  not sent: ${ADMIN}'s own phone and email changes (2 operation(s), and 2 that wait for them: the default method, the switch to Entra MFA): this run is signed in as ${ADMIN}, and Graph does not let a user change their own phone or email methods through this API. Resume the run signed in as another admin (the staged rollout needs an admin signed in; an application cannot manage it) to send them`,
    );
    // The run's evidence says the same, operation by operation.
    const report = JSON.parse((await runMain(['report', outcome.runId, '--state-dir', state, '--format', 'json'])).stdout) as RunReport;
    const ops = report.users.find((u) => u.user === ADMIN)!.operations.map((o) => [o.target, o.state, o.error]);
    expect(ops).toEqual(
      expect.arrayContaining([
        ['phoneMethods/mobile', 'skipped', OWN_METHODS_NOT_SENT],
        ['emailMethods', 'skipped', OWN_METHODS_NOT_SENT],
        ['signInPreferences', 'skipped', expect.stringMatching(/was not sent \(the signed-in admin's own methods\)$/)],
      ]),
    );

    // A resume signed in the same way leaves them out again, sending nothing of them.
    const again = await resumeIn(g, state);
    expect(again.outcome.state).toBe('partial');
    expect(ownWrites(g)).toEqual([]);
    // Signed in as another admin, the resume sends them, and the default and switch after them.
    signInAsAnotherAdmin(g);
    const done = await resumeIn(g, state);
    expect(done.outcome.state).toBe('completed');
    expect(done.outcome.ownMethodsLeftOut).toBeUndefined();
    expect(adminMethods(g)).toEqual({ phones: ['mobile'], email: ADMIN, tokens: [[SPARE_TOKEN, 'activated']] });
    expect(g.emu.state.findUser(ADMIN)!.signInPreferences.userPreferredMethodForSecondaryAuthentication).toBe('sms');
    expect(g.emu.state.findGroup(rolloutGroupOf(g))!.members).toContain(ADMIN_ID);
  });

  it('without a staged rollout, a resume signed in as an application sends them', async () => {
    const { dir } = testDir('own-resume-app');
    const g = fakeGraph();
    const { file } = await planned(g, dir);
    const state = join(dir, 'state');
    const first = await applyFile(g, file, state);
    expect(first.outcome.ownMethodsLeftOut).toEqual([{ user: ADMIN, signedInAs: ADMIN, own: 2, waiting: 1, resumeAs: 'another admin or an application' }]);
    signInAsApplication(g);
    const done = await resumeIn(g, state);
    expect(done.outcome.state).toBe('completed');
    expect(adminMethods(g)).toEqual({ phones: ['mobile'], email: ADMIN, tokens: [[SPARE_TOKEN, 'activated']] });
  });

  it('a plan made signed in as an application and applied signed in as the admin: the same saved plan is accepted, and the admin left out', async () => {
    const { dir } = testDir('own-app-plan');
    const g = fakeGraph();
    signInAsApplication(g);
    const { file, plan } = await planned(g, dir);
    expect(plan.not_applicable).toEqual([]);
    g.emu.state.identity = fakeGraph().emu.state.identity;
    const { outcome, results } = await applyFile(g, file, join(dir, 'state'));
    expect(ownWrites(g)).toEqual([]);
    expect(results.find((r) => r.user === ADMIN)).toMatchObject({ outcome: 'partial', first_error: OWN_METHODS_NOT_SENT });
    expect(outcome.counts.failed).toBe(0);
  });
});

describe('signed in as an application', () => {
  it('plan marks nothing not applicable, and apply writes the admin like every other user', async () => {
    const { dir } = testDir('own-app');
    const g = fakeGraph();
    signInAsApplication(g);
    const { file, plan } = await planned(g, dir);
    expect(plan.identity).toEqual({ appId: expect.any(String), upn: null });
    expect(plan.not_applicable).toEqual([]);
    const { outcome, results } = await applyFile(g, file, join(dir, 'state'));
    expect(outcome.state).toBe('completed');
    expect(outcome.ownMethodsLeftOut).toBeUndefined();
    expect(results.map((r) => [r.user, r.outcome])).toEqual([
      ['alice@contoso.com', 'done'],
      ['bob@contoso.com', 'done'],
      [ADMIN, 'done'],
    ]);
    expect(adminMethods(g)).toEqual({ phones: ['mobile'], email: ADMIN, tokens: [[SPARE_TOKEN, 'activated']] });
  });
});

describe('rollback signed in as the admin whose methods the run wrote', () => {
  /**
   * A review: the run applied signed in as another admin, rolled back signed in as the admin, sent
   * the undo of their own email (403, a failure with no way on) and held back the rest.
   * The admin has no default method in the export, so their phone's delete is an undo too.
   */
  it('leaves their phone and email undos (and what waits for them) out before sending, ends partial and says so; a rollback of the rollback signed in as another admin finishes it', async () => {
    const { dir } = testDir('own-rollback');
    const g = fakeGraph();
    const asAdmin = g.emu.state.identity;
    signInAsAnotherAdmin(g);
    const { file } = await planned(g, dir, {}, '');
    const state = join(dir, 'state');
    const applied = await applyFile(g, file, state);
    expect(applied.outcome.state).toBe('completed');
    expect(adminMethods(g)).toEqual({ phones: ['mobile'], email: ADMIN, tokens: [[SPARE_TOKEN, 'activated']] });

    g.emu.state.identity = asAdmin;
    const sentBefore = ownWrites(g).length;
    const { outcome } = await rollbackIn(g, state, applied.outcome.runId);
    // Nothing of theirs was sent: no 403, no failure.
    expect(ownWrites(g).length).toBe(sentBefore);
    expect(outcome.failures).toEqual([]);
    expect(outcome.state).toBe('partial');
    expect(outcome.resumable).toBe(true);
    // Their token's undos went (not chained after the phone and email: newer), their phone and email stay, bob is undone.
    expect(adminMethods(g)).toEqual({ phones: ['mobile'], email: ADMIN, tokens: [] });
    expect(g.emu.state.findUser('bob@contoso.com')!.email).toBeFalsy();
    // The email and phone deletes, and the methods policy's undos that wait for every user's.
    expect(outcome.ownMethodsLeftOut).toEqual([{ user: ADMIN, signedInAs: ADMIN, own: 2, waiting: 3 }]);
    expect(outcome.counts).toMatchObject({ failed: 0, skipped: 5, pending: 0 });
    const hint = `mfa-migrate rollback ${outcome.runId}`;
    expect(renderRollbackSummary(outcome, state, hint)).toContain(
      `Not sent: ${ADMIN}'s own phone and email undos (2 operation(s), and 3 that wait for them: the user's undos after them, the methods policy's): this rollback is signed in as ${ADMIN}, and Graph does not let a user change their own phone or email methods through this API. Finish the rollback signed in as another admin or an application to send them: ${hint}`,
    );
    expect(OWN_UNDOS_NOT_SENT).toMatch(/^not sent: the signed-in admin's own methods: .*; roll back signed in as another admin or an application/);
    // The rollback's report says the same, operation by operation.
    const report = JSON.parse((await runMain(['report', outcome.runId, '--state-dir', state, '--format', 'json'])).stdout) as RunReport;
    const ops = report.users.find((u) => u.user === ADMIN)!.operations.filter((o) => o.state === 'skipped').map((o) => [o.target, o.error]);
    expect(ops).toEqual(
      expect.arrayContaining([
        ['emailMethods', OWN_UNDOS_NOT_SENT],
        ['phoneMethods/mobile', OWN_UNDOS_NOT_SENT],
      ]),
    );

    // Finished signed in the same way: left out again, nothing of theirs sent.
    const again = await rollbackIn(g, state, outcome.runId);
    expect(again.outcome.state).toBe('partial');
    expect(again.outcome.failures).toEqual([]);
    expect(ownWrites(g).length).toBe(sentBefore);
    // Finished signed in as another admin: their phone and email go, and the policy is put back.
    signInAsAnotherAdmin(g);
    const done = await rollbackIn(g, state, outcome.runId);
    expect(done.outcome.state).toBe('completed');
    expect(done.outcome.ownMethodsLeftOut).toBeUndefined();
    expect(adminMethods(g)).toEqual({ phones: [], email: null, tokens: [] });
  });

  it('signed in as an application, the rollback sends their undos like any other user\'s', async () => {
    const { dir } = testDir('own-rollback-app');
    const g = fakeGraph();
    signInAsAnotherAdmin(g);
    const { file } = await planned(g, dir, {}, '');
    const state = join(dir, 'state');
    const applied = await applyFile(g, file, state);
    signInAsApplication(g);
    const { outcome } = await rollbackIn(g, state, applied.outcome.runId);
    expect(outcome.state).toBe('completed');
    expect(outcome.ownMethodsLeftOut).toBeUndefined();
    expect(adminMethods(g)).toEqual({ phones: [], email: null, tokens: [] });
  });
});
