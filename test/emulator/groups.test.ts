import { describe, expect, it } from 'vitest';
import { expectGraphError, inProcess } from './helpers.js';

const CONTACT = 'cccccccc-0000-0000-0000-000000000001';
const TENANT = {
  tenant: { id: '11111111-2222-3333-4444-555555555555' },
  users: [
    { userPrincipalName: 'a@example.com', displayName: 'A' },
    { userPrincipalName: 'b@example.com', displayName: 'B' },
  ],
  contacts: [{ id: CONTACT, displayName: 'Vendor', mail: 'v@vendor.example' }],
  groups: [
    { id: 'aaaaaaaa-0000-0000-0000-000000000001', displayName: 'Assigned', members: ['a@example.com', CONTACT] },
    { id: 'aaaaaaaa-0000-0000-0000-000000000002', displayName: 'Sales (dynamic)', groupTypes: ['DynamicMembership'], membershipRule: '(user.department -eq "Sales")', members: ['b@example.com'] },
    { id: 'aaaaaaaa-0000-0000-0000-000000000003', displayName: 'Team', groupTypes: ['Unified'], mailEnabled: true },
  ],
};
const ASSIGNED = 'aaaaaaaa-0000-0000-0000-000000000001';
const DYNAMIC = 'aaaaaaaa-0000-0000-0000-000000000002';
const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

describe('group properties', () => {
  it('reads groupTypes, membershipRule and membershipRuleProcessingState, with $select', async () => {
    const { graph } = inProcess({ tenant: TENANT });
    const all = (await graph.get('/v1.0/groups')).body.value;
    expect(all.find((g: { id: string }) => g.id === DYNAMIC)).toMatchObject({
      groupTypes: ['DynamicMembership'],
      membershipRule: '(user.department -eq "Sales")',
      membershipRuleProcessingState: 'On',
    });
    expect(all.find((g: { id: string }) => g.id === ASSIGNED)).toMatchObject({ groupTypes: [], membershipRule: null, membershipRuleProcessingState: null });
    const selected = (await graph.get('/v1.0/groups?$select=id,groupTypes,membershipRule')).body.value;
    expect(selected[1]).toEqual({ id: DYNAMIC, groupTypes: ['DynamicMembership'], membershipRule: '(user.department -eq "Sales")' });
    expect((await graph.get(`/v1.0/groups/${DYNAMIC}?$select=membershipRule`)).body).toEqual({
      '@odata.context': expect.any(String),
      id: DYNAMIC,
      membershipRule: '(user.department -eq "Sales")',
    });
  });

  it('refuses a dynamic group without a rule, a rule without DynamicMembership, and unknown group types', () => {
    const load = (group: Record<string, unknown>) => () => inProcess({ tenant: { ...TENANT, groups: [{ displayName: 'G', ...group }] } });
    expect(load({ groupTypes: ['DynamicMembership'] })).toThrow(/\$\.groups\[0\]\.membershipRule: a dynamic group/);
    expect(load({ membershipRule: '(user.x -eq 1)' })).toThrow(/\$\.groups\[0\]\.groupTypes/);
    expect(load({ groupTypes: ['Dynamic'] })).toThrow(/\$\.groups\[0\]\.groupTypes\[0\]/);
  });
});

describe('contacts as group members', () => {
  it('lists them as orgContact among the members, and in the state', async () => {
    const { graph, emu } = inProcess({ tenant: TENANT });
    const members = (await graph.get(`/v1.0/groups/${ASSIGNED}/members`)).body.value;
    expect(members.map((m: { '@odata.type': string }) => m['@odata.type'])).toEqual(['#microsoft.graph.user', '#microsoft.graph.orgContact']);
    expect(members[1]).toMatchObject({ id: CONTACT, displayName: 'Vendor', mail: 'v@vendor.example' });
    expect((await graph.get(`/v1.0/groups/${ASSIGNED}/transitiveMembers?$select=id`)).body.value.map((m: { id: string }) => m.id)).toContain(CONTACT);
    const state = emu.snapshot() as { contacts: unknown[]; groups: { id: string; members: string[] }[] };
    expect(state.contacts).toEqual([{ id: CONTACT, displayName: 'Vendor', mail: 'v@vendor.example' }]);
    expect(state.groups.find((g) => g.id === ASSIGNED)!.members).toContain(CONTACT);
  });

  it('adds and removes a contact by $ref', async () => {
    const { graph, emu } = inProcess({ tenant: TENANT });
    const team = 'aaaaaaaa-0000-0000-0000-000000000003';
    expect((await graph.post(`/v1.0/groups/${team}/members/$ref`, ref(CONTACT))).status).toBe(204);
    expect(emu.state.findGroup(team)!.members).toEqual([CONTACT]);
    expect((await graph.delete(`/v1.0/groups/${team}/members/${CONTACT}/$ref`)).status).toBe(204);
    expect(emu.state.findGroup(team)!.members).toEqual([]);
  });
});

describe('group membership writes', () => {
  it('adds and removes users and reports them in /_emulator/state', async () => {
    const { graph, emu } = inProcess({ tenant: TENANT });
    const b = emu.state.findUser('b@example.com')!.id;
    expect((await graph.post(`/v1.0/groups/${ASSIGNED}/members/$ref`, ref(b))).status).toBe(204);
    expectGraphError(await graph.post(`/v1.0/groups/${ASSIGNED}/members/$ref`, ref(b)), 400, 'Request_BadRequest');
    expect((emu.snapshot() as { groups: { id: string; displayName: string; members: string[] }[] }).groups[0]).toMatchObject({ id: ASSIGNED, displayName: 'Assigned', members: [emu.state.findUser('a@example.com')!.id, CONTACT, b] });
    expect((await graph.delete(`/v1.0/groups/${ASSIGNED}/members/${b}/$ref`)).status).toBe(204);
    expectGraphError(await graph.delete(`/v1.0/groups/${ASSIGNED}/members/${b}/$ref`), 404, 'Request_ResourceNotFound');
  });

  it('refuses adding to or removing from a dynamic group', async () => {
    const { graph, emu } = inProcess({ tenant: TENANT });
    const a = emu.state.findUser('a@example.com')!.id;
    const b = emu.state.findUser('b@example.com')!.id;
    expectGraphError(await graph.post(`/v1.0/groups/${DYNAMIC}/members/$ref`, ref(a)), 400, 'Request_BadRequest');
    expectGraphError(await graph.delete(`/v1.0/groups/${DYNAMIC}/members/${b}/$ref`), 400, 'Request_BadRequest');
    expect(emu.state.findGroup(DYNAMIC)!.members).toEqual([b]);
  });
});

describe('checkMemberGroups (a directoryObject action, for a user)', () => {
  it('answers which of the groups given hold the user, nested groups included; refuses more than 20 and a body that is not a list of ids', async () => {
    const nested = { ...TENANT, groups: [...TENANT.groups, { id: 'aaaaaaaa-0000-0000-0000-000000000004', displayName: 'Outer', members: [ASSIGNED] }] };
    const { graph, emu } = inProcess({ tenant: nested });
    const a = emu.state.findUser('a@example.com')!.id;
    const b = emu.state.findUser('b@example.com')!.id;
    const ask = (user: string, groupIds: unknown) => graph.post(`/v1.0/users/${user}/checkMemberGroups`, { groupIds });
    const all = [ASSIGNED, DYNAMIC, 'aaaaaaaa-0000-0000-0000-000000000004', 'aaaaaaaa-0000-0000-0000-0000000000ff'];
    expect((await ask(a, all)).body.value).toEqual([ASSIGNED, 'aaaaaaaa-0000-0000-0000-000000000004']);
    expect((await ask(b, all)).body.value).toEqual([DYNAMIC]);
    expectGraphError(await ask(a, Array.from({ length: 21 }, () => ASSIGNED)), 400, 'BadRequest');
    expectGraphError(await ask(a, 'not a list'), 400, 'BadRequest');
    expectGraphError(await ask('00000000-0000-0000-0000-00000000dead', [ASSIGNED]), 404, 'Request_ResourceNotFound');
  });
});

describe('memberOf (a user relationship)', () => {
  it("lists the groups the user is a direct member of, not those holding them through a nested group, in pages of $top", async () => {
    const OUTER = 'aaaaaaaa-0000-0000-0000-000000000004';
    const nested = { ...TENANT, groups: [...TENANT.groups, { id: OUTER, displayName: 'Outer', members: [ASSIGNED] }, { id: 'aaaaaaaa-0000-0000-0000-000000000005', displayName: 'Also', members: ['a@example.com'] }] };
    const { graph, emu } = inProcess({ tenant: nested });
    const a = emu.state.findUser('a@example.com')!.id;
    const first = (await graph.get(`/v1.0/users/${a}/memberOf?$select=id&$top=1`)).body;
    expect(first.value).toEqual([{ '@odata.type': '#microsoft.graph.group', id: ASSIGNED }]);
    const second = (await graph.get(first['@odata.nextLink'].replace(/^https?:\/\/[^/]+/, ''))).body;
    expect(second.value).toEqual([{ '@odata.type': '#microsoft.graph.group', id: 'aaaaaaaa-0000-0000-0000-000000000005' }]);
    expect(second['@odata.nextLink']).toBeUndefined();
    expectGraphError(await graph.get('/v1.0/users/00000000-0000-0000-0000-00000000dead/memberOf'), 404, 'Request_ResourceNotFound');
  });
});
