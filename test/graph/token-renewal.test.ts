import { describe, expect, it } from 'vitest';
import { credentialTokens } from '../../src/graph/access-token.js';
import type { GraphCall } from '../../src/graph/graph-call.js';
import { GraphClient } from '../../src/graph/graph-client.js';
import { SignInError, TokenRefusedError } from '../../src/graph/graph-errors.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';

/**
 * A review: a 401 mid-run (a token revoked, or expired before its time) neither fetched a new token
 * nor stopped: the cached token was kept, and every later user failed with 401
 * InvalidAuthenticationToken. Now a 401, on a direct request, a `$batch` envelope or one of its
 * items, drops the token and sends that request again once with a new one; a second 401 stops.
 */

/** The only token the emulator takes (started with --token); any other is refused 401 as Graph refuses a revoked one. */
const SECRET = 'the-tenant-s-token';

/** A credential handing out `tokens` in turn (the last again once they run out), counting its calls. */
function credential(...tokens: (string | Error)[]) {
  let calls = 0;
  return {
    credential: {
      getToken: async () => {
        const t = tokens[Math.min(calls++, tokens.length - 1)]!;
        if (t instanceof Error) throw t;
        return { token: t, expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    },
    calls: () => calls,
  };
}

const tenantOf = (n: number) => ({ tenant: { id: '7a1b2c3d-0000-4000-8000-000000000002', size: 'S' }, users: Array.from({ length: n }, (_, i) => ({ userPrincipalName: `u${i}@example.com`, displayName: `User ${i}` })) });
const getUser = (i: number): GraphCall => ({ method: 'GET', version: 'v1.0', path: `/users/u${i}@example.com?$select=id,displayName` });
const phone = (i: number): GraphCall => ({ method: 'POST', version: 'v1.0', path: `/users/u${i}@example.com/authentication/phoneMethods`, body: { phoneNumber: `+1 42555501${String(i).padStart(2, '0')}`, phoneType: 'mobile' } });

function clientOf(g: FakeGraph, cred: ReturnType<typeof credential>, fetch: typeof g.emu.fetch = g.emu.fetch): GraphClient {
  return new GraphClient({ root: g.emu.url, tokens: credentialTokens(cred.credential), readOnly: false, concurrency: 2, fetch, retry: { capMs: 20 } });
}

const statuses = (g: FakeGraph) => g.emu.requests().map((r) => r.status);
/** The phone numbers each user has in the emulator's state. */
const phones = (g: FakeGraph) => (g.emu.snapshot().users as { methods: { phone: { phoneNumber: string }[] } }[]).map((u) => u.methods.phone.map((p) => p.phoneNumber));
/** The phone methods Graph added (each $batch item, or direct request, that ran). */
const added = (g: FakeGraph) => g.operations().filter((o) => o.path.endsWith('/phoneMethods') && o.status === 201).map((o) => o.path);
const phonesOf = (i: number) => `/v1.0/users/u${i}@example.com/authentication/phoneMethods`;

describe('a 401 from Graph: the token is dropped, the request sent again once with a new one', () => {
  it('a direct read and a direct write: answered with the new token, which is kept for what follows', async () => {
    const g = fakeGraph({ tenant: tenantOf(2), token: SECRET });
    const cred = credential('revoked-token', SECRET);
    const client = clientOf(g, cred);
    expect((await client.request(getUser(0))).status).toBe(200);
    expect(statuses(g)).toEqual([401, 200]);
    expect(cred.calls()).toBe(2);
    expect((await client.request(phone(1))).status).toBe(201);
    expect(cred.calls()).toBe(2);

    const g2 = fakeGraph({ tenant: tenantOf(2), token: SECRET });
    const cred2 = credential('revoked-token', SECRET);
    expect((await clientOf(g2, cred2).request(phone(0))).status).toBe(201);
    expect(statuses(g2)).toEqual([401, 201]);
    expect(phones(g2)).toEqual([['+1 4255550100'], []]);
  });

  it('$batch envelopes refused together (reads): one new token for all of them, every read answered', async () => {
    const g = fakeGraph({ tenant: tenantOf(45), token: SECRET });
    const cred = credential('revoked-token', SECRET);
    const client = clientOf(g, cred);
    const answers = await Promise.all(Array.from({ length: 45 }, (_, i) => client.read(getUser(i))));
    expect(answers.map((a) => a.status)).toEqual(Array(45).fill(200));
    expect(answers.map((a) => (a.body as { displayName: string }).displayName)).toEqual(Array.from({ length: 45 }, (_, i) => `User ${i}`));
    // Two envelopes were in flight with the revoked token: both refused, the token fetched again once.
    expect(statuses(g).filter((s) => s === 401)).toHaveLength(2);
    expect(cred.calls()).toBe(2);
  });

  it('a write pipeline\'s envelope refused: each write sent again and applied once', async () => {
    const g = fakeGraph({ tenant: tenantOf(3), token: SECRET });
    const cred = credential('revoked-token', SECRET);
    const pipeline = clientOf(g, cred).writer({ concurrency: 1 });
    const outcomes = await Promise.all([0, 1, 2].map((i) => pipeline.submit({ version: 'v1.0', call: phone(i) })));
    expect(outcomes.map((o) => (o.kind === 'answer' ? o.response.status : o.kind))).toEqual([201, 201, 201]);
    expect(statuses(g)).toEqual([401, 200]);
    expect(added(g)).toEqual([0, 1, 2].map(phonesOf));
    expect(pipeline.stats.retried).toBe(3);
  });

  it('items of a $batch refused while the envelope is taken: those items alone are sent again, with the new token', async () => {
    const g = fakeGraph({ tenant: tenantOf(4) });
    const cred = credential('stale-token', 'fresh-token');
    const sent: { token: string; ids: string[] }[] = [];
    // In front of Graph: items 2 and 4 are refused their token (not run) while it is the stale one.
    const refusing: typeof g.emu.fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (!url.endsWith('/$batch')) return g.emu.fetch(input, init);
      const token = new Headers(init?.headers).get('authorization')!.replace(/^Bearer /, '');
      const body = JSON.parse(String(init!.body)) as { requests: { id: string }[] };
      sent.push({ token, ids: body.requests.map((r) => r.id) });
      const refused = token === 'stale-token' ? body.requests.filter((r) => r.id === '2' || r.id === '4') : [];
      const taken = body.requests.filter((r) => !refused.includes(r));
      const res = await g.emu.fetch(input, { ...init, body: JSON.stringify({ requests: taken }) });
      const answers = (await res.json()) as { responses: unknown[] };
      const unauthorized = (id: string) => ({ id, status: 401, headers: { 'content-type': 'application/json' }, body: { error: { code: 'InvalidAuthenticationToken', message: 'Lifetime validation failed, the token is expired.' } } });
      return Response.json({ responses: [...answers.responses, ...refused.map((r) => unauthorized(r.id))] });
    };
    const pipeline = clientOf(g, cred, refusing).writer({ concurrency: 1 });
    const outcomes = await Promise.all([0, 1, 2, 3].map((i) => pipeline.submit({ version: 'v1.0', call: phone(i) })));
    expect(outcomes.map((o) => (o.kind === 'answer' ? o.response.status : o.kind))).toEqual([201, 201, 201, 201]);
    expect(sent).toEqual([
      { token: 'stale-token', ids: ['1', '2', '3', '4'] },
      { token: 'fresh-token', ids: ['1', '2'] },
    ]);
    // Each phone added once: the refused items were not run, the others not sent again.
    expect(added(g).sort()).toEqual([0, 1, 2, 3].map(phonesOf));
    expect(cred.calls()).toBe(2);
  });
});

describe('a second 401 is final: the command stops, without asking the credential again and again', () => {
  it('a direct read, a direct write, batched reads and a write pipeline end in TokenRefusedError after one new token', async () => {
    const g = fakeGraph({ tenant: tenantOf(30), token: SECRET });
    const expectStopped = async (run: (client: GraphClient) => Promise<unknown>, requests: number) => {
      g.emu.clearRequests();
      const cred = credential('revoked-token', 'another-refused-token');
      const err = await run(clientOf(g, cred)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TokenRefusedError);
      expect((err as Error).message).toBe(
        "Graph refused the access token, and a new one as well: 401 InvalidAuthenticationToken: Access token validation failure. Invalid audience. (sign in again; a local emulator started with --token wants that token in MFA_MIGRATE_EMULATOR_TOKEN)",
      );
      expect(cred.calls()).toBe(2);
      expect(statuses(g)).toEqual(Array(requests).fill(401));
    };
    await expectStopped((c) => c.request(getUser(0)), 2);
    await expectStopped((c) => c.request(phone(0)), 2);
    await expectStopped((c) => Promise.all(Array.from({ length: 30 }, (_, i) => c.read(getUser(i)))), 4);
    await expectStopped((c) => c.write(phone(1)), 2);
    expect(phones(g).flat()).toEqual([]);
  });

  it('a credential that cannot sign in any more when asked for the new token: a SignInError, at once', async () => {
    const g = fakeGraph({ tenant: tenantOf(1), token: SECRET });
    const cred = credential('revoked-token', new Error('AADSTS700082: The refresh token has expired due to inactivity.'));
    await expect(clientOf(g, cred).request(getUser(0))).rejects.toThrow(SignInError);
    expect(statuses(g)).toEqual([401]);
    expect(cred.calls()).toBe(2);
  });
});
