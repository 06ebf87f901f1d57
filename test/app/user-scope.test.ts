import { describe, expect, it } from 'vitest';
import { resolveScope } from '../../src/app/user-scope.js';
import { fakeGraph } from '../helpers/graph.js';
import { ONPREM_GROUP, onPremisesGroupTenant } from '../helpers/onprem-tenant.js';

const EXPORT = ['CORP\\jdoe', 'mary', 'sam1', 'alice@contoso.com', 'bob@contoso.com', 'EMEA\\jdoe'];
/** The export users a scope holds, in export order. */
const held = (scope: ReadonlySet<string> | undefined) => EXPORT.filter((u) => scope!.has(u.toLowerCase()));

describe('resolveScope (plan, apply --source and status alike)', () => {
  const client = () => fakeGraph({ tenant: onPremisesGroupTenant() }).client({ readOnly: true });

  it('--group with on-premises matching: members by UPN, and export users whose on-premises name a member has, alone or with another member', async () => {
    const { scope, group } = await resolveScope(client(), { exportUsers: EXPORT, group: ONPREM_GROUP, netbiosDomains: new Map() });
    // EMEA\jdoe: jdoe is a member's sAMAccountName, but in corp.contoso.com, not EMEA's.
    expect(held(scope)).toEqual(['CORP\\jdoe', 'mary', 'sam1', 'alice@contoso.com']);
    expect(group?.displayName).toBe(ONPREM_GROUP);
  });

  it('--group by UPN alone (--match-by upn), and without an export: the members as they are', async () => {
    expect(held((await resolveScope(client(), { exportUsers: EXPORT, group: ONPREM_GROUP })).scope)).toEqual(['alice@contoso.com']);
    expect([...(await resolveScope(client(), { group: ONPREM_GROUP, netbiosDomains: new Map() })).scope!].sort()).toEqual(['alice@contoso.com', 'jdoe@contoso.com', 'mary@contoso.com', 'sam1@contoso.com', 'sam1@contoso.onmicrosoft.com']);
  });

  it('no --users and no --group: no narrowing', async () => {
    expect((await resolveScope(client(), { exportUsers: EXPORT })).scope).toBeUndefined();
  });
});
