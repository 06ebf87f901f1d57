import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { expectGraphError, start, tenantWithUsers, type GraphClient } from './helpers.js';

let emu: RunningEmulator;
let graph: GraphClient;
beforeAll(async () => ({ emu, graph } = await start()));
afterAll(() => emu.stop());
beforeEach(() => emu.reset());

interface ItemResponse {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: { error?: { code: string; message: string }; [k: string]: unknown };
}

const byId = (responses: ItemResponse[]): Record<string, ItemResponse> => Object.fromEntries(responses.map((r) => [r.id, r]));

describe('$batch', () => {
  it('runs each item through the same rules and correlates responses by id, in an order of its own', async () => {
    const upns = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj', 'olivia', 'peggy', 'rupert', 'trent', 'uma', 'victor', 'walter', 'xena'];
    const requests = upns.map((u, i) => ({ id: `r${i}`, method: 'GET', url: `/users/${u}@contoso.com?$select=userPrincipalName` }));
    const r = await graph.post('/v1.0/$batch', { requests });
    expect(r.status).toBe(200);
    const responses: ItemResponse[] = r.body.responses;
    expect(responses).toHaveLength(20);
    const map = byId(responses);
    upns.forEach((u, i) => {
      expect(map[`r${i}`]!.status).toBe(200);
      expect(map[`r${i}`]!.body!['userPrincipalName']).toBe(`${u}@contoso.com`);
    });
    // Order is not the request order (seeded, so this is deterministic).
    expect(responses.map((x) => x.id)).not.toEqual(requests.map((x) => x.id));
  });

  it('answers each item with its own status, Graph errors included', async () => {
    const r = await graph.post('/v1.0/$batch', {
      requests: [
        { id: '1', method: 'POST', url: '/users/bob@contoso.com/authentication/phoneMethods', headers: { 'Content-Type': 'application/json' }, body: { phoneNumber: '+1 4255550102', phoneType: 'mobile' } },
        { id: '2', method: 'POST', url: '/users/alice@contoso.com/authentication/phoneMethods', headers: { 'Content-Type': 'application/json' }, body: { phoneNumber: '+1 4255550102', phoneType: 'mobile' } },
        { id: '3', method: 'GET', url: '/users/sybil@contoso.com' },
        { id: '4', method: 'GET', url: '/users/alice@contoso.com/authentication/signInPreferences' },
        { id: '5', method: 'DELETE', url: '/users/quinn@contoso.com/authentication/phoneMethods/b6332ec1-7057-4abe-9331-3d72feddfe41' },
      ],
    });
    const map = byId(r.body.responses);
    expect(map['1']!.status).toBe(201);
    expect(map['1']!.body!['id']).toBe('3179e48a-750b-4051-897c-87b9720928f7');
    expect(map['2']!.status).toBe(409);
    expect(map['3']!.status).toBe(404);
    expect(map['3']!.body!.error!.code).toBe('Request_ResourceNotFound');
    expect(map['4']!.status).toBe(400); // signInPreferences is beta-only
    expect(map['5']!.status).toBe(204);
    expect(map['5']!.body).toBeUndefined();
    const state = emu.snapshot() as { users: { userPrincipalName: string; methods: { phone: unknown[] } }[] };
    expect(state.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!.methods.phone).toHaveLength(1);
  });

  it('runs a sequential batch in order and gives 424 to everything after a failed request', async () => {
    const json = { 'Content-Type': 'application/json' };
    const r = await graph.post('/beta/$batch', {
      requests: [
        { id: 'a', method: 'POST', url: '/users/bob@contoso.com/authentication/phoneMethods', headers: json, body: { phoneNumber: '+1 4255550102', phoneType: 'mobile' } },
        // b depends on a: the alternateMobile needs the mobile first.
        { id: 'b', method: 'POST', url: '/users/bob@contoso.com/authentication/phoneMethods', headers: json, body: { phoneNumber: '+1 2065550102', phoneType: 'alternateMobile' }, dependsOn: ['A'] },
        { id: 'c', method: 'POST', url: '/users/carol@contoso.com/authentication/phoneMethods', headers: json, body: { phoneNumber: 'bad', phoneType: 'office' }, dependsOn: ['b'] },
        { id: 'd', method: 'PATCH', url: '/users/carol@contoso.com/authentication/signInPreferences', headers: json, body: { userPreferredMethodForSecondaryAuthentication: 'voiceOffice' }, dependsOn: ['c'] },
        { id: 'e', method: 'GET', url: '/users/carol@contoso.com', dependsOn: ['d'] },
      ],
    });
    const map = byId(r.body.responses);
    expect(map['a']!.status).toBe(201);
    expect(map['b']!.status).toBe(201);
    expect(map['c']!.status).toBe(400);
    expect(map['d']!.status).toBe(424);
    expect(map['e']!.status).toBe(424);
    expect(map['d']!.body!.error!.code).toBe('FailedDependency');
  });

  it('refuses, as Graph does, a batch that is neither fully parallel nor one chain in array order', async () => {
    const json = { 'Content-Type': 'application/json' };
    const post = (id: string, user: string, phone: string, dependsOn?: string[]) => ({
      id,
      method: 'POST',
      url: `/users/${user}/authentication/phoneMethods`,
      headers: json,
      body: { phoneNumber: phone, phoneType: 'mobile' },
      ...(dependsOn ? { dependsOn } : {}),
    });
    const shapes = [
      // Two users' chains side by side.
      [post('1', 'bob@contoso.com', '+1 4255550111'), post('2', 'bob@contoso.com', '+1 4255550112', ['1']), post('3', 'carol@contoso.com', '+1 4255550113')],
      // A fan-out from one request.
      [post('1', 'bob@contoso.com', '+1 4255550111'), post('2', 'bob@contoso.com', '+1 4255550112', ['1']), post('3', 'carol@contoso.com', '+1 4255550113', ['1'])],
      // A chain whose dependency comes later in the array.
      [post('2', 'bob@contoso.com', '+1 4255550112', ['1']), post('1', 'bob@contoso.com', '+1 4255550111')],
    ];
    for (const requests of shapes) {
      const r = await graph.post('/beta/$batch', { requests });
      expectGraphError(r, 400, 'BadRequest');
      expect(r.body.error.message).toBe('Batch should be either fully sequential or fully parallel.');
    }
    // Nothing of a refused batch ran.
    const state = emu.snapshot() as { users: { userPrincipalName: string; methods: { phone: { phoneNumber: string }[] } }[] };
    const phones = state.users.flatMap((u) => u.methods.phone.map((p) => p.phoneNumber));
    expect(phones.filter((p) => /^\+1 425555011[123]$/.test(p))).toEqual([]);
  });

  it('refuses a malformed batch as a whole', async () => {
    const get = (id: string) => ({ id, method: 'GET', url: '/users/alice@contoso.com' });
    expectGraphError(await graph.post('/v1.0/$batch', { requests: Array.from({ length: 21 }, (_, i) => get(String(i))) }), 400, 'BadRequest');
    expectGraphError(await graph.post('/v1.0/$batch', { requests: [get('x'), get('X')] }), 400, 'BadRequest');
    expectGraphError(await graph.post('/v1.0/$batch', { nope: [] }), 400, 'BadRequest');
    expectGraphError(await graph.post('/v1.0/$batch', { requests: [] }), 400, 'BadRequest');
    expectGraphError(await graph.post('/v1.0/$batch', { requests: [{ id: '1', url: '/users' }] }), 400, 'BadRequest');
    expectGraphError(await graph.post('/v1.0/$batch', { requests: [{ ...get('1'), dependsOn: ['9'] }] }), 400, 'BadRequest');
    expectGraphError(await graph.post('/v1.0/$batch', { requests: [{ ...get('1'), dependsOn: ['2'] }, { ...get('2'), dependsOn: ['1'] }] }), 400, 'BadRequest');
    const noType = await graph.post('/v1.0/$batch', {
      requests: [{ id: '1', method: 'POST', url: '/users/bob@contoso.com/authentication/emailMethods', body: { emailAddress: 'b@example.com' } }],
    });
    expectGraphError(noType, 400, 'BadRequest');
    expect(noType.body.error.message).toBe('Write request id : 1 does not contain Content-Type header or body.');
    // An action that takes no body still needs one in a batch, an empty object (a review: the tool's
    // token deactivation went without, which Graph refuses, batch and all).
    const token = '/beta/users/bob@contoso.com/authentication/hardwareOathMethods/x/deactivate';
    for (const item of [{ id: '1', method: 'POST', url: token }, { id: '1', method: 'POST', url: token, headers: { 'Content-Type': 'application/json' } }, { id: '1', method: 'PATCH', url: '/users/bob@contoso.com', body: null, headers: { 'content-type': 'application/json' } }]) {
      const bodyless = await graph.post('/v1.0/$batch', { requests: [item, get('2')] });
      expectGraphError(bodyless, 400, 'BadRequest');
      expect(bodyless.body.error.message).toBe('Write request id : 1 does not contain Content-Type header or body.');
    }
    // A GET or DELETE needs neither.
    expect((await graph.post('/v1.0/$batch', { requests: [get('1'), { id: '2', method: 'DELETE', url: '/users/bob@contoso.com/authentication/emailMethods/none' }] })).status).toBe(200);
    // Nothing of a refused batch ran.
    expect((await graph.get('/v1.0/users/bob@contoso.com/authentication/emailMethods')).body.value).toEqual([]);
    expect((await graph.get('/v1.0/$batch')).status).toBe(405);
    expect(emu.requests().at(-1)!.status).toBe(405);
  });

  it("takes a leading '/v1.0' in an item URL as the batch's version (as the Graph SDK sends it)", async () => {
    const r = await graph.post('/v1.0/$batch', { requests: [{ id: '1', method: 'GET', url: '/v1.0/users/alice@contoso.com' }] });
    expect(r.body.responses[0].status).toBe(200);
    expect(emu.requests().at(-1)!.items![0]!.path).toBe('/v1.0/users/alice@contoso.com');
    const other = await graph.post('/v1.0/$batch', { requests: [{ id: '1', method: 'GET', url: '/beta/users/alice@contoso.com' }] });
    expect(other.body.responses[0].status).toBe(400);
  });

  it('follows next links inside batch items', async () => {
    emu.reset(tenantWithUsers(30));
    const r = await graph.post('/v1.0/$batch', { requests: [{ id: '1', method: 'GET', url: '/users?$top=25' }] });
    const next = r.body.responses[0].body['@odata.nextLink'];
    expect(next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\.0\/users\?/);
    expect((await graph.get(next)).body.value).toHaveLength(5);
  });
});
