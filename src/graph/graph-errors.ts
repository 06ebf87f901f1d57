import { UserError } from '../model/user-error.js';
import { errorText, type GraphResponse } from './graph-call.js';

/** Graph answered a request with an error that ends the command (a read that cannot be done). */
export class GraphRequestError extends UserError {
  constructor(
    readonly what: string,
    readonly response: GraphResponse,
  ) {
    super(`${what} failed: ${errorText(response)}${HINTS[response.status] ?? ''}`);
  }
}

/** What a local emulator refusing the access token wants. */
const EMULATOR_TOKEN_HINT = 'a local emulator started with --token wants that token in MFA_MIGRATE_EMULATOR_TOKEN';

const HINTS: Record<number, string> = {
  401: ` (Graph refused the access token: sign in again; ${EMULATOR_TOKEN_HINT})`,
  403: ' (the signed-in app or admin lacks a permission for it: `mfa-migrate doctor` names it, docs/permissions.md lists them)',
};

/**
 * Graph refused the access token (401), and the new one fetched for the same request as well: the
 * command stops (every later request would be refused; a write refused so was not applied).
 */
export class TokenRefusedError extends UserError {
  constructor(readonly response: GraphResponse) {
    super(`Graph refused the access token, and a new one as well: ${errorText(response)} (sign in again; ${EMULATOR_TOKEN_HINT})`);
  }
}

/** A command that only reads tried to write: refused before anything was sent (a bug, never the admin's doing). */
export class ReadOnlyViolation extends Error {
  constructor(what: string) {
    super(`refused to send ${what}: this command only reads from Graph`);
    this.name = 'ReadOnlyViolation';
  }
}

/**
 * No access token for Graph: wrong or expired credentials, no sign-in reachable, a consent missing.
 * The message is the identity library's first line (it names the AADSTS code, never the secret).
 */
export class SignInError extends UserError {
  constructor(cause: unknown, hint = '') {
    const first = (cause === undefined ? '' : cause instanceof Error ? cause.message : String(cause)).split('\n')[0]!.trim();
    super(`cannot sign in to Microsoft Graph: ${first || 'the credential gave no access token'}${hint}`, 1, { cause });
  }
}

/** A page of results named its next page on another origin than the Graph root: the access token is not sent there. */
export class ForeignNextLinkError extends UserError {
  constructor(root: string, origin: string) {
    super(`Graph's @odata.nextLink points to ${origin}, not to ${root}: refusing to send the access token there (a proxy or a tampered answer?)`);
  }
}

/** Nothing listens at the Graph address, or its name does not resolve: a wrong --graph-url or a stopped emulator. */
export class GraphUnreachableError extends UserError {
  constructor(root: string, cause: unknown) {
    const detail = (cause as { cause?: { message?: string } } | null)?.cause?.message ?? (cause as Error | null)?.message ?? String(cause);
    super(`cannot reach Graph at ${root}: ${detail}`, 1, { cause });
  }
}

/**
 * Nothing listens at the address, or the name does not resolve: not a passing fault, so reported at
 * once rather than retried. A reset, a timeout or an unreachable network (a pulled cable) is retried.
 */
export function isUnreachable(err: unknown): boolean {
  const code = ((err as { cause?: { code?: string } } | null)?.cause?.code ?? (err as { code?: string } | null)?.code) as string | undefined;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND';
}
