import { authenticationTypeOf } from '../domain-roots.js';
import { errors, GraphError } from '../graph-error.js';
import { compileFilter, parseCount, parseSelect, parseTop, type FilterFields } from '../odata-query.js';
import { pageOf } from '../paging.js';
import { CONTACT_PROPERTIES, GROUP_PROPERTIES, USER_PROPERTIES, contactJson, groupJson, userJson } from '../representations.js';
import type { HandlerContext, HandlerResult, Router } from '../router.js';
import { insufficientPrivileges, readsBasicProfileOnly } from '../permissions.js';
import { checkRolloutGroupMemberAdd } from '../rollout-rules.js';
import { isDynamicGroup, objectId, type GroupRecord, type UserRecord } from '../state.js';
import { collection, entity, NO_CONTENT, objectBody, rejectQueryOptions, requireUser } from './common.js';

/** Users and groups: the directory objects the tool reads to find who to migrate. */
export function registerDirectoryRoutes(router: Router): void {
  router.add({ pattern: 'users', readCost: 2, handlers: { GET: listUsers } });
  router.add({ pattern: 'users/{user}', handlers: { GET: getUser } });
  router.add({ pattern: 'groups', handlers: { GET: listGroups } });
  router.add({ pattern: 'groups/{group}', handlers: { GET: getGroup } });
  router.add({ pattern: 'groups/{group}/members', readCost: 3, handlers: { GET: (ctx) => listMembers(ctx, false) } });
  router.add({ pattern: 'groups/{group}/transitiveMembers', readCost: 5, handlers: { GET: (ctx) => listMembers(ctx, true) } });
  router.add({ pattern: 'groups/{group}/members/$ref', handlers: { POST: addMember } });
  router.add({ pattern: 'groups/{group}/members/{member}/$ref', handlers: { DELETE: removeMember } });
  router.add({ pattern: 'users/{user}/checkMemberGroups', handlers: { POST: checkMemberGroups } });
  router.add({ pattern: 'users/{user}/memberOf', readCost: 2, handlers: { GET: listMemberOf } });
  router.add({ pattern: 'organization', handlers: { GET: listOrganization } });
}

/** v1.0's organization properties; those the emulator does not model are null. */
const ORGANIZATION_PROPERTIES = [
  'id', 'assignedPlans', 'businessPhones', 'city', 'country', 'countryLetterCode', 'createdDateTime', 'defaultUsageLocation', 'displayName',
  'marketingNotificationEmails', 'onPremisesLastSyncDateTime', 'onPremisesSyncEnabled', 'partnerTenantType', 'postalCode', 'preferredLanguage',
  'privacyProfile', 'provisionedPlans', 'securityComplianceNotificationMails', 'securityComplianceNotificationPhones', 'state', 'street',
  'technicalNotificationMails', 'tenantType', 'verifiedDomains',
];

/** The tenant itself (clients read its id and name from here), with its verified domains. */
function listOrganization(ctx: HandlerContext): HandlerResult {
  const { tenant, domains } = ctx.state;
  const select = parseSelect(ctx.req.query, ORGANIZATION_PROPERTIES, 'organization');
  const full: Record<string, unknown> = {
    ...Object.fromEntries(ORGANIZATION_PROPERTIES.map((k) => [k, null])),
    id: tenant.id,
    displayName: tenant.displayName,
    verifiedDomains: domains
      .filter((d) => d.isVerified)
      .map((d) => ({ name: d.id, isDefault: d.isDefault, isInitial: d.isInitial, type: authenticationTypeOf(domains, d), capabilities: 'Email' })),
  };
  return collection(ctx, 'organization', [select ? Object.fromEntries(['id', ...select].map((k) => [k, full[k]])) : full]);
}

const USER_NAMES = Object.keys(USER_PROPERTIES);
const GROUP_NAMES = Object.keys(GROUP_PROPERTIES);
const MEMBER_NAMES = [...new Set([...USER_NAMES, ...GROUP_NAMES, ...Object.keys(CONTACT_PROPERTIES)])];
const DEFAULT_PAGE = 100;

const USER_FILTER: FilterFields<UserRecord> = {
  id: (u) => u.id,
  userprincipalname: (u) => u.userPrincipalName,
  displayname: (u) => u.props['displayName'],
  mail: (u) => u.props['mail'],
  givenname: (u) => u.props['givenName'],
  surname: (u) => u.props['surname'],
  accountenabled: (u) => u.props['accountEnabled'],
  usertype: (u) => u.props['userType'] ?? 'Member',
  employeeid: (u) => u.props['employeeId'],
  onpremisesuserprincipalname: (u) => u.props['onPremisesUserPrincipalName'],
  onpremisessamaccountname: (u) => u.props['onPremisesSamAccountName'],
};

/**
 * Properties Graph filters on only in an advanced query (`ConsistencyLevel: eventual` and `$count=true`):
 * learn.microsoft.com/graph/aad-advanced-queries, the directory objects' filter table (onPremisesSamAccountName:
 * eq and in advanced only; onPremisesUserPrincipalName: by default).
 */
const USER_ADVANCED_FILTER: ReadonlySet<string> = new Set(['onpremisessamaccountname']);

/** Properties `endswith` tests, in an advanced query only (the same table: mail, userPrincipalName). */
const USER_ENDS_WITH: ReadonlySet<string> = new Set(['userprincipalname', 'mail']);

const GROUP_FILTER: FilterFields<GroupRecord> = {
  id: (g) => g.id,
  displayname: (g) => g.props['displayName'],
  mail: (g) => g.props['mail'],
  mailnickname: (g) => g.props['mailNickname'],
};

function selectFragment(base: string, select: string[] | undefined): string {
  return select ? `${base}(${select.join(',')})` : base;
}

/** One page of a directory collection, with Graph's @odata.count and absolute @odata.nextLink. */
function page<T>(ctx: HandlerContext, items: T[], fragment: string, toJson: (item: T) => unknown): HandlerResult {
  const top = parseTop(ctx.req.query) ?? DEFAULT_PAGE;
  const count = parseCount(ctx.req.query, ctx.req.headers);
  const offset = ctx.pages.offsetOf(ctx.req);
  const { page: slice, next } = pageOf(items, offset, top);
  const extra: Record<string, unknown> = {};
  // On the first page only, as Graph sends it (its paging guide).
  if (count && offset === 0) extra['@odata.count'] = items.length;
  if (next !== undefined) extra['@odata.nextLink'] = ctx.pages.nextLink(ctx.baseUrl, ctx.req, next);
  return collection(ctx, fragment, slice.map(toJson), extra);
}

function listUsers(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select', '$top', '$filter', '$count']);
  const select = parseSelect(ctx.req.query, USER_NAMES, 'user');
  const filterText = ctx.req.query.get('$filter');
  const advanced = parseCount(ctx.req.query, ctx.req.headers);
  const filter = filterText !== null ? compileFilter(filterText, USER_FILTER, 'User', advanced ? undefined : USER_ADVANCED_FILTER, advanced ? USER_ENDS_WITH : undefined) : undefined;
  // `id in (...)` (apply's re-check, 15 ids a request) looked up rather than matched against everyone.
  const ids = filter?.equals?.field === 'id' && filter.equals.values.every((v) => typeof v === 'string') ? (filter.equals.values as string[]).map((v) => v.toLowerCase()) : undefined;
  const byId = (id: string) => {
    const u = ctx.state.findUser(id);
    return u && u.id.toLowerCase() === id ? [u] : [];
  };
  const users = ids ? [...new Set(ids.flatMap(byId))] : filter ? ctx.state.users.filter(filter) : ctx.state.users;
  const basic = readsBasicProfileOnly(ctx.req.grant);
  return page(ctx, users, selectFragment('users', select), (u) => userJson(u, ctx.req.version, select, basic));
}

function getUser(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select']);
  const key = ctx.params['user']!;
  const user = ctx.state.findUser(key);
  if (!user) throw errors.resourceNotFound(key);
  const select = parseSelect(ctx.req.query, USER_NAMES, 'user');
  return entity(ctx, `${selectFragment('users', select)}/$entity`, userJson(user, ctx.req.version, select, readsBasicProfileOnly(ctx.req.grant)));
}

function listGroups(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select', '$top', '$filter', '$count']);
  const select = parseSelect(ctx.req.query, GROUP_NAMES, 'group');
  const filterText = ctx.req.query.get('$filter');
  const filter = filterText !== null ? compileFilter(filterText, GROUP_FILTER, 'Group') : undefined;
  const groups = filter ? ctx.state.groups.filter(filter) : ctx.state.groups;
  return page(ctx, groups, selectFragment('groups', select), (g) => groupJson(g, select));
}

function requireGroup(ctx: HandlerContext): GroupRecord {
  const key = ctx.params['group']!;
  const group = ctx.state.findGroup(key);
  if (!group) throw errors.resourceNotFound(key);
  return group;
}

function getGroup(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select']);
  const group = requireGroup(ctx);
  const select = parseSelect(ctx.req.query, GROUP_NAMES, 'group');
  return entity(ctx, `${selectFragment('groups', select)}/$entity`, groupJson(group, select));
}

function listMembers(ctx: HandlerContext, transitive: boolean): HandlerResult {
  rejectQueryOptions(ctx, ['$select', '$top', '$count']);
  const group = requireGroup(ctx);
  // Graph lists a hidden-membership group's members only to callers granted Member.Read.Hidden.
  const grant = ctx.req.grant;
  if (group.props['visibility'] === 'HiddenMembership' && grant !== 'unscoped' && !grant.permissions.has('Member.Read.Hidden')) throw insufficientPrivileges();
  const select = parseSelect(ctx.req.query, MEMBER_NAMES, 'directoryObject');
  const ids = transitive ? transitiveMemberIds(ctx, group) : group.members;
  // Members are looked up a page at a time: looking every one up for each page made listing a group
  // of 50,000 quadratic. Every member id names an object (the tenant file and addMember check it).
  return page(ctx, ids, 'directoryObjects', (id) => {
    const o = ctx.state.directoryObject(id);
    if (o === undefined) throw new Error(`emulator: group ${group.id} holds ${id}, which is no directory object`);
    if (o.kind === 'user') {
      const names = select?.filter((n) => n in USER_PROPERTIES);
      return { '@odata.type': '#microsoft.graph.user', ...userJson(o.user, ctx.req.version, names) };
    }
    if (o.kind === 'contact') {
      const names = select?.filter((n) => n in CONTACT_PROPERTIES);
      return { '@odata.type': '#microsoft.graph.orgContact', ...contactJson(o.contact, names) };
    }
    const names = select?.filter((n) => n in GROUP_PROPERTIES);
    return { '@odata.type': '#microsoft.graph.group', ...groupJson(o.group, names) };
  });
}

/** Members of nested groups too (the nested groups themselves included), each once, breadth first. */
function transitiveMemberIds(ctx: HandlerContext, group: GroupRecord): string[] {
  const seen = new Set<string>([group.id]);
  const out: string[] = [];
  const queue = [group];
  while (queue.length > 0) {
    const g = queue.shift()!;
    for (const id of g.members) {
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(id);
      const nested = ctx.state.findGroup(id);
      if (nested) queue.push(nested);
    }
  }
  return out;
}

/** The object id a `{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}` body names. */
export function referencedId(ctx: HandlerContext): string {
  const body = ctx.req.body as Record<string, unknown> | undefined;
  const ref = body && typeof body === 'object' ? body['@odata.id'] : undefined;
  if (typeof ref !== 'string' || ref.length === 0) {
    throw new GraphError(400, 'Request_BadRequest', "The request body must carry '@odata.id' with the URL of the directory object to add.");
  }
  return decodeURIComponent(ref.replace(/[?#].*$/, '').replace(/\/+$/, '').split('/').pop() ?? '');
}

function refusedForDynamicGroup(): GraphError {
  return new GraphError(400, 'Request_BadRequest', 'The members of a dynamic group are computed from its membership rule and cannot be added or removed.');
}

function addMember(ctx: HandlerContext): HandlerResult {
  const group = requireGroup(ctx);
  const id = referencedId(ctx);
  const member = ctx.state.directoryObject(id);
  if (!member) throw errors.resourceNotFound(id);
  const memberId = objectId(member);
  if (isDynamicGroup(group)) throw refusedForDynamicGroup();
  if (memberId === group.id) throw new GraphError(400, 'Request_BadRequest', 'A group cannot be added as a member of itself.');
  if (group.members.includes(memberId)) {
    throw new GraphError(
      400,
      'Request_BadRequest',
      "One or more added object references already exist for the following modified properties: 'members'.",
    );
  }
  checkRolloutGroupMemberAdd(ctx.state, group, member.kind);
  group.members.push(memberId);
  return NO_CONTENT;
}

function removeMember(ctx: HandlerContext): HandlerResult {
  const group = requireGroup(ctx);
  const key = ctx.params['member']!.toLowerCase();
  const i = group.members.indexOf(key);
  if (i < 0) throw errors.resourceNotFound(ctx.params['member']!);
  if (isDynamicGroup(group)) throw refusedForDynamicGroup();
  group.members.splice(i, 1);
  return NO_CONTENT;
}

/** user: memberOf, the groups the user is a direct member of (the emulator has no roles or administrative units). */
function listMemberOf(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select', '$top', '$count']);
  const user = requireUser(ctx);
  const select = parseSelect(ctx.req.query, GROUP_NAMES, 'group');
  const groups = ctx.state.groups.filter((g) => g.members.includes(user.id));
  return page(ctx, groups, 'directoryObjects', (g) => ({ '@odata.type': '#microsoft.graph.group', ...groupJson(g, select) }));
}

/** Graph's limit on the groups one checkMemberGroups call asks about. */
const CHECK_MEMBER_GROUPS_MAX = 20;

/** directoryObject: checkMemberGroups, for a user: which of the groups given hold the user, nested groups included. */
function checkMemberGroups(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, []);
  const user = requireUser(ctx);
  const body = objectBody(ctx, ['groupIds'], 'checkMemberGroups');
  const ids = body['groupIds'];
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw errors.badRequest("'groupIds' must be a collection of strings.");
  if (ids.length > CHECK_MEMBER_GROUPS_MAX) throw errors.badRequest(`At most ${CHECK_MEMBER_GROUPS_MAX} groups can be checked in one request.`);
  const held = (ids as string[]).filter((id) => {
    const group = ctx.state.findGroup(id);
    return group !== undefined && transitiveMemberIds(ctx, group).includes(user.id);
  });
  return collection(ctx, 'Collection(Edm.String)', held);
}
