import { describe, expect, it } from 'vitest';
import { readTenant } from '../../src/graph/tenant-reader.js';
import { ALL_USERS } from '../../src/mapping/policy-rules.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import { renderPlanTerminal } from '../../src/plan/render-terminal.js';
import { readExport } from '../../src/source/export-bundle.js';
import { fakeGraph } from '../helpers/graph.js';
import { contosoRequest } from '../helpers/migration.js';
import { contosoTenant, userId } from './helpers.js';

const DEVICE = 'e0fb0000-0000-4000-8000-000000000001';

describe('renderPlanTerminal', () => {
  /** A black-box test: `id: "e0fb…" -> null, … assignedTo: null -> null` read as the device id removed, the assignment unchanged. */
  it('shows a token of the inventory taken unassigned as what apply does: the same device, assigned to the user', async () => {
    const tenant = contosoTenant() as ReturnType<typeof contosoTenant> & { hardwareOathDevices: Record<string, unknown>[] };
    // grace's token 20010001 is in the inventory already, unassigned.
    tenant.hardwareOathDevices.push({ id: DEVICE, serialNumber: '20010001', manufacturer: 'Contoso', model: 'TOTP-6-30', displayName: null, secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', timeIntervalInSeconds: 30, hashFunction: 'hmacsha1', status: 'available', assignedTo: null });
    const req = contosoRequest();
    const bundle = await readExport({ source: req.source, tokens: req.tokens, seeds: req.seeds });
    const snapshot = await readTenant(fakeGraph({ tenant }).client({ readOnly: true }), { upns: bundle.users.map((u) => u.username), serials: bundle.tokens.map((t) => t.seed.serial), policy: true, organization: true, concurrency: 4 });
    const { plan } = buildPlan({ bundle, tenant: snapshot, options: { includeEmail: false, defaultMethod: 'if-unset', prune: false, target: ALL_USERS }, sourceFingerprint: 'f'.repeat(64), now: new Date('2026-12-01T00:00:00Z') });
    const change = plan.user_changes.find((c) => c.resource === 'hardwareOathMethods/20010001')!;
    expect([change.action, change.rule, change.before]).toEqual(['update', 'OATH-ACTIVATE-EXISTING', { id: DEVICE, serialNumber: '20010001', status: 'available', assignedTo: null }]);
    const line = renderPlanTerminal(plan, { color: false, showPhoneNumbers: false }).split('\n').find((l) => l.includes('~ hardwareOathMethods/20010001'))!;
    const grace = userId(tenant, 'grace@contoso.com');
    expect(line).toContain(`status: "available" -> "activated", assignedTo: null -> "${grace}" (this user)`);
    // The device keeps its id: no change of it is shown.
    expect(line).not.toMatch(/\bid: /);
  });
});
