import { guidFromName } from './prng.js';

/**
 * Who signs in to the emulated Graph, and the JWT-shaped tokens POST /_emulator/token mints for them.
 * The tokens are unsigned (`alg: none`): the emulator trusts its own claims, and a real client never sends
 * them to anything but the emulator.
 */

/**
 * The application permissions this tool needs, least privileged per Graph's permission tables (see
 * docs/permissions.md): the default grant of a tenant file that names none. Staged rollout
 * (featureRolloutPolicies) is not among them: Graph supports no application permission for it.
 */
export const DEFAULT_APPLICATION_PERMISSIONS: readonly string[] = [
  'User.Read.All',
  'GroupMember.Read.All',
  'GroupMember.ReadWrite.All',
  'Organization.Read.All',
  'Domain.Read.All',
  'Domain-InternalFederation.ReadWrite.All',
  'Policy.ReadWrite.AuthenticationMethod',
  'UserAuthenticationMethod.ReadWrite.All',
];

/** The delegated permissions (scopes) this tool needs when an admin signs in, staged rollout included. */
export const DEFAULT_DELEGATED_PERMISSIONS: readonly string[] = [...DEFAULT_APPLICATION_PERMISSIONS, 'Policy.ReadWrite.HybridAuthentication'];

/** The identity a tenant file grants: an application (app-only, `roles`) or an admin signed in to it (`upn`, `scp`). */
export interface SignInIdentity {
  appId: string;
  appDisplayName: string;
  /** Application permissions; used when no user signs in. */
  roles: readonly string[];
  /** A delegated sign-in: the user and the scopes consented. */
  user?: { userPrincipalName: string; objectId: string; scopes: readonly string[] };
}

export function defaultIdentity(tenantId: string): SignInIdentity {
  return { appId: guidFromName(tenantId, 'app:mfa-migrate'), appDisplayName: 'mfa-migrate', roles: [...DEFAULT_APPLICATION_PERMISSIONS] };
}

/** What the emulator reads from a bearer token. */
export interface TokenClaims {
  tid?: string;
  appid?: string;
  azp?: string;
  app_displayname?: string;
  roles?: string[];
  scp?: string;
  upn?: string;
  oid?: string;
  [claim: string]: unknown;
}

/** The user a delegated token signs in: its `oid` and `upn` claims (either may be absent). */
export interface SignedInUser {
  objectId: string | null;
  upn: string | null;
}

/** Who a token signs in, for a delegated token (one with `scp`) that names a user; undefined for an application's or any other. */
export function signedInUserOf(claims: TokenClaims | undefined): SignedInUser | undefined {
  if (!claims || typeof claims.scp !== 'string') return undefined;
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);
  const user = { objectId: str(claims.oid), upn: str(claims.upn) };
  return user.objectId === null && user.upn === null ? undefined : user;
}

/** The permissions a request carries: 'unscoped' for a token that names none (every route allowed, as before tokens had claims). */
export type Grant = { scheme: 'Application' | 'Delegated'; permissions: ReadonlySet<string> } | 'unscoped';

export const TOKEN_LIFETIME_SECONDS = 3600;

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An unsigned JWT for `identity` in tenant `tenantId`: header.payload. with an empty signature. */
export function mintToken(tenantId: string, identity: SignInIdentity, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const claims: TokenClaims = {
    aud: 'https://graph.microsoft.com',
    iss: `https://sts.windows.net/${tenantId}/`,
    iat: nowSeconds,
    nbf: nowSeconds,
    exp: nowSeconds + TOKEN_LIFETIME_SECONDS,
    tid: tenantId,
    appid: identity.appId,
    app_displayname: identity.appDisplayName,
    ver: '1.0',
  };
  if (identity.user) {
    claims['idtyp'] = 'user';
    claims['oid'] = identity.user.objectId;
    claims.upn = identity.user.userPrincipalName;
    claims.scp = identity.user.scopes.join(' ');
  } else {
    claims['idtyp'] = 'app';
    claims['oid'] = guidFromName(tenantId, `service-principal:${identity.appId}`);
    claims.roles = [...identity.roles];
  }
  return `${base64url({ typ: 'JWT', alg: 'none' })}.${base64url(claims)}.`;
}

/** The claims of a JWT-shaped token (the signature is not checked), or undefined for any other token. */
export function decodeToken(token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as TokenClaims) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The permissions a token grants: its `scp` (delegated) or `roles` (application) claim. A token with
 * neither (a placeholder, or a JWT without permission claims) is unscoped.
 */
export function grantOf(claims: TokenClaims | undefined): Grant {
  if (claims && typeof claims.scp === 'string') return { scheme: 'Delegated', permissions: new Set(claims.scp.split(' ').filter(Boolean)) };
  if (claims && Array.isArray(claims.roles)) return { scheme: 'Application', permissions: new Set(claims.roles.filter((r): r is string => typeof r === 'string')) };
  return 'unscoped';
}
