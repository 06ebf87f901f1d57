import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import type { DefaultMethod, PhoneType, TenantHardwareToken, TenantSnapshot, TenantUser } from '../model/tenant.js';
import { BatchScheduler } from './batch-scheduler.js';
import { GraphRequestError, type GraphConnection, type GraphResponse } from './graph-connection.js';
import { UserError } from '../model/user-error.js';

export interface TenantReadOptions {
  /** UPNs of the users in scope. */
  upns: string[];
  /** Token serials the plan may touch. */
  serials: string[];
  /** $batch requests in flight. */
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
}

/** Above this many users the whole directory is listed (999 a page) rather than looked up one by one. */
const LIST_USERS_ABOVE = 200;
/** Above this many serials the whole token inventory is listed rather than filtered serial by serial. */
const LIST_TOKENS_ABOVE = 100;

const DEFAULT_METHODS: ReadonlySet<string> = new Set(['push', 'oath', 'voiceMobile', 'voiceAlternateMobile', 'voiceOffice', 'sms']);

/**
 * Reads what the plan needs from the tenant: the authentication methods policy, the users in
 * scope (matched by UPN, case-insensitively), each user's methods and sign-in preferences (through
 * $batch), and the hardware OATH inventory for the serials in the export. Reads only.
 */
export async function readTenant(conn: GraphConnection, opts: TenantReadOptions): Promise<TenantSnapshot> {
  const v1 = new BatchScheduler(conn, { version: 'v1.0', concurrency: opts.concurrency });
  const beta = new BatchScheduler(conn, { version: 'beta', concurrency: opts.concurrency });
  try {
    return await readWith(conn, v1, beta, opts);
  } catch (err) {
    // One read failed for good: stop the others now rather than after their retries.
    v1.cancel(err);
    beta.cancel(err);
    throw err;
  }
}

async function readWith(conn: GraphConnection, v1: BatchScheduler, beta: BatchScheduler, opts: TenantReadOptions): Promise<TenantSnapshot> {
  const [tenantId, policy, directory, hardwareTokens] = await Promise.all([
    readTenantId(conn),
    conn.get<AuthenticationMethodsPolicy>('/policies/authenticationMethodsPolicy', 'beta'),
    resolveUsers(conn, v1, opts.upns),
    readInventory(conn, beta, opts.serials),
  ]);

  const byAssignee = tokensByAssignee(hardwareTokens);
  const users = new Map<string, TenantUser>();
  let done = 0;
  const found = [...directory.values()];
  await Promise.all(
    found.map(async (u) => {
      const id = encodeURIComponent(u.id);
      const [methods, prefs] = await Promise.all([beta.send({ method: 'GET', url: `/users/${id}/authentication/methods` }), beta.send({ method: 'GET', url: `/users/${id}/authentication/signInPreferences` })]);
      users.set(u.userPrincipalName.toLowerCase(), toTenantUser(u, ok(methods, `methods of ${u.userPrincipalName}`), ok(prefs, `sign-in preferences of ${u.userPrincipalName}`), byAssignee.get(u.id) ?? new Map()));
      opts.onProgress?.(++done, found.length);
    }),
  );
  return { tenantId, policy, users, hardwareTokens };
}

/** Inventory tokens by the user they are assigned to, then by device id. */
export function tokensByAssignee(hardwareTokens: ReadonlyMap<string, TenantHardwareToken[]>): Map<string, Map<string, TenantHardwareToken>> {
  const byAssignee = new Map<string, Map<string, TenantHardwareToken>>();
  for (const list of hardwareTokens.values()) {
    for (const t of list) {
      if (!t.assignedToId) continue;
      let m = byAssignee.get(t.assignedToId);
      if (!m) byAssignee.set(t.assignedToId, (m = new Map()));
      m.set(t.id, t);
    }
  }
  return byAssignee;
}

export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  accountEnabled?: boolean;
}

async function readTenantId(conn: GraphConnection): Promise<string> {
  const res = await conn.request<{ value?: { id: string }[] }>('GET', '/organization?$select=id');
  return res.status === 200 && res.body?.value?.[0]?.id ? res.body.value[0].id : 'unknown';
}

async function resolveUsers(conn: GraphConnection, scheduler: BatchScheduler, upns: string[]): Promise<Map<string, DirectoryUser>> {
  const wanted = new Set(upns.map((u) => u.toLowerCase()));
  const out = new Map<string, DirectoryUser>();
  if (wanted.size > LIST_USERS_ABOVE) {
    for await (const u of conn.pages<DirectoryUser>('/users?$select=id,userPrincipalName,accountEnabled&$top=999')) {
      const key = u.userPrincipalName?.toLowerCase();
      if (key && wanted.has(key)) out.set(key, u);
    }
    return out;
  }
  await Promise.all(
    [...wanted].map(async (upn) => {
      const res = await scheduler.send({ method: 'GET', url: `/users/${encodeURIComponent(upn)}?$select=id,userPrincipalName,accountEnabled` });
      if (res.status === 404) return;
      const u = ok(res, `user ${upn}`) as DirectoryUser;
      out.set(u.userPrincipalName.toLowerCase(), u);
    }),
  );
  return out;
}

async function readInventory(conn: GraphConnection, scheduler: BatchScheduler, serials: string[]): Promise<Map<string, TenantHardwareToken[]>> {
  const out = new Map<string, TenantHardwareToken[]>();
  const add = (d: RawDevice) => {
    const t = toToken(d);
    const key = t.serialNumber.trim().toLowerCase();
    out.set(key, [...(out.get(key) ?? []), t]);
  };
  const unique = [...new Set(serials.map((s) => s.trim()))];
  if (unique.length === 0) return out;
  const path = '/directory/authenticationMethodDevices/hardwareOathDevices';
  if (unique.length > LIST_TOKENS_ABOVE) {
    const wanted = new Set(unique.map((s) => s.toLowerCase()));
    for await (const d of conn.pages<RawDevice>(path, 'beta')) if (wanted.has(String(d.serialNumber).trim().toLowerCase())) add(d);
    return out;
  }
  await Promise.all(
    unique.map(async (serial) => {
      const filter = encodeURIComponent(`serialNumber eq '${serial.replace(/'/g, "''")}'`);
      const res = await scheduler.send({ method: 'GET', url: `${path}?$filter=${filter}` });
      for (const d of (ok(res, `token ${serial}`) as { value: RawDevice[] }).value ?? []) add(d);
    }),
  );
  return out;
}

export interface RawDevice {
  id: string;
  serialNumber: string;
  status?: string;
  hashFunction?: string;
  timeIntervalInSeconds?: number;
  manufacturer?: string;
  model?: string;
  assignedTo?: { id?: string } | null;
}

export function toToken(d: RawDevice): TenantHardwareToken {
  return {
    id: d.id,
    serialNumber: String(d.serialNumber),
    status: d.status ?? 'available',
    ...(d.hashFunction ? { hashFunction: d.hashFunction } : {}),
    ...(d.timeIntervalInSeconds ? { timeIntervalInSeconds: d.timeIntervalInSeconds } : {}),
    ...(d.assignedTo?.id ? { assignedToId: d.assignedTo.id } : {}),
    ...(d.manufacturer ? { manufacturer: d.manufacturer } : {}),
    ...(d.model ? { model: d.model } : {}),
  };
}

export function toTenantUser(u: DirectoryUser, methods: unknown, prefs: unknown, assigned: ReadonlyMap<string, TenantHardwareToken>): TenantUser {
  const user: TenantUser = {
    id: u.id,
    userPrincipalName: u.userPrincipalName,
    ...(u.accountEnabled !== undefined ? { accountEnabled: u.accountEnabled } : {}),
    phones: [],
    emails: [],
    authenticatorCount: 0,
    softwareOathCount: 0,
    hardwareOath: [],
    defaultMethod: null,
  };
  for (const m of ((methods as { value?: Record<string, unknown>[] }).value ?? [])) {
    const type = String(m['@odata.type'] ?? '');
    if (type.endsWith('.phoneAuthenticationMethod')) user.phones.push({ phoneType: m.phoneType as PhoneType, phoneNumber: String(m.phoneNumber) });
    else if (type.endsWith('.emailAuthenticationMethod')) user.emails.push({ id: String(m.id), emailAddress: String(m.emailAddress) });
    else if (type.endsWith('.microsoftAuthenticatorAuthenticationMethod')) user.authenticatorCount++;
    else if (type.endsWith('.softwareOathAuthenticationMethod')) user.softwareOathCount++;
    else if (type.endsWith('.hardwareOathAuthenticationMethod')) {
      const device = m.device as RawDevice | undefined;
      const id = String(device?.id ?? m.id);
      const known = assigned.get(id);
      const serial = (m.serialNumber as string | undefined) ?? device?.serialNumber ?? known?.serialNumber;
      const status = (m.status as string | undefined) ?? device?.status ?? known?.status;
      user.hardwareOath.push({ id, ...(serial ? { serialNumber: String(serial) } : {}), ...(status ? { status } : {}) });
    }
  }
  const preferred = (prefs as { userPreferredMethodForSecondaryAuthentication?: string | null }).userPreferredMethodForSecondaryAuthentication;
  user.defaultMethod = preferred && DEFAULT_METHODS.has(preferred) ? (preferred as DefaultMethod) : null;
  const system = (prefs as { isSystemPreferredAuthenticationMethodEnabled?: boolean }).isSystemPreferredAuthenticationMethodEnabled;
  if (system !== undefined) user.isSystemPreferredEnabled = system;
  return user;
}

function ok(res: GraphResponse, what: string): unknown {
  if (res.status >= 200 && res.status < 300) return res.body;
  throw new GraphRequestError('GET', what, res);
}

export interface ResolvedGroup {
  id: string;
  displayName: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The tenant has no group of that id or name, or several of that name: the admin must say which. */
export class GroupResolutionError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'GroupResolutionError';
  }
}

/** A group by object id or by display name; an ambiguous or unknown name is an error, never a guess. */
export async function resolveGroup(conn: GraphConnection, nameOrId: string): Promise<ResolvedGroup> {
  if (GUID.test(nameOrId)) {
    const path = `/groups/${nameOrId}?$select=id,displayName`;
    const res = await conn.request<ResolvedGroup>('GET', path);
    if (res.status === 404) throw new GroupResolutionError(`no group has the object id ${nameOrId}`);
    const g = ok(res, `group ${nameOrId}`) as ResolvedGroup;
    return { id: g.id, displayName: g.displayName };
  }
  const filter = encodeURIComponent(`displayName eq '${nameOrId.replace(/'/g, "''")}'`);
  const found: ResolvedGroup[] = [];
  for await (const g of conn.pages<ResolvedGroup>(`/groups?$filter=${filter}&$select=id,displayName`)) found.push(g);
  if (found.length === 0) throw new GroupResolutionError(`no group is named "${nameOrId}"`);
  if (found.length > 1) throw new GroupResolutionError(`${found.length} groups are named "${nameOrId}"; give the object id instead (${found.map((g) => g.id).join(', ')})`);
  return found[0]!;
}

/** UPNs of a group's members, nested groups included. */
export async function groupMemberUpns(conn: GraphConnection, groupId: string): Promise<string[]> {
  const out: string[] = [];
  for await (const m of conn.pages<{ '@odata.type'?: string; userPrincipalName?: string }>(`/groups/${groupId}/transitiveMembers?$select=id,userPrincipalName`)) {
    if (m.userPrincipalName) out.push(m.userPrincipalName);
  }
  return out;
}
