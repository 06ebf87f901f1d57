import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { GraphConnection, GraphRequestError, ReadOnlyViolation, SignInError } from '../../src/graph/graph-connection.js';

const ALICE = 'alice@contoso.com';
const MOBILE = '3179e48a-750b-4051-897c-87b9720928f7';

/** The Graph layer over real HTTP against the emulator (bundled Contoso tenant). */
describe('GraphConnection against the emulator', () => {
  let emu: RunningEmulator;
  let readOnly: GraphConnection;
  let writable: GraphConnection;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    readOnly = new GraphConnection({ graphUrl: emu.url, readOnly: true });
    writable = new GraphConnection({ graphUrl: `${emu.url}/`, readOnly: false });
  });
  afterAll(async () => {
    await emu?.stop();
  });
  beforeEach(() => {
    emu.reset();
  });

  it('read-only: refuses every write before sending it, so the emulator never sees it', async () => {
    const before = emu.snapshot();
    await expect(readOnly.request('PATCH', `/users/${ALICE}/authentication/phoneMethods/${MOBILE}`, 'v1.0', { phoneNumber: '+1 4255550000', phoneType: 'mobile' })).rejects.toThrow(ReadOnlyViolation);
    await expect(readOnly.request('PATCH', `/users/${ALICE}/authentication/phoneMethods/${MOBILE}`, 'v1.0', {})).rejects.toThrow(/refused to send PATCH \/v1\.0\/users\/.+: this command only reads from Graph/);
    await expect(readOnly.request('POST', `/users/${ALICE}/authentication/phoneMethods`, 'v1.0', { phoneNumber: '+1 4255550000', phoneType: 'office' })).rejects.toThrow(ReadOnlyViolation);
    await expect(readOnly.request('DELETE', `/users/${ALICE}/authentication/phoneMethods/${MOBILE}`)).rejects.toThrow(ReadOnlyViolation);
    await expect(readOnly.request('PUT', '/policies/authenticationMethodsPolicy', 'beta', {})).rejects.toThrow(ReadOnlyViolation);
    // A $batch holding one write among reads, by the batch API or sent by hand.
    await expect(
      readOnly.batch([
        { id: '1', method: 'GET', url: `/users/${ALICE}` },
        { id: '2', method: 'POST', url: `/users/${ALICE}/authentication/phoneMethods`, body: { phoneNumber: '+1 4255550000', phoneType: 'office' } },
      ]),
    ).rejects.toThrow(/refused to send a \$batch holding a write/);
    await expect(readOnly.request('POST', '/$batch', 'v1.0', { requests: [{ id: '1', method: 'delete', url: `/users/${ALICE}/authentication/phoneMethods/${MOBILE}` }] })).rejects.toThrow(ReadOnlyViolation);
    await expect(readOnly.request('POST', '/$batch', 'v1.0', { requests: 'not a list' })).rejects.toThrow(ReadOnlyViolation);
    expect(emu.requests()).toEqual([]);
    expect(emu.snapshot()).toEqual(before);
  });

  it('read-only: lets GETs and $batch requests of GETs through', async () => {
    const user = await readOnly.get<{ userPrincipalName: string }>(`/users/${ALICE}?$select=id,userPrincipalName`);
    expect(user.userPrincipalName).toBe(ALICE);
    const [methods, prefs] = await readOnly.batch(
      [
        { id: 'a', method: 'GET', url: `/users/${ALICE}/authentication/methods` },
        { id: 'b', method: 'GET', url: `/users/${ALICE}/authentication/signInPreferences` },
      ],
      'beta',
    );
    expect(methods!.status).toBe(200);
    expect((methods!.body as { value: { '@odata.type': string }[] }).value.map((m) => m['@odata.type'])).toContain('#microsoft.graph.phoneAuthenticationMethod');
    expect(prefs).toMatchObject({ status: 200, body: { userPreferredMethodForSecondaryAuthentication: null } });
    expect(emu.requests().map((e) => [e.method, e.path.split('?')[0], (e.items ?? []).map((i) => i.method)])).toEqual([
      ['GET', `/v1.0/users/${ALICE}`, []],
      ['POST', '/beta/$batch', ['GET', 'GET']],
    ]);
  });

  it('writable: the same PATCH reaches Graph (the guard, not the emulator, stopped it above)', async () => {
    const res = await writable.request('PATCH', `/users/${ALICE}/authentication/phoneMethods/${MOBILE}`, 'v1.0', { phoneNumber: '+1 4255550000', phoneType: 'mobile' });
    expect(res.status).toBe(204);
    expect(emu.requests().map((e) => e.method)).toEqual(['PATCH']);
  });

  it('returns $batch responses in request order, whatever order Graph answers in', async () => {
    const upns = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'nobody', 'niaj'].map((u) => `${u}@contoso.com`);
    const responses = await readOnly.batch(upns.map((u, i) => ({ id: String(i + 1), method: 'GET' as const, url: `/users/${u}?$select=userPrincipalName` })));
    expect(responses.map((r) => (r.status === 200 ? (r.body as { userPrincipalName: string }).userPrincipalName : r.status))).toEqual(upns.map((u) => (u === 'nobody@contoso.com' ? 404 : u)));
    await expect(readOnly.batch(Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET' as const, url: '/users' })))).rejects.toThrow(/at most 20 requests, got 21/);
    expect(emu.requests()).toHaveLength(1);
  });

  it('follows @odata.nextLink whole through every page', async () => {
    const upns: string[] = [];
    for await (const u of readOnly.pages<{ userPrincipalName: string }>('/users?$select=id,userPrincipalName&$top=7')) upns.push(u.userPrincipalName);
    const all = (emu.snapshot().users as { userPrincipalName: string }[]).map((u) => u.userPrincipalName);
    expect(upns.sort()).toEqual(all.sort());
    const pages = emu.requests();
    expect(pages).toHaveLength(Math.ceil(all.length / 7));
    expect(pages.every((p) => p.status === 200)).toBe(true);
    expect(pages.slice(1).every((p) => p.path.includes('$skiptoken='))).toBe(true);
  });

  it('throws GraphRequestError with the Graph error for a failed GET', async () => {
    const err = await readOnly.get('/users/nobody@contoso.com').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphRequestError);
    expect((err as GraphRequestError).response.status).toBe(404);
    expect((err as Error).message).toMatch(/^GET \/users\/nobody@contoso\.com failed: 404 Request_ResourceNotFound: /);
  });

  it('refuses plain http to anything but a loopback emulator', () => {
    expect(() => new GraphConnection({ graphUrl: 'http://graph.example.com', readOnly: true })).toThrow(/must be reached over https/);
  });
});

describe('GraphConnection signing in', () => {
  it('turns a credential that cannot sign in into one SignInError, at once, naming the first line and never the secret', async () => {
    let calls = 0;
    const credential = {
      getToken: async () => {
        calls++;
        throw new Error('AADSTS7000215: Invalid client secret provided.\nTrace ID: 1234\nclient secret s3cr3t-value');
      },
    };
    const conn = new GraphConnection({ graphUrl: 'https://graph.example.invalid', readOnly: true }, credential);
    const err = await conn.request('GET', '/organization').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignInError);
    expect((err as Error).message).toBe('cannot sign in to Microsoft Graph: AADSTS7000215: Invalid client secret provided.');
    expect((err as Error).message).not.toContain('s3cr3t');
    // A read is not retried when there is no token to send it with.
    expect(calls).toBe(1);
  });

  it('a credential that returns no token is a SignInError too', async () => {
    const conn = new GraphConnection({ graphUrl: 'https://graph.example.invalid', readOnly: true }, { getToken: async () => null });
    await expect(conn.request('GET', '/organization')).rejects.toThrow(/cannot sign in to Microsoft Graph: the credential gave no access token/);
  });
});
