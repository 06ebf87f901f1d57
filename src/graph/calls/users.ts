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
  /** Read only by the on-premises lookups. */
  onPremisesUserPrincipalName?: string | null;
  onPremisesSamAccountName?: string | null;
  onPremisesDomainName?: string | null;
}

/** The user properties read, and the user's on-premises UPN (is it the synced user of the UPN, or another: a plan matching by on-premises name). */
const USER_SELECT_ONPREM_UPN = `${USER_SELECT},onPremisesUserPrincipalName`;

/** One user by UPN or object id (404 when there is none); with `onPremisesUpn`, their onPremisesUserPrincipalName too. */
export const getUser = (idOrUpn: string, onPremisesUpn = false): GraphCall => ({ method: 'GET', version: 'v1.0', path: `${userPath(idOrUpn)}?${onPremisesUpn ? USER_SELECT_ONPREM_UPN : USER_SELECT}` });

/** Every user of the directory, 999 a page; with `onPremisesUpn`, their onPremisesUserPrincipalName too. */
export const listUsers = (onPremisesUpn = false): GraphCall => ({ method: 'GET', version: 'v1.0', path: `/users?${onPremisesUpn ? USER_SELECT_ONPREM_UPN : USER_SELECT}&$top=999` });

/** Ids an `in` filter may hold: Graph allows 15 expressions in one (learn.microsoft.com/graph/filter-query-parameter). */
export const USERS_BY_ID_MAX = 15;

/**
 * Up to 15 users by object id in one request (`$filter=id in (...)`): a re-check of thousands of
 * users costs a fifteenth of the requests, and of the resource units (a list is 2 units, $select
 * takes one off), that one GET each would. Ids that are no user are simply absent.
 */
export function findUsersById(ids: readonly string[]): GraphCall {
  if (ids.length === 0 || ids.length > USERS_BY_ID_MAX) throw new Error(`findUsersById takes 1 to ${USERS_BY_ID_MAX} ids, not ${ids.length}`);
  return { method: 'GET', version: 'v1.0', path: `/users?$filter=${encodeURIComponent(`id in (${quotedList(ids)})`)}&${USER_SELECT}&$top=${USERS_BY_ID_MAX}` };
}

/** The user properties read, and the synced on-premises names (Graph returns them only on $select). */
const ON_PREMISES_SELECT = `${USER_SELECT},onPremisesUserPrincipalName,onPremisesSamAccountName,onPremisesDomainName`;

const quotedList = (values: readonly string[]) => values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');

/** A page of the on-premises lookups: one value may be several users' (Graph enforces no uniqueness on them). */
const ON_PREMISES_PAGE = 999;

/**
 * Up to 15 users by on-premises UPN (`onPremisesUserPrincipalName in (...)`): `eq` and `in` work on
 * it by default (learn.microsoft.com/graph/aad-advanced-queries, the directory objects' filter table).
 */
export function findUsersByOnPremisesUpn(values: readonly string[]): GraphCall {
  if (values.length === 0 || values.length > USERS_BY_ID_MAX) throw new Error(`findUsersByOnPremisesUpn takes 1 to ${USERS_BY_ID_MAX} names, not ${values.length}`);
  return { method: 'GET', version: 'v1.0', path: `/users?$filter=${encodeURIComponent(`onPremisesUserPrincipalName in (${quotedList(values)})`)}&${ON_PREMISES_SELECT}&$top=${ON_PREMISES_PAGE}` };
}

/**
 * Up to 15 users by sAMAccountName (`onPremisesSamAccountName in (...)`): an advanced query, the only
 * way Graph filters on it (the same table; without them Graph answers 400 Request_UnsupportedQuery),
 * so `$count=true` and `ConsistencyLevel: eventual`, which goes inside `$batch` and on every page.
 * The index behind advanced queries is eventually consistent: a user synced seconds ago may be missing.
 */
export function findUsersBySamAccountName(values: readonly string[]): GraphCall {
  if (values.length === 0 || values.length > USERS_BY_ID_MAX) throw new Error(`findUsersBySamAccountName takes 1 to ${USERS_BY_ID_MAX} names, not ${values.length}`);
  return {
    method: 'GET',
    version: 'v1.0',
    path: `/users?$filter=${encodeURIComponent(`onPremisesSamAccountName in (${quotedList(values)})`)}&$count=true&${ON_PREMISES_SELECT}&$top=${ON_PREMISES_PAGE}`,
    headers: { ConsistencyLevel: 'eventual' },
  };
}

/**
 * Every user whose UPN ends with `@domain`, 999 a page: `endsWith` is an advanced query's alone
 * (learn.microsoft.com/graph/aad-advanced-queries), so `$count=true` and `ConsistencyLevel: eventual`,
 * which the client sends on every page. The index behind it is eventually consistent: a user created
 * seconds ago may be missing.
 */
export function listUsersOfDomain(domain: string): GraphCall {
  return {
    method: 'GET',
    version: 'v1.0',
    path: `/users?$filter=${encodeURIComponent(`endswith(userPrincipalName,${quotedList([`@${domain}`])})`)}&$count=true&${USER_SELECT}&$top=999`,
    headers: { ConsistencyLevel: 'eventual' },
  };
}
