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

/**
 * Nothing listens at the Graph address, or its name does not resolve: a wrong --graph-url or a stopped
 * emulator. Or nothing can ever be sent there: a port Node's fetch refuses, TLS to a server that
 * speaks plain HTTP.
 */
export class GraphUnreachableError extends UserError {
  constructor(root: string, cause: unknown) {
    const detail = unreachableReason(cause, root) ?? causeOf(cause)?.message ?? (cause as Error | null)?.message ?? String(cause);
    super(`cannot reach Graph at ${root}: ${detail}`, 1, { cause });
  }
}

/**
 * Nothing listens at the address, the name does not resolve, the port is one fetch refuses, the
 * server does not speak TLS: not a passing fault, so reported at once rather than retried (a blocked
 * port or a plain-HTTP server was retried for half a minute, a black-box test). A reset, a timeout or
 * an unreachable network (a pulled cable) is retried.
 */
export function isUnreachable(err: unknown): boolean {
  return unreachableReason(err) !== undefined;
}

/** TLS alerts OpenSSL raises when what answers the handshake is not TLS (an HTTP server's `HTTP/1.1 400`). */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_RECORD_LAYER_FAILURE']);

/** Why nothing can be sent to Graph, in the admin's words; undefined for a fault that may pass. */
function unreachableReason(err: unknown, root?: string): string | undefined {
  const cause = causeOf(err);
  const code = cause?.code ?? (err as { code?: string } | null)?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND') return cause?.message ?? (err as Error).message;
  // undici's own words, with no code: the port is on the Fetch standard's list of blocked ports (6000, 1, 25...).
  if (cause?.message === 'bad port') return `${portOf(root) ?? 'its port'} is one Node's fetch refuses to connect to (a blocked port, as in browsers): use another port`;
  if (code !== undefined && NOT_TLS.has(code)) return 'the server did not answer TLS (is it http://?)';
  return undefined;
}

/** The error fetch's "fetch failed" wraps: what went wrong. */
function causeOf(err: unknown): { code?: string; message?: string } | undefined {
  const cause = (err as { cause?: unknown } | null)?.cause;
  return typeof cause === 'object' && cause !== null ? (cause as { code?: string; message?: string }) : undefined;
}

/** `port 6000` for a root that names its port; undefined otherwise. */
function portOf(root: string | undefined): string | undefined {
  try {
    const port = root === undefined ? '' : new URL(root).port;
    return port ? `port ${port}` : undefined;
  } catch {
    return undefined;
  }
}
