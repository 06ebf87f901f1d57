import { describe, expect, it } from 'vitest';
import { getUser } from '../../src/graph/calls/users.js';
import { connectGraph } from '../../src/graph/connect.js';
import { PLAIN_ANSWER, plainAnsweringOf, type PlainAnswering } from '../../src/model/plain-answer.js';
import type { GraphCall } from '../../src/graph/graph-call.js';
import { fakeGraph } from '../helpers/graph.js';

const ALICE = 'alice@contoso.com';
const MOBILE = '3179e48a-750b-4051-897c-87b9720928f7';
const PHONES = `/users/${ALICE}/authentication/phoneMethods`;

/** An answer with what changes from one request or emulator to the next (ids, dates, page tokens' signatures) put aside. */
function steady(answer: { status: number; headers: Record<string, string>; body: unknown }): unknown {
  const { 'request-id': _id, 'client-request-id': _client, date: _date, ...headers } = answer.headers;
  const body = JSON.stringify(answer.body ?? null)
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z?/g, 'DATE')
    .replace(/\$skiptoken=[\w.-]+/g, '$skiptoken=TOKEN');
  return { status: answer.status, headers, body: JSON.parse(body) };
}

const CALLS: [string, GraphCall][] = [
  ['a read', getUser(ALICE)],
  ['a page of a list', { method: 'GET', version: 'v1.0', path: '/users?$select=id,userPrincipalName&$top=3' }],
  ['a write (201 with a body)', { method: 'POST', version: 'v1.0', path: PHONES, body: { phoneType: 'alternateMobile', phoneNumber: '+1 4255550199' } }],
  ['a write with no body back (204)', { method: 'PATCH', version: 'v1.0', path: `${PHONES}/${MOBILE}`, body: { phoneNumber: '+1 4255550000', phoneType: 'mobile' } }],
  ['a refusal (404)', getUser('nobody@contoso.com')],
  ['a refusal (400)', { method: 'POST', version: 'v1.0', path: PHONES, body: { phoneType: 'mobile' } }],
  ['a $batch', { method: 'POST', version: 'v1.0', path: '/$batch', body: { requests: [{ id: '1', method: 'GET', url: `/users/${ALICE}` }, { id: '2', method: 'DELETE', url: `${PHONES}/${MOBILE}` }] } }],
];

describe("the Graph client takes the in-process emulator's plain answer, the same as its Response", () => {
  it('the in-process fetch carries one; a fetch wrapped around it does not', () => {
    const g = fakeGraph();
    expect(plainAnsweringOf(g.emu.fetch)).toBeTypeOf('function');
    expect(plainAnsweringOf((input, init) => g.emu.fetch(input, init))).toBeUndefined();
  });

  for (const [name, call] of CALLS) {
    it(name, async () => {
      // Two emulators in the same state: one answered plainly, one through a Response (a wrapper has no plain answer).
      const plain = fakeGraph();
      const viaResponse = fakeGraph();
      let plainAnswers = 0;
      const counted: PlainAnswering = (input, init) => {
        plainAnswers++;
        return plainAnsweringOf(plain.emu.fetch)!(input, init);
      };
      const countedFetch = Object.assign((input: string | URL | Request, init?: RequestInit) => plain.emu.fetch(input, init), { [PLAIN_ANSWER]: counted });
      const a = await connectGraph({ graphUrl: plain.emu.url, fetch: countedFetch as typeof fetch, readOnly: false, concurrency: 1 }).request(call);
      const b = await connectGraph({ graphUrl: viaResponse.emu.url, fetch: (input, init) => viaResponse.emu.fetch(input, init), readOnly: false, concurrency: 1 }).request(call);
      expect(plainAnswers).toBe(1);
      expect(steady(a)).toEqual(steady(b));
    });
  }
});
