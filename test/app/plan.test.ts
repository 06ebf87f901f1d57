import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePlan, UntrustedExportError } from '../../src/app/plan.js';
import { fakeGraph } from '../helpers/graph.js';
import { CONTOSO, contosoRequest, testDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';
import { startEmulator } from '../../src/emulator/index.js';
import { contosoTenant, userId } from '../plan/helpers.js';

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

  it('a serial a seed file holds but whose row was skipped is said to be there, and why: in the refusal and in the plan (a black-box test)', async () => {
    const bad = join(testDir('plan-left-out').dir, 'bad.csv');
    writeFileSync(bad, 'serial,secret\n20010001,NOT!BASE32@@\n');
    const request = { ...contosoRequest(CONTOSO, [...someSeeds, bad]), graph: fakeGraph().client({ readOnly: true }) };
    const why = `token serial 20010001 is in ${bad} line 2, but its seed was not taken: the secret of token 20010001 is not valid Base32 (letters A-Z, digits 2-7) (encoding guessed; add an encoding column to say); the row is skipped [secret-invalid]`;
    const err = (await makePlan(request).catch((e: unknown) => e)) as UntrustedExportError;
    expect(err).toBeInstanceOf(UntrustedExportError);
    expect(err.problems.find((p) => p.message.startsWith('grace@contoso.com: '))?.message).toBe(`grace@contoso.com: ${why}`);
    const plan = (await makePlan({ ...request, allowMissingSeeds: true })).built.plan;
    expect(plan.findings.filter((f) => f.user === 'grace@contoso.com' && f.rule === 'OATH-SEED-MISSING').map((f) => f.message)).toEqual([`token 20010001 not migrated: ${why}`]);
    expect(JSON.stringify([err.message, plan.findings])).not.toContain('NOT!BASE32');
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

/** Contoso with "Wave Small" (alice, bob, carol, dave, erin: no tokens) and "Wave Tokens" (alice and grace, whose token is 20010001). */
function wavesTenant() {
  const doc = contosoTenant();
  const ids = (names: string[]) => names.map((n) => userId(doc, `${n}@contoso.com`));
  doc.groups.push({ id: '0b7e8c52-0000-4000-8000-0000000000b1', displayName: 'Wave Small', members: ids(['alice', 'bob', 'carol', 'dave', 'erin']) });
  doc.groups.push({ id: '0b7e8c52-0000-4000-8000-0000000000b2', displayName: 'Wave Tokens', members: ids(['alice', 'grace']) });
  return doc;
}

describe('plan: only the tokens of users in scope need a seed', () => {
  it('a wave of users with no tokens is planned with no seed file at all; the others\' seedless tokens are a note', async () => {
    const g = fakeGraph({ tenant: wavesTenant() });
    const notes: string[] = [];
    const made = await makePlan({ ...contosoRequest(CONTOSO, []), group: 'Wave Small', log: (l) => notes.push(l), graph: g.client({ readOnly: true }) });
    expect(made.built.plan.users.map((u) => u.user)).toEqual(['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com', 'dave@contoso.com', 'erin@contoso.com']);
    expect(made.built.plan.findings.filter((f) => f.code === 'seed-missing')).toEqual([]);
    expect(notes).toEqual([expect.stringMatching(/^Note: 13 user\(s\) outside this plan's scope have a token with no seed in the files given \(grace@contoso\.com, heidi@contoso\.com, .*, and 3 more\): this plan does not need them; a plan that takes those users in does$/)]);
  });

  it('a token of a user in scope with no seed still refuses the plan, naming that user alone', async () => {
    const g = fakeGraph({ tenant: wavesTenant() });
    const err = (await makePlan({ ...contosoRequest(CONTOSO, []), group: 'Wave Tokens', graph: g.client({ readOnly: true }) }).catch((e: unknown) => e)) as UntrustedExportError;
    expect(err).toBeInstanceOf(UntrustedExportError);
    expect(err.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^grace@contoso\.com: token serial 20010001 has no seed/)]);
  });

  it('--users: the same, by the names the file lists', async () => {
    const g = fakeGraph({ tenant: wavesTenant() });
    const users = join(testDir('plan-seeds-users').dir, 'users.txt');
    writeFileSync(users, 'bob@contoso.com\nzoe@contoso.com\n');
    const made = await makePlan({ ...contosoRequest(CONTOSO, []), users, graph: g.client({ readOnly: true }) });
    expect(made.built.plan.users.map((u) => u.user)).toEqual(['bob@contoso.com', 'zoe@contoso.com']);
    writeFileSync(users, 'bob@contoso.com\nheidi@contoso.com\n');
    const err = (await makePlan({ ...contosoRequest(CONTOSO, []), users, graph: g.client({ readOnly: true }) }).catch((e: unknown) => e)) as UntrustedExportError;
    expect(err.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^heidi@contoso\.com: token serial 20010002 has no seed/)]);
  });
});
