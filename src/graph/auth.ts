import { createRequire } from 'node:module';
import type { TokenCredential } from '@azure/identity';
import { checkSecretFile, readSecretText, type SecretFileOptions } from '../io/secret-file.js';
import { UserError } from '../model/user-error.js';
import { PUBLIC_AUTHORITY_HOST } from './graph-root.js';

/**
 * @azure/identity, loaded when a credential is first built: importing it costs about 0.4 s, which
 * every command paid at startup, including those that never sign in (validate, emulator, a plan
 * against the local emulator).
 */
const identity = (): IdentityLibrary => createRequire(import.meta.url)('@azure/identity') as IdentityLibrary;

/** The credential classes createCredential builds (a test may give stand-ins that record what they are given). */
export type IdentityLibrary = Pick<
  typeof import('@azure/identity'),
  'AzureCliCredential' | 'ClientCertificateCredential' | 'ClientSecretCredential' | 'DefaultAzureCredential' | 'DeviceCodeCredential' | 'ManagedIdentityCredential'
>;

export const AUTH_MODES = ['client-secret', 'certificate', 'device-code', 'managed-identity', 'azure-cli', 'default'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export interface AuthOptions {
  auth?: AuthMode;
  tenantId?: string;
  clientId?: string;
  /** File holding the client secret; otherwise AZURE_CLIENT_SECRET. Never a command-line value. */
  clientSecretFile?: string;
  certificatePath?: string;
  /**
   * How the client secret file and the certificate (with its private key) are checked: a file
   * group or others can access is warned about (through `onNotice`, else the log), or refused
   * with `strict` (--strict-permissions).
   */
  secretFiles?: SecretFileOptions;
  /**
   * The Microsoft Entra ID endpoint of the Graph root's cloud (graph-root.ts tokenCloudOf); the
   * public cloud's when unset. Always given to the credential: AZURE_AUTHORITY_HOST is not read.
   */
  authorityHost?: string;
}

/** Thrown for a credential that cannot be built from the options given; the message names what is missing. */
export class AuthConfigError extends UserError {}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A DNS name of two labels or more, the last starting with a letter (contoso.com, contoso.onmicrosoft.com). */
const DOMAIN_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * A tenant as Microsoft Entra ID names it: its id (a GUID) or one of its domain names. `source`
 * names where it came from (--tenant-id, AZURE_TENANT_ID). @azure/identity refuses anything else
 * with an error of its own, which ended the command as an unexpected error with a stack trace.
 */
/** An app (client) id is a GUID: anything else is refused naming where it came from, before any sign-in. */
export function checkClientId(value: string, source: string): string {
  if (GUID.test(value)) return value;
  throw new AuthConfigError(`${source} ${JSON.stringify(value)} is not an application (client) id: give the app registration's id, a GUID (its Overview page in the Entra admin center)`);
}

export function checkTenantId(value: string, source: string): string {
  if (GUID.test(value) || DOMAIN_NAME.test(value)) return value;
  throw new AuthConfigError(`${source} ${JSON.stringify(value)} is not a tenant: give the tenant id (a GUID) or one of its domain names, such as contoso.onmicrosoft.com`);
}

/**
 * The sign-in a command's options ask for. A client secret file or a certificate given without
 * `--auth` names its sign-in (DefaultAzureCredential would ignore it and sign in as whatever its
 * chain finds first: another, perhaps more privileged, identity); given with a mode that does not
 * read it, it is refused rather than ignored, and so are --tenant-id and --client-id.
 */
export function signInMode(opts: Pick<AuthOptions, 'auth' | 'clientSecretFile' | 'certificatePath' | 'tenantId' | 'clientId'>): AuthMode {
  const asked = opts.auth ?? 'default';
  if (asked === 'default' && opts.clientSecretFile && opts.certificatePath) {
    throw new AuthConfigError('--client-secret-file and --certificate-path are two sign-ins: choose one with --auth client-secret or --auth certificate');
  }
  const mode: AuthMode = asked !== 'default' ? asked : opts.clientSecretFile ? 'client-secret' : opts.certificatePath ? 'certificate' : 'default';
  if (opts.clientSecretFile && mode !== 'client-secret') throw new AuthConfigError(`--client-secret-file is read only with --auth client-secret, not --auth ${mode}`);
  if (opts.certificatePath && mode !== 'certificate') throw new AuthConfigError(`--certificate-path is read only with --auth certificate, not --auth ${mode}`);
  // A managed identity signs in to the tenant it belongs to; the Azure CLI as its own app, for whoever ran `az login`.
  if (opts.tenantId && mode === 'managed-identity') throw new AuthConfigError('--tenant-id is not read by --auth managed-identity: a managed identity signs in to its own tenant (leave --tenant-id out)');
  if (opts.clientId && mode === 'azure-cli') throw new AuthConfigError('--client-id is not read by --auth azure-cli: the Azure CLI signs in as its own app (leave --client-id out, or sign in with your app by --auth device-code)');
  return mode;
}

/**
 * With --auth default, DefaultAzureCredential's environment credential reads AZURE_TENANT_ID and
 * AZURE_CLIENT_ID itself, whatever it is given: a --tenant-id or --client-id the variable
 * contradicts would be ignored for it (a stale shell variable signing in to another tenant, as
 * another app). Refused rather than guessed at: the flag cannot be made to win for every member of
 * the chain without rewriting the environment the others read too.
 */
function refuseEnvironmentDisagreement(opts: AuthOptions, env: NodeJS.ProcessEnv): void {
  for (const [flag, given, name] of [
    ['--tenant-id', opts.tenantId, 'AZURE_TENANT_ID'],
    ['--client-id', opts.clientId, 'AZURE_CLIENT_ID'],
  ] as const) {
    const set = env[name];
    if (given && set && given.toLowerCase() !== set.toLowerCase()) {
      throw new AuthConfigError(`${flag} ${given} and ${name} ${set} differ: with --auth default the credential signs in with the variable where it reads it (DefaultAzureCredential's environment credential); unset ${name} or make them agree, or choose the sign-in with --auth`);
    }
  }
}

/**
 * Builds the @azure/identity credential for the chosen mode. Tenant and client come from the
 * options or AZURE_TENANT_ID / AZURE_CLIENT_ID; the client secret only from a file or
 * AZURE_CLIENT_SECRET, so it never appears in argv or shell history. Sign-in goes to
 * `authorityHost` (the public cloud's when unset), never to one AZURE_AUTHORITY_HOST names.
 */
export function createCredential(opts: AuthOptions, env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`), lib: () => IdentityLibrary = identity): TokenCredential {
  const mode = signInMode(opts);
  if (mode === 'default') refuseEnvironmentDisagreement(opts, env);
  const tenantId = opts.tenantId ?? env.AZURE_TENANT_ID;
  const clientId = opts.clientId ?? env.AZURE_CLIENT_ID;
  // A managed identity reads no tenant (--tenant-id is refused with it; the variable is not its).
  if (tenantId !== undefined && mode !== 'managed-identity') checkTenantId(tenantId, opts.tenantId !== undefined ? '--tenant-id' : 'AZURE_TENANT_ID');
  if (clientId !== undefined && mode !== 'azure-cli') checkClientId(clientId, opts.clientId !== undefined ? '--client-id' : 'AZURE_CLIENT_ID');
  const need = (value: string | undefined, what: string): string => {
    if (!value) throw new AuthConfigError(`--auth ${mode} needs ${what}`);
    return value;
  };
  // Warnings (a secret file others can read, an AZURE_AUTHORITY_HOST not used) go where the command's go.
  const notice = opts.secretFiles?.onNotice ?? log;
  const files: SecretFileOptions = { ...opts.secretFiles, onNotice: notice };
  // @azure/identity takes AZURE_AUTHORITY_HOST when given none: a public-cloud sign-in, secret and all, could be sent anywhere.
  const authority = { authorityHost: opts.authorityHost ?? PUBLIC_AUTHORITY_HOST };
  const envAuthority = env.AZURE_AUTHORITY_HOST?.trim().replace(/\/+$/, '');
  if (envAuthority && envAuthority.toLowerCase() !== authority.authorityHost.toLowerCase() && mode !== 'managed-identity' && mode !== 'azure-cli') {
    notice(`warning: AZURE_AUTHORITY_HOST ${envAuthority} is not used: signing in at ${authority.authorityHost}, the sign-in endpoint of the Graph cloud --graph-url names`);
  }
  const { AzureCliCredential, ClientCertificateCredential, ClientSecretCredential, DefaultAzureCredential, DeviceCodeCredential, ManagedIdentityCredential } = lib();
  switch (mode) {
    case 'client-secret': {
      let secret = env.AZURE_CLIENT_SECRET;
      if (opts.clientSecretFile) {
        // UTF-16 with its byte-order mark too (PowerShell 5.1's `$s > file`): sent as read, its mark and NULs were Entra's "invalid client secret".
        const text = readSecretText(opts.clientSecretFile, 'client secret file', files);
        secret = text.split(/\r?\n/)[0]?.trim();
        if (!secret) throw new AuthConfigError(text.trim() === '' ? `--client-secret-file ${opts.clientSecretFile} is empty: put the client secret on its first line` : `--client-secret-file ${opts.clientSecretFile} has an empty first line: the client secret is read from the first line`);
      }
      return new ClientSecretCredential(need(tenantId, '--tenant-id or AZURE_TENANT_ID'), need(clientId, '--client-id or AZURE_CLIENT_ID'), need(secret, '--client-secret-file or AZURE_CLIENT_SECRET'), authority);
    }
    case 'certificate': {
      const certificatePath = need(opts.certificatePath, '--certificate-path');
      // @azure/identity reads the file (PEM, private key included) by its path when it signs in.
      checkSecretFile(certificatePath, 'certificate', files);
      return new ClientCertificateCredential(need(tenantId, '--tenant-id or AZURE_TENANT_ID'), need(clientId, '--client-id or AZURE_CLIENT_ID'), { certificatePath }, authority);
    }
    case 'device-code':
      return new DeviceCodeCredential({
        ...authority,
        ...(tenantId ? { tenantId } : {}),
        ...(clientId ? { clientId } : {}),
        userPromptCallback: (info) => log(info.message),
      });
    case 'managed-identity':
      return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
    case 'azure-cli':
      return new AzureCliCredential(tenantId ? { tenantId } : {});
    case 'default': {
      // DefaultAzureCredential signs in with the certificate (private key included) this names, read
      // by path, where its environment credential would use it: a tenant and a client id, no secret.
      const envCertificate = env.AZURE_CLIENT_CERTIFICATE_PATH;
      if (envCertificate && env.AZURE_TENANT_ID && env.AZURE_CLIENT_ID && !env.AZURE_CLIENT_SECRET) checkSecretFile(envCertificate, 'certificate (AZURE_CLIENT_CERTIFICATE_PATH)', files);
      // --client-id (or AZURE_CLIENT_ID) is the chain's user-assigned managed identity or workload identity app, as the variable alone would be.
      return new DefaultAzureCredential({ ...authority, ...(tenantId ? { tenantId } : {}), ...(clientId ? { managedIdentityClientId: clientId } : {}) });
    }
  }
}
