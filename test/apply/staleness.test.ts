import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { GraphClient } from '../emulator/helpers.js';
import { runCli } from '../helpers/run-cli.js';
import { CONTOSO, expectPlanApplied, parseCsv, planTo, readPlan, tempDir, writes, type PlanDoc, type Snapshot } from './helpers.js';

/** Objects changed in the tenant between plan and apply: refused, or left out and reported with --skip-stale. */
describe('apply: stale plans', () => {
  let emu: RunningEmulator;
  let graph: GraphClient;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  let plan: PlanDoc;
  let pristine: Snapshot;

  beforeAll(async () => {
    tmp = tempDir('stale');
    emu = await startEmulator({ port: 0, throttle: 'off' });
    graph = new GraphClient(emu.url);
    planFile = join(tmp.dir, 'contoso.plan');
    await planTo(emu.url, planFile);
    plan = readPlan(planFile);
    pristine = emu.snapshot();
  }, 60_000);

  afterAll(async () => {
    await emu?.stop();
    tmp?.cleanup();
  });

  afterEach(() => emu.reset());

  /** Someone adds bob a mobile phone and changes igor's in the portal after the plan was made. */
  async function changeTwoUsers(): Promise<void> {
    expect((await graph.post('/v1.0/users/bob@contoso.com/authentication/phoneMethods', { phoneNumber: '+1 2065550199', phoneType: 'mobile' })).status).toBe(201);
    expect((await graph.patch('/v1.0/users/igor@contoso.com/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7', { phoneNumber: '+1 2065550188', phoneType: 'mobile' })).status).toBe(204);
    emu.clearRequests();
  }

  it('refuses to start, exit 1, listing every changed object, and writes nothing', async () => {
    await changeTwoUsers();
    const voice = await graph.patch('/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/voice', { '@odata.type': '#microsoft.graph.voiceAuthenticationMethodConfiguration', state: 'enabled' });
    expect(voice.status).toBe(204);
    emu.clearRequests();
    const stateDir = join(tmp.dir, 'refused');
    const r = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/stale/);
    expect(r.stderr).toMatch(/bob@contoso\.com phoneMethods\/mobile/);
    expect(r.stderr).toMatch(/igor@contoso\.com phoneMethods\/mobile/);
    expect(r.stderr).toMatch(/policy authenticationMethodConfigurations\/Voice\.state/);
    expect(r.stderr).toMatch(/--skip-stale/);
    // Nothing listed that did not change.
    expect(r.stderr).not.toMatch(/grace@contoso\.com/);
    expect(writes(emu.requests())).toEqual([]);
    // No run was started; the lock was released.
    expect(existsSync(join(stateDir, 'runs')) ? readdirSync(join(stateDir, 'runs')) : []).toEqual([]);
    expect(existsSync(join(stateDir, 'lock'))).toBe(false);
  });

  it('--skip-stale leaves the changed users out, applies the rest, reports them and exits 3', async () => {
    await changeTwoUsers();
    const bobBefore = (emu.snapshot() as Snapshot).users.find((u: Snapshot) => u.userPrincipalName === 'bob@contoso.com');
    const stateDir = join(tmp.dir, 'skip');
    const results = join(tmp.dir, 'skip.csv');
    const r = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--skip-stale', '--results', results]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/stale \(left out\):.*bob@contoso\.com phoneMethods\/mobile/);
    expect(r.stdout).toMatch(/igor@contoso\.com phoneMethods\/mobile/);
    const state: Snapshot = emu.snapshot();
    // Everyone else got what the plan promised.
    expectPlanApplied(plan, state, new Set(['bob@contoso.com', 'igor@contoso.com']));
    // Bob is left as he was found: not even the changes of his that were not stale (alternateMobile, default) were made.
    expect(state.users.find((u: Snapshot) => u.userPrincipalName === 'bob@contoso.com')).toEqual(bobBefore);
    const igor = state.users.find((u: Snapshot) => u.userPrincipalName === 'igor@contoso.com');
    expect(igor.methods.phone.find((p: Snapshot) => p.phoneType === 'mobile').phoneNumber).toBe('+1 2065550188');
    for (const w of writes(emu.requests())) expect(w.path).not.toMatch(/users\/(bob|igor)@|fd706bef/i);
    const rows = parseCsv(readFileSync(results, 'utf8'));
    expect(rows.find((x) => x.upn === 'bob@contoso.com')?.outcome).toBe('stale');
    expect(rows.find((x) => x.upn === 'igor@contoso.com')?.outcome).toBe('stale');
    expect(rows.filter((x) => x.outcome === 'done').length).toBe(rows.length - 2);
    const runs = JSON.parse((await runCli(['runs', '--state-dir', stateDir, '--format', 'json'])).stdout) as { state: string; counts: Record<string, number> }[];
    expect(runs[0]).toMatchObject({ state: 'partial' });
    // Neither has a token: one operation per change.
    expect(runs[0]!.counts.skipped).toBe(plan.user_changes.filter((c) => c.action !== 'no-op' && ['bob@contoso.com', 'igor@contoso.com'].includes(c.user)).length);
  });

  it('a user deleted from the tenant after the plan is stale too', async () => {
    const tenant = JSON.parse(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8')) as { users: { id?: string; userPrincipalName: string }[]; groups?: { members: string[] }[] };
    const frankId = pristine.users.find((u: Snapshot) => u.userPrincipalName === 'frank@contoso.com').id as string;
    tenant.users = tenant.users.filter((u) => u.userPrincipalName.toLowerCase() !== 'frank@contoso.com');
    for (const g of tenant.groups ?? []) g.members = g.members.filter((m) => m !== frankId && m.toLowerCase() !== 'frank@contoso.com');
    emu.reset(tenant);
    const stateDir = join(tmp.dir, 'deleted');
    const refused = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/frank@contoso\.com .*no longer in the tenant/);
    const skipped = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--skip-stale']);
    expect(skipped.code).toBe(3);
    expectPlanApplied(plan, emu.snapshot(), new Set(['frank@contoso.com']));
    expect(pristine.users.some((u: Snapshot) => u.userPrincipalName === 'frank@contoso.com')).toBe(true);
  });
});
