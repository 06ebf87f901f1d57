import { describe, expect, it } from 'vitest';
import { addGroupMember } from '../../src/graph/calls/groups.js';
import { credentialTokens } from '../../src/graph/access-token.js';
import { bodyForRoot, isLoopback, parseGraphRoot, tokenCloudOf } from '../../src/graph/graph-root.js';
import { GraphTransport } from '../../src/graph/graph-transport.js';

describe('--graph-url', () => {
  it('takes Microsoft Graph\'s clouds and loopback emulators, as roots', () => {
    expect(parseGraphRoot('https://graph.microsoft.com')).toBe('https://graph.microsoft.com');
    expect(parseGraphRoot('https://graph.microsoft.com/')).toBe('https://graph.microsoft.com');
    expect(parseGraphRoot('https://graph.microsoft.us')).toBe('https://graph.microsoft.us');
    expect(parseGraphRoot('https://dod-graph.microsoft.us')).toBe('https://dod-graph.microsoft.us');
    expect(parseGraphRoot('https://microsoftgraph.chinacloudapi.cn')).toBe('https://microsoftgraph.chinacloudapi.cn');
    expect(parseGraphRoot('http://127.0.0.1:5580')).toBe('http://127.0.0.1:5580');
    expect(parseGraphRoot('http://localhost:8080/')).toBe('http://localhost:8080');
  });

  it('says what is wrong with a URL without a scheme, with a version, or with a path', () => {
    expect(() => parseGraphRoot('127.0.0.1:5580')).toThrow(/give a URL with its scheme/);
    expect(() => parseGraphRoot('graph.microsoft.com')).toThrow(/give a URL with its scheme/);
    expect(() => parseGraphRoot('https://graph.microsoft.com/v1.0')).toThrow(/without a version \(https:\/\/graph\.microsoft\.com\)/);
    expect(() => parseGraphRoot('http://127.0.0.1:5580/beta/')).toThrow(/without a version/);
    expect(() => parseGraphRoot('https://graph.microsoft.com/foo')).toThrow(/give only the Graph root/);
  });

  it('never sends a token to another host unless the admin allows it, nor over plain http', () => {
    expect(() => parseGraphRoot('https://graph.example.com')).toThrow(/not a Microsoft Graph host .* --allow-graph-host graph\.example\.com/);
    expect(parseGraphRoot('https://graph.example.com', ['GRAPH.EXAMPLE.COM'])).toBe('https://graph.example.com');
    expect(() => parseGraphRoot('http://graph.microsoft.com')).toThrow(/must be reached over https/);
    expect(() => parseGraphRoot('http://127.0.0.1.example.com')).toThrow(/https/);
  });

  it('treats only loopback hosts as the emulator', () => {
    expect(isLoopback('http://127.0.0.1:5580')).toBe(true);
    expect(isLoopback('http://127.1.2.3')).toBe(true);
    expect(isLoopback('http://[::1]:80')).toBe(true);
    expect(isLoopback('http://127.0.0.1.example.com')).toBe(false);
    expect(isLoopback('https://graph.microsoft.com')).toBe(false);
  });
});

describe('a $ref body in a national cloud', () => {
  const ref = (root: string) => (bodyForRoot(addGroupMember('g', 'u').body, root) as Record<string, string>)['@odata.id'];
  it("names the object on the root's own Graph cloud; the public cloud, the emulator and a proxy keep the URL as built", () => {
    expect(ref('https://graph.microsoft.us')).toBe('https://graph.microsoft.us/v1.0/directoryObjects/u');
    expect(ref('https://dod-graph.microsoft.us')).toBe('https://dod-graph.microsoft.us/v1.0/directoryObjects/u');
    expect(ref('https://microsoftgraph.chinacloudapi.cn')).toBe('https://microsoftgraph.chinacloudapi.cn/v1.0/directoryObjects/u');
    for (const root of ['https://graph.microsoft.com', 'http://127.0.0.1:5580', 'https://graph-proxy.example.com']) expect(ref(root)).toBe('https://graph.microsoft.com/v1.0/directoryObjects/u');
    expect(bodyForRoot({ state: 'enabled' }, 'https://graph.microsoft.us')).toEqual({ state: 'enabled' });
  });

  it('is what the transport sends there', async () => {
    let sent: unknown;
    const capture: typeof fetch = async (_url, init) => {
      sent = JSON.parse(String(init?.body));
      return new Response(null, { status: 204 });
    };
    const transport = new GraphTransport({ root: 'https://graph.microsoft.us', tokens: { token: async () => 't' }, readOnly: false, fetch: capture });
    expect((await transport.send(addGroupMember('g', 'u'), 5_000)).status).toBe(204);
    expect(sent).toEqual({ '@odata.id': 'https://graph.microsoft.us/v1.0/directoryObjects/u' });
  });
});

describe('access tokens in a national cloud', () => {
  it("ask the cloud's own scope of its own sign-in endpoint; a proxy root and the emulator stand for the public cloud (a review: a run there was refused at sign-in)", async () => {
    // The public cloud's endpoint is named too, so that AZURE_AUTHORITY_HOST is not taken instead (a review).
    expect(tokenCloudOf('https://graph.microsoft.com')).toEqual({ scope: 'https://graph.microsoft.com/.default', authorityHost: 'https://login.microsoftonline.com' });
    expect(tokenCloudOf('https://graph.microsoft.us')).toEqual({ scope: 'https://graph.microsoft.us/.default', authorityHost: 'https://login.microsoftonline.us' });
    expect(tokenCloudOf('https://dod-graph.microsoft.us')).toEqual({ scope: 'https://dod-graph.microsoft.us/.default', authorityHost: 'https://login.microsoftonline.us' });
    expect(tokenCloudOf('https://microsoftgraph.chinacloudapi.cn')).toEqual({ scope: 'https://microsoftgraph.chinacloudapi.cn/.default', authorityHost: 'https://login.chinacloudapi.cn' });
    expect(tokenCloudOf('https://graph-proxy.example.com')).toEqual({ scope: 'https://graph.microsoft.com/.default', authorityHost: 'https://login.microsoftonline.com' });
    const asked: string[] = [];
    const credential = { getToken: async (scope: string | string[]) => (asked.push(String(scope)), { token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) };
    expect(await credentialTokens(credential, '', tokenCloudOf('https://graph.microsoft.us').scope).token()).toBe('t');
    expect(await credentialTokens(credential).token()).toBe('t');
    expect(asked).toEqual(['https://graph.microsoft.us/.default', 'https://graph.microsoft.com/.default']);
  });
});
