import type { GraphCall } from '../graph-call.js';

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

/** Members of a group, nested groups' members included (users carry a userPrincipalName). */
export const listTransitiveMembers = (groupId: string): GraphCall => ({
  method: 'GET',
  version: 'v1.0',
  path: `/groups/${encodeURIComponent(groupId)}/transitiveMembers?$select=id,userPrincipalName`,
});
