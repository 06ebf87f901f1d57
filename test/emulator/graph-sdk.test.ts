import {
  BatchRequestContent,
  BatchResponseContent,
  Client,
  HTTPMessageHandler,
  RetryHandler,
  RetryHandlerOptions,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { start } from './helpers.js';

/** The SDK attaches tokens only to https Graph hosts; against the emulator (http) a middleware does it. */
class BearerToken implements Middleware {
  #next: Middleware | undefined;
  async execute(context: Context): Promise<void> {
    const headers = new Headers(context.options?.headers);
    headers.set('Authorization', 'Bearer sdk-token');
    context.options = { ...context.options, headers };
    await this.#next!.execute(context);
  }
  setNext(next: Middleware): void {
    this.#next = next;
  }
}

function sdkClient(emu: RunningEmulator): Client {
  const auth = new BearerToken();
  const retry = new RetryHandler(new RetryHandlerOptions(0, 5));
  auth.setNext(retry);
  retry.setNext(new HTTPMessageHandler());
  return Client.initWithMiddleware({ baseUrl: `${emu.url}/`, defaultVersion: 'v1.0', middleware: auth });
}

describe('the Microsoft Graph JavaScript SDK against the emulator', () => {
  let emu: RunningEmulator;
  afterEach(() => emu.stop());

  it('reads, maps errors and honours a fractional Retry-After', async () => {
    ({ emu } = await start({ throttle: 'S', timeScale: 10, throttleLimits: { resourceUnits: 2 } }));
    const client = sdkClient(emu);
    const users = await client.api('/users').top(5).select('id,userPrincipalName').get();
    expect(users.value).toHaveLength(5);
    // Reads beyond 2 RU per (1 s) window are throttled; the SDK's retry handler waits Retry-After and succeeds.
    for (let i = 0; i < 4; i++) expect((await client.api('/users/alice@contoso.com').get()).userPrincipalName).toBe('alice@contoso.com');
    expect(emu.requests().map((r) => r.status)).toContain(429);
    await expect(client.api('/users/sybil@contoso.com').get()).rejects.toMatchObject({ statusCode: 404, code: 'Request_ResourceNotFound' });
  });

  it('batches with BatchRequestContent', async () => {
    ({ emu } = await start());
    const client = sdkClient(emu);
    const batch = new BatchRequestContent([
      {
        id: '1',
        request: new Request(`${emu.url}/v1.0/users/bob@contoso.com/authentication/emailMethods`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ emailAddress: 'bob@example.com' }),
        }),
      },
      { id: '2', request: new Request(`${emu.url}/v1.0/users/bob@contoso.com/authentication/emailMethods`), dependsOn: ['1'] },
    ]);
    const content = new BatchResponseContent(await client.api('/$batch').post(await batch.getContent()));
    expect(content.getResponseById('1').status).toBe(201);
    const listed = (await content.getResponseById('2').json()) as { value: { emailAddress: string }[] };
    expect(listed.value[0]!.emailAddress).toBe('bob@example.com');
  });
});
