import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/app/doctor.js';
import { renderDoctor } from '../../src/cli/views/doctor.js';
import { fakeGraph } from '../helpers/graph.js';
import { CONTOSO, contosoRequest } from '../helpers/migration.js';
import { makePlan } from '../../src/app/plan.js';
import { runMain } from '../helpers/run-main.js';
import { startEmulator } from '../../src/emulator/index.js';
import { connectGraph } from '../../src/graph/connect.js';

const contoso = () => JSON.parse(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8')) as Record<string, unknown>;
const appWith = (roles: string[]) => ({ ...contoso(), identity: { appId: '11111111-2222-3333-4444-555555555555', appDisplayName: 'migration app', roles } });
const ALL = ['Organization.Read.All', 'User.Read.All', 'Policy.ReadWrite.AuthenticationMethod', 'UserAuthenticationMethod.ReadWrite.All', 'GroupMember.Read.All', 'Domain.Read.All'];

/** Issue 13: doctor on a ready tenant, one missing a permission, one without beta. */
describe('mfa-migrate doctor', () => {
  it('a ready tenant: the tenant and identity named, every read works, exit 0', async () => {
    const r = await runDoctor(fakeGraph({ tenant: appWith(ALL) }).client({ readOnly: true }), { source: CONTOSO });
    expect(r.ready).toBe(true);
    expect(r.tenant).toMatchObject({ displayName: 'Contoso' });
    expect(r.identity).toMatchObject({ kind: 'application', appDisplayName: 'migration app', permissions: [...ALL].sort() });
    expect(r.commands.every((c) => c.ready)).toBe(true);
    expect(r.checks.filter((c) => c.id.startsWith('read:') && c.state !== 'ok').map((c) => c.id)).toEqual(['read:rollout']);
    // An application cannot do staged rollout (Graph has no application permission for it): said, not failed.
    expect(r.checks.find((c) => c.id === 'permission:cutover')).toMatchObject({ state: 'warn' });
    for (const id of ['policy-migration-state', 'system-preferred', 'policy-size', 'hardware-oath', 'export-users']) expect(r.checks.some((c) => c.id === id), id).toBe(true);
    // A sample, said as such (a new admin read "19 of 20 looked up" of an export of 40).
    expect(r.checks.find((c) => c.id === 'export-users')!.detail).toMatch(/^\d+ of 20 export users looked up are in this tenant \(the first 20 of the export's \d+ enabled users: a sample; plan reads them all\)/);
  });

  it("an application's token with no permissions at all (added to the app, never consented) is judged, not 'cannot be checked': every command lacks them, as apply's pre-flight says (a review)", async () => {
    const r = await runDoctor(fakeGraph({ tenant: appWith([]) }).client({ readOnly: true }));
    expect(r.identity).toMatchObject({ kind: 'application', permissions: [] });
    expect(r.ready).toBe(false);
    expect(r.commands.length).toBeGreaterThan(0);
    expect(r.commands.every((c) => !c.ready && c.missing.length > 0)).toBe(true);
  });

  it('nothing answering at the Graph address: one failure with a network fix, not a permission to grant (a black-box test got nine failures and Organization.Read.All)', async () => {
    const emu = await startEmulator({ port: 0 });
    const url = emu.url;
    await emu.stop();
    const r = await runDoctor(connectGraph({ graphUrl: url, readOnly: true, concurrency: 2, retry: { capMs: 50 } }));
    expect(r.ready).toBe(false);
    const failed = r.checks.filter((c) => c.state === 'fail');
    expect(failed).toEqual([{ id: 'graph', state: 'fail', detail: expect.stringMatching(new RegExp(`^cannot reach Graph at ${url}`)), fix: expect.stringContaining('check --graph-url (a rehearsal: is the emulator running?)') }]);  });

  it('a sign-in that failed reads "Not signed in", not "Signed in as unknown" (a black-box test)', () => {
    const failed = { ready: false, graph: 'https://graph.microsoft.com', rehearsal: false, tenant: null, identity: { kind: 'unknown' as const, appId: null, appDisplayName: null, upn: null, permissions: [] }, checks: [{ id: 'sign-in', state: 'fail' as const, detail: 'ClientSecretCredential: AADSTS7000215: invalid client secret', fix: 'check --auth' }], commands: [] };
    expect(renderDoctor(failed, false).split('\n').slice(0, 4)).toEqual(['Graph https://graph.microsoft.com', 'Not signed in', '', 'FAIL ClientSecretCredential: AADSTS7000215: invalid client secret']);
    const ok = { ...failed, identity: { ...failed.identity, kind: 'application' as const, appDisplayName: 'migration app', permissions: ['User.Read.All'] }, checks: [{ id: 'sign-in', state: 'ok' as const, detail: 'signed in' }] };
    expect(renderDoctor(ok, false).split('\n')[1]).toBe('Signed in as migration app; permissions: User.Read.All');
  });

  it('on a terminal: the marks in colour, and text from Graph escaped before colouring (a black-box test saw every line print \\u001b[32mok  \\u001b[0m)', async () => {
    const hostile = { ready: false, graph: 'https://graph.microsoft.com', rehearsal: false, tenant: { id: 't', displayName: 'Evil\x1b[2J' }, identity: { kind: 'application' as const, appId: null, appDisplayName: 'app\u202e', upn: null, permissions: [] }, checks: [{ id: 'sign-in', state: 'ok' as const, detail: 'signed in' }, { id: 'tenant', state: 'fail' as const, detail: 'tenant Evil\x1b[2J', fix: 'fix \x1b[0m' }], commands: [{ command: 'plan\x1b[1m', ready: false, missing: ['X'] }] };
    expect(renderDoctor(hostile, true).split('\n')).toEqual([
      'Graph https://graph.microsoft.com',
      'Tenant Evil\\u001b[2J (t)',
      'Signed in as app\\u202e; permissions: (none named in the token)',
      '',
      '\x1b[32mok  \x1b[0m signed in',
      '\x1b[31mFAIL\x1b[0m tenant Evil\\u001b[2J',
      '      fix: fix \\u001b[0m',
      '\x1b[31mnot ready\x1b[0m: plan\\u001b[1m (lacks: X)',
      '',
      '\x1b[31mNot ready: 1 check(s) failed; fix them first (the fixes are under each).\x1b[0m',
      '',
    ]);
    // The command on a terminal, colour not turned off: colour, never its codes as text.
    const emu = await startEmulator({ port: 0, throttle: 'off' });
    const isTTY = process.stdout.isTTY;
    process.stdout.isTTY = true;
    try {
      const r = await runMain(['doctor', '--graph-url', emu.url], { env: { NO_COLOR: undefined } });
      expect(r.stdout).toMatch(/^\x1b\[32mok {2}\x1b\[0m signed in/m);
      expect(r.stdout).not.toContain('\\u001b');
      const plain = await runMain(['doctor', '--graph-url', emu.url, '--no-color'], { env: { NO_COLOR: undefined } });
      expect(plain.stdout).toMatch(/^ok {3}signed in/m);
      expect(plain.stdout).not.toMatch(/\x1b|\\u001b/);
    } finally {
      process.stdout.isTTY = isTTY;
      await emu.stop();
    }
  });

  it('a local emulator started with --token that refuses: the fix is the token, not a permission (a black-box test was told to grant one)', async () => {
    const r = await runDoctor(fakeGraph({ tenant: appWith(ALL), token: 's3cr3t' }).client({ readOnly: true }));
    const refused = r.checks.filter((c) => c.id.startsWith('read:') && c.state !== 'ok' && c.detail.includes('refused'));
    expect(refused.length).toBeGreaterThan(0);
    for (const c of refused) expect(c.fix).toBe('this Graph is a local emulator started with --token: set MFA_MIGRATE_EMULATOR_TOKEN to that token');
  });

  it("a grant of higher permissions Graph takes (Directory.ReadWrite.All) is ready for plan and apply, not failed for lack of the least privileged ones (found by a review)", async () => {
    const roles = ['Directory.ReadWrite.All', 'Policy.ReadWrite.AuthenticationMethod', 'UserAuthenticationMethod.ReadWrite.All'];
    const r = await runDoctor(fakeGraph({ tenant: appWith(roles) }).client({ readOnly: true }));
    expect(r.checks.filter((c) => c.state === 'fail').map((c) => c.id)).toEqual([]);
    expect(r.commands.map((c) => [c.command, c.ready])).toEqual([
      ['plan', true],
      ['apply, resume, rollback', true],
      ['status', true],
    ]);
  });

  it('a permission missing: not ready, naming what cannot be done, the permission to grant and its source', async () => {
    const r = await runDoctor(fakeGraph({ tenant: appWith(ALL.filter((p) => p !== 'UserAuthenticationMethod.ReadWrite.All')) }).client({ readOnly: true }));
    expect(r.ready).toBe(false);
    const failed = r.checks.filter((c) => c.state === 'fail');
    expect(failed.map((c) => c.id)).toEqual(expect.arrayContaining(['permission:plan:methods.read', 'read:methods']));
    expect(failed.find((c) => c.id === 'permission:plan:methods.read')?.fix).toMatch(/grant UserAuthenticationMethod\.Read\.All \(application\).*learn\.microsoft\.com/);
    expect(r.commands.find((c) => c.command === 'plan')).toMatchObject({ ready: false, missing: ['methods.read'] });
  });

  it("User.ReadBasic.All instead of User.Read.All: not ready, since Graph answers it without accountEnabled and userType, which the plan reads (a review)", async () => {
    const r = await runDoctor(fakeGraph({ tenant: appWith(ALL.map((p) => (p === 'User.Read.All' ? 'User.ReadBasic.All' : p))) }).client({ readOnly: true }));
    expect(r.commands.find((c) => c.command === 'plan')).toMatchObject({ ready: false, missing: ['users.read'] });
    expect(r.checks.find((c) => c.id === 'permission:plan:users.read')?.fix).toMatch(/grant User\.Read\.All \(application\)/);
    // plan itself refuses rather than take every account for an enabled member (a review: it planned on, silently).
    const planned = makePlan({ ...contosoRequest(), graph: fakeGraph({ tenant: appWith(ALL.map((p) => (p === 'User.Read.All' ? 'User.ReadBasic.All' : p))) }).client({ readOnly: true }) });
    await expect(planned).rejects.toThrow(/without accountEnabled and userType, which the plan needs .*: the permission reads the basic profile only \(User\.ReadBasic\.All\); grant User\.Read\.All/);
  });

  it('reading the inventory with Policy.Read.AuthenticationMethod only: the token read fails, with the permission that works', async () => {
    const roles = ['Organization.Read.All', 'User.Read.All', 'Policy.Read.AuthenticationMethod', 'UserAuthenticationMethod.Read.All'];
    const r = await runDoctor(fakeGraph({ tenant: appWith(roles) }).client({ readOnly: true }), { source: CONTOSO });
    expect(r.checks.find((c) => c.id === 'read:inventory')).toMatchObject({ state: 'warn', detail: expect.stringMatching(/403 Authorization_RequestDenied/), fix: expect.stringMatching(/Policy\.Read\.All/) });
    expect(r.checks.find((c) => c.id === 'export-tokens')).toMatchObject({ state: 'fail' });
    expect(r.ready).toBe(false);
  });

  it('no beta endpoints in this Graph: not ready, saying the beta APIs are missing', async () => {
    const r = await runDoctor(fakeGraph({ behaviour: { betaAvailable: false } }).client({ readOnly: true }));
    expect(r.ready).toBe(false);
    const beta = r.checks.filter((c) => c.state === 'fail' && /beta/.test(c.detail));
    expect(beta.map((c) => c.id)).toEqual(expect.arrayContaining(['read:policy', 'read:methods', 'read:inventory', 'read:sign-in-preferences']));
    expect(beta[0]!.fix).toMatch(/beta only/);
  });

  it('the command: text and JSON, exit 0 ready and 1 not', async () => {
    const emu = await startEmulator({ port: 0, throttle: 'off', behaviour: { betaAvailable: false } });
    try {
      const text = await runMain(['doctor', '--graph-url', emu.url]);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/^Graph http:\/\/127\.0\.0\.1:\d+ \(loopback: the emulator, a rehearsal\)\nTenant Contoso/);
      expect(text.stdout).toMatch(/Not ready: \d+ check\(s\) failed/);
      const json = await runMain(['doctor', '--graph-url', emu.url, '--format', 'json']);
      expect(JSON.parse(json.stdout)).toMatchObject({ ready: false, tenant: { displayName: 'Contoso' }, rehearsal: true });
    } finally {
      await emu.stop();
    }
  });
});
