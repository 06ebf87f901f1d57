import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePlan } from '../../src/app/plan.js';
import { TokenRefusedError } from '../../src/graph/graph-errors.js';
import { encodeBase32 } from '../../src/otp/base32.js';
import { timeless } from '../plan/helpers.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, CONTOSO, contosoRequest, planTo, tempDir } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

type Doc = { tenant: Record<string, unknown>; users: Record<string, any>[]; hardwareOathDevices: Record<string, any>[]; identity?: unknown };
const contoso = () => JSON.parse(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8')) as Doc;
/** grace's token 20010001, from the generator rule of fixtures/contoso/CASES.md. */
const graceSecret = () => encodeBase32(Buffer.from('n2ZWpJgGDIytDdYJ9474jVPEKoI=', 'base64'));

/** Issue 13: the client on a tenant as Graph's docs describe it, not as our emulator first did. */
describe('planning against real-tenant shapes', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('tenant-cases');
  });
  afterAll(() => tmp.cleanup());

  it('reads the inventory in either shape the docs show, and plans the same', async () => {
    const flat = await makePlan({ ...contosoRequest(), graph: fakeGraph().client({ readOnly: true }) });
    const nested = await makePlan({ ...contosoRequest(), graph: fakeGraph({ behaviour: { inventoryShape: 'method' } }).client({ readOnly: true }) });
    expect(timeless(nested.built.plan)).toEqual(timeless(flat.built.plan));
    expect(nested.built.plan.user_changes.some((c) => c.resource.startsWith('hardwareOathMethods/') && c.before !== null)).toBe(true);
  });

  it("a token the user already holds but the inventory does not list is activated, never created again (token-legacy); once activated it is left as it is", async () => {
    const doc = contoso();
    const grace = doc.users.find((u) => u.userPrincipalName === 'grace@contoso.com')!;
    grace.methods = { ...(grace.methods ?? {}), hardwareOath: [{ serialNumber: '20010001', manufacturer: 'Contoso', model: 'TOTP', secretKey: graceSecret(), timeIntervalInSeconds: 30, hashFunction: 'hmacsha1', status: 'assigned' }] };
    const g = fakeGraph({ tenant: doc });
    const planFile = join(tmp.dir, 'legacy.plan');
    const { plan } = await planTo(g, planFile);
    const change = plan.user_changes.find((c) => c.user === 'grace@contoso.com' && c.resource === 'hardwareOathMethods/20010001')!;
    expect(change).toMatchObject({ action: 'update', rule: 'OATH-LEGACY', before: { serialNumber: '20010001', status: 'assigned', assignedTo: change.user_id } });
    expect(plan.findings).toContainEqual(expect.objectContaining({ code: 'token-legacy', user: 'grace@contoso.com' }));
    const r = await applyFile(g, planFile, join(tmp.dir, 'legacy-state'));
    expect(r.results.find((x) => x.user === 'grace@contoso.com')?.outcome).toBe('done');
    const devices = (g.emu.snapshot() as Snapshot).hardwareOathDevices.filter((d: Snapshot) => d.serialNumber === '20010001');
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ status: 'activated', inInventory: false });
    const { plan: again } = await planTo(g, join(tmp.dir, 'legacy-again.plan'));
    expect(again.user_changes.find((c) => c.user === 'grace@contoso.com' && c.resource === 'hardwareOathMethods/20010001')).toMatchObject({ action: 'no-op', rule: 'OATH-LEGACY' });
  });

  it('a user whose UPN starts with $ is found and migrated (Graph takes /users(\'$x\') only)', async () => {
    const source = join(tmp.dir, 'dollar');
    cpSync(CONTOSO, source, { recursive: true });
    const rename = (text: string) => text.replaceAll('alice@contoso.com', '$alice@contoso.com');
    writeFileSync(join(source, 'users.csv'), rename(readFileSync(join(source, 'users.csv'), 'utf8')));
    const doc = JSON.parse(rename(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8'))) as Doc;
    const g = fakeGraph({ tenant: doc });
    const planFile = join(tmp.dir, 'dollar.plan');
    const { plan } = await planTo(g, planFile, { source, tokens: [], seeds: { pskcMac: 'fail' }, allowMissingSeeds: true });
    expect(plan.users.find((u) => u.user === '$alice@contoso.com')).toMatchObject({ status: 'changes' });
    expect(g.operations().some((o) => o.path.includes("/users('%24alice%40contoso.com')") && o.status === 200)).toBe(true);
    const r = await applyFile(g, planFile, join(tmp.dir, 'dollar-state'));
    expect(r.results.find((x) => x.user === '$alice@contoso.com')?.outcome).toBe('done');
  });

  it('reading the inventory without the permission Graph asks for fails with a message that says what to do', async () => {
    const doc = contoso();
    doc.identity = { appId: '11111111-2222-3333-4444-555555555555', appDisplayName: 'plan app', roles: ['Organization.Read.All', 'User.Read.All', 'Policy.Read.AuthenticationMethod', 'UserAuthenticationMethod.Read.All'] };
    const err = (await makePlan({ ...contosoRequest(), graph: fakeGraph({ tenant: doc }).client({ readOnly: true }) }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/reading the inventory token \S+ failed: 403 Authorization_RequestDenied: .* \(the signed-in app or admin lacks a permission for it: `mfa-migrate doctor` names it/);
  });

  it('a Graph that refuses the access token (401), and the new one asked for then, says what to do: sign in again, or give a token-guarded emulator its token (a black-box test found only "Invalid audience")', async () => {
    // The client has no token for this emulator, which wants one: the token it mints is refused, and so is the one asked for after.
    const g = fakeGraph({ token: 'another-token' });
    const err = (await makePlan({ ...contosoRequest(), graph: g.client({ readOnly: true }) }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(TokenRefusedError);
    expect(err.message).toMatch(/^Graph refused the access token, and a new one as well: 401 InvalidAuthenticationToken: .* \(sign in again; a local emulator started with --token wants that token in MFA_MIGRATE_EMULATOR_TOKEN\)$/);
  });

  it('says when a default it sets is ignored because the user has system-preferred MFA on; --default-method never sets none', async () => {
    const doc = contoso();
    for (const u of doc.users) u.signInPreferences = { ...(u.signInPreferences ?? {}), isSystemPreferredAuthenticationMethodEnabled: true };
    const g = fakeGraph({ tenant: doc });
    const { built } = await makePlan({ ...contosoRequest(), graph: g.client({ readOnly: true }) });
    const set = built.plan.user_changes.filter((c) => c.resource === 'signInPreferences' && c.action === 'update').map((c) => c.user).sort();
    expect(set.length).toBeGreaterThan(5);
    expect(built.plan.findings.filter((f) => f.code === 'default-ignored-system-preferred').map((f) => f.user).sort()).toEqual(set);
    const never = await makePlan({ ...contosoRequest(), defaultMethod: 'never', graph: g.client({ readOnly: true }) });
    expect(never.built.plan.user_changes.filter((c) => c.resource === 'signInPreferences' && c.action !== 'no-op')).toEqual([]);
  });

  it('says when a tenant account is disabled: migrated all the same, with a note (a black-box test found none)', async () => {
    const doc = contoso();
    const bob = doc.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;
    bob.accountEnabled = false;
    const { built } = await makePlan({ ...contosoRequest(), graph: fakeGraph({ tenant: doc }).client({ readOnly: true }) });
    expect(built.plan.findings.filter((f) => f.code === 'account-disabled-in-tenant').map((f) => [f.user, f.severity])).toEqual([['bob@contoso.com', 'info']]);
    expect(built.plan.user_changes.some((c) => c.user === 'bob@contoso.com' && c.action !== 'no-op')).toBe(true);
  });

  it('a user left with no cloud method is named by a finding whatever the default-method mode (a black-box test saw none with most-secure-if-unset and never)', async () => {
    const g = fakeGraph();
    for (const defaultMethod of ['if-unset', 'most-secure-if-unset', 'never', 'always'] as const) {
      const { built } = await makePlan({ ...contosoRequest(), defaultMethod, graph: g.client({ readOnly: true }) });
      const none = built.plan.users.filter((u) => u.methods_after?.length === 0).map((u) => u.user).sort();
      expect(none, defaultMethod).toEqual(['judy@contoso.com', 'zoe@contoso.com']);
      const named = built.plan.findings.filter((f) => f.code === 'no-usable-method' || f.code === 'default-method-unset').map((f) => f.user).sort();
      expect(named, defaultMethod).toEqual(none);
    }
  });
});
