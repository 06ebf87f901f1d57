import type { TokenCredential } from '@azure/identity';
import { DEFAULT_GRAPH_ROOT, tokenCloudOf } from './graph-root.js';
import { SignInError } from './graph-errors.js';

/** What an access token says about who holds it (claims of the JWT; nothing is verified here, Graph does that). */
export interface TokenIdentity {
  tenantId: string | null;
  appId: string | null;
  appDisplayName: string | null;
  /** The signed-in user, for a delegated token. */
  upn: string | null;
  /**
   * The token's `oid`: for a delegated token the signed-in user's object id (Graph refuses a user's
   * writes to their own phone and email methods: apply leaves those out); for an application's, its
   * service principal's.
   */
  objectId: string | null;
  /** Application permissions (app-only tokens). */
  roles: string[];
  /** Delegated permissions. */
  scopes: string[];
}

/**
 * Whom a token's permissions are for: a signed-in user (its `scp`; a `upn` alone too), an application
 * (its `roles`; an application's token with no roles claim was granted nothing: permissions added to
 * the app but never consented), or unknown when nothing tells (not a JWT; a user's without `scp`).
 */
export function tokenKind(t: TokenIdentity): 'delegated' | 'application' | 'unknown' {
  const delegated = t.scopes.length > 0 || t.upn !== null;
  if (t.roles.length === 0 && t.scopes.length === 0 && (delegated || t.appId === null)) return 'unknown';
  return delegated ? 'delegated' : 'application';
}

/** Reads the claims of a JWT-shaped access token; every field null or empty when it is not one. */
export function identityOf(token: string): TokenIdentity {
  const none: TokenIdentity = { tenantId: null, appId: null, appDisplayName: null, upn: null, objectId: null, roles: [], scopes: [] };
  const parts = token.split('.');
  if (parts.length !== 3) return none;
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return none;
  }
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);
  return {
    tenantId: str(claims.tid),
    appId: str(claims.appid) ?? str(claims.azp),
    appDisplayName: str(claims.app_displayname),
    upn: str(claims.upn) ?? str(claims.preferred_username) ?? str(claims.unique_name),
    objectId: str(claims.oid),
    roles: Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [],
    scopes: typeof claims.scp === 'string' ? claims.scp.split(' ').filter(Boolean) : [],
  };
}

/** Hands out a bearer token for each request. */
export interface TokenSource {
  token(): Promise<string>;
  /**
   * Graph refused `token` (401): forget it, so that the next token() fetches a new one. A token
   * already replaced is let be: the requests refused with one token renew it once.
   */
  refused?(token: string): void;
}

/**
 * Access tokens from an @azure/identity credential, reused until five minutes before they expire.
 * Single-flight: callers asking while a token is being fetched share that one request to the
 * credential (a plan's reads start together; each getToken of a device-code credential would
 * prompt the admin again). A failure is handed to every caller then waiting, and not kept: the next
 * caller asks again. `hint` ends the failure's message; a function is given what the credential threw
 * (sign-in-hint.ts names a refused client secret's file).
 */
export function credentialTokens(credential: TokenCredential, hint: string | ((cause: unknown) => string) = '', scope = tokenCloudOf(DEFAULT_GRAPH_ROOT).scope): TokenSource {
  let cached: { token: string; expires: number } | undefined;
  let fetching: Promise<string> | undefined;
  const fetchToken = async (): Promise<string> => {
    let t: Awaited<ReturnType<TokenCredential['getToken']>>;
    try {
      t = await credential.getToken(scope);
    } catch (err) {
      throw new SignInError(err, typeof hint === 'string' ? hint : hint(err));
    }
    if (!t) throw new SignInError(undefined, typeof hint === 'string' ? hint : hint(undefined));
    cached = { token: t.token, expires: t.expiresOnTimestamp };
    return t.token;
  };
  return {
    token() {
      if (cached && cached.expires - Date.now() > 5 * 60_000) return Promise.resolve(cached.token);
      fetching ??= fetchToken().finally(() => {
        fetching = undefined;
      });
      return fetching;
    },
    refused(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}

/** The placeholder bearer token sent to an emulator that cannot mint tokens. */
export const EMULATOR_PLACEHOLDER_TOKEN = 'mfa-migrate-emulator';

/**
 * Tokens for a local emulator: minted by its token endpoint (so they carry its tenant, app and
 * permissions, as a real token would), or the placeholder when it has none. `secret` is the
 * emulator's --token, when it was started with one.
 */
export function emulatorTokens(root: string, fetchImpl: typeof fetch, secret?: string): TokenSource {
  let minted: Promise<string> | undefined;
  let current: string | undefined;
  return {
    token() {
      minted ??= (async () => {
        try {
          const res = await fetchImpl(`${root}/_emulator/token`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...(secret ? { Authorization: `Bearer ${secret}` } : {}) },
            body: '{}',
          });
          if (res.ok) {
            const body = (await res.json()) as { access_token?: unknown };
            if (typeof body.access_token === 'string') return body.access_token;
          } else {
            await res.body?.cancel();
          }
        } catch {
          // Not an emulator that mints tokens (or not reachable: the first request will say so).
        }
        return secret ?? EMULATOR_PLACEHOLDER_TOKEN;
      })().then((t) => (current = t));
      return minted;
    },
    refused(token) {
      if (current !== token) return;
      current = undefined;
      minted = undefined;
    },
  };
}
