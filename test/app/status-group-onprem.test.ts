import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePlan } from '../../src/app/plan.js';
import { cutoverStatus, type StatusRequest } from '../../src/app/status.js';
import type { MatchBy } from '../../src/model/user-match.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { contosoRequest, testDir } from '../helpers/migration.js';
import { ALICE, BOB, JDOE, MARY, ONPREM_GROUP, onPremisesExport, onPremisesGroupTenant } from '../helpers/onprem-tenant.js';

/** The export usernames plan takes into its scope. */
async function planned(g: FakeGraph, source: string, over: { group?: string; users?: string; matchBy?: readonly MatchBy[] }): Promise<string[]> {
  const made = await makePlan({ ...contosoRequest(source, []), ...over, graph: g.client({ readOnly: true }) });
  return made.built.plan.users.map((u) => u.user);
}

const status = (g: FakeGraph, over: Omit<StatusRequest, 'graph' | 'concurrency'>) => cutoverStatus({ ...over, graph: g.client({ readOnly: true }), concurrency: 4 });
/** A status row's name in scope: the export's username where it is not the UPN. */
const nameOf = (r: { user: string; username?: string }) => r.username ?? r.user;

describe('status --group with users matched by an on-premises name: the scope plan takes', () => {
  it('--source --group: the members matched by DOMAIN\\sam or a bare sAMAccountName are in, and sam1, which two members have, is in and shown not matched', async () => {
    const t = testDir('status-group-onprem');
    const g = fakeGraph({ tenant: onPremisesGroupTenant() });
    const source = onPremisesExport(t.dir);
    const s = await status(g, { source, group: ONPREM_GROUP });
    expect(s.users.map(nameOf)).toEqual(await planned(g, source, { group: ONPREM_GROUP }));
    expect(s.counts.users).toBe(4);
    expect(s.users.map((r) => [nameOf(r), r.user, r.user_id])).toEqual([
      ['CORP\\jdoe', 'jdoe@contoso.com', JDOE],
      ['mary', 'mary@contoso.com', MARY],
      ['sam1', 'sam1', null],
      ['alice@contoso.com', 'alice@contoso.com', ALICE],
    ]);
    expect(s.users.find((r) => r.user === 'sam1')!.blocked).toMatch(/^not matched: 2 tenant users have onPremisesSamAccountName sam1 \(sam1@contoso\.com, sam1@contoso\.onmicrosoft\.com\)/);
  });

  it('--source --group leaves out bob@contoso.com, a member\'s on-premises UPN but the UPN of bob, who is no member, and says so, as plan does', async () => {
    const t = testDir('status-group-outside');
    const g = fakeGraph({ tenant: onPremisesGroupTenant() });
    const source = onPremisesExport(t.dir);
    const notes: string[] = [];
    const s = await status(g, { source, group: ONPREM_GROUP, log: (l) => notes.push(l) });
    expect(s.users.map((r) => r.user_id)).not.toContain(BOB);
    expect(s.users.map(nameOf)).not.toContain('bob@contoso.com');
    expect(notes).toEqual([expect.stringContaining('left out of the scope, matched to a tenant user who is not a member: bob@contoso.com (matched to bob@contoso.com, not to the member bob1234@contoso.onmicrosoft.com')]);
    // --users naming bob too: the same.
    const users = join(t.dir, 'users.txt');
    writeFileSync(users, 'bob@contoso.com\nmary\n');
    expect((await status(g, { source, users, group: ONPREM_GROUP })).users.map(nameOf)).toEqual(['mary']);
    expect(await planned(g, source, { users, group: ONPREM_GROUP })).toEqual(['mary']);
  });

  it('--users FILE --group: a user the file names by on-premises name and the group holds is in scope, as plan takes them', async () => {
    const t = testDir('status-group-onprem-users');
    const g = fakeGraph({ tenant: onPremisesGroupTenant() });
    const source = onPremisesExport(t.dir);
    const users = join(t.dir, 'users.txt');
    writeFileSync(users, 'corp\\jdoe\nbob@contoso.com\n');
    const s = await status(g, { source, users, group: ONPREM_GROUP });
    expect(s.users.map(nameOf)).toEqual(['CORP\\jdoe']);
    expect(await planned(g, source, { users, group: ONPREM_GROUP })).toEqual(['CORP\\jdoe']);
  });

  it('--match-by upn: members count by UPN alone, for status as for plan', async () => {
    const t = testDir('status-group-upn');
    const g = fakeGraph({ tenant: onPremisesGroupTenant() });
    const source = onPremisesExport(t.dir);
    const s = await status(g, { source, group: ONPREM_GROUP, matchBy: ['upn'] });
    expect(s.users.map(nameOf)).toEqual(['alice@contoso.com']);
    expect(await planned(g, source, { group: ONPREM_GROUP, matchBy: ['upn'] })).toEqual(['alice@contoso.com']);
  });

  it('--group without --source: every member, by UPN', async () => {
    const g = fakeGraph({ tenant: onPremisesGroupTenant() });
    const s = await status(g, { group: ONPREM_GROUP });
    expect(s.users.map((r) => r.user).sort()).toEqual(['alice@contoso.com', 'bob1234@contoso.onmicrosoft.com', 'jdoe@contoso.com', 'mary@contoso.com', 'sam1@contoso.com', 'sam1@contoso.onmicrosoft.com']);
    expect(s.users.every((r) => r.username === undefined && r.user_id !== null)).toBe(true);
  });

  it('--users without --source shows each name as the file gives it, as --source shows the export\'s (CORP\\jdoe, not corp\\jdoe)', async () => {
    const t = testDir('status-users-as-given');
    const g = fakeGraph({ tenant: onPremisesGroupTenant() });
    const users = join(t.dir, 'users.txt');
    writeFileSync(users, 'CORP\\jdoe\nMary\nNobody@Contoso.com\n');
    const s = await status(g, { users });
    expect(s.users.map((r) => [r.user, r.username, r.user_id])).toEqual([
      ['jdoe@contoso.com', 'CORP\\jdoe', JDOE],
      ['mary@contoso.com', 'Mary', MARY],
      ['Nobody@Contoso.com', undefined, null],
    ]);
    // The same as with the export, which names jdoe CORP\jdoe.
    expect((await status(g, { source: onPremisesExport(t.dir), users })).users[0]!.username).toBe('CORP\\jdoe');
  });
});
