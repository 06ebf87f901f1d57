import { describe, expect, it } from 'vitest';
import type { AccessToken } from '@azure/identity';
import { credentialTokens } from '../../src/graph/access-token.js';
import { getUser } from '../../src/graph/calls/users.js';
import { GraphClient } from '../../src/graph/graph-client.js';
import { SignInError } from '../../src/graph/graph-errors.js';

/** A credential whose getToken calls are counted and answered when the test says. */
function stubCredential() {
  const waiting: { resolve: (t: AccessToken) => void; reject: (e: unknown) => void }[] = [];
  let calls = 0;
  return {
    credential: {
      getToken: () =>
        new Promise<AccessToken>((resolve, reject) => {
          calls++;
          waiting.push({ resolve, reject });
        }),
    },
    calls: () => calls,
    /** Answers every getToken waiting. */
    answer(token: string, expiresInMs = 3_600_000) {
      for (const w of waiting.splice(0)) w.resolve({ token, expiresOnTimestamp: Date.now() + expiresInMs });
    },
    fail(err: unknown) {
      for (const w of waiting.splice(0)) w.reject(err);
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('credentialTokens: one getToken at a time (a review: a plan asked a stub credential for 5 tokens at once; a device-code credential prompts on each)', () => {
  it('callers asking together share one getToken, and the token is reused after', async () => {
    const stub = stubCredential();
    const tokens = credentialTokens(stub.credential);
    const asked = Array.from({ length: 5 }, () => tokens.token());
    await tick();
    expect(stub.calls()).toBe(1);
    stub.answer('t1');
    expect(await Promise.all(asked)).toEqual(Array(5).fill('t1'));
    expect(await tokens.token()).toBe('t1');
    expect(stub.calls()).toBe(1);
  });

  it('a failure reaches every caller waiting, once, and is not kept: the next caller asks again', async () => {
    const stub = stubCredential();
    const tokens = credentialTokens(stub.credential, ' (tried --auth device-code)');
    const asked = Array.from({ length: 3 }, () => tokens.token().catch((e: unknown) => e));
    await tick();
    stub.fail(new Error('AADSTS70016: authorization pending timed out'));
    const errors = await Promise.all(asked);
    for (const e of errors) expect(e).toBeInstanceOf(SignInError);
    expect((errors[0] as Error).message).toBe('cannot sign in to Microsoft Graph: AADSTS70016: authorization pending timed out (tried --auth device-code)');
    expect(stub.calls()).toBe(1);
    const again = tokens.token();
    await tick();
    expect(stub.calls()).toBe(2);
    stub.answer('t2');
    expect(await again).toBe('t2');
  });

  it('a token within five minutes of its expiry is renewed before it is used, by one getToken for all who ask', async () => {
    const stub = stubCredential();
    const tokens = credentialTokens(stub.credential);
    const first = tokens.token();
    await tick();
    stub.answer('short-lived', 4 * 60_000);
    expect(await first).toBe('short-lived');
    const renewed = [tokens.token(), tokens.token()];
    await tick();
    expect(stub.calls()).toBe(2);
    stub.answer('fresh');
    expect(await Promise.all(renewed)).toEqual(['fresh', 'fresh']);
  });

  it('a client sending requests together (as plan reads the tenant and the token\'s identity at once) signs in once', async () => {
    const stub = stubCredential();
    const client = new GraphClient({ root: 'https://graph.microsoft.com', tokens: credentialTokens(stub.credential), readOnly: true, concurrency: 5, fetch: async () => new Response('{}') });
    const all = Promise.all([...Array.from({ length: 4 }, () => client.request(getUser('alice@contoso.com'))), client.identity()]);
    await tick();
    expect(stub.calls()).toBe(1);
    stub.answer('t1');
    await all;
    expect(stub.calls()).toBe(1);
  });
});
