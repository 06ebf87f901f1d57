import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyPropagation, type PolicyWait } from '../../src/apply/policy-propagation.js';
import type { ApplyProgressEvent } from '../../src/apply/run-apply.js';
import type { EmulatorState } from '../../src/emulator/state.js';
import type { HardwareOathPolicyReading } from '../../src/graph/policy-reader.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, CONTOSO, planTo, tempDir } from '../helpers/migration.js';
import { expectPlanApplied } from '../helpers/tenant-checks.js';

const MINUTE = 60_000;
const ACTIVATION = /\/(activate|assignAndActivateBySerialNumber)$/;
const hardwareOathOf = (state: EmulatorState) => state.policy.authenticationMethodConfigurations.find((c) => c.id === 'HardwareOath')!;

/** A PolicyPropagation on a clock the test moves, reading what `policy` holds (counting the reads). */
function judgeWith(policy: { value: HardwareOathPolicyReading | Error }, opts: { waitMs?: number; byRun?: number; freshMs?: number } = {}) {
  const clock = { now: 1_000_000_000 };
  const reads = { count: 0 };
  const p = new PolicyPropagation({
    waitMs: opts.waitMs ?? 20 * MINUTE,
    enabledByRun: () => opts.byRun,
    read: async () => {
      reads.count++;
      if (policy.value instanceof Error) throw policy.value;
      return policy.value;
    },
    freshMs: opts.freshMs ?? MINUTE,
    now: () => clock.now,
  });
  return { p, clock, reads };
}

const failure = (w: PolicyWait) => ('failure' in w ? w.failure : undefined);

describe('PolicyPropagation: whether a refused activation may still be waiting for the hardware OATH policy', () => {
  it('the policy reads HardwareOath disabled: a failure naming the policy, whatever the run did (no wait mends it)', async () => {
    const { p } = judgeWith({ value: { enabled: false, lastModified: 1_000_000_000 - MINUTE } }, { byRun: 1_000_000_000 - MINUTE });
    expect(failure(await p.judge())).toMatch(/authentication methods policy has the HardwareOath method disabled.*enable it.*resume/);
  });

  it("enabled by someone else (an admin, an earlier plan): the wait counts from the policy's lastModifiedDateTime; past the wait, a failure saying when it changed", async () => {
    const policy = { value: { enabled: true, lastModified: 1_000_000_000 - 5 * MINUTE } as HardwareOathPolicyReading | Error };
    const { p, clock } = judgeWith(policy);
    expect(await p.judge()).toEqual({ until: 1_000_000_000 + 15 * MINUTE });
    clock.now += 15 * MINUTE;
    expect(failure(await p.judge())).toMatch(/HardwareOath enabled, and the policy last changed at .* UTC, 20 minutes ago: the --policy-propagation-wait of 20 minutes is over/);
    // Changed long before the run: not its propagation, failed at once.
    const old = judgeWith({ value: { enabled: true, lastModified: 1_000_000_000 - 90 * MINUTE } });
    expect(failure(await old.p.judge())).toMatch(/90 minutes ago/);
  });

  it("this run's own enable counts when it is the later change; with no date at all, the run's first refusal does", async () => {
    const mine = judgeWith({ value: { enabled: true, lastModified: 1_000_000_000 - 30 * MINUTE } }, { byRun: 1_000_000_000 - 2 * MINUTE });
    expect(await mine.p.judge()).toEqual({ until: 1_000_000_000 + 18 * MINUTE });
    const undated = judgeWith({ value: { enabled: true } });
    expect(await undated.p.judge()).toEqual({ until: 1_000_000_000 + 20 * MINUTE });
    undated.clock.now += 5 * MINUTE;
    expect(await undated.p.judge()).toEqual({ until: 1_000_000_000 + 20 * MINUTE });
  });

  it('reads the policy once a retry round for every refusal in it, and again after; a read that fails leaves the run\'s own enable to date the wait', async () => {
    const policy = { value: { enabled: true, lastModified: 1_000_000_000 } as HardwareOathPolicyReading | Error };
    const { p, clock, reads } = judgeWith(policy, { freshMs: MINUTE });
    await Promise.all([p.judge(), p.judge(), p.judge()]);
    expect(reads.count).toBe(1);
    // An admin disabled it meanwhile: seen at the next round.
    policy.value = { enabled: false, lastModified: 1_000_000_000 + 30_000 };
    clock.now += 30_000;
    expect('until' in (await p.judge())).toBe(true);
    clock.now += 30_000;
    expect(failure(await p.judge())).toMatch(/disabled/);
    expect(reads.count).toBe(2);

    const unread = judgeWith({ value: new Error('503 serviceNotAvailable') }, { byRun: 1_000_000_000 - MINUTE });
    expect(await unread.p.judge()).toEqual({ until: 1_000_000_000 + 19 * MINUTE });
    const unreadNotMine = judgeWith({ value: new Error('503 serviceNotAvailable') });
    expect(failure(await unreadNotMine.p.judge())).toMatch(/could not be read .*503 serviceNotAvailable/);
  });
});

/** The Contoso tenant with the HardwareOath method enabled `secondsAgo` before the emulator starts (an admin in the portal), its propagation `propagationSeconds`. */
function contosoEnabledBefore(secondsAgo: number, propagationSeconds: number): Record<string, unknown> {
  const tenant = JSON.parse(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8')) as Record<string, unknown>;
  return {
    ...tenant,
    authenticationMethodsPolicy: { authenticationMethodConfigurations: [{ id: 'HardwareOath', state: 'enabled' }] },
    behaviour: { hardwareOathPropagationSeconds: propagationSeconds, hardwareOathEnabledSecondsBeforeStart: secondsAgo },
  };
}

const activations = (g: FakeGraph) => g.operations().filter((o) => ACTIVATION.test(o.path));

describe('apply and a hardware OATH policy it did not enable', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => (tmp = tempDir('propagation')));
  afterAll(() => tmp.cleanup());

  it.concurrent('an admin enabled HardwareOath five minutes before the plan: activations refused while it propagates wait for it, shown in progress, and the run completes (the run failed them)', async () => {
    const dir = join(tmp.dir, 'admin');
    mkdirSync(dir);
    // Fifteen of the twenty minutes are left when the emulator starts; the test ends them at the first
    // refusal (no real wait for the delay), and the run tries the refused activations again a round later.
    const g: FakeGraph = fakeGraph({
      tenant: contosoEnabledBefore(300, 1200),
      onRequest: (r) => {
        if (ACTIVATION.test(r.path) && r.status === 400) g.emu.state.hardwareOathEnabledAt = -Infinity;
      },
    });
    const { plan } = await planTo(g, join(dir, 'p.plan'));
    // The plan enables nothing of HardwareOath (it is enabled), so it does not warn of the propagation.
    expect(plan.policy_changes.some((c) => /HardwareOath/.test(c.target))).toBe(false);
    expect(plan.findings.some((f) => f.code === 'hardware-oath-propagation')).toBe(false);
    const events: ApplyProgressEvent[] = [];
    const started = Date.now();
    const r = await applyFile(g, join(dir, 'p.plan'), join(dir, 's'), { policyPropagationWait: 1, onProgress: (e) => events.push({ ...e, stats: { ...e.stats } }) });
    expect(activations(g).some((a) => a.status === 400)).toBe(true);
    expect(r.results.filter((x) => x.failed > 0).map((x) => [x.user, x.first_error])).toEqual([]);
    expect(r.outcome.state).toBe('completed');
    expectPlanApplied(plan as Plan, g.emu.snapshot());
    // Progress said what the run waited for, and until when at the latest: the wait counted from the
    // policy's last change (this run's policy step, moments after it started), no more than the minute allowed.
    const waiting = events.filter((e) => e.stats.waitingForPolicy > 0);
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting[0]!.stats.policyWaitUntil).toBeGreaterThan(started + MINUTE - 1000);
    expect(waiting[0]!.stats.policyWaitUntil).toBeLessThanOrEqual(Date.now() + MINUTE);
    expect(r.outcome.stats.waitingForPolicy).toBe(0);
  }, 60_000);

  it.concurrent('HardwareOath disabled by an admin right after the run enabled it: the refused activations fail at once, naming the policy (they waited the whole wait for nothing)', async () => {
    const dir = join(tmp.dir, 'disabled');
    mkdirSync(dir);
    const g: FakeGraph = fakeGraph({
      onRequest: (r) => {
        // The run's own PATCH enabling it, undone at once.
        if (r.method === 'PATCH' && /HardwareOath$/i.test(r.path) && r.status === 204) hardwareOathOf(g.emu.state).state = 'disabled';
      },
    });
    const { plan } = await planTo(g, join(dir, 'p.plan'));
    expect(plan.findings.some((f) => f.code === 'hardware-oath-propagation')).toBe(true);
    const started = Date.now();
    const r = await applyFile(g, join(dir, 'p.plan'), join(dir, 's'), { policyPropagationWait: 30 });
    expect(r.outcome.state).toBe('partial');
    const failed = r.results.filter((x) => x.failed > 0);
    expect(failed.length).toBeGreaterThan(0);
    for (const x of failed) expect(x.first_error).toMatch(/not enabled .* policy.*the authentication methods policy has the HardwareOath method disabled/);
    // Each sent once: not tried again for the 30 minutes allowed.
    const sent = activations(g);
    expect(new Set(sent.map((a) => a.path)).size).toBe(sent.length);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});
