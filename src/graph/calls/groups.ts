import type { GraphCall } from '../graph-call.js';

/** The directoryObject reference a `$ref` body carries. */
export const directoryObjectRef = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

export interface GroupRef {
  id: string;
  displayName: string;
}

export const getGroup = (id: string): GraphCall => ({ method: 'GET', version: 'v1.0', path: `/groups/${encodeURIComponent(id)}?$select=id,displayName` });

export const findGroupsByName = (name: string): GraphCall => ({
  method: 'GET',
  version: 'v1.0',
  path: `/groups?$filter=${encodeURIComponent(`displayName eq '${name.replace(/'/g, "''")}'`)}&$select=id,displayName`,
});

/** Members of a group, nested groups' members included (users carry a userPrincipalName; with `onPremises`, their synced on-premises names too). */
export const listTransitiveMembers = (groupId: string, onPremises = false): GraphCall => ({
  method: 'GET',
  version: 'v1.0',
  path: `/groups/${encodeURIComponent(groupId)}/transitiveMembers?$select=id,userPrincipalName${onPremises ? ',onPremisesUserPrincipalName,onPremisesSamAccountName,onPremisesDomainName' : ''}`,
});

/** The ids of a group's members, nested groups' members included, 999 to a page. */
export const listTransitiveMemberIds = (groupId: string): GraphCall => ({
  method: 'GET',
  version: 'v1.0',
  path: `/groups/${encodeURIComponent(groupId)}/transitiveMembers?$select=id&$top=999`,
});

/** A group with what staged rollout cares about: whether its members come from a rule. */
export const getGroupKind = (id: string): GraphCall => ({
  method: 'GET',
  version: 'v1.0',
  path: `/groups/${encodeURIComponent(id)}?$select=id,displayName,groupTypes,membershipRule`,
});

/** A group's direct members, each with its `@odata.type` (user, group, orgContact); users with their userPrincipalName. */
export const listDirectMembers = (groupId: string): GraphCall => ({
  method: 'GET',
  version: 'v1.0',
  path: `/groups/${encodeURIComponent(groupId)}/members?$select=id,userPrincipalName&$top=999`,
});

/**
 * The groups and other directory objects (roles, administrative units) a user is a direct member of,
 * 999 to a page. Asked of the user, so others joining or leaving a large group shift nothing; no
 * OData cast, which would need Graph's eventually consistent index (`ConsistencyLevel: eventual`).
 */
export const listDirectMemberOf = (userId: string): GraphCall => ({
  method: 'GET',
  version: 'v1.0',
  path: `/users/${encodeURIComponent(userId)}/memberOf?$select=id&$top=999`,
});

/**
 * Which of the groups (at most 20) hold the user, nested groups included: one consistent answer
 * however large the groups, where paging a group's members while others are added or removed can
 * skip one.
 */
export const checkMemberGroups = (userId: string, groupIds: readonly string[]): GraphCall => ({
  method: 'POST',
  version: 'v1.0',
  path: `/users/${encodeURIComponent(userId)}/checkMemberGroups`,
  body: { groupIds },
  safe: true,
});

export const addGroupMember = (groupId: string, objectId: string): GraphCall => ({
  method: 'POST',
  version: 'v1.0',
  path: `/groups/${encodeURIComponent(groupId)}/members/$ref`,
  body: directoryObjectRef(objectId),
});

export const removeGroupMember = (groupId: string, objectId: string): GraphCall => ({
  method: 'DELETE',
  version: 'v1.0',
  path: `/groups/${encodeURIComponent(groupId)}/members/${encodeURIComponent(objectId)}/$ref`,
});

/** A group's members (nested groups' included) with their UPNs (users have one; devices and contacts do not), 999 to a page. */
export const listTransitiveMemberUpns = (groupId: string): GraphCall => ({
  method: 'GET',
  version: 'v1.0',
  path: `/groups/${encodeURIComponent(groupId)}/transitiveMembers?$select=id,userPrincipalName&$top=999`,
});
