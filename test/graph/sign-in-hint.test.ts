import { describe, expect, it } from 'vitest';
import { credentialTokens } from '../../src/graph/access-token.js';
import type { AuthMode } from '../../src/graph/auth.js';
import { SignInError } from '../../src/graph/graph-errors.js';
import { signInHint } from '../../src/graph/sign-in-hint.js';

/** The message a sign-in failing with `thrown` ends the command with, the hint connectGraph gives. */
async function failure(thrown: unknown, mode: AuthMode, clientSecretFile: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  const tokens = credentialTokens({ getToken: () => Promise.reject(thrown) }, signInHint(mode, clientSecretFile ? { clientSecretFile } : {}, env));
  const err = await tokens.token().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SignInError);
  return (err as Error).message;
}

const GENERAL = 'choose how to sign in with --auth, or rehearse against the local emulator with --graph-url http://127.0.0.1:PORT)';
const invalid = new Error("ClientSecretCredential authentication failed: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '66666666-7777-8888-9999-000000000000'.\nTrace ID: 1234");
const expired = new Error("ClientSecretCredential authentication failed: AADSTS7000222: The provided client secret keys for app '66666666-7777-8888-9999-000000000000' are expired.\nTrace ID: 1234");

describe('a client secret Entra refuses names where it came from (a black-box test: the error said to choose how to sign in, not which secret to replace)', () => {
  it('the file: expired, or not one of the app\'s', async () => {
    expect(await failure(expired, 'client-secret', './s.txt', { AZURE_CLIENT_SECRET: 'unused-placeholder' })).toBe(
      "cannot sign in to Microsoft Graph: ClientSecretCredential authentication failed: AADSTS7000222: The provided client secret keys for app '66666666-7777-8888-9999-000000000000' are expired. (tried --auth client-secret: the client secret in --client-secret-file ./s.txt has expired; add a new client secret on the app registration's Certificates & secrets page and put its Value in the file)",
    );
    const message = await failure(invalid, 'client-secret', './s.txt', {});
    expect(message).toMatch(/^cannot sign in to Microsoft Graph: ClientSecretCredential authentication failed: AADSTS7000215: Invalid client secret provided\. .* \(tried --auth client-secret: the client secret in --client-secret-file \.\/s\.txt is not one of the app's \(or is its Secret ID, not its Value\); add a new client secret .* put its Value in the file\)$/);
    expect(message).not.toContain(GENERAL);
  });

  it('AZURE_CLIENT_SECRET, with --auth client-secret and with the default chain (its environment credential reads it); never the secret', async () => {
    const env = { AZURE_CLIENT_SECRET: 'placeholder-client-secret' };
    for (const mode of ['client-secret', 'default'] as const) {
      const message = await failure(expired, mode, undefined, env);
      expect(message).toMatch(new RegExp(`\\(tried --auth ${mode}: the client secret in AZURE_CLIENT_SECRET has expired; .* put its Value in the variable\\)$`));
      expect(message.includes(env.AZURE_CLIENT_SECRET)).toBe(false);
    }
  });

  it('any other failure, or a mode that reads no client secret, keeps the general advice', async () => {
    expect(await failure(new Error('AADSTS700016: Application not found in the directory'), 'client-secret', './s.txt', {})).toMatch(/ \(tried --auth client-secret; choose how to sign in with --auth, or rehearse against the local emulator/);
    expect(await failure(expired, 'certificate', undefined, { AZURE_CLIENT_SECRET: 'x' })).toMatch(/ \(tried --auth certificate; choose how/);
    expect(await failure(expired, 'default', undefined, {})).toMatch(/ \(tried --auth default: environment variables \(AZURE_\*\), .*; choose how/);
    expect(await failure('no error object', 'client-secret', './s.txt', {})).toMatch(/; choose how/);
  });
});
