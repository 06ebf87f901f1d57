import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthConfigError, checkTenantId, createCredential, type IdentityLibrary } from '../../src/graph/auth.js';
import { isLoopback, PUBLIC_AUTHORITY_HOST, tokenCloudOf } from '../../src/graph/graph-root.js';
import { UnsafeFileError, UnsafeModeError } from '../../src/io/secret-file.js';
import { connectGraph } from '../../src/graph/connect.js';

describe('createCredential', () => {
  it('builds the @azure/identity credential of each mode (the library is loaded on first use)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-'));
    try {
      const secretFile = join(dir, 'secret.txt');
      writeFileSync(secretFile, 'not-a-real-secret\n', { mode: 0o600 });
      const env = {};
      const ids = { tenantId: '11111111-2222-3333-4444-555555555555', clientId: '66666666-7777-8888-9999-000000000000' };
      expect(createCredential({ auth: 'client-secret', ...ids, clientSecretFile: secretFile }, env).constructor.name).toBe('ClientSecretCredential');
      expect(createCredential({ auth: 'managed-identity' }, env).constructor.name).toBe('ManagedIdentityCredential');
      expect(createCredential({ auth: 'azure-cli', tenantId: ids.tenantId }, env).constructor.name).toBe('AzureCliCredential');
      expect(createCredential({ auth: 'default' }, env).constructor.name).toBe('DefaultAzureCredential');
      expect(typeof createCredential({ auth: 'device-code' }, env, () => {}).getToken).toBe('function');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names what is missing, and never the secret', () => {
    expect(() => createCredential({ auth: 'client-secret', clientId: '66666666-7777-8888-9999-000000000000', clientSecretFile: '/nonexistent/secret' }, {})).toThrow(new UnsafeFileError('cannot read client secret file /nonexistent/secret (ENOENT)'));
    expect(() => createCredential({ auth: 'client-secret', clientId: '66666666-7777-8888-9999-000000000000' }, { AZURE_CLIENT_SECRET: 'hunter2-secret' })).toThrow(/^--auth client-secret needs --tenant-id or AZURE_TENANT_ID$/);
    expect(() => createCredential({ auth: 'certificate', tenantId: '11111111-2222-3333-4444-555555555555', clientId: '66666666-7777-8888-9999-000000000000' }, {})).toThrow(/needs --certificate-path/);
  });

  it('a secret file or certificate given without --auth names its sign-in, and one a mode would ignore is refused (found by a review: the default chain signed in as whatever it found)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-'));
    try {
      const secretFile = join(dir, 'secret.txt');
      writeFileSync(secretFile, 'not-a-real-secret\n', { mode: 0o600 });
      const ids = { tenantId: '11111111-2222-3333-4444-555555555555', clientId: '66666666-7777-8888-9999-000000000000' };
      expect(createCredential({ ...ids, clientSecretFile: secretFile }, {}).constructor.name).toBe('ClientSecretCredential');
      expect(createCredential({ auth: 'default', ...ids, clientSecretFile: secretFile }, {}).constructor.name).toBe('ClientSecretCredential');
      expect(() => createCredential({ ...ids, certificatePath: join(dir, 'none.pem') }, {})).toThrow(/certificate/);
      expect(() => createCredential({ auth: 'azure-cli', ...ids, clientSecretFile: secretFile }, {})).toThrow(/^--client-secret-file is read only with --auth client-secret, not --auth azure-cli$/);
      expect(() => createCredential({ auth: 'device-code', certificatePath: secretFile }, {}, () => {})).toThrow(/^--certificate-path is read only with --auth certificate, not --auth device-code$/);
      expect(() => createCredential({ ...ids, clientSecretFile: secretFile, certificatePath: secretFile }, {})).toThrow(/two sign-ins/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('treats only loopback hosts as the emulator', () => {
    expect(isLoopback('http://127.0.0.1:5580')).toBe(true);
    expect(isLoopback('http://localhost:8080')).toBe(true);
    expect(isLoopback('http://[::1]:8080')).toBe(true);
    expect(isLoopback('http://127.1:8080')).toBe(true); // the URL parser normalises it to 127.0.0.1
    expect(isLoopback('https://graph.microsoft.com')).toBe(false);
    expect(isLoopback('http://127.0.0.1.example.com')).toBe(false);
    expect(isLoopback('not a url')).toBe(false);
  });

  it('issue 17 item 17: a client secret file or certificate group or others can read is warned about, refused with strict, silent at 0600', () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-'));
    try {
      const ids = { tenantId: '11111111-2222-3333-4444-555555555555', clientId: '66666666-7777-8888-9999-000000000000' };
      const secret = join(dir, 'secret.txt');
      writeFileSync(secret, 'hunter2-client-secret\n');
      // Read by path when signing in: the content is not looked at here.
      const certificate = join(dir, 'app.pem');
      writeFileSync(certificate, '-----BEGIN PRIVATE KEY-----\nhunter2\n-----END PRIVATE KEY-----\n');
      for (const [path, what, opts, env] of [
        [secret, 'client secret file', { auth: 'client-secret', ...ids, clientSecretFile: secret }, {}],
        [certificate, 'certificate', { auth: 'certificate', ...ids, certificatePath: certificate }, {}],
        // --auth default: DefaultAzureCredential reads the one the environment names.
        [certificate, 'certificate (AZURE_CLIENT_CERTIFICATE_PATH)', { auth: 'default' }, { AZURE_CLIENT_CERTIFICATE_PATH: certificate, AZURE_TENANT_ID: ids.tenantId, AZURE_CLIENT_ID: ids.clientId }],
      ] as const) {
        chmodSync(path, 0o640);
        const logged: string[] = [];
        const log = (l: string) => logged.push(l);
        // Warnings go to the log unless the options say where.
        expect(createCredential(opts, env, log)).toBeTruthy();
        expect(logged).toEqual([`warning: ${what} ${path} has mode 0640: group or others can access it; chmod 600 it (--strict-permissions refuses such files)`]);
        const notices: string[] = [];
        expect(createCredential({ ...opts, secretFiles: { onNotice: (m) => notices.push(m) } }, env, log)).toBeTruthy();
        expect([logged.length, notices.length]).toEqual([1, 1]);
        expect(() => createCredential({ ...opts, secretFiles: { strict: true } }, env, log)).toThrow(new UnsafeModeError(`${what} ${path} has mode 0640: group or others can access it; chmod 600 it`));
        chmodSync(path, 0o600);
        expect(createCredential({ ...opts, secretFiles: { strict: true } }, env, log)).toBeTruthy();
        expect(logged).toHaveLength(1);
        expect(logged.join()).not.toContain('hunter2');
      }
      // Where the environment credential would not read it (a client secret comes first; no ids), it is not looked at.
      const stale = join(dir, 'gone.pem');
      for (const env of [{ AZURE_CLIENT_CERTIFICATE_PATH: stale, AZURE_TENANT_ID: ids.tenantId, AZURE_CLIENT_ID: ids.clientId, AZURE_CLIENT_SECRET: 'x' }, { AZURE_CLIENT_CERTIFICATE_PATH: stale }]) {
        expect(createCredential({ auth: 'default', secretFiles: { strict: true } }, env, () => undefined)).toBeTruthy();
      }
      expect(() => createCredential({ auth: 'default' }, { AZURE_CLIENT_CERTIFICATE_PATH: stale, AZURE_TENANT_ID: ids.tenantId, AZURE_CLIENT_ID: ids.clientId }, () => undefined)).toThrow(/certificate \(AZURE_CLIENT_CERTIFICATE_PATH\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Stand-ins for @azure/identity's credential classes, recording what each is built with. */
function recordingLibrary() {
  const built: { name: string; args: unknown[] }[] = [];
  const stand = (name: string) =>
    class {
      constructor(...args: unknown[]) {
        built.push({ name, args });
      }
    };
  const names = ['AzureCliCredential', 'ClientCertificateCredential', 'ClientSecretCredential', 'DefaultAzureCredential', 'DeviceCodeCredential', 'ManagedIdentityCredential'];
  return { built, lib: () => Object.fromEntries(names.map((n) => [n, stand(n)])) as unknown as IdentityLibrary };
}

const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = '66666666-7777-8888-9999-000000000000';

describe('sign-in options are used or refused, never silently ignored (a review)', () => {
  it('are checked against the emulator too, which needs no credential: a command line rehearsed there fails there as it would on the tenant (a docs audit)', () => {
    const at = (o: Record<string, unknown>) => () => connectGraph({ graphUrl: 'http://127.0.0.1:5999', readOnly: true, concurrency: 1, ...o });
    expect(at({ auth: 'device-code', clientSecretFile: 'sec.txt' })).toThrow(new AuthConfigError('--client-secret-file is read only with --auth client-secret, not --auth device-code'));
    expect(at({ auth: 'azure-cli', clientId: CLIENT })).toThrow(AuthConfigError);
    expect(at({})).not.toThrow();
    expect(at({ clientSecretFile: 'sec.txt' })).not.toThrow();
  });

  it('--tenant-id with --auth managed-identity and --client-id with --auth azure-cli are refused; the options each reads are taken', () => {
    const { built, lib } = recordingLibrary();
    expect(() => createCredential({ auth: 'managed-identity', tenantId: TENANT }, {}, () => {}, lib)).toThrow(new AuthConfigError('--tenant-id is not read by --auth managed-identity: a managed identity signs in to its own tenant (leave --tenant-id out)'));
    expect(() => createCredential({ auth: 'azure-cli', clientId: CLIENT }, {}, () => {}, lib)).toThrow(new AuthConfigError('--client-id is not read by --auth azure-cli: the Azure CLI signs in as its own app (leave --client-id out, or sign in with your app by --auth device-code)'));
    expect(built).toEqual([]);
    createCredential({ auth: 'managed-identity', clientId: CLIENT }, {}, () => {}, lib);
    createCredential({ auth: 'azure-cli', tenantId: TENANT }, {}, () => {}, lib);
    expect(built).toEqual([
      { name: 'ManagedIdentityCredential', args: [{ clientId: CLIENT }] },
      { name: 'AzureCliCredential', args: [{ tenantId: TENANT }] },
    ]);
    // The variables are not options given: a managed identity with AZURE_TENANT_ID set is built as before.
    expect(() => createCredential({ auth: 'managed-identity' }, { AZURE_TENANT_ID: 'not a tenant' }, () => {}, lib)).not.toThrow();
  });

  it('--auth default: a --tenant-id or --client-id its AZURE_* variable contradicts is refused (the environment credential reads only the variable); agreeing or alone, each reaches the chain', () => {
    const { built, lib } = recordingLibrary();
    const env = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_SECRET: 'hunter2' };
    const other = '99999999-8888-7777-6666-555555555555';
    expect(() => createCredential({ auth: 'default', tenantId: 'fabrikam.onmicrosoft.com' }, env, () => {}, lib)).toThrow(
      new AuthConfigError(`--tenant-id fabrikam.onmicrosoft.com and AZURE_TENANT_ID ${TENANT} differ: with --auth default the credential signs in with the variable where it reads it (DefaultAzureCredential's environment credential); unset AZURE_TENANT_ID or make them agree, or choose the sign-in with --auth`),
    );
    expect(() => createCredential({ auth: 'default', clientId: other }, env, () => {}, lib)).toThrow(/^--client-id 9999.* and AZURE_CLIENT_ID 6666.* differ: /);
    expect(built).toEqual([]);
    // The same ids (a GUID in another case) agree.
    createCredential({ auth: 'default', tenantId: TENANT.toUpperCase(), clientId: CLIENT }, env, () => {}, lib);
    // Without the variables, the flags are what the chain gets: the tenant, and the managed or workload identity's client id (was dropped).
    createCredential({ auth: 'default', tenantId: TENANT, clientId: CLIENT }, {}, () => {}, lib);
    expect(built.map((b) => b.args[0])).toEqual([
      { authorityHost: PUBLIC_AUTHORITY_HOST, tenantId: TENANT.toUpperCase(), managedIdentityClientId: CLIENT },
      { authorityHost: PUBLIC_AUTHORITY_HOST, tenantId: TENANT, managedIdentityClientId: CLIENT },
    ]);
  });

  it('every credential that signs in at an authority is given the Graph cloud\'s own, public cloud included: AZURE_AUTHORITY_HOST cannot send the sign-in elsewhere (a review)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-'));
    try {
      const secretFile = join(dir, 'secret.txt');
      writeFileSync(secretFile, 'not-a-real-secret\n', { mode: 0o600 });
      const certificate = join(dir, 'app.pem');
      writeFileSync(certificate, 'PEM', { mode: 0o600 });
      const env = { AZURE_AUTHORITY_HOST: 'https://login.evil.example/' };
      const authorityOf = (cloud: string | undefined) => {
        const { built, lib } = recordingLibrary();
        const notices: string[] = [];
        const authorityHost = cloud ? { authorityHost: cloud } : {};
        createCredential({ auth: 'client-secret', tenantId: TENANT, clientId: CLIENT, clientSecretFile: secretFile, ...authorityHost }, env, (l) => notices.push(l), lib);
        createCredential({ auth: 'certificate', tenantId: TENANT, clientId: CLIENT, certificatePath: certificate, ...authorityHost }, env, (l) => notices.push(l), lib);
        createCredential({ auth: 'device-code', ...authorityHost }, env, (l) => notices.push(l), lib);
        createCredential({ auth: 'default', ...authorityHost }, env, (l) => notices.push(l), lib);
        const hosts = built.map((b) => (b.args.at(-1) as { authorityHost?: string }).authorityHost);
        return { hosts, notices };
      };
      // What connectGraph gives for the public cloud, and what a caller that gives none gets.
      for (const cloud of [tokenCloudOf('https://graph.microsoft.com').authorityHost, undefined]) {
        const { hosts, notices } = authorityOf(cloud);
        expect(hosts).toEqual(Array(4).fill('https://login.microsoftonline.com'));
        expect(notices).toEqual(Array(4).fill('warning: AZURE_AUTHORITY_HOST https://login.evil.example is not used: signing in at https://login.microsoftonline.com, the sign-in endpoint of the Graph cloud --graph-url names'));
      }
      expect(authorityOf(tokenCloudOf('https://graph.microsoft.us').authorityHost).hosts).toEqual(Array(4).fill('https://login.microsoftonline.us'));
      // The cloud's own endpoint in the variable: nothing to say.
      const { built, lib } = recordingLibrary();
      const notices: string[] = [];
      createCredential({ auth: 'device-code' }, { AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/' }, (l) => notices.push(l), lib);
      expect([built.length, notices]).toEqual([1, []]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a tenant is a GUID or a domain name; anything else is refused naming where it came from (a review: "contoso com" ended in an unexpected error and a stack trace)', () => {
    for (const ok of [TENANT, TENANT.toUpperCase(), 'contoso.com', 'contoso.onmicrosoft.com', 'xn--bcher-kva.example', 'sub.contoso.co.uk']) expect(checkTenantId(ok, '--tenant-id')).toBe(ok);
    for (const bad of ['contoso com', 'contoso', '', ' contoso.com', 'contoso.com/', '11111111-2222-3333-4444-55555555555', '../etc', 'contoso.123', '-contoso.com']) {
      expect(() => checkTenantId(bad, '--tenant-id'), bad).toThrow(AuthConfigError);
    }
    const { built, lib } = recordingLibrary();
    expect(() => createCredential({ auth: 'azure-cli', tenantId: 'contoso com' }, {}, () => {}, lib)).toThrow(
      new AuthConfigError('--tenant-id "contoso com" is not a tenant: give the tenant id (a GUID) or one of its domain names, such as contoso.onmicrosoft.com'),
    );
    expect(() => createCredential({ auth: 'device-code' }, { AZURE_TENANT_ID: 'contoso com' }, () => {}, lib)).toThrow(/^AZURE_TENANT_ID "contoso com" is not a tenant: /);
    expect(built).toEqual([]);
    // The real library: refused by us, before it throws an error of its own.
    expect(() => createCredential({ auth: 'azure-cli', tenantId: 'contoso com' }, {})).toThrow(AuthConfigError);
  });

  it("a client secret file saved as UTF-16 (Windows PowerShell 5.1's `$s > s.txt`) gives its text with its mark, and is refused by name without one (a black-box test: the mark and NULs were sent to Entra)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-'));
    try {
      const { built, lib } = recordingLibrary();
      const ids = { auth: 'client-secret' as const, tenantId: TENANT, clientId: CLIENT };
      const placeholder = 'not-a-real-secret';
      const utf16 = (name: string, bytes: Buffer) => {
        const f = join(dir, name);
        writeFileSync(f, bytes, { mode: 0o600 });
        return f;
      };
      const le = Buffer.from(`\uFEFF${placeholder}\r\n`, 'utf16le');
      for (const f of [utf16('le.txt', le), utf16('be.txt', Buffer.from(le).swap16())]) createCredential({ ...ids, clientSecretFile: f }, {}, () => {}, lib);
      // What the credential is given: the secret alone, as from a UTF-8 file (compared without printing it).
      expect(built.map((b) => b.name === 'ClientSecretCredential' && b.args[2] === placeholder)).toEqual([true, true]);
      const bare = utf16('bare.txt', Buffer.from(`${placeholder}\r\n`, 'utf16le'));
      let error: Error | undefined;
      try {
        createCredential({ ...ids, clientSecretFile: bare }, {}, () => {}, lib);
      } catch (err) {
        error = err as Error;
      }
      expect(error?.message).toBe(`the client secret file ${bare} is UTF-16 text without a byte-order mark: save it as UTF-8`);
      expect(built).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an empty client secret file is named as such, not as a file missing (a review)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-'));
    try {
      const { lib } = recordingLibrary();
      const ids = { auth: 'client-secret' as const, tenantId: TENANT, clientId: CLIENT };
      const empty = join(dir, 'empty.txt');
      writeFileSync(empty, '', { mode: 0o600 });
      const blank = join(dir, 'blank.txt');
      writeFileSync(blank, '  \n\n', { mode: 0o600 });
      const secondLine = join(dir, 'second-line.txt');
      writeFileSync(secondLine, '\nhunter2-secret\n', { mode: 0o600 });
      for (const f of [empty, blank]) expect(() => createCredential({ ...ids, clientSecretFile: f }, { AZURE_CLIENT_SECRET: 'from-env' }, () => {}, lib)).toThrow(new AuthConfigError(`--client-secret-file ${f} is empty: put the client secret on its first line`));
      expect(() => createCredential({ ...ids, clientSecretFile: secondLine }, {}, () => {}, lib)).toThrow(new AuthConfigError(`--client-secret-file ${secondLine} has an empty first line: the client secret is read from the first line`));
      // No file and no variable: what is missing, as before.
      expect(() => createCredential(ids, {}, () => {}, lib)).toThrow(new AuthConfigError('--auth client-secret needs --client-secret-file or AZURE_CLIENT_SECRET'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
