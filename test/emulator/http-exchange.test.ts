import { afterAll, describe, expect, it } from 'vitest';
import { expectGraphError, inProcess, start, tenantWithUsers, type Reply } from './helpers.js';

const PHONES = '/v1.0/users/u0@example.com/authentication/phoneMethods';
const TENANT = tenantWithUsers(1);
const MOBILE = { phoneType: 'mobile', phoneNumber: '+1 4255550100' };

/** A request whose body is sent with exactly the Content-Type given (none when undefined). */
async function send(fetchImpl: typeof fetch, url: string, method: string, body: unknown, contentType: string | undefined): Promise<Reply> {
  const res = await fetchImpl(url, {
    method,
    headers: { Authorization: 'Bearer t', ...(contentType !== undefined ? { 'Content-Type': contentType } : {}) },
    // Bytes, so that fetch adds no Content-Type of its own (a string body would go as text/plain).
    body: new TextEncoder().encode(JSON.stringify(body)),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

describe('a request body without Content-Type: application/json (Graph reads only JSON it is told of)', () => {
  it('is refused 400 when the header is missing or names another type, whatever the write, and nothing changes', async () => {
    const { emu, graph } = inProcess({ tenant: TENANT });
    const url = `${emu.url}${PHONES}`;
    for (const type of [undefined, 'text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'application/jsonp']) {
      const r = await send(emu.fetch, url, 'POST', MOBILE, type);
      expectGraphError(r, 400, 'BadRequest');
      expect(r.body.error.message, String(type)).toMatch(/^Unable to read JSON request payload\. Please ensure Content-Type header is set/);
    }
    expect((await graph.get(PHONES)).body.value).toEqual([]);
    expectGraphError(await send(emu.fetch, `${emu.url}/v1.0/policies/authenticationMethodsPolicy`, 'PATCH', { reconfirmationInDays: 30 }, 'text/plain'), 400, 'BadRequest');
    // A $batch envelope is a body like any other.
    expectGraphError(await send(emu.fetch, `${emu.url}/v1.0/$batch`, 'POST', { requests: [{ id: '1', method: 'GET', url: '/users?$top=1' }] }, undefined), 400, 'BadRequest');
  });

  it('takes application/json in any case and with parameters; a write without a body needs none', async () => {
    const { emu, graph } = inProcess({ tenant: TENANT });
    const url = `${emu.url}${PHONES}`;
    expect((await send(emu.fetch, url, 'POST', MOBILE, 'Application/JSON; charset=utf-8')).status).toBe(201);
    expect((await send(emu.fetch, `${url}/3179e48a-750b-4051-897c-87b9720928f7`, 'PATCH', { ...MOBILE, phoneNumber: '+1 4255550101' }, 'application/json;odata.metadata=minimal')).status).toBe(204);
    expect((await graph.delete(`${PHONES}/3179e48a-750b-4051-897c-87b9720928f7`)).status).toBe(204);
  });

  describe('over HTTP', () => {
    const started = start({ tenant: TENANT });
    afterAll(async () => (await started).emu.stop());

    it('is refused the same', async () => {
      const { emu } = await started;
      expectGraphError(await send(fetch, `${emu.url}${PHONES}`, 'POST', MOBILE, 'text/plain'), 400, 'BadRequest');
      expect((await send(fetch, `${emu.url}${PHONES}`, 'POST', MOBILE, 'application/json')).status).toBe(201);
    });
  });
});
