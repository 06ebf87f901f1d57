import { describe, expect, it } from 'vitest';
import { DEFAULT_APPLICATION_PERMISSIONS } from '../../src/emulator/identity.js';
import { expectGraphError, inProcess, introspect, tenantWithUsers, type GraphClient } from './helpers.js';

const AUTH = (user: string) => `/v1.0/users/${user}/authentication`;
const MOBILE = { phoneNumber: '+1 4255550100', phoneType: 'mobile' };
const MOBILE_ID = '3179e48a-750b-4051-897c-87b9720928f7';
const EMAIL_ID = '3ddfcfc8-9383-446f-83cc-3ab9be4be18f';

/** The tenant's minted token (its identity: u0 signed in, or an application) on a client of its own. */
async function signedIn(identity: Record<string, unknown>): Promise<{ graph: GraphClient; u0: string }> {
  const { emu, graph } = inProcess({ tenant: tenantWithUsers(2, { identity }) });
  const token = (await introspect(emu, 'token', { method: 'POST' })).body.access_token as string;
  return { graph: graph.as(token), u0: emu.state.findUser('u0@example.com')!.id };
}

/**
 * Graph's docs: "Users can't add a phone authentication method to their own account" (create),
 * "Self-service operations aren't supported" (update), and email methods likewise. A review found
 * the emulator took them from a delegated token whose user was the target.
 */
describe("a signed-in user's writes to their own phone and email methods", () => {
  it('are refused with 403 in the generic error shape, by UPN or object id, direct or in $batch; nothing is written', async () => {
    const { graph, u0 } = await signedIn({ userPrincipalName: 'u0@example.com' });
    for (const user of ['u0@example.com', 'U0@EXAMPLE.COM', u0]) {
      const r = await graph.post(`${AUTH(user)}/phoneMethods`, MOBILE);
      expectGraphError(r, 403, 'accessDenied');
      expect(r.body.error.message).toMatch(/^Users can't add or change a phone authentication method on their own account/);
      expect(Object.keys(r.body.error.innerError).sort()).toEqual(['client-request-id', 'date', 'request-id']);
      const email = await graph.post(`${AUTH(user)}/emailMethods`, { emailAddress: 'u0@example.com' });
      expectGraphError(email, 403, 'accessDenied');
      expect(email.body.error.message).toMatch(/^Users can't add or change an email authentication method on their own account/);
    }
    const batch = await graph.post('/v1.0/$batch', {
      requests: [
        { id: 'own', method: 'POST', url: '/users/u0@example.com/authentication/phoneMethods', headers: { 'Content-Type': 'application/json' }, body: MOBILE },
        { id: 'other', method: 'POST', url: '/users/u1@example.com/authentication/phoneMethods', headers: { 'Content-Type': 'application/json' }, body: MOBILE },
      ],
    });
    const item = (id: string) => (batch.body.responses as { id: string; status: number; body: any }[]).find((x) => x.id === id)!;
    expect(item('own').status).toBe(403);
    expect(item('own').body.error.code).toBe('accessDenied');
    // Another user's, in the same batch, is taken.
    expect(item('other').status).toBe(201);
    expect((await graph.get(`${AUTH('u0@example.com')}/phoneMethods`)).body.value).toEqual([]);
    expect((await graph.get(`${AUTH('u0@example.com')}/emailMethods`)).body.value).toEqual([]);
  });

  it('update and delete of their own are refused too, and the methods stay; a token of the inventory is not among them', async () => {
    const tenant = tenantWithUsers(2, { identity: { userPrincipalName: 'u0@example.com' } });
    (tenant.users as Record<string, unknown>[])[0]!.methods = { phone: [MOBILE], email: [{ emailAddress: 'u0@example.com' }] };
    const { emu, graph } = inProcess({ tenant });
    const admin = graph.as((await introspect(emu, 'token', { method: 'POST' })).body.access_token as string);
    expectGraphError(await admin.patch(`${AUTH('u0@example.com')}/phoneMethods/${MOBILE_ID}`, { phoneNumber: '+1 4255550199' }), 403, 'accessDenied');
    expectGraphError(await admin.delete(`${AUTH('u0@example.com')}/phoneMethods/${MOBILE_ID}`), 403, 'accessDenied');
    expectGraphError(await admin.patch(`${AUTH('u0@example.com')}/emailMethods/${EMAIL_ID}`, { emailAddress: 'x@example.com' }), 403, 'accessDenied');
    expectGraphError(await admin.delete(`${AUTH('u0@example.com')}/emailMethods/${EMAIL_ID}`), 403, 'accessDenied');
    expect((await admin.get(`${AUTH('u0@example.com')}/phoneMethods/${MOBILE_ID}`)).body.phoneNumber).toBe(MOBILE.phoneNumber);
    expect((await admin.get(`${AUTH('u0@example.com')}/emailMethods/${EMAIL_ID}`)).body.emailAddress).toBe('u0@example.com');
    // The default method (signInPreferences) is no phone or email method: not refused here.
    expect((await admin.patch(`/beta/users/u0@example.com/authentication/signInPreferences`, { userPreferredMethodForSecondaryAuthentication: 'sms' })).status).toBe(204);
  });

  it("an application's token (no signed-in user) writes anyone's, and so does a placeholder token", async () => {
    const { graph, u0 } = await signedIn({ appDisplayName: 'migration app', roles: [...DEFAULT_APPLICATION_PERMISSIONS] });
    expect((await graph.post(`${AUTH(u0)}/phoneMethods`, MOBILE)).status).toBe(201);
    expect((await graph.post(`${AUTH('u0@example.com')}/emailMethods`, { emailAddress: 'u0@example.com' })).status).toBe(201);
    const placeholder = inProcess({ tenant: tenantWithUsers(1, { identity: { userPrincipalName: 'u0@example.com' } }) }).graph;
    expect((await placeholder.post(`${AUTH('u0@example.com')}/phoneMethods`, MOBILE)).status).toBe(201);
  });
});
