import type { GraphCall } from '../graph-call.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The path of one user, by object id or user principal name. A UPN starting with `$` cannot be a
 * path segment (Graph reads `/users/$x` as a system query option and answers 400): such a user is
 * addressed as `/users('$x@y')`, single quotes doubled (Graph docs, user-get, tip).
 */
export function userPath(idOrUpn: string): string {
  if (GUID.test(idOrUpn)) return `/users/${idOrUpn}`;
  if (idOrUpn.startsWith('$')) return `/users('${encodeURIComponent(idOrUpn.replace(/'/g, "''"))}')`;
  return `/users/${encodeURIComponent(idOrUpn)}`;
}

const USER_SELECT = '$select=id,userPrincipalName,accountEnabled,userType';

export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  accountEnabled?: boolean;
  userType?: string | null;
}

/** One user by UPN or object id (404 when there is none). */
export const getUser = (idOrUpn: string): GraphCall => ({ method: 'GET', version: 'v1.0', path: `${userPath(idOrUpn)}?${USER_SELECT}` });

/** Every user of the directory, 999 a page. */
export const listUsers = (): GraphCall => ({ method: 'GET', version: 'v1.0', path: `/users?${USER_SELECT}&$top=999` });
