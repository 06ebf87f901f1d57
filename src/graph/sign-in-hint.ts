import type { AuthMode, AuthOptions } from './auth.js';

/** What DefaultAzureCredential tries, in order (@azure/identity 4). */
const DEFAULT_CHAIN = 'environment variables (AZURE_*), workload identity, managed identity, Azure CLI, Azure PowerShell, Azure Developer CLI';

/** Entra refusing a client secret: not one of the app's (AADSTS7000215), or expired (AADSTS7000222). */
const REFUSED_SECRET = /\bAADSTS(7000215|7000222)\b/;

/**
 * What a failed sign-in's message ends with, from what the credential threw. A client secret Entra
 * refused is named by where it came from (the file, or AZURE_CLIENT_SECRET), with what to put there:
 * the general advice (choose another sign-in, or the emulator) did not say which secret to replace.
 * Only the source is named, never the secret.
 */
export function signInHint(mode: AuthMode, opts: Pick<AuthOptions, 'clientSecretFile'>, env: NodeJS.ProcessEnv): (cause: unknown) => string {
  const general = ` (tried --auth ${mode}${mode === 'default' ? `: ${DEFAULT_CHAIN}` : ''}; choose how to sign in with --auth, or rehearse against the local emulator with --graph-url http://127.0.0.1:PORT)`;
  // Only these two modes sign in with a client secret (the default chain's environment credential reads the variable).
  const from = mode === 'client-secret' && opts.clientSecretFile ? { where: `--client-secret-file ${opts.clientSecretFile}`, into: 'the file' } : (mode === 'client-secret' || mode === 'default') && env.AZURE_CLIENT_SECRET ? { where: 'AZURE_CLIENT_SECRET', into: 'the variable' } : undefined;
  return (cause) => {
    const code = REFUSED_SECRET.exec(cause instanceof Error ? cause.message : String(cause ?? ''))?.[1];
    if (!from || !code) return general;
    const what = code === '7000222' ? 'has expired' : "is not one of the app's (or is its Secret ID, not its Value)";
    return ` (tried --auth ${mode}: the client secret in ${from.where} ${what}; add a new client secret on the app registration's Certificates & secrets page and put its Value in ${from.into})`;
  };
}
