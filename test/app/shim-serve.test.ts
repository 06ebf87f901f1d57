import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { onHangUp, reloadRadiusFiles, startShimServe, type ShimServeRequest } from '../../src/app/shim-serve.js';
import { hotpCode } from '../../src/otp/hotp.js';
import { ATTR, CODE, decodePacket, encodeAccessRequest, hideUserPassword } from '../../src/shim/radius/packet.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { runImportStore } from '../../src/shim/shim-operations.js';
import { RFC_SEED_SHA1, TEST_KEY, TEST_KEY_B64, haveOpenssl, seed, tempDir } from '../shim/helpers.js';
import { verify } from '../shim/http-client.js';

if (!haveOpenssl) process.stderr.write('TLS key permission test skipped: openssl is not installed\n');

let tmp: ReturnType<typeof tempDir>;
let base: ShimServeRequest;
beforeEach(async () => {
  tmp = tempDir();
  const store = tmp.path('shim.store');
  await runImportStore({
    store,
    key: TEST_KEY,
    input: { users: [{ username: 'ivan@contoso.com', enabled: true }], tokens: [{ seed: seed({ serial: 'H1', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'ivan@contoso.com' }] },
  });
  const keyFile = tmp.path('store.key');
  writeFileSync(keyFile, TEST_KEY_B64, { mode: 0o600 });
  base = { store, keyFile, host: '127.0.0.1', port: 0, rules: DEFAULT_RULES, rateLimit: { perSecond: 0, burst: 1 }, insecure: false, maxBodyBytes: 4096 };
});
afterEach(() => tmp.cleanup());

describe('shim serve: key files', () => {
  it.skipIf(!haveOpenssl)('issue 17 item 17: a TLS key others can read is warned about, and refused with --strict-permissions', async () => {
    const cert = tmp.path('cert.pem');
    const key = tmp.path('key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    chmodSync(key, 0o644);
    const notices: string[] = [];
    const service = await startShimServe({ ...base, tlsCert: cert, tlsKey: key, onNotice: (m) => notices.push(m) });
    await service.close();
    expect(notices.join('\n')).toMatch(/warning: TLS key .*key\.pem has mode 0644: group or others can access it; chmod 600 it/);
    await expect(startShimServe({ ...base, tlsCert: cert, tlsKey: key, strictPermissions: true })).rejects.toThrow(/TLS key .*key\.pem has mode 0644/);
    chmodSync(key, 0o600);
    const strictOk = await startShimServe({ ...base, tlsCert: cert, tlsKey: key, strictPermissions: true });
    await strictOk.close();
  });

  it.skipIf(!haveOpenssl)('a certificate or key TLS cannot use is one line naming both files, not an unexpected error (a black-box test saw a stack trace)', async () => {
    const pair = (name: string, extra: string[] = []) => {
      const cert = tmp.path(`${name}.crt`);
      const key = tmp.path(`${name}.key`);
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', ...extra, '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      chmodSync(key, 0o600);
      return { cert, key };
    };
    const a = pair('a', ['-nodes']);
    const b = pair('b', ['-nodes']);
    const locked = pair('locked', ['-passout', 'pass:hunter2']);
    const notPem = tmp.path('not.pem');
    writeFileSync(notPem, 'this is no certificate\n', { mode: 0o600 });
    const tried = async (tlsCert: string, tlsKey: string) => (await startShimServe({ ...base, tlsCert, tlsKey }).then(async (s) => { await s.close(); return 'started'; }, (e: Error) => e.message));
    expect(await tried(notPem, a.key)).toBe(`the TLS certificate ${notPem} and key ${a.key} cannot be used: one of them is not PEM (-----BEGIN ...-----), or the key was given as the certificate`);
    expect(await tried(a.cert, b.key)).toBe(`the TLS certificate ${a.cert} and key ${b.key} cannot be used: the key is not the certificate's`);
    expect(await tried(locked.cert, locked.key)).toMatch(/cannot be used: the key is encrypted: give it unencrypted/);
    expect(await tried(a.cert, a.key)).toBe('started');
  });

  it('issue 17 item 17: the store key file and the API key file likewise', async () => {
    chmodSync(base.keyFile!, 0o640);
    const apiKey = tmp.path('api.key');
    writeFileSync(apiKey, 'a'.repeat(32), { mode: 0o600 });
    chmodSync(apiKey, 0o604);
    await expect(startShimServe({ ...base, strictPermissions: true })).rejects.toThrow(/key file .*store\.key has mode 0640/);
    chmodSync(base.keyFile!, 0o600);
    await expect(startShimServe({ ...base, apiKeyFile: apiKey, strictPermissions: true })).rejects.toThrow(/API key file .*api\.key has mode 0604/);
    const notices: string[] = [];
    const service = await startShimServe({ ...base, apiKeyFile: apiKey, onNotice: (m) => notices.push(m) });
    await service.close();
    expect(notices.join('\n')).toMatch(/warning: API key file .* has mode 0604/);
  });
});

describe('shim serve: key and clients files saved as UTF-16', () => {
  /** What Windows PowerShell 5.1's `$k > file` writes: UTF-16LE with its byte-order mark, CRLF. */
  const utf16 = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${text}\r\n`, 'utf16le')]);

  it('are read as their text (the API key, the store key, the RADIUS clients), and one without a byte-order mark is refused by name (a review: the API key was garbled and every client refused)', async () => {
    const apiKey = tmp.path('api16.key');
    writeFileSync(apiKey, utf16('0123456789abcdefKEY'), { mode: 0o600 });
    const storeKey = tmp.path('store16.key');
    writeFileSync(storeKey, utf16(readFileSync(base.keyFile!, 'utf8').trim()), { mode: 0o600 });
    const clients = tmp.path('clients16');
    writeFileSync(clients, utf16('127.0.0.1 0123456789abcdefghij vpn'), { mode: 0o600 });
    const notices: string[] = [];
    const service = await startShimServe({ ...base, keyFile: storeKey, apiKeyFile: apiKey, radiusPort: 0, radiusClients: clients, onNotice: (m) => notices.push(m) });
    try {
      expect(notices).toContain(`radius client 127.0.0.1 vpn (${clients} line 1)`);
      const refused = await fetch(`${service.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong-key-0123456789' }, body: '{}' });
      expect(refused.status).toBe(401);
      const taken = await fetch(`${service.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer 0123456789abcdefKEY' }, body: '{}' });
      expect(taken.status).not.toBe(401);
    } finally {
      await service.close();
    }
    const bare = tmp.path('bare16.key');
    writeFileSync(bare, Buffer.from('0123456789abcdefKEY\r\n', 'utf16le'), { mode: 0o600 });
    await expect(startShimServe({ ...base, apiKeyFile: bare })).rejects.toThrow(`the API key file ${bare} is UTF-16 text without a byte-order mark: save it as UTF-8`);
  });
});

describe('shim serve: RADIUS clients', () => {
  it('lists each RADIUS client at start as address and name, so a secret cut at a space shows (its rest reads as the name)', async () => {
    const clients = tmp.path('radius-clients');
    writeFileSync(clients, '# VPNs\n127.0.0.2 "0123456789abcdef XYZ" "VPN two"\n127.0.0.1 0123456789abcdef XYZ\n10.0.0.0/8 0123456789abcdefghij\n10.20.0.5/24 0123456789abcdefghij host\n::ffff:a14:100/120 0123456789abcdefghij\n2001:db8::17/64 0123456789abcdefghij\n2001:0DB8:0:0::/32 0123456789abcdefghij\nfe80::1%eth0/64 0123456789abcdefghij\n', { mode: 0o600 });
    const notices: string[] = [];
    const service = await startShimServe({ ...base, radiusPort: 0, radiusClients: clients, onNotice: (m) => notices.push(m) });
    await service.close();
    expect(notices.filter((m) => m.startsWith('radius client'))).toEqual([
      `radius client 127.0.0.2 "VPN two" (${clients} line 2)`,
      `radius client 127.0.0.1 XYZ (${clients} line 3)`,
      `radius client 10.0.0.0/8 (no name) (${clients} line 4)`,
      // Read otherwise than written, said (a black-box test: a host address given a prefix is its whole network).
      `radius client 10.20.0.5/24 (read as 10.20.0.0/24) host (${clients} line 5)`,
      `radius client ::ffff:a14:100/120 (read as 10.20.1.0/24) (no name) (${clients} line 6)`,
      `radius client 2001:db8::17/64 (read as 2001:db8::/64) (no name) (${clients} line 7)`,
      // Notation alone is no different reading; a zone id is read as written (it crashed the reader: a review).
      `radius client 2001:0DB8:0:0::/32 (no name) (${clients} line 8)`,
      `radius client fe80::1%eth0/64 (no name) (${clients} line 9)`,
    ]);
    expect(notices.join('\n')).not.toMatch(/0123456789abcdef/);
  });
});

describe('shim serve: SIGHUP reloads the RADIUS files (a black-box test: SIGHUP ended the server, and nothing reloaded them)', () => {
  /** The answer's code to a PAP Access-Request with this secret, or 'dropped' when none comes. */
  async function ask(port: number, secret: string, code: string): Promise<number | 'dropped'> {
    const socket = createSocket('udp4');
    try {
      const ra = randomBytes(16);
      const key = Buffer.from(secret);
      const packet = encodeAccessRequest(1, ra, [{ type: ATTR.userName, value: Buffer.from('ivan@contoso.com') }, { type: ATTR.userPassword, value: hideUserPassword(Buffer.from(code), key, ra) }], key);
      const answer = new Promise<number>((resolve) => socket.on('message', (m) => resolve(decodePacket(m).code)));
      socket.send(packet, port, '127.0.0.1');
      return await Promise.race([answer, new Promise<'dropped'>((r) => setTimeout(() => r('dropped'), 400))]);
    } finally {
      socket.close();
    }
  }
  const H = (c: number) => hotpCode(RFC_SEED_SHA1, 'sha1', c, 6);

  it('puts a changed clients file in use from the next request, and keeps the one in use when the new one does not read', async () => {
    const clients = tmp.path('radius-clients');
    writeFileSync(clients, '127.0.0.1 first-secret-0123456789 vpn\n', { mode: 0o600 });
    const service = await startShimServe({ ...base, radiusPort: 0, radiusClients: clients, onNotice: () => undefined });
    try {
      const port = service.radiusAddress!.port;
      expect(await ask(port, 'first-secret-0123456789', H(0))).toBe(CODE.accessAccept);
      writeFileSync(clients, '127.0.0.1 second-secret-0123456789 vpn\n', { mode: 0o600 });
      expect(reloadRadiusFiles(service, { radiusClients: clients })).toBe(`SIGHUP: reloaded 1 RADIUS client(s) from ${clients}`);
      expect(await ask(port, 'first-secret-0123456789', H(1))).toBe('dropped');
      expect(await ask(port, 'second-secret-0123456789', H(1))).toBe(CODE.accessAccept);
      // A file that no longer reads is refused whole (naming the line, never a secret); the clients in use stay.
      writeFileSync(clients, '127.0.0.1 third-secret-0123456789 vpn\nnot-an-address x\n', { mode: 0o600 });
      const refused = reloadRadiusFiles(service, { radiusClients: clients });
      expect(refused).toMatch(/^SIGHUP: reload refused, the files as last read stay in use: .*line 2/);
      expect(refused).not.toContain('third-secret');
      expect(await ask(port, 'second-secret-0123456789', H(2))).toBe(CODE.accessAccept);
    } finally {
      await service.close();
    }
    // Each reload is audited, the clients by name and network, never a secret (a black-box test: a new client and secret went unrecorded).
    const reloads = readFileSync(service.auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>).filter((e) => e.event === 'reload');
    expect(reloads.map((e) => [e.client, e.result, e.detail])).toEqual([
      ['SIGHUP', 'accept', '1 RADIUS client(s): vpn 127.0.0.1'],
      ['SIGHUP', 'reject', expect.stringMatching(/line 2/)],
    ]);
    expect(JSON.stringify(reloads)).not.toMatch(/secret-0123456789/);
    const plain = await startShimServe({ ...base, onNotice: () => undefined });
    expect(reloadRadiusFiles(plain, {})).toBe('SIGHUP: no RADIUS files to reload (RADIUS is off); still serving');
    await plain.close();
  });
});

/** The Class of the Access-Accept a PAP request for ivan gets (undefined: no Class, or no accept). */
async function classOnAccept(port: number, secret: string, code: string): Promise<string | undefined> {
  const socket = createSocket('udp4');
  try {
    const ra = randomBytes(16);
    const key = Buffer.from(secret);
    const answer = new Promise<Buffer>((resolve) => socket.on('message', resolve));
    socket.send(encodeAccessRequest(1, ra, [{ type: ATTR.userName, value: Buffer.from('ivan@contoso.com') }, { type: ATTR.userPassword, value: hideUserPassword(Buffer.from(code), key, ra) }], key), port, '127.0.0.1');
    const packet = decodePacket(await answer);
    return packet.code === CODE.accessAccept ? packet.attributes.find((a) => a.type === 25)?.value.toString() : undefined;
  } finally {
    socket.close();
  }
}

describe('shim serve: a RADIUS attributes file others can change is refused (a black-box test: a world-writable one was used, and any local user could take another user\'s Class)', () => {
  it('at start and at a reload (the files as last read stay in use); readable by all is fine', async () => {
    const clients = tmp.path('radius-clients');
    writeFileSync(clients, '127.0.0.1 first-secret-0123456789 vpn\n', { mode: 0o600 });
    const attributes = tmp.path('radius-attributes');
    writeFileSync(attributes, 'user:ivan@contoso.com Class=staff\n', { mode: 0o644 });
    chmodSync(attributes, 0o666);
    const req = { ...base, radiusPort: 0, radiusClients: clients, radiusAttributes: attributes, onNotice: () => undefined };
    await expect(startShimServe(req)).rejects.toThrow(`RADIUS attributes file ${attributes} has mode 0666: group or others can write it; chmod go-w ${attributes}`);
    chmodSync(attributes, 0o620);
    await expect(startShimServe(req)).rejects.toThrow(/has mode 0620: group or others can write it/);
    chmodSync(attributes, 0o644);
    const service = await startShimServe(req);
    try {
      writeFileSync(attributes, 'user:ivan@contoso.com Class=admins\n');
      chmodSync(attributes, 0o646);
      expect(reloadRadiusFiles(service, req)).toBe(`SIGHUP: reload refused, the files as last read stay in use: RADIUS attributes file ${attributes} has mode 0646: group or others can write it; chmod go-w ${attributes}`);
      expect(await classOnAccept(service.radiusAddress!.port, 'first-secret-0123456789', hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6))).toBe('staff');
      // A duplicate client name is refused at a reload too, naming both lines.
      chmodSync(attributes, 0o644);
      writeFileSync(clients, '127.0.0.1 first-secret-0123456789 same\n127.0.0.2 other-secret-0123456789 same\n', { mode: 0o600 });
      expect(reloadRadiusFiles(service, req)).toMatch(/reload refused, .*line 2: the name \(field 3\) is already the name of line 1/);
    } finally {
      await service.close();
    }
  });

  it.skipIf(process.getuid?.() !== 0)('owned by another user than the shim\'s, root aside (run as root: a file given to another uid)', async () => {
    const clients = tmp.path('radius-clients');
    writeFileSync(clients, '127.0.0.1 first-secret-0123456789 vpn\n', { mode: 0o600 });
    const attributes = tmp.path('radius-attributes');
    writeFileSync(attributes, 'user:ivan@contoso.com Class=staff\n', { mode: 0o644 });
    chownSync(attributes, 4321, 4321);
    await expect(startShimServe({ ...base, radiusPort: 0, radiusClients: clients, radiusAttributes: attributes })).rejects.toThrow(
      `RADIUS attributes file ${attributes} is owned by uid 4321, not by this user (uid 0) or root: its owner can change it; chown it to one of them`,
    );
  });
});

describe('shim serve: RADIUS clients\' strip-realm= and default-domain= checked against the store', () => {
  it('refuses a start or a reload whose options would look up one user\'s name as another\'s, and warns of users a client can never reach', async () => {
    const store = tmp.path('two.store');
    // ivan and ivan@contoso.com: two users of the store (MFA Server kept both).
    await runImportStore({
      store,
      key: TEST_KEY,
      input: {
        users: ['ivan@contoso.com', 'ivan', 'CORP\\mary'].map((username) => ({ username, enabled: true })),
        tokens: [{ seed: seed({ serial: 'H1', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'ivan' }],
      },
    });
    const clients = tmp.path('radius-clients');
    const req = { ...base, store, radiusPort: 0, radiusClients: clients };
    writeFileSync(clients, '# VPN\n127.0.0.1 first-secret-0123456789 vpn default-domain=contoso.com\n', { mode: 0o600 });
    await expect(startShimServe({ ...req, onNotice: () => undefined })).rejects.toThrow(
      "RADIUS client vpn (clients file line 2): with default-domain=contoso.com, the name ivan, a user of the store, is looked up as ivan@contoso.com, another user of the store (ivan's codes would be checked against ivan@contoso.com's tokens); remove the option from the client, or one of the two users from the store",
    );
    // Nothing left running: the store is free for the next start, without the option.
    writeFileSync(clients, '127.0.0.1 first-secret-0123456789 vpn\n', { mode: 0o600 });
    const service = await startShimServe({ ...req, onNotice: () => undefined });
    try {
      writeFileSync(clients, '127.0.0.1 first-secret-0123456789 vpn strip-realm=CONTOSO default-domain=contoso.com\n', { mode: 0o600 });
      expect(reloadRadiusFiles(service, { radiusClients: clients })).toMatch(/^SIGHUP: reload refused, the files as last read stay in use: RADIUS client vpn \(clients file line 1\): with strip-realm=contoso default-domain=contoso\.com, the name ivan/);
    } finally {
      await service.close();
    }
    // Without the other ivan the option is taken; CORP\mary can never sign in through the client, and the admin is told.
    const notices: string[] = [];
    const single = tmp.path('single.store');
    await runImportStore({ store: single, key: TEST_KEY, input: { users: ['ivan@contoso.com', 'CORP\\mary'].map((username) => ({ username, enabled: true })), tokens: [] } });
    writeFileSync(clients, '127.0.0.1 first-secret-0123456789 vpn strip-realm=CORP,corp.contoso.com\n', { mode: 0o600 });
    const other = await startShimServe({ ...req, store: single, onNotice: (m) => notices.push(m) });
    await other.close();
    expect(notices).toContain(
      'warning: RADIUS client vpn (clients file line 1): 1 user(s) of the store cannot sign in through it: with strip-realm=corp,corp.contoso.com no name sent is looked up as theirs: CORP\\mary (looked up as mary)',
    );
  });
});

describe('shim serve: SIGHUP reopens the audit log (a black-box test: after logrotate moved it, the shim wrote on into the moved file)', () => {
  const H = (c: number) => hotpCode(RFC_SEED_SHA1, 'sha1', c, 6);
  const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n');
  const events = (file: string) => linesOf(file).filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, string>);

  it('after a rename, the next lines go to a new 0600 file at the path; the moved file keeps every line before, whole', async () => {
    const service = await startShimServe({ ...base, onNotice: () => undefined });
    const path = service.auditPath;
    try {
      expect((await verify(service.url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
      renameSync(path, `${path}.1`);
      // Until the SIGHUP, lines go on into the moved file (the descriptor follows it), as logrotate expects.
      expect((await verify(service.url, 'ivan@contoso.com', '000000')).json).toMatchObject({ result: 'reject' });
      expect(onHangUp(service, {})).toEqual([`SIGHUP: audit log reopened at ${path}`, 'SIGHUP: no RADIUS files to reload (RADIUS is off); still serving']);
      expect((await verify(service.url, 'ivan@contoso.com', H(1))).json).toEqual({ result: 'accept', reason: 'ok' });
    } finally {
      await service.close();
    }
    const old = linesOf(`${path}.1`);
    expect(old.pop()).toBe('');
    expect(events(`${path}.1`).map((e) => [e.event, e.result, e.reason])).toEqual([
      ['import', undefined, undefined],
      ['start', undefined, undefined],
      ['verify', 'accept', 'ok'],
      ['verify', 'reject', 'wrong_code'],
    ]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(events(path).map((e) => [e.event, e.client, e.result, e.reason ?? e.detail])).toEqual([
      ['reload', 'SIGHUP', 'accept', `audit log reopened at ${path}`],
      ['verify', '127.0.0.1', 'accept', 'ok'],
      ['stop', undefined, undefined, undefined],
    ]);
  });

  it('a path that cannot be opened safely is refused and audited; the open file stays in use', async () => {
    const service = await startShimServe({ ...base, onNotice: () => undefined });
    const path = service.auditPath;
    try {
      renameSync(path, `${path}.1`);
      symlinkSync(tmp.path('elsewhere'), path);
      expect(service.reopenAuditLog()).toMatch(/^SIGHUP: audit log not reopened, still writing to the file open before: audit log .* is a symbolic link/);
      expect((await verify(service.url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    } finally {
      await service.close();
    }
    expect(events(`${path}.1`).map((e) => [e.event, e.result])).toEqual([['import', undefined], ['start', undefined], ['reload', 'reject'], ['verify', 'accept'], ['stop', undefined]]);
    expect(events(`${path}.1`)[2]!.detail).toMatch(/^audit log not reopened: .*symbolic link/);
  });
});
