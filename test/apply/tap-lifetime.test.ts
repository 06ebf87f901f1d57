import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeGraph } from '../helpers/graph.js';
import { writes } from '../helpers/tenant-checks.js';
import { applyFile, contosoRequest, planTo, rollbackIn, testDir } from '../helpers/migration.js';

const TAP = '/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass';
const lifetimes = (c: Record<string, unknown>) => [c['minimumLifetimeInMinutes'], c['defaultLifetimeInMinutes'], c['maximumLifetimeInMinutes']];

/**
 * Found by a Graph-contract review: a 36000 s bypass planned TAP's default 600 with the maximum left at
 * 480, which the emulator took and Graph refuses (the default must lie between the minimum and the maximum).
 */
/** An export of one Contoso tenant user, and MFA Server's bypass of 10 hours. */
function longBypassExport(dir: string): string {
  const source = join(dir, 'export');
  mkdirSync(source);
  writeFileSync(join(source, 'users.csv'), 'username,enabled,phone_country_code,phone,phone_extension,backup_country_code,backup_phone,backup_extension,default_method\nbob@contoso.com,1,1,4255550102,,,,,phone_call\n');
  writeFileSync(join(source, 'settings.json'), JSON.stringify({ userPortal: { allowOneTimeBypass: true, oneTimeBypassSeconds: 36000 } }));
  return source;
}

describe('apply: a one-time bypass longer than the TAP maximum', () => {
  it('raises the maximum with the default, in the one PATCH that lands; rollback puts both back', async () => {
    const g = fakeGraph();
    const { dir } = testDir('tap-lifetime');
    const source = longBypassExport(dir);
    const before = (await g.raw.get(TAP)).body;
    expect(lifetimes(before)).toEqual([60, 60, 480]);

    const planFile = join(dir, 'p.plan');
    const { plan } = await planTo(g, planFile, { ...contosoRequest(source, []) });
    expect(plan.policy_changes.filter((c) => /LifetimeInMinutes$/.test(c.property)).map((c) => [c.property, c.before, c.after, c.rule])).toEqual([
      ['maximumLifetimeInMinutes', 480, 600, 'POL-TAP'],
      ['defaultLifetimeInMinutes', 60, 600, 'POL-TAP'],
    ]);

    const { outcome } = await applyFile(g, planFile, join(dir, 'state'));
    expect(outcome.state).toBe('completed');
    const after = (await g.raw.get(TAP)).body;
    expect(lifetimes(after)).toEqual([60, 600, 600]);
    expect(after).toMatchObject({ state: 'enabled', isUsableOnce: true });
    // One PATCH of the configuration carried both.
    expect(g.operations().filter((o) => o.method === 'PATCH' && /TemporaryAccessPass$/.test(o.path)).map((o) => o.status)).toEqual([204]);

    const rolled = await rollbackIn(g, join(dir, 'state'), outcome.runId);
    expect(rolled.outcome.state).toBe('completed');
    expect((await g.raw.get(TAP)).body).toEqual(before);
  }, 60_000);

  it('refuses a plan saved as 2.14 planned it (the maximum left below the default) as an earlier version\'s, not as edited', async () => {
    const g = fakeGraph();
    const { dir } = testDir('tap-lifetime-old');
    const planFile = join(dir, 'p.plan');
    await planTo(g, planFile, { ...contosoRequest(longBypassExport(dir), []) });
    const lines = readFileSync(planFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    // What the 2.14 rules saved: no change of the maximum.
    const old = lines.filter((l) => !(l['t'] === 'policy' && l['property'] === 'maximumLifetimeInMinutes'));
    old.at(-1)!['lines'] = old.length - 1;
    const dump = (header: Record<string, unknown>) => `${[header, ...old.slice(1)].map((l) => JSON.stringify(l)).join('\n')}\n`;
    writeFileSync(join(dir, 'v214.plan'), dump({ ...old[0], format_version: '2.14' }));
    writeFileSync(join(dir, 'v216.plan'), dump(old[0]!));
    g.emu.clearRequests();
    await expect(applyFile(g, join(dir, 'v214.plan'), join(dir, 's214'))).rejects.toThrow(/v214\.plan is a plan of format 2\.14, made by an earlier version of mfa-migrate, or edited since.*maximumLifetimeInMinutes 480 -> 600/);
    // Of this version's format, the same file can only have been edited.
    await expect(applyFile(g, join(dir, 'v216.plan'), join(dir, 's216'))).rejects.toThrow(/v216\.plan is not the plan its sources give, so it was changed after it was made/);
    expect(writes(g.emu.requests())).toEqual([]);
  });
});
