import { createRequire } from 'node:module';
import type { TokenCredential } from '@azure/identity';
import { checkSecretFile, readSecretFile, type SecretFileOptions } from '../io/secret-file.js';
import { UserError } from '../model/user-error.js';

/**
 * @azure/identity, loaded when a credential is first built: importing it costs about 0.4 s, which
 * every command paid at startup, including those that never sign in (validate, emulator, a plan
 * against the local emulator).
 */
const identity = (): typeof import('@azure/identity') => createRequire(import.meta.url)('@azure/identity') as typeof import('@azure/identity');

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
  /** The Microsoft Entra ID endpoint of a national cloud (graph-root.ts tokenCloudOf); the public cloud's when unset. */
  authorityHost?: string;
}

/** Thrown for a credential that cannot be built from the options given; the message names what is missing. */
export class AuthConfigError extends UserError {}

/**
 * The sign-in a command's options ask for. A client secret file or a certificate given without
 * `--auth` names its sign-in (DefaultAzureCredential would ignore it and sign in as whatever its
 * chain finds first: another, perhaps more privileged, identity); given with a mode that does not
 * read it, it is refused rather than ignored.
 */
export function signInMode(opts: Pick<AuthOptions, 'auth' | 'clientSecretFile' | 'certificatePath'>): AuthMode {
  const asked = opts.auth ?? 'default';
  if (asked === 'default' && opts.clientSecretFile && opts.certificatePath) {
    throw new AuthConfigError('--client-secret-file and --certificate-path are two sign-ins: choose one with --auth client-secret or --auth certificate');
  }
  const mode: AuthMode = asked !== 'default' ? asked : opts.clientSecretFile ? 'client-secret' : opts.certificatePath ? 'certificate' : 'default';
  if (opts.clientSecretFile && mode !== 'client-secret') throw new AuthConfigError(`--client-secret-file is read only with --auth client-secret, not --auth ${mode}`);
  if (opts.certificatePath && mode !== 'certificate') throw new AuthConfigError(`--certificate-path is read only with --auth certificate, not --auth ${mode}`);
  return mode;
}

/**
 * Builds the @azure/identity credential for the chosen mode. Tenant and client come from the
 * options or AZURE_TENANT_ID / AZURE_CLIENT_ID; the client secret only from a file or
 * AZURE_CLIENT_SECRET, so it never appears in argv or shell history.
 */
export function createCredential(opts: AuthOptions, env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): TokenCredential {
  const tenantId = opts.tenantId ?? env.AZURE_TENANT_ID;
  const clientId = opts.clientId ?? env.AZURE_CLIENT_ID;
  const mode = signInMode(opts);
  const need = (value: string | undefined, what: string): string => {
    if (!value) throw new AuthConfigError(`--auth ${mode} needs ${what}`);
    return value;
  };
  const files: SecretFileOptions = { ...opts.secretFiles, onNotice: opts.secretFiles?.onNotice ?? log };
  const authority = opts.authorityHost ? { authorityHost: opts.authorityHost } : {};
  const { AzureCliCredential, ClientCertificateCredential, ClientSecretCredential, DefaultAzureCredential, DeviceCodeCredential, ManagedIdentityCredential } = identity();
  switch (mode) {
    case 'client-secret': {
      let secret = env.AZURE_CLIENT_SECRET;
      if (opts.clientSecretFile) {
        const raw = readSecretFile(opts.clientSecretFile, 'client secret file', files);
        secret = raw.toString('utf8').split(/\r?\n/)[0]?.trim();
        raw.fill(0);
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
      return new DefaultAzureCredential({ ...authority, ...(tenantId ? { tenantId } : {}) });
    }
  }
}
