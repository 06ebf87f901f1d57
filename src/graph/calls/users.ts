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

/** Ids an `in` filter may hold: Graph allows 15 expressions in one (learn.microsoft.com/graph/filter-query-parameter). */
export const USERS_BY_ID_MAX = 15;

/**
 * Up to 15 users by object id in one request (`$filter=id in (...)`): a re-check of thousands of
 * users costs a fifteenth of the requests, and of the resource units (a list is 2 units, $select
 * takes one off), that one GET each would. Ids that are no user are simply absent.
 */
export function findUsersById(ids: readonly string[]): GraphCall {
  if (ids.length === 0 || ids.length > USERS_BY_ID_MAX) throw new Error(`findUsersById takes 1 to ${USERS_BY_ID_MAX} ids, not ${ids.length}`);
  const list = ids.map((id) => `'${id.replace(/'/g, "''")}'`).join(',');
  return { method: 'GET', version: 'v1.0', path: `/users?$filter=${encodeURIComponent(`id in (${list})`)}&${USER_SELECT}&$top=${USERS_BY_ID_MAX}` };
}
