import { beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../src/emulator/index.js';
import { requestShape, runClientWorkload, type WorkloadResult } from './client-workload.js';
import { loadContract } from './contract-checker.js';

/**
 * Violations of today's client, by `rule request-shape`: the client's to fix (issue 13). The test fails when one
 * of them is fixed (remove it here) as much as when a new one appears.
 */
const KNOWN_VIOLATIONS: Record<string, string> = {};

let workload: WorkloadResult;
beforeAll(async () => {
  workload = await runClientWorkload();
}, 120_000);

describe('contract: every request the client sends (plan, apply, rollback of the Contoso sample)', () => {
  it('ran a real workload: the plan had changes, apply and rollback completed, reads and writes of every kind were sent', () => {
    expect(workload.planned).toBeGreaterThan(50);
    expect(workload.applied).toBe('completed');
    expect(workload.rolledBack).toBe('completed');
    const shapes = new Set(workload.requests.map(requestShape));
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) {
      for (const version of ['v1.0', 'beta']) expect([...shapes].some((s) => s.startsWith(`${method} ${version} `)), `${method} ${version}`).toBe(true);
    }
    expect(workload.requests.length).toBeGreaterThan(300);
    // The cutover: staged rollout, group members, the federation, each written and undone.
    for (const shape of [
      'POST v1.0 policies/featureRolloutPolicies',
      'POST v1.0 policies/featureRolloutPolicies/{id}/appliesTo/$ref',
      'DELETE v1.0 policies/featureRolloutPolicies/{id}/appliesTo/{id}/$ref',
      'DELETE v1.0 policies/featureRolloutPolicies/{id}',
      'POST v1.0 groups/{id}/members/$ref',
      'DELETE v1.0 groups/{id}/members/{id}/$ref',
      'PATCH v1.0 domains/contoso.com/federationConfiguration/{id}',
    ]) {
      expect(shapes, shape).toContain(shape);
    }
  });

  it("is in Microsoft's published contract, but for the known violations of today's client", () => {
    const contract = loadContract();
    const found = new Map<string, string>();
    for (const r of workload.requests) for (const v of contract.check(r)) found.set(`${v.rule} ${requestShape(r)}`, v.message);
    const unexpected = [...found].filter(([key]) => !(key in KNOWN_VIOLATIONS));
    expect(unexpected.map(([key, message]) => `${key}: ${message}`)).toEqual([]);
    const fixed = Object.keys(KNOWN_VIOLATIONS).filter((key) => !found.has(key));
    expect(fixed, 'fixed: remove them from KNOWN_VIOLATIONS').toEqual([]);
  });

  it('would fail on a recorded request made wrong: an unknown property, an enum value, a path', () => {
    const contract = loadContract();
    const phone = workload.requests.find((r) => r.method === 'POST' && r.path.endsWith('/phoneMethods'))!;
    expect(contract.check(phone)).toEqual([]);
    const body = phone.body as Record<string, unknown>;
    const variants: [RecordedRequest, string][] = [
      [{ ...phone, body: { ...body, isDefault: true } }, 'unknown-property'],
      [{ ...phone, body: { ...body, phoneType: 'landline' } }, 'enum-value'],
      [{ ...phone, path: phone.path.replace('/phoneMethods', '/phoneNumbers') }, 'unknown-path'],
      [{ ...phone, path: phone.path.replace('/phoneMethods', '/hardwareOathMethods'), body: { device: { id: 'x' } } }, 'unknown-path'],
    ];
    for (const [request, rule] of variants) expect(contract.check(request).map((v) => v.rule), rule).toEqual([rule]);
  });
});
