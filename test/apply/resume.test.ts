import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { GraphClient } from '../emulator/helpers.js';
import { runCli } from '../helpers/run-cli.js';
import { CONTOSO, expectNoDuplicateCreates, expectPlanApplied, parseCsv, planTo, readPlan, tempDir, writes, type PlanDoc, type Snapshot } from './helpers.js';

/** Users with something to do, in the order apply takes them (the plan's order). */
function usersInOrder(plan: PlanDoc): { upn: string; id: string }[] {
  const seen = new Map<string, { upn: string; id: string }>();
  for (const c of plan.user_changes) if (c.action !== 'no-op' && !seen.has(c.user_id)) seen.set(c.user_id, { upn: c.user, id: c.user_id });
  return [...seen.values()];
}

describe('apply --waves, then resume', () => {
  let emu: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  let plan: PlanDoc;

  beforeAll(async () => {
    tmp = tempDir('waves');
    emu = await startEmulator({ port: 0, throttle: 'off' });
    planFile = join(tmp.dir, 'contoso.plan');
    await planTo(emu.url, planFile);
    plan = readPlan(planFile);
  }, 60_000);

  afterAll(async () => {
    await emu?.stop();
    tmp?.cleanup();
  });

  it('stops after one wave; resume finishes without resending, and leaves out a user changed since the plan', async () => {
    const stateDir = join(tmp.dir, 'state');
    const users = usersInOrder(plan);
    expect(users.length).toBeGreaterThan(20);
    const first = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--batch-size', '10', '--waves', '1', '--results', join(tmp.dir, 'wave1.csv')]);
    expect(first.code).toBe(3);
    const runId = /Run (\S+): stopped\./.exec(first.stdout)?.[1];
    expect(runId, first.stdout).toBeDefined();
    expect(first.stdout).toContain(`mfa-migrate resume ${runId}`);

    // Exactly the first wave's ten users were migrated.
    const wave1 = new Set(users.slice(0, 10).map((u) => u.upn.toLowerCase()));
    const rest = new Set(users.slice(10).map((u) => u.upn.toLowerCase()));
    const afterWave1: Snapshot = emu.snapshot();
    expectPlanApplied(plan, afterWave1, rest);
    const rows1 = parseCsv(readFileSync(join(tmp.dir, 'wave1.csv'), 'utf8'));
    expect(rows1.filter((r) => r.outcome === "done").map((r) => r.upn!.toLowerCase()).sort()).toEqual([...wave1].sort());
    expect(rows1.filter((r) => r.outcome === 'pending')).toHaveLength(users.length - 10);
    expect(() => expectPlanApplied(plan, afterWave1, wave1)).toThrow();
    const listed = JSON.parse((await runCli(['runs', '--state-dir', stateDir, '--format', 'json'])).stdout) as { id: string; state: string; counts: Record<string, number> }[];
    expect(listed).toEqual([expect.objectContaining({ id: runId, state: 'stopped' })]);
    expect(listed[0]!.counts.pending).toBeGreaterThan(0);

    // Between the waves, someone gives a third-wave user the mobile the plan was about to create.
    const changed = users.slice(20).find((u) => plan.user_changes.some((c) => c.user_id === u.id && c.resource === 'phoneMethods/mobile' && c.action === 'create'))!;
    const graph = new GraphClient(emu.url);
    expect((await graph.post(`/v1.0/users/${changed.id}/authentication/phoneMethods`, { phoneNumber: '+1 2065550177', phoneType: 'mobile' })).status).toBe(201);
    emu.clearRequests();

    const resumed = await runCli(['resume', '--graph-url', emu.url, '--state-dir', stateDir, '--results', join(tmp.dir, 'resumed.csv')]);
    expect(resumed.code).toBe(3);
    expect(resumed.stdout).toContain(`Run ${runId}: partial.`);
    expect(resumed.stdout).toMatch(new RegExp(`stale \\(left out\\):.*${changed.upn.replace(/[.]/g, '\\.')} phoneMethods/mobile`));
    const final: Snapshot = emu.snapshot();
    expectPlanApplied(plan, final, new Set([changed.upn.toLowerCase()]));
    expectNoDuplicateCreates(emu.requests(), final);
    // Nothing of the first wave was sent again, and nothing of the stale user at all.
    const wave1Ids = users.slice(0, 10).map((u) => u.id);
    for (const w of writes(emu.requests())) {
      for (const id of [...wave1Ids, changed.id]) expect(w.path, `${w.method} ${w.path} resent`).not.toContain(id);
    }
    const rows = parseCsv(readFileSync(join(tmp.dir, 'resumed.csv'), 'utf8'));
    expect(rows).toHaveLength(users.length);
    expect(rows.find((r) => r.upn === changed.upn)?.outcome).toBe('stale');
    expect(rows.filter((r) => r.outcome === 'done')).toHaveLength(users.length - 1);
    const after = JSON.parse((await runCli(['runs', '--state-dir', stateDir, '--format', 'json'])).stdout) as { state: string; finished: string | null }[];
    expect(after).toEqual([expect.objectContaining({ id: runId, state: 'partial', finished: expect.any(String) })]);
  }, 90_000);

  it('resume with nothing to finish is an error naming the state directory', async () => {
    const r = await runCli(['resume', '--graph-url', emu.url, '--state-dir', join(tmp.dir, 'empty')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no unfinished apply run in .*empty/);
    const unknown = await runCli(['resume', '20200101T000000Z-deadbeef', '--graph-url', emu.url, '--state-dir', join(tmp.dir, 'state')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no run 20200101T000000Z-deadbeef/);
  });
});

describe('apply with failing operations', () => {
  let emu: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    tmp = tempDir('failed');
    emu = await startEmulator({ port: 0, throttle: 'off' });
  });

  afterAll(async () => {
    await emu?.stop();
    tmp?.cleanup();
  });

  it('a seed changed since the plan fails that token (exit 3, reason without the seed); resume after fixing the file completes', async () => {
    const source = join(tmp.dir, 'contoso');
    cpSync(CONTOSO, source, { recursive: true });
    const tokens = join(source, 'tokens');
    const seedArgs = ['--tokens', join(tokens, 'seeds.pskc'), '--tokens', join(tokens, 'entra-upload.csv'), '--tokens', join(tokens, 'generic-seeds.csv')];
    const planFile = join(tmp.dir, 'p.plan');
    await planTo(emu.url, planFile, source, seedArgs);
    const plan = readPlan(planFile);
    // grace's token 20010001: another seed in the file since the plan was made.
    const pskcPath = join(tokens, 'seeds.pskc');
    const original = readFileSync(pskcPath, 'utf8');
    const graceSeed = 'n2ZWpJgGDIytDdYJ9474jVPEKoI=';
    expect(original).toContain(graceSeed);
    const otherSeed = Buffer.alloc(20, 7).toString('base64');
    writeFileSync(pskcPath, original.replace(graceSeed, otherSeed));

    const stateDir = join(tmp.dir, 'state');
    const results = join(tmp.dir, 'r.csv');
    const r = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--results', results]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/Run \S+: partial\./);
    expect(r.stdout).toMatch(/grace@contoso\.com: .*seed of token 20010001 changed since the plan/);
    const out = r.stdout + r.stderr + readFileSync(results, 'utf8');
    for (const s of [graceSeed, otherSeed, Buffer.from(otherSeed, 'base64').toString('hex')]) expect(out).not.toContain(s);
    const grace = parseCsv(readFileSync(results, 'utf8')).find((x) => x.upn === 'grace@contoso.com')!;
    expect(grace.outcome).toBe('partial');
    // The mobile went in; the token, its activation and the default that needs it did not.
    expect(grace.operations).toBe('1/4');
    let state: Snapshot = emu.snapshot();
    expect(state.hardwareOathDevices.some((d: Snapshot) => d.serialNumber === '20010001')).toBe(false);
    expectPlanApplied(plan, state, new Set(['grace@contoso.com']));

    // Fixed: the run is resumed and finishes; what was done is not sent again.
    writeFileSync(pskcPath, original);
    emu.clearRequests();
    const resumed = await runCli(['resume', '--graph-url', emu.url, '--state-dir', stateDir]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/Run \S+: completed\./);
    state = emu.snapshot();
    expectPlanApplied(plan, state);
    const graceId = plan.user_changes.find((c) => c.user === 'grace@contoso.com')!.user_id;
    const sent = writes(emu.requests());
    expect(sent.length).toBe(3);
    expect(sent.every((w) => w.path.includes(graceId) || /hardwareOathDevices$/.test(w.path))).toBe(true);
    expectNoDuplicateCreates(emu.requests(), state);
  }, 90_000);
});
