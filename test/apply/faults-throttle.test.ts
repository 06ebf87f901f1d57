import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Applied } from '../../src/app/apply.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { generateExport } from '../../fixtures/generate-export.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, journalLines, planTo, runDirs, tempDir } from '../helpers/migration.js';
import { expectNoDuplicateCreates, expectPlanApplied, writes, type Snapshot } from '../helpers/tenant-checks.js';

const USERS = 600;

/**
 * A few thousand synthetic users against a Graph that throttles (its write quota, time-scaled) and
 * answers 10 % of operations with a 5xx, half of the faulted writes applied all the same: every
 * operation ends done, and nothing is created twice.
 */
describe(`apply: ${USERS} users, fault rate 0.1, throttled`, () => {
  let g: FakeGraph;
  let tmp: ReturnType<typeof tempDir>;
  let plan: Plan;
  let applied: Applied;
  let stateDir: string;

  beforeAll(async () => {
    tmp = tempDir('faults');
    const source = join(tmp.dir, 'export');
    // Mobiles, some alternates, a tenth with a hardware token (create, assign, activate), some users with a mobile already.
    await generateExport({ out: source, users: USERS, tokenShare: 0.1, deviceShare: 0, backupShare: 0.2, tenantMethodShare: 0.1, seed: 7, tenant: true });
    g = fakeGraph({
      tenant: join(source, 'tenant.json'),
      throttle: 'L',
      // Graph's write window of 150 s becomes 1.5 s, and holds 400 writes instead of 3,000 (under 300 writes a second) so that
      // this run, slowed by the faults, meets the quota several times.
      timeScale: 100,
      throttleLimits: { appWrites: 400 },
      faultRate: 0.1,
      seed: 11,
      requestLogLimit: 1_000_000,
    });
    const planFile = join(tmp.dir, 'synthetic.plan');
    ({ plan } = await planTo(g, planFile, { source, tokens: [join(source, 'tokens', 'seeds.pskc')], seeds: { pskcMac: 'fail' } }));
    g.emu.clearRequests();
    stateDir = join(tmp.dir, 'state');
    applied = await applyFile(g, planFile, stateDir, { batchSize: 1000 });
  }, 120_000);

  afterAll(() => tmp?.cleanup());

  it('completes with every operation done', () => {
    expect(applied.outcome.state).toBe('completed');
    const lines = journalLines(runDirs(stateDir)[0]!);
    const end = lines.at(-1);
    expect(end).toMatchObject({ t: 'end', state: 'completed' });
    expect(end.counts).toMatchObject({ failed: 0, skipped: 0, pending: 0, started: 0 });
    expect(end.counts.done).toBe(lines[0].totalOps);
    expect(lines[0].totalOps).toBeGreaterThan(2 * USERS * 0.9);
  });

  it('met throttling and faults on the way, and read writes back before resending them', () => {
    const items = writes(g.emu.requests());
    expect(items.filter((w) => w.status === 429).length).toBeGreaterThan(0);
    expect(items.filter((w) => w.status >= 500).length).toBeGreaterThan(50);
    expect(applied.outcome.stats.throttled).toBeGreaterThan(0);
    expect(applied.outcome.stats.verified).toBeGreaterThan(0);
  });

  it('leaves the tenant as the plan promised, with no duplicate create', () => {
    const state: Snapshot = g.emu.snapshot();
    expectPlanApplied(plan, state);
    expectNoDuplicateCreates(g.emu.requests(), state);
    // No write was answered "already exists": a write whose answer was lost was read back, not resent blindly.
    // (The bulk-create probe, an empty list Graph refuses as such, asks whether the action exists.)
    const probe = (w: { body: unknown }) => JSON.stringify(w.body) === JSON.stringify({ '@context': '#$delta', value: [] });
    const conflicts = writes(g.emu.requests()).filter((w) => (w.status === 400 || w.status === 409) && !probe(w));
    expect(conflicts.map((w) => `${w.method} ${w.path} ${w.status}`)).toEqual([]);
  });

  it('never sent a write before the Retry-After it was given', () => {
    // After a 429 the client waits: a write sent early would be answered with another 429.
    const log = g.emu.requests();
    const throttled = writes(log).filter((w) => w.status === 429);
    expect(throttled.length).toBeLessThan(writes(log).length * 0.25);
    expect(readFileSync(join(runDirs(stateDir)[0]!, 'journal.jsonl'), 'utf8')).not.toMatch(/secretKey/);
  });
});
