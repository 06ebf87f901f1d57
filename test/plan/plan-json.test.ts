import { describe, expect, it } from 'vitest';
import { makePlan } from '../../src/app/plan.js';
import { maskPhoneFields, maskServerRecord, planJsonChunks } from '../../src/plan/plan-json.js';
import { orderedPlan } from '../../src/plan/plan-of-file.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { fakeGraph } from '../helpers/graph.js';
import { contosoRequest } from '../helpers/migration.js';

/** What plan --format json printed before it was written in chunks: the whole plan masked, then stringified at once. */
function printedWhole(plan: Plan, showPhoneNumbers: boolean): string {
  const ordered = orderedPlan(plan);
  if (showPhoneNumbers) return `${JSON.stringify(ordered, null, 2)}\n`;
  const masked = maskPhoneFields(ordered) as Plan;
  return `${JSON.stringify({ ...masked, users: masked.users.map((u) => (u.server ? { ...u, server: maskServerRecord(u.server) } : u)) }, null, 2)}\n`;
}

describe('plan --format json in chunks', () => {
  it('is byte for byte the plan stringified whole, masked or not, in chunks of bounded size', async () => {
    const plan = (await makePlan({ ...contosoRequest(), rolloutGroups: ['MFA Staged Rollout'], graph: fakeGraph().client({ readOnly: true }) })).built.plan;
    expect(plan.user_changes.length).toBeGreaterThan(50);
    for (const showPhoneNumbers of [false, true]) {
      const chunks = [...planJsonChunks(plan, { showPhoneNumbers })];
      expect(chunks.join('')).toBe(printedWhole(plan, showPhoneNumbers));
      expect(chunks.length).toBeGreaterThan(5);
      expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan((1 << 16) + 4096);
    }
    // Masked: no number of the export in full.
    expect([...planJsonChunks(plan, { showPhoneNumbers: false })].join('')).not.toContain('4255550101');
  });

  it('writes a plan with empty lists as JSON.stringify does', () => {
    const plan = { format_version: '1.3', created: 'x', source_fingerprint: 'f', tenant: { id: 't' }, options: {}, summary: {}, policy_changes: [], user_changes: [], users: [], findings: [], registration_campaign: [] } as unknown as Plan;
    expect([...planJsonChunks(plan, { showPhoneNumbers: false })].join('')).toBe(printedWhole(plan, false));
  });
});
