import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { expectGraphError, start, type GraphClient } from './helpers.js';

let emu: RunningEmulator;
let graph: GraphClient;
beforeAll(async () => ({ emu, graph } = await start()));
afterAll(() => emu.stop());
beforeEach(() => emu.reset());

const MOBILE = '3179e48a-750b-4051-897c-87b9720928f7';
const ALTERNATE = 'b6332ec1-7057-4abe-9331-3d72feddfe41';
const OFFICE = 'e37fc753-ff3b-4958-9484-eaa9425c82bc';
const EMAIL = '3ddfcfc8-9383-446f-83cc-3ab9be4be18f';
const auth = (upn: string, tail: string, version = 'v1.0') => `/${version}/users/${upn}/authentication/${tail}`;

describe('phone methods', () => {
  it('creates phones with their fixed ids and lists them', async () => {
    const mobile = await graph.post(auth('bob@contoso.com', 'phoneMethods'), { phoneNumber: '+1 4255550102', phoneType: 'mobile' });
    expect(mobile.status).toBe(201);
    expect(mobile.body).toMatchObject({ id: MOBILE, phoneNumber: '+1 4255550102', phoneType: 'mobile' });
    const alt = await graph.post(auth('bob@contoso.com', 'phoneMethods'), { phoneNumber: '+1 2065550102', phoneType: 'alternateMobile' });
    expect(alt.body.id).toBe(ALTERNATE);
    const office = await graph.post(auth('bob@contoso.com', 'phoneMethods'), { phoneNumber: '+1 4255550103x1234', phoneType: 'office' });
    expect(office.body).toMatchObject({ id: OFFICE, phoneNumber: '+1 4255550103x1234' });
    const list = await graph.get(auth('bob@contoso.com', 'phoneMethods'));
    expect(list.body.value.map((p: { id: string }) => p.id)).toEqual([MOBILE, ALTERNATE, OFFICE]);
    expect((await graph.get(auth('bob@contoso.com', `phoneMethods/${OFFICE}`))).body.phoneType).toBe('office');
  });

  it('refuses numbers not in +{cc} {number}[x{ext}] format, without echoing the number', async () => {
    for (const phoneNumber of ['4255550102', '+1 (425) 555-0102', '+14255550102', '+1 425 5550102', '+1 4255550102 x12', '+01 4255550102', '']) {
      const r = await graph.post(auth('bob@contoso.com', 'phoneMethods'), { phoneNumber, phoneType: 'mobile' });
      expectGraphError(r, 400, 'badRequest');
      if (phoneNumber) expect(r.body.error.message).not.toContain(phoneNumber);
    }
    expect((await graph.get(auth('bob@contoso.com', 'phoneMethods'))).body.value).toEqual([]);
  });

  it("reports smsSignInState from the SMS policy: ready only where a target holding the user has isUsableForSignIn on", async () => {
    const SMS = '/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms';
    const type = '#microsoft.graph.smsAuthenticationMethodConfiguration';
    await graph.post(auth('bob@contoso.com', 'phoneMethods'), { phoneNumber: '+1 4255550102', phoneType: 'mobile' });
    const state = async () => (await graph.get(auth('bob@contoso.com', `phoneMethods/${MOBILE}`))).body.smsSignInState;
    expect(await state()).toBe('notAllowedByPolicy');
    // Enabling SMS keeps the default all_users target, sign-in on (Graph's default).
    expect((await graph.patch(SMS, { '@odata.type': type, state: 'enabled' })).status).toBe(204);
    expect(await state()).toBe('ready');
    expect((await graph.patch(SMS, { '@odata.type': type, includeTargets: [{ id: 'all_users', targetType: 'group', isUsableForSignIn: false }] })).status).toBe(204);
    expect(await state()).toBe('notAllowedByPolicy');
    // A target sent without the field is taken as Graph's default: sign-in on.
    await graph.patch(SMS, { '@odata.type': type, includeTargets: [{ id: 'all_users', targetType: 'group' }] });
    expect((await graph.get(SMS)).body.includeTargets).toEqual([{ id: 'all_users', targetType: 'group', isUsableForSignIn: true }]);
    expect(await state()).toBe('ready');
    await graph.patch(SMS, { '@odata.type': type, excludeTargets: [{ id: (await graph.get('/v1.0/users/bob@contoso.com')).body.id, targetType: 'user' }] });
    expect(await state()).toBe('notAllowedByPolicy');
  });

  it('refuses a bad phoneType, read-only smsSignInState and unknown properties', async () => {
    expectGraphError(await graph.post(auth('bob@contoso.com', 'phoneMethods'), { phoneNumber: '+1 4255550102', phoneType: 'pager' }), 400, 'badRequest');
    expectGraphError(
      await graph.post(auth('bob@contoso.com', 'phoneMethods'), { phoneNumber: '+1 4255550102', phoneType: 'mobile', smsSignInState: 'ready' }),
      400,
      'badRequest',
    );
    expectGraphError(
      await graph.post(auth('bob@contoso.com', 'phoneMethods'), { phoneNumber: '+1 4255550102', phoneType: 'mobile', colour: 'red' }),
      400,
      'BadRequest',
    );
  });

  it('allows one phone per type', async () => {
    const r = await graph.post(auth('alice@contoso.com', 'phoneMethods'), { phoneNumber: '+1 4255550199', phoneType: 'mobile' });
    expectGraphError(r, 409, 'conflict');
    expect((await graph.get(auth('alice@contoso.com', `phoneMethods/${MOBILE}`))).body.phoneNumber).toBe('+1 4255550101');
  });

  it('needs a mobile before an alternateMobile', async () => {
    const r = await graph.post(auth('bob@contoso.com', 'phoneMethods'), { phoneNumber: '+1 2065550102', phoneType: 'alternateMobile' });
    expectGraphError(r, 400, 'badRequest');
  });

  it('updates a number but never the type', async () => {
    const p = auth('igor@contoso.com', `phoneMethods/${MOBILE}`);
    expect((await graph.patch(p, { phoneNumber: '+1 4255550132', phoneType: 'mobile' })).status).toBe(204);
    expect((await graph.get(p)).body.phoneNumber).toBe('+1 4255550132');
    expectGraphError(await graph.patch(p, { phoneType: 'office' }), 400, 'badRequest');
    expectGraphError(await graph.patch(p, { phoneNumber: '425-555-0132' }), 400, 'badRequest');
    expectGraphError(await graph.patch(auth('igor@contoso.com', `phoneMethods/${OFFICE}`), { phoneNumber: '+1 4255550132' }), 404, 'itemNotFound');
  });

  it('keeps the mobile while an alternateMobile exists, and the phone behind the default method', async () => {
    // quinn: mobile + alternateMobile, default sms.
    expectGraphError(await graph.delete(auth('quinn@contoso.com', `phoneMethods/${MOBILE}`)), 400, 'badRequest');
    expect((await graph.delete(auth('quinn@contoso.com', `phoneMethods/${ALTERNATE}`))).status).toBe(204);
    const stillDefault = await graph.delete(auth('quinn@contoso.com', `phoneMethods/${MOBILE}`));
    expectGraphError(stillDefault, 400, 'badRequest');
    expect(stillDefault.body.error.message).toContain('default');
    // Graph has no way to unset the default (below); an admin elsewhere does.
    emu.state.findUser('quinn@contoso.com')!.signInPreferences.userPreferredMethodForSecondaryAuthentication = null;
    expect((await graph.delete(auth('quinn@contoso.com', `phoneMethods/${MOBILE}`))).status).toBe(204);
    expect((await graph.get(auth('quinn@contoso.com', 'phoneMethods'))).body.value).toEqual([]);
  });

  it('guards voiceAlternateMobile and voiceOffice defaults too', async () => {
    await graph.post(auth('bob@contoso.com', 'phoneMethods'), { phoneNumber: '+1 4255550102', phoneType: 'mobile' });
    await graph.post(auth('bob@contoso.com', 'phoneMethods'), { phoneNumber: '+1 4255550103', phoneType: 'office' });
    await graph.patch(auth('bob@contoso.com', 'signInPreferences', 'beta'), { userPreferredMethodForSecondaryAuthentication: 'voiceOffice' });
    expectGraphError(await graph.delete(auth('bob@contoso.com', `phoneMethods/${OFFICE}`)), 400, 'badRequest');
    expect((await graph.delete(auth('bob@contoso.com', `phoneMethods/${MOBILE}`))).status).toBe(204);
  });

  it("answers 404 for another user's or an unknown phone, and for an unknown user", async () => {
    expectGraphError(await graph.get(auth('bob@contoso.com', `phoneMethods/${MOBILE}`)), 404, 'itemNotFound');
    expectGraphError(await graph.delete(auth('bob@contoso.com', 'phoneMethods/not-an-id')), 404, 'itemNotFound');
    expectGraphError(await graph.get(auth('nobody@contoso.com', 'phoneMethods')), 404, 'Request_ResourceNotFound');
  });
});

describe('email method', () => {
  it('allows one email method with its fixed id', async () => {
    const r = await graph.post(auth('zoe@contoso.com', 'emailMethods'), { emailAddress: 'zoe.private@example.com' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: EMAIL, emailAddress: 'zoe.private@example.com' });
    expectGraphError(await graph.post(auth('zoe@contoso.com', 'emailMethods'), { emailAddress: 'other@example.com' }), 409, 'conflict');
    expect((await graph.patch(auth('zoe@contoso.com', `emailMethods/${EMAIL}`), { emailAddress: 'zoe@example.org' })).status).toBe(204);
    expect((await graph.get(auth('zoe@contoso.com', 'emailMethods'))).body.value).toEqual([
      { '@odata.type': '#microsoft.graph.emailAuthenticationMethod', id: EMAIL, emailAddress: 'zoe@example.org' },
    ]);
    expectGraphError(await graph.post(auth('bob@contoso.com', 'emailMethods'), { emailAddress: 'not-an-address' }), 400, 'badRequest');
    expect((await graph.delete(auth('zoe@contoso.com', `emailMethods/${EMAIL}`))).status).toBe(204);
    expect((await graph.get(auth('zoe@contoso.com', 'emailMethods'))).body.value).toEqual([]);
  });
});

describe('all methods, Authenticator and software OATH', () => {
  it('lists every method with its @odata.type, password first', async () => {
    const r = await graph.get(auth('niaj@contoso.com', 'methods'));
    expect(r.body.value.map((m: Record<string, string>) => m['@odata.type'])).toEqual([
      '#microsoft.graph.passwordAuthenticationMethod',
      '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
    ]);
    expect(r.body.value[1].displayName).toBe('iPhone 15');
    const hana = await graph.get(auth('hana@contoso.com', 'methods', 'beta'));
    expect(hana.body.value.map((m: Record<string, string>) => m['@odata.type'])).toContain('#microsoft.graph.hardwareOathAuthenticationMethod');
  });

  it('reads and deletes Authenticator registrations but cannot create them', async () => {
    const list = await graph.get(auth('julia@contoso.com', 'microsoftAuthenticatorMethods'));
    expect(list.body.value).toHaveLength(5);
    const id = list.body.value[0].id;
    expect((await graph.get(auth('julia@contoso.com', `microsoftAuthenticatorMethods/${id}`))).body.id).toBe(id);
    expect((await graph.post(auth('julia@contoso.com', 'microsoftAuthenticatorMethods'), { displayName: 'x' })).status).toBe(405);
    expect((await graph.delete(auth('julia@contoso.com', `microsoftAuthenticatorMethods/${id}`))).status).toBe(204);
    expect((await graph.get(auth('julia@contoso.com', 'microsoftAuthenticatorMethods'))).body.value).toHaveLength(4);
    expectGraphError(await graph.get(auth('julia@contoso.com', `microsoftAuthenticatorMethods/${id}`)), 404, 'itemNotFound');
  });

  it('never returns a software OATH secret, and deletes software OATH methods', async () => {
    emu.reset({
      tenant: { id: '11111111-2222-3333-4444-555555555555' },
      users: [{ userPrincipalName: 'sam@example.com', displayName: 'Sam', methods: { softwareOath: [{ secretKey: 'JBSWY3DPEHPK3PXP' }] } }],
    });
    const list = await graph.get(auth('sam@example.com', 'softwareOathMethods'));
    expect(list.body.value).toEqual([{ '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethod', id: expect.any(String), secretKey: null }]);
    expect((await graph.post(auth('sam@example.com', 'softwareOathMethods'), { secretKey: 'JBSWY3DPEHPK3PXP' })).status).toBe(405);
    expect((await graph.delete(auth('sam@example.com', `softwareOathMethods/${list.body.value[0].id}`))).status).toBe(204);
    expect((await graph.get(auth('sam@example.com', 'softwareOathMethods'))).body.value).toEqual([]);
  });
});

describe('sign-in preferences (default method)', () => {
  const prefs = (upn: string) => auth(upn, 'signInPreferences', 'beta');

  it('reads the default method', async () => {
    const r = await graph.get(prefs('quinn@contoso.com'));
    expect(r.body).toMatchObject({ userPreferredMethodForSecondaryAuthentication: 'sms', isSystemPreferredAuthenticationMethodEnabled: false });
  });

  it('accepts only a method the user has', async () => {
    // bob has nothing yet.
    for (const method of ['push', 'oath', 'sms', 'voiceMobile', 'voiceAlternateMobile', 'voiceOffice']) {
      expectGraphError(await graph.patch(prefs('bob@contoso.com'), { userPreferredMethodForSecondaryAuthentication: method }), 400, 'badRequest');
    }
    expect((await graph.patch(prefs('niaj@contoso.com'), { userPreferredMethodForSecondaryAuthentication: 'push' })).status).toBe(204);
    expect((await graph.patch(prefs('alice@contoso.com'), { userPreferredMethodForSecondaryAuthentication: 'voiceMobile' })).status).toBe(204);
    expectGraphError(await graph.patch(prefs('alice@contoso.com'), { userPreferredMethodForSecondaryAuthentication: 'voiceOffice' }), 400, 'badRequest');
    // hana's token is activated.
    expect((await graph.patch(prefs('hana@contoso.com'), { userPreferredMethodForSecondaryAuthentication: 'oath' })).status).toBe(204);
    expect((await graph.get(prefs('hana@contoso.com'))).body.userPreferredMethodForSecondaryAuthentication).toBe('oath');
  });

  it('refuses unknown values and properties', async () => {
    expectGraphError(await graph.patch(prefs('alice@contoso.com'), { userPreferredMethodForSecondaryAuthentication: 'carrierPigeon' }), 400, 'BadRequest');
    // Graph documents the methods only: a default cannot be unset, and quinn keeps his.
    const unset = await graph.patch(prefs('quinn@contoso.com'), { userPreferredMethodForSecondaryAuthentication: null });
    expectGraphError(unset, 400, 'BadRequest');
    expect(unset.body.error.message).toMatch(/^Invalid value for property 'userPreferredMethodForSecondaryAuthentication': must be one of push, oath, /);
    expect((await graph.get(prefs('quinn@contoso.com'))).body.userPreferredMethodForSecondaryAuthentication).toBe('sms');
    expectGraphError(await graph.patch(prefs('alice@contoso.com'), { isSystemPreferredAuthenticationMethodEnabled: 'yes' }), 400, 'BadRequest');
    expectGraphError(await graph.patch(prefs('alice@contoso.com'), { favourite: 'sms' }), 400, 'BadRequest');
    expect((await graph.patch(prefs('alice@contoso.com'), { isSystemPreferredAuthenticationMethodEnabled: true })).status).toBe(204);
  });
});
