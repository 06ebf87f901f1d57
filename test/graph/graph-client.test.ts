import { describe, expect, it } from 'vitest';
import { credentialTokens } from '../../src/graph/access-token.js';
import { getUser, userPath } from '../../src/graph/calls/users.js';
import { connectGraph } from '../../src/graph/connect.js';
import { GraphClient } from '../../src/graph/graph-client.js';
import { GraphRequestError, SignInError } from '../../src/graph/graph-errors.js';
import { fakeGraph } from '../helpers/graph.js';

const ALICE = 'alice@contoso.com';
const MOBILE = '3179e48a-750b-4051-897c-87b9720928f7';

describe('GraphClient on the (in-process) emulator', () => {
  it('read-only: refuses every write before sending it, so Graph never sees it', async () => {
    const g = fakeGraph();
    const ro = g.client({ readOnly: true });
    const before = g.emu.snapshot();
    const path = `/users/${ALICE}/authentication/phoneMethods/${MOBILE}`;
    await expect(ro.request({ method: 'PATCH', version: 'v1.0', path, body: { phoneNumber: '+1 4255550000', phoneType: 'mobile' } })).rejects.toThrow(/refused to send PATCH \/v1\.0\/users\/.+: this command only reads from Graph/);
    await expect(ro.request({ method: 'POST', version: 'v1.0', path: `/users/${ALICE}/authentication/phoneMethods`, body: {} })).rejects.toThrow(/only reads/);
    await expect(ro.request({ method: 'DELETE', version: 'v1.0', path })).rejects.toThrow(/only reads/);
    await expect(ro.request({ method: 'PUT', version: 'beta', path: '/policies/authenticationMethodsPolicy', body: {} })).rejects.toThrow(/only reads/);
    await expect(ro.request({ method: 'POST', version: 'v1.0', path: '/$batch', body: { requests: [{ id: '1', method: 'delete', url: path }] } })).rejects.toThrow(/only reads/);
    await expect(ro.request({ method: 'POST', version: 'v1.0', path: '/$batch', body: { requests: 'not a list' } })).rejects.toThrow(/only reads/);
    expect(g.emu.requests()).toEqual([]);
    expect(g.emu.snapshot()).toEqual(before);
  });

  it('writable: the same PATCH reaches Graph (the guard, not the emulator, stopped it above)', async () => {
    const g = fakeGraph();
    const res = await g.client().request({ method: 'PATCH', version: 'v1.0', path: `/users/${ALICE}/authentication/phoneMethods/${MOBILE}`, body: { phoneNumber: '+1 4255550000', phoneType: 'mobile' } });
    expect(res.status).toBe(204);
  });

  it('bounds direct requests as it bounds batched ones: a Promise.all of 30 has at most `concurrency` in flight', async () => {
    const g = fakeGraph();
    let inFlight = 0;
    let most = 0;
    const counting: typeof fetch = async (input, init) => {
      const graphCall = String(input instanceof Request ? input.url : input).includes('/v1.0/');
      if (graphCall) most = Math.max(most, ++inFlight);
      try {
        if (graphCall) await new Promise((r) => setTimeout(r, 5));
        return await g.emu.fetch(input, init);
      } finally {
        if (graphCall) inFlight--;
      }
    };
    const client = connectGraph({ graphUrl: g.emu.url, fetch: counting, readOnly: true, concurrency: 3 });
    const answers = await Promise.all(Array.from({ length: 30 }, () => client.request(getUser(ALICE))));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(most).toBe(3);
  });

  it('follows @odata.nextLink whole through every page', async () => {
    const g = fakeGraph();
    const upns: string[] = [];
    for await (const u of g.client({ readOnly: true }).pages<{ userPrincipalName: string }>({ method: 'GET', version: 'v1.0', path: '/users?$select=id,userPrincipalName&$top=7' }, 'users')) upns.push(u.userPrincipalName);
    const all = (g.emu.snapshot().users as { userPrincipalName: string }[]).map((u) => u.userPrincipalName);
    expect(upns.sort()).toEqual(all.sort());
    const pages = g.emu.requests();
    expect(pages).toHaveLength(Math.ceil(all.length / 7));
    expect(pages.slice(1).every((p) => p.path.includes('$skiptoken='))).toBe(true);
  });

  it('never sends the access token to a next page on another origin (found by a review: a proxy or tampered page could name any host)', async () => {
    const g = fakeGraph();
    const sent: { url: string; auth: string | null }[] = [];
    const tampering: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      sent.push({ url, auth: new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).get('authorization') });
      const res = await g.emu.fetch(input, init);
      const body = (await res.json()) as Record<string, unknown>;
      if (body['@odata.nextLink']) body['@odata.nextLink'] = String(body['@odata.nextLink']).replace(/^https?:\/\/[^/]+/, 'http://evil.example');
      return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
    };
    const client = connectGraph({ graphUrl: g.emu.url, fetch: tampering, readOnly: true, concurrency: 2, retry: { capMs: 20 } });
    const read = async () => {
      for await (const _ of client.pages({ method: 'GET', version: 'v1.0', path: '/users?$select=id&$top=7' }, 'users'));
    };
    await expect(read()).rejects.toThrow(/Graph's @odata\.nextLink points to http:\/\/evil\.example, not to http:\/\/127\.0\.0\.1:\d+: refusing to send the access token there/);
    // Every request, with its token, went to the emulator: none to the host the page named. (Behind a
    // proxy root Graph names its pages by its own host: a Microsoft Graph cloud over https is let through.)
    expect(sent.some((r) => r.url.includes('/v1.0/users') && r.auth?.startsWith('Bearer '))).toBe(true);
    expect(sent.filter((r) => new URL(r.url).origin !== new URL(g.emu.url).origin)).toEqual([]);
  });

  it("follows a local emulator's next page named by the address it listens on (localhost, 0.0.0.0) on its own port", async () => {
    const g = fakeGraph();
    const port = new URL(g.emu.url).port;
    const relinked = (host: string): typeof fetch => async (input, init) => {
      const res = await g.emu.fetch(input, init);
      const body = (await res.json()) as Record<string, unknown>;
      if (body['@odata.nextLink']) body['@odata.nextLink'] = String(body['@odata.nextLink']).replace(/^https?:\/\/[^/]+/, `http://${host}`);
      return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
    };
    const count = async (host: string) => {
      const client = connectGraph({ graphUrl: g.emu.url, fetch: relinked(host), readOnly: true, concurrency: 2, retry: { capMs: 20 } });
      let n = 0;
      for await (const _ of client.pages({ method: 'GET', version: 'v1.0', path: '/users?$select=id&$top=7' }, 'users')) n++;
      return n;
    };
    const all = (g.emu.snapshot().users as unknown[]).length;
    expect(await count(`localhost:${port}`)).toBe(all);
    expect(await count(`0.0.0.0:${port}`)).toBe(all);
    await expect(count(`localhost:${Number(port) + 1}`)).rejects.toThrow(/refusing to send the access token there/);
  });

  it('a failed read that must succeed is a GraphRequestError naming what was read and Graph\'s error', async () => {
    const g = fakeGraph();
    const err = await g.client({ readOnly: true }).get(getUser('nobody@contoso.com'), 'reading the user nobody@contoso.com').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphRequestError);
    expect((err as GraphRequestError).response.status).toBe(404);
    expect((err as Error).message).toMatch(/^reading the user nobody@contoso\.com failed: 404 Request_ResourceNotFound: /);
  });

  it('addresses a UPN that starts with $ with the key syntax Graph asks for', () => {
    expect(userPath('$admin@contoso.com')).toBe("/users('%24admin%40contoso.com')");
    expect(userPath("$o'neil@contoso.com")).toBe("/users('%24o''neil%40contoso.com')");
    expect(userPath('alice@contoso.com')).toBe('/users/alice%40contoso.com');
    expect(userPath('3179e48a-750b-4051-897c-87b9720928f7')).toBe('/users/3179e48a-750b-4051-897c-87b9720928f7');
  });
});

describe('GraphClient signing in', () => {
  const client = (getToken: () => Promise<{ token: string; expiresOnTimestamp: number } | null>) =>
    new GraphClient({ root: 'https://graph.microsoft.com', tokens: credentialTokens({ getToken }, ' (tried --auth default)'), readOnly: true, concurrency: 1, fetch: async () => new Response('{}') });

  it('turns a credential that cannot sign in into one SignInError, at once, naming the first line and never the secret', async () => {
    let calls = 0;
    const c = client(async () => {
      calls++;
      throw new Error('AADSTS7000215: Invalid client secret provided.\nTrace ID: 1234\nclient secret s3cr3t-value');
    });
    const err = await c.request(getUser(ALICE)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignInError);
    expect((err as Error).message).toBe('cannot sign in to Microsoft Graph: AADSTS7000215: Invalid client secret provided. (tried --auth default)');
    expect((err as Error).message).not.toContain('s3cr3t');
    expect(calls).toBe(1);
  });

  it('a credential that returns no token is a SignInError too', async () => {
    await expect(client(async () => null).request(getUser(ALICE))).rejects.toThrow(/cannot sign in to Microsoft Graph: the credential gave no access token/);
  });
});
