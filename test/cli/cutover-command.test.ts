import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleSeedArgs } from '../../src/cli/demo-command.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { EXIT } from '../../src/model/exit-code.js';
import { CONTOSO, tempDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

/** The cutover's command line: plan's options, apply's refusal of them with a saved plan, status, the demo. */
describe('the cutover on the command line', () => {
  let emu: RunningEmulator;
  const tmp = tempDir('cutover-cli');
  const seeds = sampleSeedArgs(CONTOSO);
  const plan = (...args: string[]) => runMain(['plan', '--source', CONTOSO, ...seeds, '--graph-url', emu.url, ...args]);
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
  });
  afterAll(async () => {
    await emu?.stop();
    tmp.cleanup();
  });

  it('plan --rollout-group shows the cutover: the phone-only count first, the policy and group, each switch; JSON carries it all', async () => {
    const text = await plan('--rollout-group', 'MFA Staged Rollout');
    expect(text.code).toBe(0);
    // Before the changes: the count of users the SMS/voice retirement will stop.
    const first = text.stdout.search(/^24 user\(s\) left with SMS and voice only: from 2027-02-01/m);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(text.stdout.indexOf('Actions: '));
    expect(text.stdout).toMatch(/^Cutover \(staged rollout, federation\)\n {2}\+ featureRolloutPolicies\/multiFactorAuthentication .*isAppliedToOrganization=false/m);
    expect(text.stdout).toMatch(/^ {2}\+ featureRolloutPolicies\/multiFactorAuthentication\/appliesTo\/\S+ {2}group="MFA Staged Rollout"/m);
    expect(text.stdout).toMatch(/^ {2}rollout group "MFA Staged Rollout": 0 -> 35 member\(s\), added to staged rollout first$/m);
    expect(text.stdout).toMatch(/^ {4}\+ rolloutGroup\/\S+ {2}group="MFA Staged Rollout" {2}\[CUTOVER-SWITCH-USER\] switched to Entra MFA by staged rollout once every other change of the user succeeded \("MFA Staged Rollout", member \d+ of at most 50000\)$/m);
    expect(text.stdout).toMatch(/^ {2}2 cutover change\(s\) \(staged rollout, federation\): 2 to add, 0 to change, counted apart from user changes$/m);
    const json = await plan('--rollout-group', 'MFA Staged Rollout', '--format', 'json');
    const p = JSON.parse(json.stdout) as Plan;
    expect(p.options.rollout_groups).toEqual([{ id: expect.any(String), displayName: 'MFA Staged Rollout' }]);
    expect(p.cutover!.switched).toEqual({ already: 0, by_plan: 35, not_switched: 2 });
  });

  it('refuses what cannot be planned: exit 1 with the reason, and no plan file', async () => {
    const out = join(tmp.dir, 'refused.plan');
    const dynamic = await plan('--rollout-group', 'Contoso Sales', '--out', out);
    expect(dynamic.code).toBe(1);
    expect(dynamic.stderr).toMatch(/mfa-migrate: the cutover cannot be planned as asked:\n {2}--rollout-group "Contoso Sales": a dynamic group/);
    expect(dynamic.stdout).toBe('');
    const fed = await plan('--rollout-group', 'MFA Staged Rollout', '--federated-mfa', 'reject');
    expect(fed.code).toBe(1);
    expect(fed.stderr).toMatch(/judy@contoso\.com, zoe@contoso\.com/);
    const alone = await plan('--force-federation');
    expect([alone.code, alone.stderr.trim()]).toEqual([1, 'mfa-migrate: --force-federation goes with --federated-mfa reject']);
    const eleven = await plan(...Array.from({ length: 11 }, (_, i) => ['--rollout-group', `G${i}`]).flat());
    expect(eleven.stderr).toMatch(/--rollout-group is given 11 times: staged rollout takes at most 10 groups per feature/);
    const mode = await plan('--federated-mfa', 'accept');
    expect(mode.code).toBe(EXIT.usage);
    expect(mode.stderr).toMatch(/Allowed choices are reject/);
  });

  it('apply PLANFILE refuses the cutover options: they shape a plan', async () => {
    const out = join(tmp.dir, 'p.plan');
    expect((await plan('--out', out)).code).toBe(0);
    for (const extra of [['--rollout-group', 'MFA Staged Rollout'], ['--federated-mfa', 'reject'], ['--force-federation'], ['--campaign-group', 'MFA Migration Wave 1']]) {
      const r = await runMain(['apply', out, ...extra, '--state-dir', join(tmp.dir, 'state')]);
      expect(r.code, extra[0]).toBe(1);
      expect(r.stderr).toContain(`${extra[0]}: these options shape a plan`);
    }
  });

  it('status: the counts first, then one row per user; JSON for tools', async () => {
    const text = await runMain(['status', '--source', CONTOSO, '--graph-url', emu.url]);
    expect(text.code).toBe(0);
    // The sample tenant has voice and SMS off (a new tenant's policy): its users' phones are not usable yet.
    expect(text.stdout).toMatch(/^Cutover status for tenant Contoso \(\S+\), read \d{4}-\d\d-\d\dT\S+Z as admin@contoso\.com: 40 user\(s\) in scope\n {2}0 switched to Entra MFA, 2 migrated and ready to switch, 38 blocked before the switch; 0 of all with SMS\/voice only/);
    expect(text.stdout).toMatch(/^ {2}staged rollout \(multiFactorAuthentication\): no policy$/m);
    expect(text.stdout).toMatch(/^ {2}federated domain contoso\.com: federatedIdpMfaBehavior acceptIfMfaDoneByFederatedIdp$/m);
    expect(text.stdout).toMatch(/^sybil@contoso\.com +no +no +no +- +not in the tenant$/m);
    const json = JSON.parse((await runMain(['status', '--source', CONTOSO, '--graph-url', emu.url, '--format', 'json'])).stdout);
    expect(json.counts).toEqual({ users: 40, migrated: 2, switched: 0, ready: 2, phone_only: 0, blocked: 38 });
    expect(Date.now() - Date.parse(json.read_at)).toBeLessThan(60_000);
    expect(json.read_as).toBe('admin@contoso.com');
    expect(json.users.find((u: { user: string }) => u.user === 'quinn@contoso.com')).toMatchObject({
      migrated: false,
      methods: [],
      methods_not_enabled: ['mobile', 'alternateMobile'],
      blocked: 'no cloud MFA method the authentication methods policy lets them use: enable one for them',
    });
    // Voice on for all users, office phones too: quinn's phones count, SMS and voice only; rupert has a mobile but is disabled in MFA Server: blocked, not ready.
    const voice = await fetch(`${emu.url}/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Voice`, {
      method: 'PATCH',
      headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' },
      body: JSON.stringify({ '@odata.type': '#microsoft.graph.voiceAuthenticationMethodConfiguration', state: 'enabled', isOfficePhoneAllowed: true, includeTargets: [{ id: 'all_users', targetType: 'group' }] }),
    });
    expect(voice.status).toBeLessThan(300);
    const after = JSON.parse((await runMain(['status', '--source', CONTOSO, '--graph-url', emu.url, '--format', 'json'])).stdout);
    // hana's hardware token stays unusable: hardware OATH is off.
    expect(after.counts).toEqual({ users: 40, migrated: 6, switched: 0, ready: 5, phone_only: 4, blocked: 35 });
    expect(after.users.find((u: { user: string }) => u.user === 'hana@contoso.com')).toMatchObject({ migrated: false, methods_not_enabled: ['hardwareOath'] });
    expect(after.users.find((u: { user: string }) => u.user === 'quinn@contoso.com')).toMatchObject({ migrated: true, phone_only: true, methods: ['mobile', 'alternateMobile'], methods_not_enabled: [], switched: false, blocked: null });
    const none = await runMain(['status', '--graph-url', emu.url]);
    expect([none.code, none.stderr]).toEqual([1, expect.stringMatching(/status needs a scope: --source DIR/)]);
  });

  it('the demo plans the whole cutover', async () => {
    const demo = await runMain(['demo', '--report', join(tmp.dir, 'demo.html')]);
    expect(demo.code).toBe(0);
    // Where the report is, said once (a black-box review: "Mapping report written to", then "The auditors' mapping report is at").
    expect(`${demo.stdout}${demo.stderr}`.split(join(tmp.dir, 'demo.html')).length - 1).toBe(1);
    expect(demo.stderr).toContain(`Mapping report written to ${join(tmp.dir, 'demo.html')}\n`);
    // Issue 17 item 17: the sample's own key and password (0644 as installed) are used from private copies, without a warning.
    expect(demo.stderr).not.toMatch(/has mode|chmod/);
    expect(demo.stdout).toMatch(/\+ featureRolloutPolicies\/multiFactorAuthentication/);
    expect(demo.stdout).toMatch(/~ domains\/contoso\.com\/federationConfiguration .*"rejectMfaByFederatedIdp" \(last: once the 35 switch\(es\) of the domain succeeded\)/);
    expect(demo.stdout).toMatch(/federation-forced/);
    // The report: the phone-only users first among the lists, and the cutover's table.
    const html = readFileSync(join(tmp.dir, 'demo.html'), 'utf8');
    expect(html).toContain('<h2 id="phone-only">Users left with SMS and voice only (24)</h2>');
    expect(html.indexOf('id="phone-only"')).toBeLessThan(html.indexOf('id="no-usable-method"'));
    // Its rows: the policy, the attach, the federation, the group's fill, passkeys, and the tenant users outside the export the federation switches (admin@, helpdesk@).
    expect(html).toMatch(/<h2 id="cutover">Cutover \(6\)<\/h2>/);
    expect(html).toContain('2 tenant user(s) of the domain outside the export, switched by the federation');
    expect(html).toContain('<li>24 user(s) left with SMS and voice only: from 2027-02-01 a blocking passkey registration prompt stops their sign-in</li>');
  });
});
