import { describe, expect, it } from 'vitest';
import { parsePath } from '../../src/emulator/url-path.js';
import { expectGraphError, inProcess } from './helpers.js';

const TENANT = {
  tenant: { id: '11111111-2222-3333-4444-555555555555' },
  users: [
    { userPrincipalName: '$admin@example.com', displayName: 'Dollar admin', methods: { phone: [{ phoneType: 'mobile', phoneNumber: '+1 4255550100' }] } },
    { userPrincipalName: "o'brien@example.com", displayName: "O'Brien" },
  ],
};

describe("OData key syntax: /users('$x@y.com')", () => {
  it("addresses a UPN starting with '$' with the key in single quotes", async () => {
    const { graph } = inProcess({ tenant: TENANT });
    const r = await graph.get("/v1.0/users('$admin@example.com')");
    expect(r.status).toBe(200);
    expect(r.body.userPrincipalName).toBe('$admin@example.com');
    // Percent-encoded as a client's URL builder sends it, and for nested resources and writes.
    expect((await graph.get("/v1.0/users('%24admin%40example.com')/authentication/phoneMethods")).body.value).toHaveLength(1);
    expect((await graph.get(`/v1.0/users(${encodeURIComponent("'$admin@example.com'")})?$select=id`)).status).toBe(200);
    expect((await graph.post("/v1.0/users('$admin@example.com')/authentication/emailMethods", { emailAddress: 'a@example.org' })).status).toBe(201);
    expect((await graph.get("/beta/users('$admin@example.com')/authentication/signInPreferences")).status).toBe(200);
  });

  it("answers 400 for /users/$x@y.com, as Graph does", async () => {
    const { graph } = inProcess({ tenant: TENANT });
    const r = await graph.get('/v1.0/users/$admin@example.com');
    expectGraphError(r, 400, 'BadRequest');
    expect(r.body.error.message).toBe("Resource not found for the segment '$admin@example.com'.");
    expectGraphError(await graph.get('/v1.0/users/%24admin%40example.com/authentication/methods'), 400, 'BadRequest');
  });

  it('reads doubled single quotes inside a key as one, in $batch items too', async () => {
    const { graph } = inProcess({ tenant: TENANT });
    expect((await graph.get("/v1.0/users('o''brien@example.com')")).body.displayName).toBe("O'Brien");
    expectGraphError(await graph.get("/v1.0/users('o'brien@example.com')"), 400, 'BadRequest');
    const batch = await graph.post('/v1.0/$batch', {
      requests: [
        { id: '1', method: 'GET', url: "/users('$admin@example.com')?$select=id" },
        { id: '2', method: 'GET', url: '/users/$admin@example.com' },
        { id: '3', method: 'GET', url: "/users('o''brien@example.com')" },
      ],
    });
    const status = Object.fromEntries(batch.body.responses.map((x: { id: string; status: number }) => [x.id, x.status]));
    expect(status).toEqual({ '1': 200, '2': 400, '3': 200 });
  });

  it('binds a key only to a parameter, never to a literal segment', () => {
    expect(parsePath("users('x@y.com')/authentication")).toEqual({ segments: ['users', 'x@y.com', 'authentication'], keys: new Set([1]) });
    expect(parsePath('users/x@y.com/')).toEqual({ segments: ['users', 'x@y.com'], keys: new Set() });
  });

  it("refuses a key where no parameter goes (/organization('x')/users)", async () => {
    const { graph } = inProcess({ tenant: TENANT });
    expectGraphError(await graph.get("/v1.0/groups('authentication')"), 404, 'Request_ResourceNotFound');
    expectGraphError(await graph.get("/v1.0/users('$admin@example.com')/authentication('methods')"), 400, 'BadRequest');
  });
});
