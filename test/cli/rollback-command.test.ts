import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { CONTOSO_SEEDS } from '../plan/helpers.js';
import { runMain } from '../helpers/run-main.js';
import { tempDir } from '../helpers/migration.js';

const SEEDS = CONTOSO_SEEDS;

/** The state with the times Graph stamps on writes left out. */
function comparable(snapshot: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(snapshot, (k, v) => (/DateTime$/.test(k) ? undefined : v)));
}

describe('mfa-migrate rollback', () => {
  let emu: RunningEmulator;
  /**
   * The plan of the untouched Contoso tenant the first three tests apply: made once by the CLI, with the
   * emulator as it starts and as each of them resets it, and copied to `file` (a plan cost about 0.15 s of CPU).
   */
  let contosoPlan: Promise<string> | undefined;
  const planFolder = tempDir('rollback-plan');
  afterAll(() => planFolder.cleanup());
  const copyCliPlan = async (file: string) => {
    contosoPlan ??= (async () => {
      const made = join(planFolder.dir, 'p.plan');
      expect((await runMain(['plan', '--source', 'fixtures/contoso', ...SEEDS, '--graph-url', emu.url, '--out', made])).code).toBe(0);
      return made;
    })();
    copyFileSync(await contosoPlan, file);
  };
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
  });
  afterAll(async () => {
    await emu.stop();
  });

  it('returns the tenant to its starting state after a full apply', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollback-'));
    const before = comparable(emu.snapshot());
    await copyCliPlan(join(dir, 'p.plan'));
    const apply = await runMain(['apply', join(dir, 'p.plan'), '--graph-url', emu.url, '--state-dir', join(dir, 'state')]);
    expect(apply.code).toBe(0);
    expect(comparable(emu.snapshot())).not.toEqual(before);

    const runs = JSON.parse((await runMain(['runs', '--state-dir', join(dir, 'state'), '--format', 'json'])).stdout) as { id: string; kind: string; state: string }[];
    expect(runs).toEqual([expect.objectContaining({ kind: 'apply', state: 'completed' })]);
    // The run's own Graph is used: no --graph-url needed.
    const rollback = await runMain(['rollback', runs[0]!.id, '--state-dir', join(dir, 'state')]);
    // Nothing on stderr but progress (not a terminal: lines): a line per read step before anything is
    // sent, then the operations, ending with every one done.
    expect(rollback.stderr).toMatch(/^rollback: reading the journals .*\n(rollback: [a-z].*\n)*(rollback: \d+\/\d+ operations.*\n)*rollback: (\d+)\/\3 operations, throttled \d+, failed 0\n$/);
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toMatch(/: completed\./);
    // Back to the start, but for what Graph cannot undo, each reported: a default method set where
    // there was none (no way to unset one), and the phone it uses (Graph keeps the default's phone).
    // The summary names up to 20 one a line, more by reason with counts; the rollback's report lists every one.
    const listed = [...rollback.stdout.matchAll(/not reversible: (\S+) (\S+): /g)];
    const byReason = [...rollback.stdout.matchAll(/^ {4}(\d+) (?:user|object)\(s\)/gm)].map((m) => Number(m[1]));
    const rollbackId = /^Rollback (\S+) of run/.exec(rollback.stdout)![1]!;
    const report = JSON.parse((await runMain(['report', rollbackId, '--state-dir', join(dir, 'state'), '--format', 'json'])).stdout) as { rollback: { not_reversible: { user: string; target: string }[] } };
    const all = report.rollback.not_reversible;
    if (all.length <= 20) expect(listed.length).toBe(all.length);
    else {
      expect(rollback.stdout).toContain(`  not reversible: ${all.length} object(s) Graph cannot undo, by reason (mfa-migrate report ${rollbackId} --state-dir ${join(dir, 'state')} --report ${rollbackId}.html lists every one):\n`);
      expect(byReason.reduce((a, b) => a + b, 0)).toBe(all.length);
    }
    const kept = new Map<string, string[]>();
    for (const x of all) kept.set(x.user.toLowerCase(), [...(kept.get(x.user.toLowerCase()) ?? []), x.target]);
    expect(kept.size).toBeGreaterThan(0);
    const now = comparable(emu.snapshot()) as { users: { userPrincipalName: string; methods: { phone: { phoneType: string }[] }; signInPreferences?: unknown }[] };
    const was = before as typeof now;
    for (const u of was.users) {
      const after = now.users.find((x) => x.userPrincipalName === u.userPrincipalName)!;
      const left = kept.get(u.userPrincipalName.toLowerCase());
      if (!left) {
        expect(after, u.userPrincipalName).toEqual(u);
        continue;
      }
      expect(left).toContain('signInPreferences');
      const phones = left.filter((r) => r.startsWith('phoneMethods/')).map((r) => r.split('/')[1]);
      expect({ ...after, signInPreferences: undefined, methods: { ...after.methods, phone: after.methods.phone.filter((p) => !phones.includes(p.phoneType)) } }, u.userPrincipalName).toEqual({ ...u, signInPreferences: undefined });
    }
    const rest = (x: Record<string, unknown>) => ({ ...x, users: undefined });
    expect(rest(now as never)).toEqual(rest(was as never));
    // A second rollback of the same run is refused, naming the rollback that did it.
    const again = await runMain(['rollback', runs[0]!.id, '--state-dir', join(dir, 'state')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/was rolled back already, completely, by run \S+/);

    const after = JSON.parse((await runMain(['runs', '--state-dir', join(dir, 'state'), '--format', 'json'])).stdout) as { kind: string; state: string }[];
    expect(after.map((r) => `${r.kind}:${r.state}`)).toEqual(['rollback:completed', 'apply:completed']);
  });

  /** Found by a review: the hint dropped --state-dir, and run as printed it found another copy of the run and said "verified". */
  it('names the --state-dir it was given in every command it prints (the summary\'s, an edited journal\'s refusal)', async () => {
    emu.reset();
    const dir = mkdtempSync(join(tmpdir(), 'rollback-hint-'));
    const state = join(dir, 'state');
    await copyCliPlan(join(dir, 'p.plan'));
    const apply = await runMain(['apply', join(dir, 'p.plan'), '--graph-url', emu.url, '--state-dir', state]);
    expect(apply.code).toBe(0);
    const id = /^Run (\S+):/.exec(apply.stdout)![1]!;
    expect(apply.stdout).toContain(`(note it: mfa-migrate runs verify ${id} --state-dir ${state} prints the same`);
    const journal = join(state, 'runs', id, 'journal.jsonl');
    writeFileSync(journal, readFileSync(journal, 'utf8').replace(/"state":"done"/, '"state":"failed"'));
    const rollback = await runMain(['rollback', id, '--state-dir', state]);
    expect(rollback.code).toBe(1);
    const hint = /; (mfa-migrate runs verify .*) shows the same/.exec(rollback.stderr)![1]!;
    expect(hint).toBe(`mfa-migrate runs verify ${id} --state-dir ${state}`);
    // Run as printed, it checks that journal: edited.
    const verify = await runMain(hint.split(' ').slice(1));
    expect(verify.code).toBe(1);
    expect(verify.stdout + verify.stderr).toMatch(/changed after it was written/);
  });

  it('leaves alone what changed since the run and reports it (exit 3)', async () => {
    emu.reset();
    const dir = mkdtempSync(join(tmpdir(), 'rollback-changed-'));
    await copyCliPlan(join(dir, 'p.plan'));
    expect((await runMain(['apply', join(dir, 'p.plan'), '--graph-url', emu.url, '--state-dir', join(dir, 'state')])).code).toBe(0);
    // Someone changes igor's mobile (which the run had updated) after the migration.
    const bob = (await (await fetch(`${emu.url}/v1.0/users/igor@contoso.com`, { headers: { Authorization: 'Bearer t' } })).json()) as { id: string };
    const res = await fetch(`${emu.url}/v1.0/users/${bob.id}/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7`, {
      method: 'PATCH',
      headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' },
      body: JSON.stringify({ phoneNumber: '+1 2065550777', phoneType: 'mobile' }),
    });
    expect(res.status).toBe(204);
    const [run] = JSON.parse((await runMain(['runs', '--state-dir', join(dir, 'state'), '--format', 'json'])).stdout) as { id: string }[];
    const r = await runMain(['rollback', run!.id, '--graph-url', emu.url, '--state-dir', join(dir, 'state')]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/left alone \(changed since the run\): igor@contoso.com phoneMethods\/mobile/);
    const phones = (await (await fetch(`${emu.url}/v1.0/users/${bob.id}/authentication/phoneMethods`, { headers: { Authorization: 'Bearer t' } })).json()) as { value: { phoneType: string; phoneNumber: string }[] };
    expect(phones.value.find((p) => p.phoneType === 'mobile')?.phoneNumber).toBe('+1 2065550777');
    // Found by an auditor: a second pass dropped the left-alone line and offered a resume that could do nothing.
    const id = /^Rollback (\S+) of run/.exec(r.stdout)![1]!;
    const force = `To put them back as the run found them, overwriting what was changed since: mfa-migrate rollback ${id} --force --state-dir ${join(dir, 'state')}`;
    const again = await runMain(['rollback', id, '--state-dir', join(dir, 'state')]);
    expect(again.code).toBe(3);
    for (const out of [r.stdout, again.stdout]) {
      expect(out).toMatch(/left alone \(changed since the run\): igor@contoso.com phoneMethods\/mobile: the phone changed since the run\n/);
      expect(out).toContain(`Left alone: 1 object(s) changed since the run, which no rollback without --force touches. ${force}`);
      expect(out).not.toContain('Resume with:');
    }
    const forced = await runMain(force.split(': ').at(-1)!.split(' ').slice(1));
    expect(forced.code, forced.stdout).toBe(0);
    expect(forced.stdout).toMatch(/: completed\./);
    expect(forced.stdout).not.toContain('left alone');
  });

  it('names the users it left methods to because the staged rollout still switches them, and the commands that go on (exit 3)', async () => {
    emu.reset();
    const dir = mkdtempSync(join(tmpdir(), 'rollback-switched-'));
    const state = join(dir, 'state');
    expect((await runMain(['plan', '--source', 'fixtures/contoso', ...SEEDS, '--rollout-group', 'MFA Staged Rollout', '--graph-url', emu.url, '--out', join(dir, 'p.plan')])).code).toBe(0);
    expect((await runMain(['apply', join(dir, 'p.plan'), '--graph-url', emu.url, '--state-dir', state])).code).toBe(0);
    // An admin extends the rollout to "MFA Migration Wave 1".
    const get = async (path: string) => (await (await fetch(`${emu.url}${path}`, { headers: { Authorization: 'Bearer t' } })).json()) as { value: { id: string }[] };
    const [policy] = (await get('/v1.0/policies/featureRolloutPolicies')).value;
    const [wave1] = (await get(`/v1.0/groups?$filter=${encodeURIComponent("displayName eq 'MFA Migration Wave 1'")}`)).value;
    const attached = await fetch(`${emu.url}/v1.0/policies/featureRolloutPolicies/${policy!.id}/appliesTo/$ref`, {
      method: 'POST',
      headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' },
      body: JSON.stringify({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${wave1!.id}` }),
    });
    expect(attached.status).toBe(204);
    const [run] = JSON.parse((await runMain(['runs', '--state-dir', state, '--format', 'json'])).stdout) as { id: string }[];
    const r = await runMain(['rollback', run!.id, '--state-dir', state]);
    expect(r.code).toBe(3);
    const id = /^Rollback (\S+) of run/.exec(r.stdout)![1]!;
    expect(r.stdout).toContain('  left alone (user still switched to Entra MFA): grace@contoso.com hardwareOathMethods/20010001: still switched to Entra MFA by the group "MFA Migration Wave 1" of the staged rollout policy\n');
    expect(r.stdout).toContain(
      `Left in place: 5 user(s) of the run are still switched to Entra MFA by the group "MFA Migration Wave 1" of the staged rollout policy: alice@contoso.com, bob@contoso.com, carol@contoso.com, grace@contoso.com, niaj@contoso.com. `,
    );
    expect(r.stdout).toContain(`finish with: mfa-migrate rollback ${id} --state-dir ${state}; to take them all the same, leaving them with nothing to sign in with (--leave-switched-without-method; --out-of-order does not): mfa-migrate rollback ${id} --leave-switched-without-method --state-dir ${state}\n`);
    expect(r.stdout).not.toContain('Resume with:');
  });

  it('--out-of-order lifts the newest-first rule alone: users of a later run still switched keep what they need (exit 3), named with --leave-switched-without-method, which takes them (a black-box test of the cutover)', async () => {
    emu.reset();
    const dir = mkdtempSync(join(tmpdir(), 'rollback-consents-'));
    const state = join(dir, 'state');
    const planApply = async (name: string, ...scope: string[]) => {
      expect((await runMain(['plan', '--source', 'fixtures/contoso', ...SEEDS, ...scope, '--rollout-group', 'MFA Staged Rollout', '--graph-url', emu.url, '--out', join(dir, name)])).code).toBe(0);
      const applied = await runMain(['apply', join(dir, name), '--graph-url', emu.url, '--state-dir', state]);
      expect(applied.code, applied.stderr).toBe(0);
    };
    await planApply('a.plan', '--group', 'MFA Migration Wave 1');
    writeFileSync(join(dir, 'users.txt'), 'dave@contoso.com\nfrank@contoso.com\n');
    await planApply('b.plan', '--users', join(dir, 'users.txt'));
    const [, a] = JSON.parse((await runMain(['runs', '--state-dir', state, '--format', 'json'])).stdout) as { id: string }[];
    const refused = await runMain(['rollback', a!.id, '--state-dir', state]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`to roll back run ${a!.id} anyway, add --out-of-order (it lifts this rule alone: what the rollback would take from users the staged rollout still switches to Entra MFA, leaving them no method they can use, stays in place unless --leave-switched-without-method is added too)`);
    const state_ = async (id: string) => ((await (await fetch(`${emu.url}/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/${id}`, { headers: { Authorization: 'Bearer t' } })).json()) as { state: string }).state;

    const r = await runMain(['rollback', a!.id, '--out-of-order', '--state-dir', state]);
    expect(r.code).toBe(3);
    expect(await state_('Sms')).toBe('enabled');
    expect(await state_('Voice')).toBe('enabled');
    const id = /^Rollback (\S+) of run/.exec(r.stdout)![1]!;
    expect(r.stdout).toContain('Left in place: 2 user(s) outside the run are still switched to Entra MFA by the group "MFA Staged Rollout" of the staged rollout policy and would have no method they can use: dave@contoso.com, frank@contoso.com.');
    const leave = `mfa-migrate rollback ${id} --leave-switched-without-method --state-dir ${state}`;
    expect(r.stdout).toContain(`to take them all the same, leaving them with nothing to sign in with (--leave-switched-without-method; --out-of-order does not): ${leave}\n`);
    expect(r.stderr).not.toContain('Warning:');

    const taken = await runMain(leave.split(' ').slice(1));
    expect(await state_('Sms')).toBe('disabled');
    expect(taken.stderr).toContain('Warning: --leave-switched-without-method: 2 user(s) outside the run still switched to Entra MFA');
    expect(taken.stdout).toContain('Taken all the same (--leave-switched-without-method): 2 user(s) outside the run still switched to Entra MFA (by the group "MFA Staged Rollout" of the staged rollout policy) have no method they can use');
  });

  it('--help tells the two consents apart, with an example of each', async () => {
    const help = await runMain(['rollback', '--help']);
    expect(help.code).toBe(0);
    const text = help.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('--out-of-order roll back this run although apply runs made after it are still in effect (refused without this); this rule alone: it takes no method from users left switched to Entra MFA');
    expect(text).toContain('--leave-switched-without-method take the methods all the same from users this rollback leaves switched to Entra MFA with none they can use');
    expect(help.stdout).toMatch(/\$ mfa-migrate rollback \S+ --out-of-order +#/);
    expect(help.stdout).toMatch(/\$ mfa-migrate rollback \S+ --leave-switched-without-method +#/);
  });
});
