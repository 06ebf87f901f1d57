import { createCredential, signInMode, type AuthOptions } from './auth.js';
import { credentialTokens, emulatorTokens, type TokenSource } from './access-token.js';
import { GraphClient } from './graph-client.js';
import { isLoopback, parseGraphRoot, tokenCloudOf } from './graph-root.js';
import type { RetryPolicyOptions } from './retry-policy.js';
import { signInHint } from './sign-in-hint.js';

export interface ConnectOptions extends AuthOptions {
  graphUrl: string;
  /** Hosts besides Microsoft Graph's and loopback that may receive the access token. */
  allowGraphHosts?: string[];
  readOnly: boolean;
  concurrency: number;
  /** An in-process emulator's fetch (tests): no credential, no socket. */
  fetch?: typeof fetch;
  /** The emulator's --token, when it was started with one. */
  emulatorToken?: string;
  retry?: RetryPolicyOptions;
  timeoutMs?: number;
  /** Where sign-in prompts (device code) go; standard error when not given. */
  log?: (line: string) => void;
}

/**
 * A GraphClient for a --graph-url and sign-in options: a loopback root (the emulator) gets tokens
 * from the emulator itself; any other root signs in with @azure/identity.
 */
export function connectGraph(opts: ConnectOptions): GraphClient {
  const root = parseGraphRoot(opts.graphUrl, opts.allowGraphHosts);
  let tokens: TokenSource;
  if (opts.fetch || isLoopback(root)) {
    // The emulator needs no credential, but the options are checked as for a tenant: a command line
    // rehearsed here must not pass and then fail against the real tenant (a docs audit).
    signInMode(opts);
    tokens = emulatorTokens(root, opts.fetch ?? fetch, opts.emulatorToken);
  } else {
    const mode = signInMode(opts);
    const hint = signInHint(mode, opts, process.env);
    // The cloud's own scope and sign-in endpoint (a proxy root stands for the public cloud).
    const cloud = tokenCloudOf(root);
    tokens = credentialTokens(createCredential({ ...opts, authorityHost: cloud.authorityHost }, process.env, opts.log), hint, cloud.scope);
  }
  return new GraphClient({
    root,
    tokens,
    readOnly: opts.readOnly,
    concurrency: opts.concurrency,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.retry ? { retry: opts.retry } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  });
}
