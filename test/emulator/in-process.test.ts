import { describe, expect, it } from 'vitest';
import { inProcess, tenantWithUsers } from './helpers.js';

const PHONES = '/v1.0/users/u0@example.com/authentication/phoneMethods';
const MOBILE = JSON.stringify({ phoneType: 'mobile', phoneNumber: '+1 4255550100' });

interface Seen {
  status: number;
  code?: string;
  phoneNumber?: string;
}

/** The part of an answer that does not change from one request to the next (no request ids, no dates). */
async function seen(res: Response): Promise<Seen> {
  const text = await res.text();
  const body = text ? (JSON.parse(text) as { error?: { code: string }; phoneNumber?: string }) : undefined;
  return { status: res.status, ...(body?.error ? { code: body.error.code } : {}), ...(body?.phoneNumber ? { phoneNumber: body.phoneNumber } : {}) };
}

/**
 * The in-process fetch reads a plain call (a URL, a text body, headers as an object) without building
 * a Request; a Request given as input goes through Request's own reading. Both must give the
 * emulator the same request: each call is sent both ways, on emulators in the same state.
 */
async function bothWays(path: string, init: RequestInit): Promise<[Seen | string, Seen | string]> {
  const plain = inProcess({ tenant: tenantWithUsers(1) }).emu;
  const viaRequest = inProcess({ tenant: tenantWithUsers(1) }).emu;
  const a = await plain.fetch(`${plain.url}${path}`, init).then(seen, (err: Error) => `${err.name}: ${err.message}`);
  const b = await Promise.resolve()
    .then(() => viaRequest.fetch(new Request(`${viaRequest.url}${path}`, init)))
    .then(seen, (err: Error) => `${err.name}: ${err.message}`);
  return [a, b];
}

describe('the in-process fetch reads a request as Request does', () => {
  const cases: [string, string, RequestInit, Seen | RegExp][] = [
    ['a JSON write', PHONES, { method: 'POST', headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' }, body: MOBILE }, { status: 201, phoneNumber: '+1 4255550100' }],
    ['header names in any case, values with white space around', PHONES, { method: 'post', headers: { AUTHORIZATION: '  Bearer t', 'content-TYPE': 'application/json\t' }, body: MOBILE }, { status: 201, phoneNumber: '+1 4255550100' }],
    ['a text body without a type (sent as text/plain)', PHONES, { method: 'POST', headers: { Authorization: 'Bearer t' }, body: MOBILE }, { status: 400, code: 'BadRequest' }],
    ['the same header twice by case (joined: no longer one type)', PHONES, { method: 'POST', headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json', 'content-type': 'text/plain' }, body: MOBILE }, { status: 400, code: 'BadRequest' }],
    ['no token', PHONES, { method: 'GET' }, { status: 401, code: 'InvalidAuthenticationToken' }],
    ['an empty text body', PHONES, { method: 'POST', headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' }, body: '' }, { status: 400, code: 'BadRequest' }],
    ['a GET with a body (refused by fetch)', PHONES, { method: 'GET', headers: { Authorization: 'Bearer t' }, body: '{}' }, /^TypeError/],
    ['a header value Request refuses', PHONES, { method: 'GET', headers: { Authorization: 'Bearer\nt' } }, /^TypeError/],
    ['a trailing line break (white space, taken away)', PHONES, { method: 'GET', headers: { Authorization: 'Bearer t\n' } }, { status: 200 }],
    ['a Headers object', PHONES, { method: 'POST', headers: new Headers({ Authorization: 'Bearer t', 'Content-Type': 'application/json' }), body: MOBILE }, { status: 201, phoneNumber: '+1 4255550100' }],
    ['a binary body', PHONES, { method: 'POST', headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' }, body: new TextEncoder().encode(MOBILE) }, { status: 201, phoneNumber: '+1 4255550100' }],
  ];
  for (const [name, path, init, expected] of cases) {
    it(name, async () => {
      const [plain, viaRequest] = await bothWays(path, init);
      expect(plain).toEqual(viaRequest);
      if (expected instanceof RegExp) expect(plain).toMatch(expected);
      else expect(plain).toEqual(expected);
    });
  }

  it('stops at once on an aborted signal, either way', async () => {
    const { emu } = inProcess({ tenant: tenantWithUsers(1) });
    const signal = AbortSignal.abort();
    await expect(emu.fetch(`${emu.url}${PHONES}`, { headers: { Authorization: 'Bearer t' }, signal })).rejects.toThrow(/abort/i);
    await expect(emu.fetch(new Request(`${emu.url}${PHONES}`, { headers: { Authorization: 'Bearer t' }, signal }))).rejects.toThrow(/abort/i);
    expect(emu.requests()).toEqual([]);
  });
});
