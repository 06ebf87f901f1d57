import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePlan, UntrustedExportError } from '../../src/app/plan.js';
import { fakeGraph } from '../helpers/graph.js';
import { CONTOSO, contosoRequest } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';
import { startEmulator } from '../../src/emulator/index.js';

/** Seed files left out: every token whose serial has no seed is missing. */
const someSeeds = [join(CONTOSO, 'tokens', 'entra-upload.csv')];

describe('plan: token serials with no seed', () => {
  it('are errors, as in validate: nothing is planned, the tenant is not read', async () => {
    const g = fakeGraph();
    const err = (await makePlan({ ...contosoRequest(CONTOSO, someSeeds), graph: g.client({ readOnly: true }) }).catch((e: unknown) => e)) as UntrustedExportError;
    expect(err).toBeInstanceOf(UntrustedExportError);
    expect(err.problems.length).toBeGreaterThan(3);
    expect(err.problems.every((p) => p.code === 'seed-missing')).toBe(true);
    expect(err.message).toMatch(/--allow-missing-seeds plans the rest/);
    expect(g.emu.requests()).toEqual([]);
  });

  it('with --allow-missing-seeds, plan the rest and never move a default because of a missing token', async () => {
    const g = fakeGraph();
    const whole = (await makePlan({ ...contosoRequest(), graph: g.client({ readOnly: true }) })).built.plan;
    const part = (await makePlan({ ...contosoRequest(CONTOSO, someSeeds), allowMissingSeeds: true, graph: g.client({ readOnly: true }) })).built.plan;
    const kept = part.findings.filter((f) => f.code === 'default-kept-token-missing');
    expect(kept.length).toBeGreaterThan(0);
    for (const f of kept) {
      // Without the token's seed the default is left alone (not moved to a phone), and no token is written.
      const after = part.user_changes.find((c) => c.user === f.user && c.resource === 'signInPreferences');
      expect(after === undefined || after.action === 'no-op', f.user).toBe(true);
      expect(part.user_changes.some((c) => c.user === f.user && c.resource.startsWith('hardwareOathMethods/') && c.action !== 'no-op'), f.user).toBe(false);
    }
    // With every seed, some of those users' default would have been set to their token.
    const setWithSeeds = kept.filter((f) => whole.user_changes.some((c) => c.user === f.user && c.resource === 'signInPreferences' && c.action === 'update' && c.after?.userPreferredMethodForSecondaryAuthentication === 'oath'));
    expect(setWithSeeds.length).toBeGreaterThan(0);
  });

  it('the command exits 1 with the serials named, and 0 with --allow-missing-seeds', async () => {
    const emu = await startEmulator({ port: 0, throttle: 'off' });
    try {
      const refused = await runMain(['plan', '--source', CONTOSO, '--tokens', someSeeds[0]!, '--graph-url', emu.url]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/token serial \S+ .*\[seed-missing\]/);
      expect(refused.stdout).toBe('');
      const planned = await runMain(['plan', '--source', CONTOSO, '--tokens', someSeeds[0]!, '--allow-missing-seeds', '--graph-url', emu.url]);
      expect(planned.code).toBe(0);
      expect(planned.stdout).toMatch(/default method left .*has no seed/);
    } finally {
      await emu.stop();
    }
  });
});
