import { describe, expect, it } from 'vitest';
import { narrowToMembers, resolveScope, splitByMembership } from '../../src/app/user-scope.js';
import { fakeGraph } from '../helpers/graph.js';
import { ALICE, BOB, JDOE, MARY, ONPREM_GROUP, onPremisesGroupTenant } from '../helpers/onprem-tenant.js';

const EXPORT = ['CORP\\jdoe', 'mary', 'sam1', 'alice@contoso.com', 'bob@contoso.com', 'EMEA\\jdoe'];
/** The export users a scope holds, in export order. */
const held = (scope: ReadonlySet<string> | undefined) => EXPORT.filter((u) => scope!.has(u.toLowerCase()));

describe('resolveScope (plan, apply --source and status alike)', () => {
  const client = () => fakeGraph({ tenant: onPremisesGroupTenant() }).client({ readOnly: true });

  it('--group with on-premises matching: members by UPN, and export users whose on-premises name a member has, alone or with another member', async () => {
    const { scope, group, groupScope } = await resolveScope(client(), { exportUsers: EXPORT, group: ONPREM_GROUP, netbiosDomains: new Map() });
    // EMEA\jdoe: jdoe is a member's sAMAccountName, but in corp.contoso.com, not EMEA's. bob@contoso.com
    // is bob1234's on-premises UPN: taken in for now, until the tenant read matches it (narrowToMembers).
    expect(held(scope)).toEqual(['CORP\\jdoe', 'mary', 'sam1', 'alice@contoso.com', 'bob@contoso.com']);
    expect(group?.displayName).toBe(ONPREM_GROUP);
    expect(groupScope?.takenFor.get('bob@contoso.com')).toEqual(['bob1234@contoso.onmicrosoft.com']);
  });

  it('--group by UPN alone (--match-by upn), and without an export: the members as they are', async () => {
    expect(held((await resolveScope(client(), { exportUsers: EXPORT, group: ONPREM_GROUP })).scope)).toEqual(['alice@contoso.com']);
    expect([...(await resolveScope(client(), { group: ONPREM_GROUP, netbiosDomains: new Map() })).scope!].sort()).toEqual(['alice@contoso.com', 'bob1234@contoso.onmicrosoft.com', 'jdoe@contoso.com', 'mary@contoso.com', 'sam1@contoso.com', 'sam1@contoso.onmicrosoft.com']);
  });

  it('no --users and no --group: no narrowing', async () => {
    expect((await resolveScope(client(), { exportUsers: EXPORT })).scope).toBeUndefined();
  });
});

describe('narrowToMembers: --group once the tenant users are matched', () => {
  it('leaves out a user matched to a tenant user outside the group, and says so; keeps those matched to a member or to nobody', async () => {
    const { scope, groupScope } = await resolveScope(fakeGraph({ tenant: onPremisesGroupTenant() }).client({ readOnly: true }), { exportUsers: EXPORT, group: ONPREM_GROUP, netbiosDomains: new Map() });
    // As the tenant read matches them: bob@contoso.com by UPN to the cloud-only bob, sam1 to nobody (two members have it).
    const matched = new Map([
      ['corp\\jdoe', { id: JDOE.toUpperCase(), userPrincipalName: 'jdoe@contoso.com' }],
      ['mary', { id: MARY, userPrincipalName: 'mary@contoso.com' }],
      ['alice@contoso.com', { id: ALICE, userPrincipalName: 'alice@contoso.com' }],
      ['bob@contoso.com', { id: BOB, userPrincipalName: 'bob@contoso.com' }],
    ]);
    const notes: string[] = [];
    const narrowed = narrowToMembers(scope!, groupScope!, (u) => matched.get(u), (l) => notes.push(l));
    expect(held(narrowed.scope)).toEqual(['CORP\\jdoe', 'mary', 'sam1', 'alice@contoso.com']);
    expect(narrowed.outside).toEqual(['bob@contoso.com']);
    expect(notes).toEqual([
      'Note: --group "Wave CORP": 1 export user(s) left out of the scope, matched to a tenant user who is not a member: bob@contoso.com (matched to bob@contoso.com, not to the member bob1234@contoso.onmicrosoft.com whose on-premises name it is). ' +
        "A username is matched by UPN first (docs/mapping.md), and --group writes to members only; if MFA Server's user is the member, put the member's Entra UPN in users.csv and plan again",
    ]);
  });

  it('splitByMembership: by object id, case aside; a user matched to nobody stays', () => {
    const members = new Set([JDOE]);
    expect(splitByMembership(['a', 'b', 'c'], (u) => ({ a: JDOE.toUpperCase(), b: BOB, c: null })[u], members)).toEqual({ members: ['a', 'c'], outside: ['b'] });
  });
});
