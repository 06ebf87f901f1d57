import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingPermissions, MissingPermissionError } from '../../src/apply/permission-check.js';
import { Journal, readRun, type OpRecord } from '../../src/apply/journal.js';
import { Executor } from '../../src/apply/executor.js';
import type { Operation } from '../../src/apply/operations.js';
import type { TokenIdentity } from '../../src/graph/access-token.js';
import { DEFAULT_APPLICATION_PERMISSIONS } from '../../src/emulator/identity.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, resumeIn, runDirs, tempDir } from '../helpers/migration.js';
import { contosoTenant } from '../plan/helpers.js';

const tmp = tempDir('permission-check');
afterAll(() => tmp.cleanup());

const app = (roles: string[]): TokenIdentity => ({ tenantId: 't', appId: 'a', appDisplayName: 'mfa-migrate', upn: null, objectId: null, roles, scopes: [] });
const admin = (scopes: string[]): TokenIdentity => ({ tenantId: 't', appId: 'a', appDisplayName: null, upn: 'admin@contoso.com', objectId: null, roles: [], scopes });
/** The application permissions but the one to write users' methods (a review's identity). */
const WITHOUT_METHODS_WRITE = [...DEFAULT_APPLICATION_PERMISSIONS.filter((p) => p !== 'UserAuthenticationMethod.ReadWrite.All'), 'UserAuthenticationMethod.Read.All'];

describe('missingPermissions', () => {
  it("names each capability the writes need that the token's permissions do not grant", () => {
    expect(missingPermissions(['phone-create', 'policy-config'], app(['Policy.ReadWrite.AuthenticationMethod'])).map((c) => c.id)).toEqual(['methods.write']);
    expect(missingPermissions(['phone-create', 'token-bulk-create', 'rollout-add'], app(['UserAuthenticationMethod.ReadWrite.All'])).map((c) => c.id)).toEqual(['inventory.write', 'members.write']);
    // A higher permission Graph also takes counts.
    expect(missingPermissions(['rollout-add'], app(['Group.ReadWrite.All']))).toEqual([]);
    // Delegated: the scopes count, and staged rollout is granted only to a signed-in admin.
    expect(missingPermissions(['rollout-attach'], admin(['Policy.ReadWrite.HybridAuthentication']))).toEqual([]);
    expect(missingPermissions(['rollout-attach'], app(['Policy.ReadWrite.HybridAuthentication'])).map((c) => c.id)).toEqual(['rollout.write']);
  });

  it('asks a token created assigned to its user (assignTo) for both the inventory and the user-methods permission, as Graph\'s Create hardwareOathDevices page does; a bulk create (unassigned) for the inventory\'s only', () => {
    const inventoryOnly = ['Policy.ReadWrite.AuthenticationMethod'];
    expect(missingPermissions(['token-create'], app(inventoryOnly)).map((c) => c.id)).toEqual(['methods.write']);
    expect(missingPermissions(['token-create'], admin(inventoryOnly)).map((c) => c.id)).toEqual(['methods.write']);
    expect(missingPermissions(['token-create'], app(['UserAuthenticationMethod.ReadWrite.All'])).map((c) => c.id)).toEqual(['inventory.write']);
    expect(missingPermissions(['token-create'], app([...inventoryOnly, 'UserAuthenticationMethod.ReadWrite.All']))).toEqual([]);
    expect(missingPermissions(['token-bulk-create'], app(inventoryOnly))).toEqual([]);
  });

  it("takes an application's token with no roles for what it is, permissions never consented (a review); says nothing of a token that names nobody (Graph will tell)", () => {
    expect(missingPermissions(['phone-create', 'policy-config'], app([])).map((c) => c.id)).toEqual(['methods.write', 'policy.write']);
    expect(missingPermissions(['phone-create'], { ...app([]), appId: null })).toEqual([]);
  });

  it('says what to grant, and that staged rollout needs an admin signed in', () => {
    const missing = missingPermissions(['phone-create', 'rollout-attach'], app(['Policy.ReadWrite.AuthenticationMethod']));
    const message = new MissingPermissionError(missing, app(['Policy.ReadWrite.AuthenticationMethod'])).message;
    expect(message).toContain("the application's token (app a) lacks permissions this run's writes need, so nothing was written:");
    expect(message).toContain('one of UserAuthenticationMethod.ReadWrite.All');
    expect(message).toContain('Graph grants it to no application (sign in as an admin through an app registration of your own: --auth device-code --client-id APP; docs/cutover.md)');
  });
});

describe('apply without a permission its writes need (a review: the policy was enabled and every seed uploaded, then every user failed)', () => {
  it('is refused before any write, naming the permission', async () => {
    const tenant = { ...contosoTenant(), identity: { appDisplayName: 'reader', roles: WITHOUT_METHODS_WRITE } };
    const g = fakeGraph({ tenant });
    const file = join(tmp.dir, 'refused.plan');
    await planTo(g, file);
    const before = g.operations().length;
    const err = await applyFile(g, file, join(tmp.dir, 'state-refused')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPermissionError);
    expect((err as Error).message).toMatch(/to write users' phone and email methods.*: one of UserAuthenticationMethod\.ReadWrite\.All/);
    // Reads only: not even the token path's probe was sent.
    expect(g.operations().slice(before).filter((o) => o.method !== 'GET')).toEqual([]);
  });
});

describe('a run whose writes are refused for access in a row', () => {
  it('stops after one batch of refusals, resumable; resumed with the permission back, it finishes', async () => {
    const tenant = contosoTenant();
    const g = fakeGraph({ tenant });
    const file = join(tmp.dir, 'lost.plan');
    await planTo(g, file);
    const state = join(tmp.dir, 'state-lost');
    const first = await applyFile(g, file, state, { batchSize: 4, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    // The permission lost mid-run (the token the resume signs in with lacks it): no pre-flight of a resume catches it.
    // The sample's identity is an admin signed in: their scopes.
    const signedIn = g.emu.state.identity;
    g.emu.state.identity = { ...signedIn, user: { ...signedIn.user!, scopes: WITHOUT_METHODS_WRITE } };
    const notes: string[] = [];
    const sentBefore = g.operations().length;
    const stopped = await resumeIn(g, state, { log: (l: string) => notes.push(l) });
    expect(stopped.outcome.state).toBe('stopped');
    expect(stopped.outcome.refusedStop?.reason).toMatch(/^20 writes in a row were refused for access/);
    // The wave it stopped in: the first wave the resume wrote (the run's first had done wave 1).
    expect(stopped.outcome.refusedStop?.wave).toBeGreaterThan(1);
    expect(notes).toContainEqual(expect.stringMatching(/^Stopped: 20 writes in a row were refused for access \(write users' phone and email methods, default method, assign and activate tokens\), the last: 403 Authorization_RequestDenied: Insufficient privileges to complete the operation\. The identity lacks.*then resume: the refused writes are tried again\.$/));
    // Twenty and what was in flight with them, not every user's writes (the inventory's own writes, another permission, went through).
    const refused = g.operations().slice(sentBefore).filter((o) => o.method !== 'GET' && o.status === 403);
    expect(refused.length).toBeGreaterThanOrEqual(20);
    expect(refused.length).toBeLessThan(30);
    // What was not sent waits for the resume; the run's journal ends stopped, not interrupted.
    expect(stopped.outcome.counts.pending).toBeGreaterThan(0);
    expect((await readRun(runDirs(state)[0]!)).end?.state).toBe('stopped');
    g.emu.state.identity = signedIn;
    const finished = await resumeIn(g, state);
    expect(finished.outcome.state).toBe('completed');
  });
});

describe('the executor stop on refusals', () => {
  const TENANT = {
    tenant: { id: '7a1b2c3d-0000-4000-8000-0000000000ef', size: 'S' },
    identity: { appDisplayName: 'reader', roles: WITHOUT_METHODS_WRITE },
    users: Array.from({ length: 40 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, userPrincipalName: `u${i}@example.com`, displayName: `U${i}` })),
  };
  const mobile = (i: number): Operation => ({ id: `${TENANT.users[i]!.id}/phoneMethods/mobile`, kind: 'phone-create', user: `u${i}@example.com`, userId: TENANT.users[i]!.id, resource: 'phoneMethods/mobile', before: null, after: { phoneNumber: `+1 42555501${String(i).padStart(2, '0')}`, phoneType: 'mobile' }, stateFingerprint: '', dependsOn: [] });
  const run = async (name: string, prior: Map<string, OpRecord>) => {
    const g = fakeGraph({ tenant: TENANT });
    const journal = await Journal.create(join(tmp.dir, name), { t: 'run', id: name, kind: 'apply', created: new Date().toISOString(), planHash: 'x', options: {}, totalOps: 0 });
    const ex = new Executor({ client: g.client(), journal, concurrency: 1, context: { seeds: new Map(), policy: {}, now: Date.now }, stopAfterRefusals: 20 });
    const out = await ex.run(Array.from({ length: 40 }, (_, i) => mobile(i)), prior);
    await journal.close();
    return { ex, out: [...out.values()].map((o) => o.status), sent: g.operations().filter((o) => o.method === 'POST').length };
  };

  it('stops after 20 writes of one permission refused, sending no more', async () => {
    const { ex, out, sent } = await run('fresh', new Map());
    expect(ex.haltedBy).toMatch(/^20 writes in a row were refused for access \(write users' phone and email methods/);
    expect(sent).toBe(20);
    expect(out.filter((s) => s === 'failed')).toHaveLength(20);
    expect(out.filter((s) => s === 'pending')).toHaveLength(20);
  });

  it('does not count writes an earlier pass saw refused: a resume goes on past the users refused for their own reason (a review: three resumes stopped on them and never reached the next wave)', async () => {
    const refused = (i: number): [string, OpRecord] => [mobile(i).id, { op: mobile(i).id, state: 'failed', error: '403 Authorization_RequestDenied: Insufficient privileges to complete the operation.' }];
    const { ex, out, sent } = await run('resumed', new Map(Array.from({ length: 40 }, (_, i) => refused(i))));
    expect(ex.haltedBy).toBeUndefined();
    expect(sent).toBe(40);
    expect(out.every((s) => s === 'failed')).toBe(true);
  });
});

