import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DELEGATED_PERMISSIONS } from '../../src/emulator/identity.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { ROOT } from '../helpers/run-cli.js';
import { CONTOSO, contosoTenant, operations, planJson, runPlan, type ContosoTenant } from '../plan/helpers.js';

const tenant: ContosoTenant = contosoTenant();
const exportUpns = readFileSync(join(ROOT, 'fixtures/contoso/users.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]!);

/** UPNs of a group's members in the tenant file, nested groups expanded (each once). */
function transitiveUpns(groupId: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  const group = tenant.groups.find((g) => g.id === groupId)!;
  for (const m of group.members) {
    const user = tenant.users.find((u) => u.id === m || u.userPrincipalName.toLowerCase() === m.toLowerCase());
    if (user) out.add(user.userPrincipalName.toLowerCase());
    else if (!seen.has(m) && tenant.groups.some((g) => g.id === m)) {
      seen.add(m);
      for (const u of transitiveUpns(m, seen)) out.add(u);
    }
  }
  return out;
}

const usersIn = (plan: Plan) => new Set([...plan.user_changes.map((c) => c.user), ...plan.findings.flatMap((f) => (f.user ? [f.user] : []))]);
const group = (name: string) => tenant.groups.find((g) => g.displayName === name)!;

describe('mfa-migrate plan: scoping and the target group', () => {
  let emu: RunningEmulator;
  let dir: string;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    dir = mkdtempSync(join(tmpdir(), 'plan-scope-'));
  });
  afterAll(async () => {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--users FILE plans only the users listed (case-insensitively), reads only them, and says which are unknown', async () => {
    const file = join(dir, 'wave.txt');
    writeFileSync(file, 'upn\nalice@contoso.com\r\nIGOR@CONTOSO.COM\n# a comment\nnora.smith@contoso.com\n\nnobody@contoso.com\n');
    emu.clearRequests();
    const { plan, result } = await planJson(emu.url, [...CONTOSO, '--users', file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/Note: --users \S+wave\.txt: 1 name\(s\) no row of the export has: nobody@contoso\.com .*; they are ignored/);
    expect(plan.summary.users).toBe(3);
    expect(usersIn(plan)).toEqual(new Set(['alice@contoso.com', 'igor@contoso.com', 'Nora.Smith@Contoso.com']));
    expect(plan.user_changes.find((c) => c.user === 'igor@contoso.com' && c.resource === 'phoneMethods/mobile')).toMatchObject({ action: 'update' });
    // Only the three users' methods were read.
    const methodReads = operations(emu.requests()).filter((o) => /\/authentication\/methods$/.test(o.path));
    expect(methodReads).toHaveLength(3);
    // Policy usage counts the scoped users only: alice, igor and Nora use phone calls; nobody texts.
    expect(plan.policy_changes.find((c) => c.target.endsWith('/Voice') && c.property === 'state')!.because).toContain('3 migrating user(s) use phone calls');
    expect(plan.policy_changes.find((c) => c.property === 'isOfficePhoneAllowed')).toBeUndefined();
  });

  it('--group plans the export users among the group members, nested groups included', async () => {
    const all = group('MFA Migration All');
    const members = transitiveUpns(all.id);
    const nested = transitiveUpns(group('MFA Migration Wave 1').id);
    expect([...nested].every((u) => members.has(u))).toBe(true); // Wave 1 is nested in All
    const expected = exportUpns.filter((u) => members.has(u.toLowerCase()));
    expect(expected.length).toBeGreaterThan(nested.size);

    emu.clearRequests();
    const [byName, byId] = await Promise.all([planJson(emu.url, [...CONTOSO, '--group', 'MFA Migration All']), planJson(emu.url, [...CONTOSO, '--group', all.id])]);
    for (const { plan, result } of [byName, byId]) {
      expect(result.code).toBe(0);
      expect(plan.summary.users).toBe(expected.length);
      for (const u of usersIn(plan)) expect(members.has(u.toLowerCase())).toBe(true);
      // The nested group's users are in (each has a change or a finding).
      for (const u of exportUpns.filter((x) => nested.has(x.toLowerCase()))) expect(usersIn(plan).has(u)).toBe(true);
      expect(plan.options.target_group).toEqual({ id: 'all_users', displayName: 'all users' });
    }
    expect(byId.plan.user_changes).toEqual(byName.plan.user_changes);
    const paths = operations(emu.requests()).map((o) => o.path);
    expect(paths.filter((p) => p.startsWith(`/v1.0/groups/${all.id}/transitiveMembers`))).toHaveLength(2);
  });

  it('--target-group by name enables the methods it turns on for that group only', async () => {
    const wave = group('MFA Migration Wave 1');
    const { plan, result } = await planJson(emu.url, [...CONTOSO, '--target-group', 'MFA Migration Wave 1']);
    expect(result.code).toBe(0);
    expect(plan.options.target_group).toEqual({ id: wave.id, displayName: 'MFA Migration Wave 1' });
    // Every method or feature the plan turns on is aimed at the group, never left at all_users.
    const turnedOn = plan.policy_changes.filter((c) => c.property === 'state' && c.after === 'enabled' && c.target.startsWith('authenticationMethodConfigurations/')).map((c) => c.target);
    expect(turnedOn).toEqual(['authenticationMethodConfigurations/Voice', 'authenticationMethodConfigurations/Sms', 'authenticationMethodConfigurations/HardwareOath', 'authenticationMethodConfigurations/TemporaryAccessPass']);
    for (const target of [...turnedOn, 'registrationEnforcement/authenticationMethodsRegistrationCampaign']) {
      const targets = plan.policy_changes.find((c) => c.target === target && c.property === 'includeTargets');
      expect(targets, `${target} includeTargets`).toBeDefined();
      expect((targets!.before as { id: string }[]).map((t) => t.id)).toEqual(['all_users']);
      expect(targets!.after).toEqual([expect.objectContaining({ id: wave.id, targetType: 'group' })]);
    }
    const campaign = plan.policy_changes.find((c) => c.target.startsWith('registrationEnforcement/') && c.property === 'includeTargets')!;
    expect(campaign.after).toEqual([{ id: wave.id, targetType: 'group', targetedAuthenticationMethod: 'microsoftAuthenticator' }]);
    // Authenticator is already on for all users: left alone.
    expect(plan.policy_changes.filter((c) => c.target.endsWith('/MicrosoftAuthenticator')).map((c) => c.property)).toEqual(['isSoftwareOathEnabled']);
    // The users in scope do not change with the target group.
    expect(plan.summary.users).toBe(exportUpns.length);
  });

  it('refuses an unknown group name or id with a clear message (exit 1)', async () => {
    const [name, id, target] = await Promise.all([
      runPlan(emu.url, [...CONTOSO, '--group', 'No Such Group']),
      runPlan(emu.url, [...CONTOSO, '--group', '00000000-0000-4000-8000-000000000000']),
      runPlan(emu.url, [...CONTOSO, '--target-group', 'No Such Group', '--format', 'json']),
    ]);
    expect(name).toMatchObject({ code: 1, stdout: '' });
    expect(name.stderr).toContain('mfa-migrate: --group "No Such Group": no group is named "No Such Group"');
    expect(id.code).toBe(1);
    expect(id.stderr).toContain('mfa-migrate: --group "00000000-0000-4000-8000-000000000000": no group has the object id 00000000-0000-4000-8000-000000000000');
    expect(target).toMatchObject({ code: 1, stdout: '' });
    expect(target.stderr).toContain('mfa-migrate: --target-group "No Such Group": no group is named "No Such Group"');
    for (const r of [name, id, target]) expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
  });
});

describe('mfa-migrate plan: two groups of one name', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    const doc = contosoTenant();
    doc.groups.push({ id: 'b3b0d0a1-1111-4222-8333-444455556666', displayName: 'MFA Migration Wave 1', members: [] });
    emu = await startEmulator({ port: 0, throttle: 'off', tenant: doc });
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it('refuses the ambiguous name and lists the ids to choose from; the id works', async () => {
    const wave = group('MFA Migration Wave 1');
    const [ambiguous, target, byId] = await Promise.all([
      runPlan(emu.url, [...CONTOSO, '--group', 'MFA Migration Wave 1']),
      runPlan(emu.url, [...CONTOSO, '--target-group', 'MFA Migration Wave 1']),
      planJson(emu.url, [...CONTOSO, '--group', wave.id]),
    ]);
    for (const r of [ambiguous, target]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/: 2 groups are named "MFA Migration Wave 1"; give the object id instead \(.+\)/);
      expect(r.stderr).toContain(wave.id);
      expect(r.stderr).toContain('b3b0d0a1-1111-4222-8333-444455556666');
      expect(r.stderr).not.toMatch(/unexpected error/);
    }
    expect(byId.result.code).toBe(0);
    expect(byId.plan.summary.users).toBe(exportUpns.filter((u) => transitiveUpns(wave.id).has(u.toLowerCase())).length);
  });
});

describe('mfa-migrate plan: a policy target group with hidden membership', () => {
  const emus: RunningEmulator[] = [];
  const start = async (scopes?: string[]) => {
    const doc = contosoTenant();
    const sales = doc.groups.find((g) => g.displayName === 'Contoso Sales')! as Record<string, unknown>;
    sales['visibility'] = 'HiddenMembership';
    doc['authenticationMethodsPolicy'] = { authenticationMethodConfigurations: [{ id: 'Sms', state: 'enabled', includeTargets: [{ targetType: 'group', id: sales['id'] }] }] };
    if (scopes) doc['identity'] = { ...(doc['identity'] as object), scopes };
    const emu = await startEmulator({ port: 0, throttle: 'off', tenant: doc });
    emus.push(emu);
    return emu;
  };
  afterAll(async () => {
    await Promise.all(emus.map((e) => e.stop()));
  });

  it('stops with the permission it needs named (Member.Read.Hidden), and plans once it is granted', async () => {
    const [without, granted] = await Promise.all([start(), start([...DEFAULT_DELEGATED_PERMISSIONS, 'Member.Read.Hidden'])]);
    const refused = await runPlan(without.url, CONTOSO);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/listing the members of group [0-9a-f-]{36} \(if its membership is hidden, this also needs Member\.Read\.Hidden\) failed: .*403/);
    expect(refused.stderr).not.toMatch(/unexpected error|\n\s+at /);
    // With SMS for Wave 1 as well, dave (in Contoso Sales only) can use SMS only through the hidden group.
    const { plan } = await planJson(granted.url, [...CONTOSO, '--target-group', 'MFA Migration Wave 1']);
    expect(transitiveUpns(group('Contoso Sales').id).has('dave@contoso.com')).toBe(true);
    expect(transitiveUpns(group('MFA Migration Wave 1').id).has('dave@contoso.com')).toBe(false);
    expect(plan.users.find((u) => u.user === 'dave@contoso.com')?.methods_after).toEqual(['mobilePhone']);
    expect(plan.findings.filter((f) => f.user === 'dave@contoso.com' && f.rule === 'POL-USER-NOT-TARGETED')).toEqual([]);
    // One outside both groups with a text-message default is not targeted.
    expect(plan.findings.some((f) => f.rule === 'POL-USER-NOT-TARGETED')).toBe(true);
  });
});
