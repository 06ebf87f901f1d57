import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { TenantFileError } from '../../src/emulator/index.js';
import { buildState } from '../../src/emulator/tenant-file.js';
import { expectGraphError, start, type GraphClient } from './helpers.js';

let emu: RunningEmulator;
let graph: GraphClient;
beforeAll(async () => ({ emu, graph } = await start()));
afterAll(() => emu.stop());
beforeEach(() => emu.reset());

const TAP = '/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass';
const TYPE = { '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration' };
const lifetimes = async () => {
  const c = (await graph.get(TAP)).body;
  return [c.minimumLifetimeInMinutes, c.defaultLifetimeInMinutes, c.maximumLifetimeInMinutes, c.defaultLength];
};
const refusal = async (body: Record<string, unknown>) => {
  const r = await graph.patch(TAP, { ...TYPE, ...body });
  expectGraphError(r, 400, 'BadRequest');
  return r.body.error.message as string;
};

/** Found by a Graph-contract review: default 1440 above the maximum 480 answered 204. */
describe('Temporary Access Pass lifetimes: the default between the minimum and the maximum, each 10..43200', () => {
  it('refuses a PATCH that leaves the default above the maximum or below the minimum, or the minimum above the maximum, naming the property', async () => {
    // Graph's defaults: minimum 60, default 60, maximum 480.
    expect(await lifetimes()).toEqual([60, 60, 480, 8]);
    expect(await refusal({ defaultLifetimeInMinutes: 1440 })).toBe("Invalid value for property 'defaultLifetimeInMinutes': must be between minimumLifetimeInMinutes (60) and maximumLifetimeInMinutes (480).");
    expect(await refusal({ defaultLifetimeInMinutes: 30 })).toMatch(/^Invalid value for property 'defaultLifetimeInMinutes'/);
    // A bound moved past the default names the bound written.
    expect(await refusal({ maximumLifetimeInMinutes: 30 })).toMatch(/^Invalid value for property 'maximumLifetimeInMinutes': must not be less than minimumLifetimeInMinutes \(60\)/);
    expect(await refusal({ minimumLifetimeInMinutes: 600 })).toMatch(/^Invalid value for property 'minimumLifetimeInMinutes': must not exceed maximumLifetimeInMinutes \(480\)/);
    expect(await refusal({ minimumLifetimeInMinutes: 120 })).toBe("Invalid value for property 'minimumLifetimeInMinutes': must not exceed defaultLifetimeInMinutes (60).");
    expect(await refusal({ minimumLifetimeInMinutes: 500, defaultLifetimeInMinutes: 500, maximumLifetimeInMinutes: 490 })).toMatch(/^Invalid value for property 'maximumLifetimeInMinutes'/);
    // Each value on its own: 10..43200 minutes, a pass 8..48 characters long.
    for (const [property, value] of [['minimumLifetimeInMinutes', 9], ['maximumLifetimeInMinutes', 43201], ['defaultLifetimeInMinutes', 60.5], ['defaultLength', 7], ['defaultLength', 49]] as const) {
      expect(await refusal({ [property]: value })).toMatch(new RegExp(`^Invalid value for property '${property}'`));
    }
    // Refused patches changed nothing.
    expect(await lifetimes()).toEqual([60, 60, 480, 8]);
  });

  it('takes lifetimes that hold together once merged, the maximum raised with the default in one PATCH', async () => {
    expect((await graph.patch(TAP, { ...TYPE, defaultLifetimeInMinutes: 600, maximumLifetimeInMinutes: 600 })).status).toBe(204);
    expect((await graph.patch(TAP, { ...TYPE, minimumLifetimeInMinutes: 10, defaultLifetimeInMinutes: 10, maximumLifetimeInMinutes: 43200, defaultLength: 48 })).status).toBe(204);
    expect(await lifetimes()).toEqual([10, 10, 43200, 48]);
  });

  it('refuses the same in a $batch item, with Graph\'s error in the item', async () => {
    const r = await graph.post('/v1.0/$batch', {
      requests: [
        { id: '1', method: 'PATCH', url: '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass', headers: { 'Content-Type': 'application/json' }, body: { ...TYPE, defaultLifetimeInMinutes: 1440 } },
      ],
    });
    expect(r.status).toBe(200);
    const [item] = r.body.responses;
    expect(item).toMatchObject({ id: '1', status: 400, body: { error: { code: 'BadRequest', message: expect.stringContaining("property 'defaultLifetimeInMinutes'") } } });
    expect(await lifetimes()).toEqual([60, 60, 480, 8]);
  });

  it('refuses a tenant file whose TAP lifetimes do not hold together', () => {
    const problems = (config: Record<string, unknown>): string[] => {
      try {
        buildState({ tenant: { id: '11111111-2222-3333-4444-555555555555' }, authenticationMethodsPolicy: { authenticationMethodConfigurations: [{ id: 'TemporaryAccessPass', ...config }] } }, 'tenant.json', 1);
      } catch (err) {
        if (err instanceof TenantFileError) return err.problems;
        throw err;
      }
      return [];
    };
    expect(problems({ defaultLifetimeInMinutes: 600 })).toEqual([
      '$.authenticationMethodsPolicy.authenticationMethodConfigurations(TemporaryAccessPass).defaultLifetimeInMinutes: must be between minimumLifetimeInMinutes (60) and maximumLifetimeInMinutes (480)',
    ]);
    expect(problems({ defaultLifetimeInMinutes: 600, maximumLifetimeInMinutes: 600 })).toEqual([]);
  });
});
