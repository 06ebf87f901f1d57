import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { generateExport } from '../../fixtures/generate-export.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { expectNoDuplicateCreates, expectPlanApplied, journalLines, planTo, readPlan, runDirs, tempDir, writes, type PlanDoc, type Snapshot } from './helpers.js';

const USERS = 2000;

/**
 * A few thousand synthetic users against an emulator that throttles (Graph's write quota, time-scaled)
 * and answers 10 % of operations with a 5xx, half of the faulted writes applied all the same: every
 * operation ends done, and nothing is created twice.
 */
describe(`apply: ${USERS} users, fault rate 0.1, throttled`, () => {
  let emu: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let plan: PlanDoc;
  let applied: CliResult;
  let stateDir: string;

  beforeAll(async () => {
    tmp = tempDir('faults');
    const source = join(tmp.dir, 'export');
    // Mobiles, some alternates, a tenth with a hardware token (create, assign, activate), some users with a mobile already.
    await generateExport({ out: source, users: USERS, tokenShare: 0.1, deviceShare: 0, backupShare: 0.2, tenantMethodShare: 0.1, seed: 7, tenant: true });
    emu = await startEmulator({
      port: 0,
      tenant: join(source, 'tenant.json'),
      throttle: 'L',
      // Graph's write window of 150 s becomes 3 s, and holds 1,200 writes instead of 3,000 so that this
      // run, slowed by the faults, meets the quota several times.
      timeScale: 50,
      throttleLimits: { appWrites: 1200 },
      faultRate: 0.1,
      seed: 11,
      requestLogLimit: 1_000_000,
    });
    const planFile = join(tmp.dir, 'synthetic.plan');
    await planTo(emu.url, planFile, source, ['--tokens', join(source, 'tokens', 'seeds.pskc')]);
    plan = readPlan(planFile);
    emu.clearRequests();
    stateDir = join(tmp.dir, 'state');
    applied = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--batch-size', '1000']);
  }, 120_000);

  afterAll(async () => {
    await emu?.stop();
    tmp?.cleanup();
  });

  it('completes with every operation done (exit 0)', () => {
    expect(applied.stderr).not.toMatch(/^error/m);
    expect(applied.code).toBe(0);
    const lines = journalLines(runDirs(stateDir)[0]!);
    const end = lines.at(-1);
    expect(end).toMatchObject({ t: 'end', state: 'completed' });
    expect(end.counts).toMatchObject({ failed: 0, skipped: 0, pending: 0, started: 0 });
    expect(end.counts.done).toBe(lines[0].totalOps);
    expect(lines[0].totalOps).toBeGreaterThan(2 * USERS * 0.9);
  });

  it('met throttling and faults on the way, and read writes back before resending them', () => {
    const items = writes(emu.requests());
    expect(items.filter((w) => w.status === 429).length).toBeGreaterThan(0);
    expect(items.filter((w) => w.status >= 500).length).toBeGreaterThan(100);
    expect(applied.stdout).toMatch(/[1-9]\d* throttled/);
    expect(applied.stdout).toMatch(/[1-9]\d* read back/);
  });

  it('leaves the tenant as the plan promised, with no duplicate create', () => {
    const state: Snapshot = emu.snapshot();
    expectPlanApplied(plan, state);
    expectNoDuplicateCreates(emu.requests(), state);
    // No write was answered "already exists": a write whose answer was lost was read back, not resent blindly.
    const conflicts = writes(emu.requests()).filter((w) => w.status === 400 || w.status === 409);
    expect(conflicts.map((w) => `${w.method} ${w.path} ${w.status}`)).toEqual([]);
  });

  it('never sent a write before the Retry-After it was given', () => {
    // After a 429 the client waits: the emulator answers a write sent early with another 429 without charging it.
    const log = emu.requests();
    const throttled = writes(log).filter((w) => w.status === 429);
    expect(throttled.length).toBeLessThan(writes(log).length * 0.25);
    expect(readFileSync(join(runDirs(stateDir)[0]!, 'journal.jsonl'), 'utf8')).not.toMatch(/secretKey/);
  });
});
