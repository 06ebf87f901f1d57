import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hotpCode } from '../../../src/otp/hotp.js';
import { parseClients } from '../../../src/shim/radius/clients-file.js';
import { ATTR, attribute, CODE, decodePacket, encodeAccessRequest, hideUserPassword, verifyResponseAuthenticator, verifyResponseMessageAuthenticator } from '../../../src/shim/radius/packet.js';
import { NO_REPLY_ATTRIBUTES, parseReplyAttributes } from '../../../src/shim/radius/reply-attributes.js';
import { RadiusServer, RETRANSMISSION_WINDOW_MS } from '../../../src/shim/radius/radius-server.js';
import { ShimMetrics } from '../../../src/shim/metrics.js';
import { VerifyGate } from '../../../src/shim/verify-gate.js';
import { runImportStore } from '../../../src/shim/shim-operations.js';
import type { ShimService, ShimServiceOptions } from '../../../src/shim/shim-service.js';
import { call, verify } from '../http-client.js';
import { RFC_SEED_SHA1, TEST_KEY, TestClock, seed, setImmutable, startTestService, tempDir } from '../helpers.js';
import { radclient, radclientMissing } from './radclient.js';

if (radclientMissing) process.stderr.write(`RADIUS tests with radclient skipped: ${radclientMissing}\n`);

const SECRET = 'vpn-shared-secret-0123456789';
const H = (c: number): string => hotpCode(RFC_SEED_SHA1, 'sha1', c, 6);

let tmp: ReturnType<typeof tempDir>;
let store: string;
let service: ShimService | undefined;

async function start(extra: Partial<ShimServiceOptions> = {}, clients = `127.0.0.1 ${SECRET} vpn-1\n`): Promise<{ service: ShimService; port: number }> {
  service = await startTestService(store, new TestClock(Date.now()), {
    radius: {
      port: 0,
      clients: parseClients(clients, 'clients'),
      replyAttributes: parseReplyAttributes('group:VPN-Admins Class=vpn-admins Filter-Id=admins\nuser:grace@contoso.com Filter-Id=grace-only\n', 'attributes'),
    },
    ...extra,
  });
  return { service, port: service.radiusAddress!.port };
}

beforeEach(async () => {
  tmp = tempDir();
  store = tmp.path('shim.store');
  await runImportStore({
    store,
    key: TEST_KEY,
    input: {
      users: [
        { username: 'ivan@contoso.com', enabled: true, group: 'VPN-Admins' },
        { username: 'grace@contoso.com', enabled: true, group: 'VPN-Admins' },
        { username: 'zoe@contoso.com', enabled: true },
        // Known, without a token: one disabled in MFA Server (its token not imported), one who never had one.
        { username: 'dave@contoso.com', enabled: false },
        { username: 'nina@contoso.com', enabled: true },
      ],
      tokens: ['ivan@contoso.com', 'grace@contoso.com', 'zoe@contoso.com', 'dave@contoso.com'].map((user, i) => ({ seed: seed({ serial: `H${i}`, secret: RFC_SEED_SHA1, type: 'hotp' }), user })),
    },
  });
});
afterEach(async () => {
  await service?.close();
  service = undefined;
  tmp.cleanup();
});

const metric = async (name: string): Promise<number> => {
  const text = (await call(`${service!.url}/metrics`)).text;
  const m = new RegExp(`^${name.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
};

/** A UDP client on loopback that keeps every datagram it is answered with. */
async function listeningClient(): Promise<{ socket: ReturnType<typeof createSocket>; answers: Buffer[] }> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const answers: Buffer[] = [];
  socket.on('message', (m) => answers.push(m));
  return { socket, answers };
}

describe.skipIf(radclientMissing !== undefined)('RADIUS with FreeRADIUS radclient', () => {
  it('accepts a right code once (with the group\'s attributes), rejects a replay and a wrong code with a Reply-Message, never the code', async () => {
    const { port } = await start();
    const ok = (await radclient(port, SECRET, { 'User-Name': 'ivan@contoso.com', 'User-Password': H(0) }));
    expect(ok.code, ok.output).toBe('Access-Accept');
    expect(ok.attributes).toMatchObject({ 'Reply-Message': 'Accepted', Class: expect.stringMatching(/vpn-admins|0x76706e2d61646d696e73/), 'Filter-Id': 'admins' });
    const replay = (await radclient(port, SECRET, { 'User-Name': 'ivan@contoso.com', 'User-Password': H(0) }));
    expect(replay.code).toBe('Access-Reject');
    expect(replay.attributes['Reply-Message']).toBe('Code already used; wait for the next one');
    const wrong = (await radclient(port, SECRET, { 'User-Name': 'ivan@contoso.com', 'User-Password': '000000' }));
    expect(wrong.code).toBe('Access-Reject');
    expect(wrong.attributes['Reply-Message']).toBe('Wrong code or unknown user');
    expect(wrong.output.split('Received')[1]).not.toContain('000000');
    // The user's own rule replaces the group's.
    expect((await radclient(port, SECRET, { 'User-Name': 'grace@contoso.com', 'User-Password': H(0) })).attributes).toMatchObject({ 'Filter-Id': 'grace-only' });
    expect((await radclient(port, SECRET, { 'User-Name': 'nobody@contoso.com', 'User-Password': H(0) })).attributes['Reply-Message']).toBe('Wrong code or unknown user');
    // The same path as /v1/verify: the verdicts are in the same metrics and the audit log.
    expect(await metric('mfa_shim_verify_requests_total{result="accept",reason="ok"}')).toBe(2);
    const auditPath = service!.auditPath;
    await service!.close();
    service = undefined;
    const audit = (await import('node:fs')).readFileSync(auditPath, 'utf8');
    expect(audit).toMatch(/"event":"verify","user":"ivan@contoso.com","client":"radius:vpn-1","result":"accept","reason":"ok","serial":"H0"/);
    expect(audit).not.toContain(H(0));
  });

  it('drops requests without a Message-Authenticator, with a wrong one (another secret), or from an unknown client, and counts them', async () => {
    const { port } = await start();
    const none = (await radclient(port, SECRET, { 'User-Name': 'ivan@contoso.com', 'User-Password': H(0) }, { messageAuthenticator: false, timeout: 1 }));
    expect(none.code, none.output).toBeUndefined();
    expect(none.output).toMatch(/No reply/);
    const wrong = (await radclient(port, 'not-the-shared-secret-0123', { 'User-Name': 'ivan@contoso.com', 'User-Password': H(0) }, { timeout: 1 }));
    expect(wrong.code).toBeUndefined();
    expect(await metric('mfa_shim_radius_dropped_total{reason="no_message_authenticator"}')).toBe(1);
    expect(await metric('mfa_shim_radius_dropped_total{reason="bad_message_authenticator"}')).toBe(1);
    // Nothing was verified: the code is still good.
    expect((await radclient(port, SECRET, { 'User-Name': 'ivan@contoso.com', 'User-Password': H(0) })).code).toBe('Access-Accept');
    await service!.close();
    const other = await start({}, `127.0.0.2 ${SECRET} elsewhere\n`);
    expect((await radclient(other.port, SECRET, { 'User-Name': 'ivan@contoso.com', 'User-Password': H(1) }, { timeout: 1 })).code).toBeUndefined();
    expect(await metric('mfa_shim_radius_dropped_total{reason="unknown_client"}')).toBe(1);
  });

  it('a quoted shared secret with spaces authenticates; a quoted group with spaces gets its quoted Reply-Message', async () => {
    const spaced = 'vpn shared secret with spaces 0123';
    store = tmp.path('groups.store');
    await runImportStore({ store, key: TEST_KEY, input: { users: [{ username: 'ann@contoso.com', enabled: true, group: 'VPN Users' }], tokens: [{ seed: seed({ serial: 'A1', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'ann@contoso.com' }] } });
    const { port } = await start({
      radius: {
        port: 0,
        clients: parseClients(`127.0.0.1 "${spaced}" "VPN one"\n`, 'clients'),
        replyAttributes: parseReplyAttributes('group:"VPN Users" Reply-Message="Welcome to the VPN" Filter-Id="vpn users"\n', 'attributes'),
      },
    });
    const ok = await radclient(port, spaced, { 'User-Name': 'ann@contoso.com', 'User-Password': H(0) });
    expect(ok.code, ok.output).toBe('Access-Accept');
    expect(ok.attributes).toMatchObject({ 'Reply-Message': 'Welcome to the VPN', 'Filter-Id': 'vpn users' });
    // The secret cut at its first space is not the VPN's.
    expect((await radclient(port, 'vpn', { 'User-Name': 'ann@contoso.com', 'User-Password': H(1) }, { timeout: 1 })).code).toBeUndefined();
    const auditPath = service!.auditPath;
    await service!.close();
    service = undefined;
    expect(readFileSync(auditPath, 'utf8')).toContain('"client":"radius:VPN one"');
  });

  it('answers an unknown user, a user without a token or disabled, and a wrong code alike, each counted against the source\'s budget; the audit log keeps the reason (a black-box test: 200 guessed names from one address, 195 "Unknown user", none counted)', async () => {
    const { port } = await start({}, `127.0.0.1 ${SECRET} vpn-1 source-max-fails=4\n`);
    const from = { 'Calling-Station-Id': '198.51.100.7' };
    const users = ['nobody@contoso.com', 'dave@contoso.com', 'nina@contoso.com', 'ivan@contoso.com'];
    const rejects = await Promise.all(users.map((u) => radclient(port, SECRET, { 'User-Name': u, 'User-Password': '000000', ...from })));
    expect(rejects.map((r) => [r.code, r.attributes['Reply-Message']])).toEqual(users.map(() => ['Access-Reject', 'Wrong code or unknown user']));
    // Guessing names cost as guessing codes does: the user's right code from that address now waits out the budget.
    const refused = await radclient(port, SECRET, { 'User-Name': 'ivan@contoso.com', 'User-Password': H(0), ...from });
    expect(refused.attributes['Reply-Message']).toMatch(/^Too many failures from this address; try again in \d+ s$/);
    const auditPath = service!.auditPath;
    await service!.close();
    service = undefined;
    const reasons = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>).filter((e) => e.event === 'verify').map((e) => `${e.user} ${e.reason}`);
    expect(reasons.sort()).toEqual(['dave@contoso.com no_token', 'ivan@contoso.com wrong_code', 'nina@contoso.com no_token', 'nobody@contoso.com unknown_user']);
  }, 20_000);

  it('gives a client with reasons=detailed the reasons, as /v1/verify does, and counts unknown users for no one there', async () => {
    const { port } = await start({}, `127.0.0.1 ${SECRET} app reasons=detailed source-max-fails=1\n`);
    const from = { 'Calling-Station-Id': '198.51.100.7' };
    const texts = [];
    for (const u of ['nobody@contoso.com', 'nina@contoso.com', 'someone@contoso.com']) texts.push((await radclient(port, SECRET, { 'User-Name': u, 'User-Password': '000000', ...from })).attributes['Reply-Message']);
    expect(texts).toEqual(['Unknown user', 'No OATH token for this user', 'Unknown user']);
    expect((await radclient(port, SECRET, { 'User-Name': 'ivan@contoso.com', 'User-Password': '000000', ...from })).attributes['Reply-Message']).toBe('Wrong code');
  });

  it('sends vendor attributes (RFC 2865 5.26) that radclient decodes by its FreeRADIUS dictionary: Cisco-AVPair repeated, ASA, Palo Alto, Fortinet, and one given by number', async () => {
    const { port } = await start({
      radius: {
        port: 0,
        clients: parseClients(`127.0.0.1 ${SECRET} vpn-1\n`, 'clients'),
        replyAttributes: parseReplyAttributes(
          [
            'group:VPN-Admins cisco-avpair=shell:priv-lvl=15 Cisco-AVPair="ip:inacl#1=permit ip any any" ASA-Group-Policy=GP-Admins',
            '  PaloAlto-User-Group=vpn-admins FORTINET-GROUP-NAME=fw-admins Vendor-Specific=9:1:shell:roles="network-admin"',
          ].join(''),
          'attributes',
        ),
      },
    });
    const ok = await radclient(port, SECRET, { 'User-Name': 'ivan@contoso.com', 'User-Password': H(0) });
    expect(ok.code, ok.output).toBe('Access-Accept');
    // In the order written, repeats each sent; radclient checked the answer's authenticators.
    expect(ok.received.filter(([name]) => name !== 'Message-Authenticator')).toEqual([
      ['Cisco-AVPair', 'shell:priv-lvl=15'],
      ['Cisco-AVPair', 'ip:inacl#1=permit ip any any'],
      ['ASA-Group-Policy', 'GP-Admins'],
      ['PaloAlto-User-Group', 'vpn-admins'],
      ['Fortinet-Group-Name', 'fw-admins'],
      ['Cisco-AVPair', 'shell:roles=\\"network-admin\\"'],
      ['Reply-Message', 'Accepted'],
    ]);
  });

  it('looks up grace, CONTOSO\\grace and grace@CONTOSO as grace@contoso.com through a client with strip-realm= and default-domain=, never another domain\'s grace; the audit log has both names', async () => {
    // Without the options, as before: the name is looked up as sent.
    await start();
    expect((await radclient(service!.radiusAddress!.port, SECRET, { 'User-Name': 'grace', 'User-Password': H(0) })).attributes['Reply-Message']).toBe('Wrong code or unknown user');
    await service!.close();
    const { port } = await start({}, `127.0.0.1 ${SECRET} vpn-1 strip-realm=CONTOSO,contoso.com default-domain=contoso.com\n`);
    // radclient reads \\ in a quoted value as one backslash.
    const sent = ['grace', 'CONTOSO\\\\grace', 'grace@CONTOSO', 'Grace@Contoso.com'];
    for (const [i, name] of sent.entries()) {
      const answer = await radclient(port, SECRET, { 'User-Name': name, 'User-Password': H(i) });
      expect(answer.code, answer.output).toBe('Access-Accept');
      // The user's own reply attributes: the user looked up is grace@contoso.com.
      expect(answer.attributes['Filter-Id']).toBe('grace-only');
    }
    // Another domain's grace, whom the store does not have: the one answer for unknown users and wrong codes.
    expect((await radclient(port, SECRET, { 'User-Name': 'grace@fabrikam.com', 'User-Password': H(4) })).attributes['Reply-Message']).toBe('Wrong code or unknown user');
    expect((await radclient(port, SECRET, { 'User-Name': 'FABRIKAM\\\\grace', 'User-Password': H(4) })).attributes['Reply-Message']).toBe('Wrong code or unknown user');
    const auditPath = service!.auditPath;
    await service!.close();
    service = undefined;
    const lines = readFileSync(auditPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'verify');
    expect(lines.map((l) => [l.user, l.user_sent, l.result])).toEqual([
      ['grace', undefined, 'reject'],
      ['grace@contoso.com', 'grace', 'accept'],
      ['grace@contoso.com', 'CONTOSO\\grace', 'accept'],
      ['grace@contoso.com', 'grace@CONTOSO', 'accept'],
      // Only the case differs: the same name, nothing to add.
      ['grace@contoso.com', undefined, 'accept'],
      ['grace@fabrikam.com', undefined, 'reject'],
      ['FABRIKAM\\grace', undefined, 'reject'],
    ]);
  });

  it('answers Status-Server (RFC 5997); /healthz and /metrics cover RADIUS', async () => {
    const { port } = await start();
    const status = (await radclient(port, SECRET, {}, { type: 'status' }));
    expect(status.code, status.output).toBe('Access-Accept');
    expect((await call(`${service!.url}/healthz`)).status).toBe(200);
    expect(await metric('mfa_shim_radius_up')).toBe(1);
    expect(await metric('mfa_shim_radius_requests_total{code="status_server"}')).toBe(1);
  });

  it('counts failures by Calling-Station-Id, per client budget: one end user\'s address spends its own budget, not the VPN\'s', async () => {
    const { port } = await start({}, `127.0.0.1 ${SECRET} vpn-1 source-max-fails=4\n`);
    for (let i = 0; i < 4; i++) expect((await radclient(port, SECRET, { 'User-Name': ['ivan', 'grace', 'zoe', 'ivan'][i] + '@contoso.com', 'User-Password': '000000', 'Calling-Station-Id': '198.51.100.7' })).code).toBe('Access-Reject');
    const refused = (await radclient(port, SECRET, { 'User-Name': 'zoe@contoso.com', 'User-Password': H(0), 'Calling-Station-Id': '198.51.100.7' }));
    expect(refused.attributes['Reply-Message']).toMatch(/Too many failures from this address; try again in \d+ s/);
    // Another end user behind the same VPN is not held back.
    expect((await radclient(port, SECRET, { 'User-Name': 'zoe@contoso.com', 'User-Password': H(0), 'Calling-Station-Id': '203.0.113.9' })).code).toBe('Access-Accept');
    expect(await metric('mfa_shim_source_refused_total')).toBe(1);
  }, 20_000);

  it('counts an IP address in Calling-Station-Id as one source however it is written, an IPv6 one by its /64', async () => {
    const { port } = await start({}, `127.0.0.1 ${SECRET} vpn-1 source-max-fails=4\n`);
    // The last two are other addresses of the same /64 (privacy extensions): the same end user.
    const stations = ['2001:db8::7', '2001:DB8::7', '2001:0db8:0:0:0:0:0:8', '2001:db8::abcd:7%eth0'];
    // Side by side (each radclient is a process of its own): the count does not depend on their order.
    const rejects = await Promise.all([0, 1, 2, 3].map((i) => radclient(port, SECRET, { 'User-Name': ['ivan', 'grace', 'zoe', 'ivan'][i] + '@contoso.com', 'User-Password': '000000', 'Calling-Station-Id': stations[i]! })));
    expect(rejects.map((r) => r.code)).toEqual(['Access-Reject', 'Access-Reject', 'Access-Reject', 'Access-Reject']);
    const refused = await radclient(port, SECRET, { 'User-Name': 'zoe@contoso.com', 'User-Password': H(0), 'Calling-Station-Id': '2001:db8:0::7' });
    expect(refused.attributes['Reply-Message']).toMatch(/Too many failures from this address/);
    expect(Object.keys(service!.db.users.get('ivan@contoso.com')!.sources)).toEqual(['2001:db8::/64']);
    // IPv4 and its IPv4-mapped form: one source; text that is no address (a MAC address) is counted as sent.
    await Promise.all(['198.51.100.7', '::ffff:198.51.100.7', '::FFFF:c633:6407', '00-11-22-AA-BB-CC'].map((station) => radclient(port, SECRET, { 'User-Name': 'grace@contoso.com', 'User-Password': '000000', 'Calling-Station-Id': station })));
    expect(service!.db.users.get('grace@contoso.com')!.sources).toEqual({
      '2001:db8::/64': expect.objectContaining({ fails: 1 }),
      '198.51.100.7': expect.objectContaining({ fails: 3 }),
      '00-11-22-AA-BB-CC': expect.objectContaining({ fails: 1 }),
    });
  }, 20_000);
});

describe('RADIUS retransmissions (RFC 5080)', () => {
  const secret = Buffer.from(SECRET);
  /** A PAP Access-Request as a VPN sends it. */
  const papRequest = (identifier: number, ra: Buffer, user: string, code: string) =>
    encodeAccessRequest(identifier, ra, [{ type: ATTR.userName, value: Buffer.from(user) }, { type: ATTR.userPassword, value: hideUserPassword(Buffer.from(code), secret, ra) }], secret);

  it('answers a retransmission from the cache without verifying again', async () => {
    const { port } = await start();
    const { socket, answers } = await listeningClient();
    try {
      const ra = randomBytes(16);
      const request = papRequest(99, ra, 'ivan@contoso.com', H(0));
      for (let i = 0; i < 3; i++) {
        socket.send(request, port, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 150));
      }
      expect(answers).toHaveLength(answers.length >= 2 ? answers.length : 2);
      for (const a of answers) {
        expect(a).toEqual(answers[0]);
        expect(decodePacket(a).code).toBe(CODE.accessAccept);
        expect(verifyResponseAuthenticator(a, ra, secret)).toBe(true);
        expect(verifyResponseMessageAuthenticator(a, ra, secret)).toBe(true);
      }
      expect(await metric('mfa_shim_radius_retransmissions_total')).toBe(2);
      expect(await metric('mfa_shim_verify_requests_total{result="accept",reason="ok"}')).toBe(1);
      expect(await metric('mfa_shim_verify_requests_total{result="reject",reason="replayed"}')).toBe(0);
    } finally {
      socket.close();
    }
  });

  it('answers a retransmission from the cache for as long as a VPN with the advised 30 s timeout may retry (a black-box test: one at 30 s was verified again, and the right code answered replayed)', async () => {
    const clock = new TestClock(Date.now());
    // The test's clock moves the retransmission window too (by default monotonic).
    service = await startTestService(store, clock, { radius: { port: 0, clients: parseClients(`127.0.0.1 ${SECRET} vpn-1\n`, 'clients') }, elapsed: clock.now });
    const port = service.radiusAddress!.port;
    const { socket, answers } = await listeningClient();
    try {
      const ra = randomBytes(16);
      const request = papRequest(7, ra, 'ivan@contoso.com', H(0));
      const sendAndWait = async (n: number) => {
        socket.send(request, port, '127.0.0.1');
        for (let i = 0; i < 100 && answers.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      };
      await sendAndWait(1);
      clock.advance(45);
      await sendAndWait(2);
      expect(answers.map((a) => decodePacket(a).code)).toEqual([CODE.accessAccept, CODE.accessAccept]);
      expect(answers[1]).toEqual(answers[0]);
      expect(await metric('mfa_shim_verify_requests_total{result="reject",reason="replayed"}')).toBe(0);
      // Past the window it is a new request, verified again.
      clock.advance(RETRANSMISSION_WINDOW_MS / 1000);
      await sendAndWait(3);
      expect(decodePacket(answers[2]!).code).toBe(CODE.accessReject);
    } finally {
      socket.close();
    }
  });

  it('a retransmission with padding after Length (RFC 2865 3: ignored) is the same request: answered from the cache, not verified again', async () => {
    const { port } = await start();
    const { socket, answers } = await listeningClient();
    try {
      const request = papRequest(77, randomBytes(16), 'ivan@contoso.com', H(0));
      socket.send(request, port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      // The same request again, with zeros after the packet's Length.
      socket.send(Buffer.concat([request, Buffer.alloc(4)]), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      expect(answers).toHaveLength(2);
      expect(answers[1]).toEqual(answers[0]);
      expect(decodePacket(answers[1]!).code).toBe(CODE.accessAccept);
      expect(await metric('mfa_shim_radius_retransmissions_total')).toBe(1);
      expect(await metric('mfa_shim_verify_requests_total{result="accept",reason="ok"}')).toBe(1);
      expect(await metric('mfa_shim_verify_requests_total{result="reject",reason="replayed"}')).toBe(0);
    } finally {
      socket.close();
    }
  });

  it('a request reusing an identifier and authenticator with other contents is no retransmission: it is verified, not given the cached accept', async () => {
    const { port } = await start();
    const { socket, answers } = await listeningClient();
    try {
      const ra = randomBytes(16);
      const ask = (user: string, code: string) => papRequest(42, ra, user, code);
      socket.send(ask('ivan@contoso.com', H(0)), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      socket.send(ask('zoe@contoso.com', '000000'), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      expect(answers.map((a) => decodePacket(a).code)).toEqual([CODE.accessAccept, CODE.accessReject]);
      expect(await metric('mfa_shim_radius_retransmissions_total')).toBe(0);
      expect(await metric('mfa_shim_verify_requests_total{result="reject",reason="wrong_code"}')).toBe(1);
    } finally {
      socket.close();
    }
  });
});

describe('RADIUS source budget under parallel requests', () => {
  const secret = Buffer.from(SECRET);

  it('60 wrong codes sent at once with one Calling-Station-Id get only the budget (30) verified, the rest refused (a black-box test: all 60 were)', async () => {
    const { port } = await start();
    const { socket, answers } = await listeningClient();
    try {
      for (let i = 0; i < 60; i++) {
        const ra = randomBytes(16);
        const user = ['ivan', 'grace', 'zoe'][i % 3] + '@contoso.com';
        const attributes = [
          { type: ATTR.userName, value: Buffer.from(user) },
          { type: ATTR.userPassword, value: hideUserPassword(Buffer.from('000000'), secret, ra) },
          { type: ATTR.callingStationId, value: Buffer.from('198.51.100.7') },
        ];
        socket.send(encodeAccessRequest(i, ra, attributes, secret), port, '127.0.0.1');
      }
      const deadline = Date.now() + 10_000;
      while (answers.length < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const texts = answers.map((a) => attribute(decodePacket(a), ATTR.replyMessage)!.toString());
      expect(texts.filter((t) => t === 'Wrong code or unknown user')).toHaveLength(30);
      expect(texts.filter((t) => /^Too many failures from this address; try again in \d+ s$/.test(t))).toHaveLength(30);
      expect(await metric('mfa_shim_verify_requests_total{result="reject",reason="wrong_code"}')).toBe(30);
      expect(await metric('mfa_shim_source_refused_total')).toBe(30);
    } finally {
      socket.close();
    }
  }, 20_000);
});

describe('RADIUS Status-Server while the shim cannot verify', () => {
  it('is answered while the shim can verify and dropped while it cannot, so the VPN asks its other server', async () => {
    let up = true;
    const metrics = new ShimMetrics();
    // Status-Server reads only the gate's health: no verifier or audit log is reached.
    const gate = new VerifyGate(undefined as never, metrics, undefined as never, () => up);
    const radius = new RadiusServer({ gate, metrics, clients: parseClients(`127.0.0.1 ${SECRET} vpn-1\n`, 'clients'), defaults: { rateLimit: { perSecond: 100, burst: 100 }, sourceBudget: { maxFails: 10, windowMs: 60_000, slowDownMs: 0 } }, replyAttributes: NO_REPLY_ATTRIBUTES });
    const { port } = await radius.listen(0, '127.0.0.1');
    const { socket, answers } = await listeningClient();
    try {
      const secret = Buffer.from(SECRET);
      const status = () => encodeAccessRequest(1, randomBytes(16), [], secret, { code: CODE.statusServer });
      socket.send(status(), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      up = false;
      socket.send(status(), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      expect(answers.map((a) => decodePacket(a).code)).toEqual([CODE.accessAccept]);
      expect(metrics.render({ users: 0, tokens: {}, lockedUsers: null, healthy: up, radiusUp: true })).toMatch(/^mfa_shim_radius_dropped_total\{reason="unavailable"\} 1$/m);
    } finally {
      socket.close();
      await radius.close();
    }
  });
});

describe('RADIUS when a verification fails outright', () => {
  it('sends no answer, verifies a retransmission afresh, and does not hold close() for it', async () => {
    const metrics = new ShimMetrics();
    const secret = Buffer.from(SECRET);
    const asked: string[] = [];
    const notices: string[] = [];
    // A gate whose first verification throws (what the state failing mid-request looks like to the front end).
    const gate = {
      up: true,
      malformed: () => undefined,
      verify: (req: { user: string }) => {
        asked.push(req.user);
        return asked.length === 1 ? Promise.reject(new Error('state went away')) : Promise.resolve({ kind: 'unavailable' as const });
      },
    } as unknown as VerifyGate;
    const radius = new RadiusServer({ gate, metrics, clients: parseClients(`127.0.0.1 ${SECRET} vpn-1\n`, 'clients'), defaults: { rateLimit: { perSecond: 0, burst: 0 }, sourceBudget: { maxFails: 0, windowMs: 60_000, slowDownMs: 0 } }, replyAttributes: NO_REPLY_ATTRIBUTES, onNotice: (m) => notices.push(m) });
    const { port } = await radius.listen(0, '127.0.0.1');
    const { socket, answers } = await listeningClient();
    try {
      const ra = randomBytes(16);
      const request = encodeAccessRequest(7, ra, [{ type: ATTR.userName, value: Buffer.from('ivan@contoso.com') }, { type: ATTR.userPassword, value: hideUserPassword(Buffer.from('123456'), secret, ra) }], secret);
      socket.send(request, port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      expect(answers).toHaveLength(0);
      expect(notices.filter((n) => n.startsWith('RADIUS:'))).toEqual(['RADIUS: state went away']);
      socket.send(request, port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      expect(asked).toEqual(['ivan@contoso.com', 'ivan@contoso.com']);
      expect(answers.map((a) => decodePacket(a).code)).toEqual([CODE.accessReject]);
      expect(attribute(decodePacket(answers[0]!), ATTR.replyMessage)?.toString()).toBe('Verification is unavailable; try again later');
      expect(metrics.render({ users: 0, tokens: {}, lockedUsers: null, healthy: true, radiusUp: true })).toMatch(/^mfa_shim_radius_requests_total\{code="access_request"\} 2$/m);
    } finally {
      socket.close();
      const started = Date.now();
      await radius.close(5_000);
      // Nothing left in flight: close() does not wait out its grace.
      expect(Date.now() - started).toBeLessThan(1_000);
    }
  });
});

describe('RADIUS requests as RFC 2865 has them', () => {
  const secret = Buffer.from(SECRET);
  /**
   * Sends one request over a raw socket and returns the answer (checked against the request) or null.
   * `ra`: the Request Authenticator, for a password that must decode right (password(code, ra)).
   */
  async function ask(port: number, attributes: { type: number; value: Buffer }[], code: number = CODE.accessRequest, waitMs = 5000, ra = randomBytes(16)): Promise<ReturnType<typeof decodePacket> | null> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    try {
      const answer = new Promise<Buffer | null>((resolve) => {
        socket.once('message', (m) => resolve(m));
        setTimeout(() => resolve(null), waitMs);
      });
      socket.send(encodeAccessRequest(7, ra, attributes, secret, { code }), port, '127.0.0.1');
      const a = await answer;
      if (!a) return null;
      expect(verifyResponseAuthenticator(a, ra, secret)).toBe(true);
      expect(verifyResponseMessageAuthenticator(a, ra, secret)).toBe(true);
      return decodePacket(a);
    } finally {
      socket.close();
    }
  }
  const name = (u: string) => ({ type: ATTR.userName, value: Buffer.from(u) });
  const password = (code: string, ra?: Buffer) => ({ type: ATTR.userPassword, value: hideUserPassword(Buffer.from(code), secret, ra ?? Buffer.alloc(16)) });

  it('rejects a request with both User-Password and CHAP-Password (4.1: must not) as malformed, without verifying it', async () => {
    const { port } = await start();
    const answer = await ask(port, [name('zoe@contoso.com'), password('000000'), { type: ATTR.chapPassword, value: Buffer.alloc(17, 1) }]);
    expect(answer?.code).toBe(CODE.accessReject);
    expect(attribute(answer!, ATTR.replyMessage)?.toString()).toBe('Malformed request');
    expect(await metric('mfa_shim_verify_requests_total{result="reject",reason="wrong_code"}')).toBe(0);
  });

  it('sends a rule\'s Reply-Message on Access-Accept instead of the shim\'s own "Accepted", never both', async () => {
    const { port } = await start({ radius: { port: 0, clients: parseClients(`127.0.0.1 ${SECRET} vpn-1\n`, 'clients'), replyAttributes: parseReplyAttributes('user:zoe@contoso.com Reply-Message=Welcome,_Zoe Session-Timeout=60\n', 'attributes') } });
    const ra = randomBytes(16);
    const zoe = await ask(port, [name('zoe@contoso.com'), password(H(0), ra)], CODE.accessRequest, 5000, ra);
    expect(zoe?.code).toBe(CODE.accessAccept);
    expect(zoe!.attributes.filter((a) => a.type === ATTR.replyMessage).map((a) => a.value.toString())).toEqual(['Welcome,_Zoe']);
    // No rule: the shim's own.
    const ivan = await ask(port, [name('ivan@contoso.com'), password(H(0), ra)], CODE.accessRequest, 5000, ra);
    expect(ivan?.code).toBe(CODE.accessAccept);
    expect(ivan!.attributes.filter((a) => a.type === ATTR.replyMessage).map((a) => a.value.toString())).toEqual(['Accepted']);
  });

  it('a wall-clock step back refuses no one over RADIUS: rate limits go by the monotonic clock (a black-box test: "Too many requests; try again in 58 s" after a -120 s step)', async () => {
    const clock = new TestClock(Date.now());
    service = await startTestService(store, clock, { radius: { port: 0, clients: parseClients(`127.0.0.1 ${SECRET} vpn-1 rate-limit=50 rate-burst=100\n`, 'clients') } });
    const port = service.radiusAddress!.port;
    expect(attribute((await ask(port, [name('zoe@contoso.com'), password('000000')]))!, ATTR.replyMessage)?.toString()).toBe('Wrong code or unknown user');
    clock.advance(-120);
    expect(attribute((await ask(port, [name('ivan@contoso.com'), password('000000')]))!, ATTR.replyMessage)?.toString()).toBe('Wrong code or unknown user');
  });

  it("counts a malformed request against its client's rate limit, as over HTTP (a black-box test: 8 in a row past a burst of 3, each audited)", async () => {
    const { port } = await start({}, `127.0.0.1 ${SECRET} vpn-1 rate-limit=1 rate-burst=3\n`);
    const chap = [name('zoe@contoso.com'), { type: ATTR.chapPassword, value: Buffer.alloc(17, 1) }];
    const texts: string[] = [];
    for (let i = 0; i < 5; i++) texts.push(attribute((await ask(port, chap))!, ATTR.replyMessage)!.toString());
    expect(texts.slice(0, 3)).toEqual(['Only PAP is supported', 'Only PAP is supported', 'Only PAP is supported']);
    expect(texts.slice(3)).toEqual([expect.stringMatching(/^Too many requests; try again in \d+ s$/), expect.stringMatching(/^Too many requests/)]);
  });

  it('answers an EAP request "Only PAP is supported", refuses two Calling-Station-Ids as malformed, and counts one written with spaces as the address (a black-box test)', async () => {
    const { port } = await start();
    const eap = await ask(port, [name('zoe@contoso.com'), { type: ATTR.eapMessage, value: Buffer.from([2, 1, 0, 5, 1]) }]);
    expect(attribute(eap!, ATTR.replyMessage)?.toString()).toBe('Only PAP is supported');
    const station = (text: string) => ({ type: ATTR.callingStationId, value: Buffer.from(text) });
    const two = await ask(port, [name('zoe@contoso.com'), password('000000'), station('198.51.100.7'), station('203.0.113.9')]);
    expect(attribute(two!, ATTR.replyMessage)?.toString()).toBe('Malformed request');
    expect(await metric('mfa_shim_verify_requests_total{result="reject",reason="wrong_code"}')).toBe(0);
    await ask(port, [name('zoe@contoso.com'), password('000000'), station(' 198.51.100.7 ')]);
    expect(Object.keys(service!.db.users.get('zoe@contoso.com')!.sources)).toEqual(['198.51.100.7']);
  });

  it("keeps a client's sources' failure counts across a reload that changes its limits: a SIGHUP gives a guesser no fresh budget (a review)", async () => {
    const { service: s, port } = await start({}, `127.0.0.1 ${SECRET} vpn-1 source-max-fails=2\n`);
    const from = (code: string) => ask(port, [name('zoe@contoso.com'), password(code), { type: ATTR.callingStationId, value: Buffer.from('198.51.100.30') }]);
    const reasons = async (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(attribute((await from('000000'))!, ATTR.replyMessage)!.toString());
      return out;
    };
    expect((await reasons(3)).map((t) => t.startsWith('Too many failures'))).toEqual([false, false, true]);
    s.reloadRadius!(parseClients(`127.0.0.1 ${SECRET} vpn-1 source-max-fails=3\n`, 'clients'), NO_REPLY_ATTRIBUTES);
    // Two failures still counted: one more is checked, then refused (a fresh budget would check three).
    expect((await reasons(2)).map((t) => t.startsWith('Too many failures'))).toEqual([false, true]);
  });

  it('locks a made-up name out as it would a real user tried as often, so the lock-out message tells neither apart', async () => {
    const { port } = await start();
    // Each from an address of its own: the address's budget (30) is not what is tested here.
    const texts = async (user: string, address: string) => {
      const out: string[] = [];
      const station = { type: ATTR.callingStationId, value: Buffer.from(address) };
      for (let i = 0; i < 11; i++) out.push(attribute((await ask(port, [name(user), password('000000'), station]))!, ATTR.replyMessage)!.toString());
      return out;
    };
    const real = await texts('ivan@contoso.com', '198.51.100.40');
    expect(real.slice(9)).toEqual(['Wrong code or unknown user', 'Locked out after too many failures; try again later or call the help desk']);
    expect(await texts('nobody@contoso.com', '198.51.100.41')).toEqual(real);
  });

  it('says a refusal for a spent budget is the RADIUS client\'s when it sends no Calling-Station-Id (all its users share it), not "this address"', async () => {
    const { port } = await start({}, `127.0.0.1 ${SECRET} vpn-1 source-max-fails=1\n`);
    expect(attribute((await ask(port, [name('zoe@contoso.com'), password('000000')]))!, ATTR.replyMessage)?.toString()).toBe('Wrong code or unknown user');
    expect(attribute((await ask(port, [name('ivan@contoso.com'), password('000000')]))!, ATTR.replyMessage)?.toString()).toMatch(/^Too many failures from this RADIUS client \(it sends no Calling-Station-Id\); try again in \d+ s$/);
  });

  it("looks a name up through its client's strip-realm= and default-domain= (raw packets, without radclient); a realm not listed is looked up as sent", async () => {
    const { port } = await start({}, `127.0.0.1 ${SECRET} vpn-1 strip-realm=CONTOSO default-domain=contoso.com\n`);
    const ra = randomBytes(16);
    const grace = await ask(port, [name('CONTOSO\\grace'), password(H(0), ra)], CODE.accessRequest, 5000, ra);
    expect(grace?.code).toBe(CODE.accessAccept);
    // Stripped, then given the domain: grace's own attributes.
    expect(attribute(grace!, 11)?.toString()).toBe('grace-only');
    const zoe = await ask(port, [name('zoe'), password(H(0), ra)], CODE.accessRequest, 5000, ra);
    expect(zoe?.code).toBe(CODE.accessAccept);
    const fabrikam = await ask(port, [name('FABRIKAM\\zoe'), password(H(1), ra)], CODE.accessRequest, 5000, ra);
    // Another domain's name no user of the store has: the one answer for unknown users and wrong codes.
    expect(attribute(fabrikam!, ATTR.replyMessage)?.toString()).toBe('Wrong code or unknown user');
    const auditPath = service!.auditPath;
    await service!.close();
    service = undefined;
    const audit = readFileSync(auditPath, 'utf8');
    expect(audit).toContain('"user":"grace@contoso.com","user_sent":"CONTOSO\\\\grace","client":"radius:vpn-1","result":"accept"');
    expect(audit).toContain('"user":"zoe@contoso.com","user_sent":"zoe","client":"radius:vpn-1","result":"accept"');
    expect(audit).toContain('"user":"FABRIKAM\\\\zoe","client":"radius:vpn-1","result":"reject","reason":"unknown_user"');
    // reasons=detailed beside the realm options: the name as looked up, and the reason.
    const detailed = await start({}, `127.0.0.1 ${SECRET} vpn-1 reasons=detailed strip-realm=CONTOSO default-domain=contoso.com\n`);
    expect(attribute((await ask(detailed.port, [name('FABRIKAM\\zoe'), password(H(2), ra)], CODE.accessRequest, 5000, ra))!, ATTR.replyMessage)?.toString()).toBe('Unknown user');
    expect(attribute((await ask(detailed.port, [name('CONTOSO\\nina'), password(H(2), ra)], CODE.accessRequest, 5000, ra))!, ATTR.replyMessage)?.toString()).toBe('No OATH token for this user');
  });

  it('counts an unknown name towards a lock-out by the name as looked up: nobody and CONTOSO\\nobody are one name, FABRIKAM\\nobody (not stripped) another', async () => {
    const { port } = await start({}, `127.0.0.1 ${SECRET} vpn-1 strip-realm=CONTOSO default-domain=contoso.com\n`);
    const station = { type: ATTR.callingStationId, value: Buffer.from('198.51.100.42') };
    const text = async (user: string) => attribute((await ask(port, [name(user), password('000000'), station]))!, ATTR.replyMessage)!.toString();
    const LOCKED = 'Locked out after too many failures; try again later or call the help desk';
    // Ten failures (--max-fails) of one name, typed two ways: the eleventh try, typed a third way, is locked out.
    for (let i = 0; i < 5; i++) expect(await text('nobody')).toBe('Wrong code or unknown user');
    for (let i = 0; i < 5; i++) expect(await text('CONTOSO\\nobody')).toBe('Wrong code or unknown user');
    expect(await text('nobody@contoso.com')).toBe(LOCKED);
    // A realm not listed is a name of its own, as it would be a user of its own: not locked.
    expect(await text('FABRIKAM\\nobody')).toBe('Wrong code or unknown user');
    // So it is for a user of the store: grace's failures typed as grace and CONTOSO\grace lock grace@contoso.com.
    for (let i = 0; i < 5; i++) expect(await text('grace')).toBe('Wrong code or unknown user');
    for (let i = 0; i < 5; i++) expect(await text('CONTOSO\\grace')).toBe('Wrong code or unknown user');
    expect(await text('grace@contoso.com')).toBe(LOCKED);
  });

  it('rejects two User-Names (5.44: at most one) as malformed without verifying either', async () => {
    const { port } = await start();
    const answer = await ask(port, [name('zoe@contoso.com'), name('ivan@contoso.com'), password('000000')]);
    expect(answer?.code).toBe(CODE.accessReject);
    expect(attribute(answer!, ATTR.replyMessage)?.toString()).toBe('Malformed request');
    expect(await metric('mfa_shim_verify_requests_total{result="reject",reason="malformed"}')).toBe(1);
    expect(await metric('mfa_shim_verify_requests_total{result="reject",reason="wrong_code"}')).toBe(0);
  });

  it('copies Proxy-State into the answer (5.33), drops a request whose Proxy-State could not fit an answer, and times only Access-Requests', async () => {
    const { port } = await start();
    const states = [Buffer.from('hop-1'), Buffer.from('hop-2')];
    const answer = await ask(port, [{ type: ATTR.proxyState, value: states[0]! }, { type: ATTR.proxyState, value: states[1]! }], CODE.statusServer);
    expect(answer?.code).toBe(CODE.accessAccept);
    expect(answer!.attributes.filter((a) => a.type === ATTR.proxyState).map((a) => a.value)).toEqual(states);
    expect(await metric('mfa_shim_radius_duration_seconds_count')).toBe(0);
    const flood = Array.from({ length: 7 }, () => ({ type: ATTR.proxyState, value: Buffer.alloc(250, 1) }));
    // Dropped: no answer (one would come within a millisecond or two on loopback).
    expect(await ask(port, [...flood, name('ivan@contoso.com'), password('000000')], CODE.accessRequest, 300)).toBeNull();
    expect(await metric('mfa_shim_radius_dropped_total{reason="malformed"}')).toBe(1);
  });
});

describe('RADIUS: starting, stopping, and what the audit log and the admin are told', () => {
  const secret = Buffer.from(SECRET);
  const request = (attributes: { type: number; value: Buffer }[]) => {
    const ra = randomBytes(16);
    return { ra, bytes: encodeAccessRequest(11, ra, attributes, secret) };
  };

  it('a RADIUS port in use stops the start with one message naming it, and leaves nothing listening or locked', async () => {
    const busy = createSocket('udp4');
    await new Promise<void>((r) => busy.bind(0, '127.0.0.1', () => r()));
    const port = busy.address().port;
    const free = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    try {
      await expect(start({ port: free, radius: { port, clients: parseClients(`127.0.0.1 ${SECRET} vpn-1\n`, 'clients') } })).rejects.toThrow(
        new RegExp(`cannot listen for RADIUS on udp 127\\.0\\.0\\.1 port ${port}: the port is in use`),
      );
      // The HTTP port it had opened is closed again, and the store is free for the next start.
      await expect(call(`http://127.0.0.1:${free}/healthz`)).rejects.toThrow();
      const next = await start();
      expect((await call(`${next.service.url}/healthz`)).status).toBe(200);
    } finally {
      busy.close();
    }
  });

  /** Found by a black-box review: with the audit log made immutable, the first right code was answered accept, its line only held in memory. */
  it('answers no accept, over RADIUS or HTTP, whose audit line could not be written: the refusal instead, the code used up, and a line saying so', async ({ skip }) => {
    const { service: s, port } = await start();
    const { socket, answers } = await listeningClient();
    const log = s.auditPath;
    // The start line is written (it goes out at the end of the start's turn).
    await new Promise((r) => setTimeout(r, 50));
    const cannot = setImmutable(log, true);
    if (cannot) {
      socket.close();
      return skip(`cannot chattr +i the audit log: ${cannot}`);
    }
    try {
      expect(await verify(s.url, 'ivan@contoso.com', H(0))).toMatchObject({ status: 503, json: { error: 'audit_unavailable' } });
      expect((await call(`${s.url}/healthz`)).json).toEqual({ status: 'failing', error: 'audit_unavailable' });
      setImmutable(log, false);
      await new Promise((r) => setTimeout(r, 1300));
      expect((await call(`${s.url}/healthz`)).status).toBe(200);
      // Again over RADIUS, the log up when the request comes in and failing when its accept is to be written.
      setImmutable(log, true);
      const ra = randomBytes(16);
      socket.send(encodeAccessRequest(5, ra, [{ type: ATTR.userName, value: Buffer.from('grace@contoso.com') }, { type: ATTR.userPassword, value: hideUserPassword(Buffer.from(H(0)), secret, ra) }], secret), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 300));
      expect(answers).toHaveLength(1);
      const reject = decodePacket(answers[0]!);
      expect(reject.code).toBe(CODE.accessReject);
      expect(attribute(reject, ATTR.replyMessage)?.toString()).toBe('Verification is unavailable; try again later');
    } finally {
      setImmutable(log, false);
      socket.close();
    }
    await new Promise((r) => setTimeout(r, 1300));
    // The codes stay used up (the state change was durable before the answer): the user types the next one.
    expect((await verify(s.url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'reject', reason: 'replayed' });
    expect((await verify(s.url, 'ivan@contoso.com', H(1))).json).toEqual({ result: 'accept', reason: 'ok' });
    expect(await metric('mfa_shim_verify_requests_total{result="accept",reason="ok"}')).toBe(1);
    await s.close();
    service = undefined;
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const verifies = lines.filter((l) => l.event === 'verify').map((l) => [l.user, l.client, l.result, l.reason, l.serial]);
    expect(verifies).toEqual([
      ['ivan@contoso.com', '127.0.0.1', 'reject', 'audit_unavailable', 'H0'],
      ['grace@contoso.com', 'radius:vpn-1', 'reject', 'audit_unavailable', 'H1'],
      ['ivan@contoso.com', '127.0.0.1', 'reject', 'replayed', 'H0'],
      ['ivan@contoso.com', '127.0.0.1', 'accept', 'ok', 'H0'],
    ]);
  }, 20_000);

  it('answers the requests being verified when it stops, and audits malformed ones (never the code); a client without Calling-Station-Id is pointed out once', async () => {
    const notices: string[] = [];
    const { port } = await start({ onNotice: (m) => notices.push(m) }, `127.0.0.1 ${SECRET} vpn-1 source-max-fails=4\n`);
    const { socket, answers } = await listeningClient();
    try {
      const station = { type: ATTR.callingStationId, value: Buffer.from('198.51.100.20') };
      // CHAP instead of PAP, twice without Calling-Station-Id.
      for (let i = 0; i < 2; i++) {
        socket.send(request([{ type: ATTR.userName, value: Buffer.from('zoe@contoso.com') }, { type: ATTR.chapPassword, value: Buffer.alloc(17, 1) }]).bytes, port, '127.0.0.1');
      }
      // Two failures from one end user: from then on its rejects are held back (a second).
      for (let i = 0; i < 2; i++) {
        const { ra, bytes } = request([{ type: ATTR.userName, value: Buffer.from('ivan@contoso.com') }, { type: ATTR.userPassword, value: hideUserPassword(Buffer.from('000000'), secret, Buffer.alloc(16)) }, station]);
        void ra;
        socket.send(bytes, port, '127.0.0.1');
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(answers).toHaveLength(4);
      const held = request([{ type: ATTR.userName, value: Buffer.from('grace@contoso.com') }, { type: ATTR.userPassword, value: hideUserPassword(Buffer.from('999999'), secret, Buffer.alloc(16)) }, station]);
      socket.send(held.bytes, port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 100));
      expect(answers).toHaveLength(4);
      await service!.close();
      service = undefined;
      // Answered before the socket closed (the datagram is read here a moment later).
      await new Promise((r) => setTimeout(r, 100));
      expect(answers).toHaveLength(5);
      expect(decodePacket(answers[4]!).code).toBe(CODE.accessReject);
      expect(verifyResponseAuthenticator(answers[4]!, held.ra, secret)).toBe(true);
      const audit = readFileSync(join(dirname(store), 'shim.store.audit.jsonl'), 'utf8');
      const chap = audit.split('\n').filter((l) => l.includes('"reason":"malformed"'));
      expect(chap).toHaveLength(2);
      expect(chap[0]).toMatch(/"user":"zoe@contoso.com","client":"radius:vpn-1","result":"reject","reason":"malformed","serial":null,"detail":"CHAP-Password: only PAP is supported"/);
      expect(audit).not.toContain('999999');
      expect(notices.filter((n) => n.includes('sends no Calling-Station-Id'))).toEqual(['RADIUS client vpn-1 sends no Calling-Station-Id: its end users share one failure budget and rate limit (make the VPN send the user\'s address)']);
    } finally {
      socket.close();
    }
  });
});
