import { activationRefusal } from '../activation-gate.js';
import { errors, GraphError } from '../graph-error.js';
import { parseSecretKey, verifyTotp, type HashFunction } from '../oath-secret.js';
import { compileFilter, parseSelect, parseTop, type FilterFields } from '../odata-query.js';
import { pageOf } from '../paging.js';
import { ASSIGN_ON_CREATE, grantProblem } from '../permissions.js';
import { isPlainObject } from '../policy-rules.js';
import { deviceJson, hardwareMethodJson } from '../representations.js';
import type { HandlerContext, HandlerResult, Router } from '../router.js';
import { MAX_OATH_AND_AUTHENTICATOR, oathAndAuthenticatorCount, type DeviceRecord, type EmulatorState, type UserRecord } from '../state.js';
import { collection, entity, lagMs, NO_CONTENT, objectBody, rejectQueryOptions, requireUser } from './common.js';

const DEVICES = 'directory/authenticationMethodDevices/hardwareOathDevices';
const METHODS = 'users/{user}/authentication/hardwareOathMethods';
const DEVICE_TYPE = 'hardwareOathTokenAuthenticationMethodDevice';

/** Hardware OATH tokens (beta only): the tenant's inventory, and the tokens assigned to a user. */
export function registerHardwareOathRoutes(router: Router): void {
  const beta = ['beta' as const];
  router.add({ pattern: DEVICES, versions: beta, handlers: { GET: listDevices, POST: createDevices, PATCH: createDevicesDelta } });
  router.add({ pattern: `${DEVICES}/{device}`, versions: beta, handlers: { GET: getDevice, PATCH: updateDevice, DELETE: deleteDevice } });
  router.add({ pattern: METHODS, versions: beta, handlers: { GET: listUserTokens, POST: assignUserToken } });
  router.add({ pattern: `${METHODS}/{id}`, versions: beta, handlers: { GET: getUserToken, DELETE: unassignUserToken } });
  router.add({ pattern: `${METHODS}/{id}/activate`, versions: beta, handlers: { POST: activateUserToken } });
  router.add({ pattern: `${METHODS}/{id}/deactivate`, versions: beta, handlers: { POST: deactivateUserToken } });
  router.add({ pattern: `${METHODS}/assignAndActivate`, versions: beta, handlers: { POST: assignAndActivate } });
  router.add({ pattern: `${METHODS}/assignAndActivateBySerialNumber`, versions: beta, handlers: { POST: assignAndActivateBySerialNumber } });
}

const DEVICE_PROPERTIES = [
  'id',
  'displayName',
  'serialNumber',
  'manufacturer',
  'model',
  'secretKey',
  'timeIntervalInSeconds',
  'status',
  'lastUsedDateTime',
  'hashFunction',
  'assignedTo',
];

const DEVICE_FILTER: FilterFields<{ d: DeviceRecord; state: EmulatorState }> = {
  id: ({ d }) => d.id,
  serialnumber: ({ d }) => d.serialNumber,
  manufacturer: ({ d }) => d.manufacturer,
  model: ({ d }) => d.model,
  status: ({ d }) => d.status,
  displayname: ({ d }) => d.displayName,
  'assignedto/id': ({ d }) => d.assignedTo,
};

/** Assigning another token to a user must keep them within Entra's limit of five; guests get none. */
function checkRoomFor(user: UserRecord, extra = 1): void {
  if (user.props['userType'] === 'Guest') throw errors.ruleViolation('Hardware OATH tokens cannot be assigned to guest users.');
  if (oathAndAuthenticatorCount(user) + extra > MAX_OATH_AND_AUTHENTICATOR) {
    throw errors.ruleViolation(
      `The user already has the maximum of ${MAX_OATH_AND_AUTHENTICATOR} OATH tokens and Microsoft Authenticator registrations.`,
    );
  }
}

function assign(device: DeviceRecord, user: UserRecord): void {
  device.assignedTo = user.id;
  device.status = 'assigned';
  user.hardwareOath.push(device.id);
}

/** Back to the inventory, available; a legacy token (never in the inventory) is gone with its method. */
function unassign(state: EmulatorState, device: DeviceRecord): void {
  const owner = device.assignedTo ? state.findUser(device.assignedTo) : undefined;
  if (owner) owner.hardwareOath = owner.hardwareOath.filter((id) => id !== device.id);
  if (!device.inInventory) return state.removeDevice(device);
  device.assignedTo = null;
  device.status = 'available';
}

// ---- inventory ----

interface NewDevice {
  device: DeviceRecord;
  assignTo: UserRecord | undefined;
}

/** Checks one device of a create request; `where` prefixes messages in a bulk request. */
function parseNewDevice(ctx: HandlerContext, body: unknown, where: string): NewDevice {
  if (!isPlainObject(body)) throw errors.badRequest(`${where}each device must be a JSON object.`);
  const allowed = ['serialNumber', 'manufacturer', 'model', 'secretKey', 'timeIntervalInSeconds', 'hashFunction', 'displayName', 'assignTo'];
  for (const key of Object.keys(body)) {
    if (key.startsWith('@')) continue; // @odata.type, @contentId
    if (!allowed.includes(key)) throw errors.unknownProperty(key, DEVICE_TYPE);
  }
  const required = (name: string): string => {
    const v = body[name];
    if (typeof v !== 'string' || v.trim() === '') throw errors.badRequest(`${where}${name} is required.`);
    return v;
  };
  const serialNumber = required('serialNumber');
  const manufacturer = required('manufacturer');
  const model = required('model');
  if (body['secretKey'] === undefined || body['secretKey'] === null) throw errors.badRequest(`${where}secretKey is required.`);
  const secret = parseSecretKey(body['secretKey']);
  if ('reason' in secret) throw errors.badRequest(`${where}${secret.reason}.`);
  // Graph's own sample sends the interval as a string ("30").
  const interval = Number(body['timeIntervalInSeconds']);
  if (body['timeIntervalInSeconds'] === undefined) throw errors.badRequest(`${where}timeIntervalInSeconds is required.`);
  if (interval !== 30 && interval !== 60) throw errors.badRequest(`${where}timeIntervalInSeconds must be 30 or 60.`);
  // The admin center's CSV spells them HMACSHA1 and HMACSHA256: any case is taken.
  const rawHash = body['hashFunction'] ?? 'hmacsha1';
  const hash = typeof rawHash === 'string' ? rawHash.toLowerCase() : rawHash;
  if (hash !== 'hmacsha1' && hash !== 'hmacsha256') throw errors.badRequest(`${where}hashFunction must be hmacsha1 or hmacsha256.`);
  const displayName = body['displayName'];
  if (displayName !== undefined && displayName !== null && typeof displayName !== 'string') {
    throw errors.badRequest(`${where}displayName must be a string.`);
  }
  let assignTo: UserRecord | undefined;
  if (body['assignTo'] !== undefined && body['assignTo'] !== null) {
    const ref = body['assignTo'];
    const id = isPlainObject(ref) ? ref['id'] : undefined;
    if (typeof id !== 'string') throw errors.badRequest(`${where}assignTo must be {"id": "<user id>"}.`);
    assignTo = ctx.state.findUser(id);
    if (!assignTo) throw errors.resourceNotFound(id);
  }
  return {
    device: {
      id: ctx.state.ids.uuid(),
      serialNumber,
      manufacturer,
      model,
      displayName: (displayName as string | null | undefined) ?? null,
      secret: secret.secret,
      timeIntervalInSeconds: interval,
      hashFunction: hash as HashFunction,
      status: 'available',
      assignedTo: null,
      lastUsedDateTime: null,
      inInventory: true,
    },
    assignTo,
  };
}

/** Validates every device first, so a bulk request creates all or nothing. */
function createAll(ctx: HandlerContext, items: unknown[], bulk: boolean): DeviceRecord[] {
  if (items.length === 0) throw errors.badRequest('The request contains no devices.');
  // Assigning in the create takes the user-methods permission too (the route's own is the inventory's).
  if (items.some((item) => isPlainObject(item) && item['assignTo'] !== undefined && item['assignTo'] !== null)) {
    const denied = grantProblem(ASSIGN_ON_CREATE, ctx.req.grant);
    if (denied) throw denied;
  }
  const parsed = items.map((item, i) => {
    const contentId = isPlainObject(item) && item['@contentId'] !== undefined ? String(item['@contentId']) : String(i + 1);
    return parseNewDevice(ctx, item, bulk ? `value[${i}] (@contentId ${contentId}): ` : '');
  });
  const extraPerUser = new Map<UserRecord, number>();
  for (const p of parsed) if (p.assignTo) extraPerUser.set(p.assignTo, (extraPerUser.get(p.assignTo) ?? 0) + 1);
  for (const [user, extra] of extraPerUser) checkRoomFor(user, extra);
  // Nothing stops the same serial number from being created twice: as in Graph, avoiding duplicates is the client's job.
  const lag = lagMs(ctx);
  return parsed.map((p) => {
    ctx.state.addDevice(p.device);
    if (p.assignTo) assign(p.device, p.assignTo);
    if (lag > 0) ctx.state.hideUntil(p.device, performance.now() + lag);
    return p.device;
  });
}

function isDelta(body: unknown): body is { value: unknown[] } {
  return isPlainObject(body) && Array.isArray(body['value']);
}

function bulkResult(ctx: HandlerContext, devices: DeviceRecord[]): HandlerResult {
  return { status: 201, body: { value: devices.map((d) => hardwareMethodJson(ctx.state, d)) } };
}

/** POST one device, or (as Graph's sample does) a `{"@context":"#$delta","value":[...]}` bulk body. */
function createDevices(ctx: HandlerContext): HandlerResult {
  if (isDelta(ctx.req.body)) return bulkResult(ctx, createAll(ctx, ctx.req.body.value, true));
  const [device] = createAll(ctx, [ctx.req.body], false);
  return entity(ctx, `${DEVICES}/$entity`, deviceJson(ctx.state, device!), 201);
}

/** PATCH of the collection with a `#$delta` body: bulk creation, as Graph's HTTP reference documents it. */
function createDevicesDelta(ctx: HandlerContext): HandlerResult {
  if (!isDelta(ctx.req.body)) throw errors.badRequest('A PATCH of the collection needs a {"@context":"#$delta","value":[...]} body.');
  const withIds = ctx.req.body.value.findIndex((v) => isPlainObject(v) && ('id' in v || '@removed' in v));
  if (withIds >= 0) throw errors.badRequest(`value[${withIds}]: the emulator supports creating devices in a delta body, not updating or removing them.`);
  return bulkResult(ctx, createAll(ctx, ctx.req.body.value, true));
}

/** An inventory item in the tenant's shape: the device, or (inventoryShape 'method') a method holding it under `device`. */
function inventoryItem(ctx: HandlerContext, d: DeviceRecord, select: string[] | undefined): Record<string, unknown> {
  const json = deviceJson(ctx.state, d) as unknown as Record<string, unknown>;
  let device = json;
  if (select) {
    device = { '@odata.type': json['@odata.type'], id: d.id };
    for (const name of select) device[name] = json[name];
  }
  if (ctx.state.behaviour.inventoryShape === 'device') return device;
  const { '@odata.type': _type, ...inner } = device;
  return { '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethod', id: d.id, device: inner };
}

function listDevices(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select', '$top', '$filter']);
  const select = parseSelect(ctx.req.query, DEVICE_PROPERTIES, DEVICE_TYPE);
  const filterText = ctx.req.query.get('$filter');
  const filter = filterText !== null ? compileFilter(filterText, DEVICE_FILTER, 'HardwareOathTokenAuthenticationMethodDevice') : undefined;
  const inventory = ctx.state.inventory();
  const devices = filter ? inventory.filter((d) => filter({ d, state: ctx.state })) : inventory;
  const top = parseTop(ctx.req.query) ?? 100;
  const { page, next } = pageOf(devices, ctx.pages.offsetOf(ctx.req), top);
  const extra: Record<string, unknown> = {};
  if (next !== undefined) extra['@odata.nextLink'] = ctx.pages.nextLink(ctx.baseUrl, ctx.req, next);
  return collection(ctx, DEVICES, page.map((d) => inventoryItem(ctx, d, select)), extra);
}

/** An inventory token by id; legacy tokens held by users are not in the inventory. */
function requireDevice(ctx: HandlerContext): DeviceRecord {
  const key = ctx.params['device']!;
  const device = ctx.state.findDevice(key);
  if (!device?.inInventory) throw errors.resourceNotFound(key);
  return device;
}

/** The device; in the 'method' shape wrapped in `value`, as Graph's Get example shows it. */
function getDevice(ctx: HandlerContext): HandlerResult {
  const device = deviceJson(ctx.state, requireDevice(ctx));
  if (ctx.state.behaviour.inventoryShape === 'method') return entity(ctx, `${DEVICES}/$entity`, { value: device });
  return entity(ctx, `${DEVICES}/$entity`, device);
}

function updateDevice(ctx: HandlerContext): HandlerResult {
  const device = requireDevice(ctx);
  const body = objectBody(ctx, ['displayName'], DEVICE_TYPE);
  const name = body['displayName'];
  if (name !== undefined && name !== null && typeof name !== 'string') throw errors.badRequest('displayName must be a string.');
  if (name !== undefined) device.displayName = name as string | null;
  return NO_CONTENT;
}

function deleteDevice(ctx: HandlerContext): HandlerResult {
  const device = requireDevice(ctx);
  if (device.assignedTo) throw errors.ruleViolation('The hardware OATH token is assigned to a user: unassign it before deleting it.');
  ctx.state.removeDevice(device);
  return NO_CONTENT;
}

// ---- a user's tokens ----

function listUserTokens(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const devices = user.hardwareOath.map((id) => ctx.state.findDevice(id)).filter((d) => d !== undefined);
  return collection(ctx, `users('${ctx.params['user']}')/authentication/hardwareOathMethods`, devices.map((d) => hardwareMethodJson(ctx.state, d)));
}

/** The user's token by its method id (which is the device id). */
function requireUserToken(ctx: HandlerContext): { user: UserRecord; device: DeviceRecord } {
  const user = requireUser(ctx);
  const id = ctx.params['id']!.toLowerCase();
  const device = user.hardwareOath.includes(id) ? ctx.state.findDevice(id) : undefined;
  if (!device || !ctx.state.isAssignmentVisible(device)) throw errors.itemNotFound('hardware OATH method', ctx.params['id']!);
  return { user, device };
}

function getUserToken(ctx: HandlerContext): HandlerResult {
  const { device } = requireUserToken(ctx);
  return entity(ctx, `users('${ctx.params['user']}')/authentication/hardwareOathMethods/$entity`, hardwareMethodJson(ctx.state, device));
}

/** The inventory device a `{"device": {"id"}}` body names, free to be assigned to `user` (else Graph's error). */
function deviceToAssign(ctx: HandlerContext, user: UserRecord, ref: unknown): DeviceRecord {
  const id = isPlainObject(ref) ? ref['id'] : undefined;
  if (typeof id !== 'string') throw errors.badRequest('The body must be {"device": {"id": "<hardware OATH device id>"}}.');
  const device = ctx.state.findDevice(id);
  if (!device?.inInventory) throw errors.resourceNotFound(id);
  checkAssignable(user, device);
  return device;
}

function checkAssignable(user: UserRecord, device: DeviceRecord): void {
  if (device.assignedTo === user.id) throw errors.conflict('The hardware OATH token is already assigned to this user.');
  if (device.assignedTo) throw errors.ruleViolation('The hardware OATH token is assigned to another user; a token can be assigned to one user only.');
  checkRoomFor(user);
}

function assignUserToken(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const body = objectBody(ctx, ['device', 'displayName'], 'hardwareOathAuthenticationMethod');
  const device = deviceToAssign(ctx, user, body['device']);
  if (typeof body['displayName'] === 'string') device.displayName = body['displayName'];
  assign(device, user);
  ctx.state.holdAssignment(device, performance.now() + lagMs(ctx));
  return entity(ctx, `users('${ctx.params['user']}')/authentication/hardwareOathMethods/$entity`, hardwareMethodJson(ctx.state, device), 201);
}

/** Unassigning returns the token to the inventory (status available), as Graph does. */
function unassignUserToken(ctx: HandlerContext): HandlerResult {
  const { device } = requireUserToken(ctx);
  unassign(ctx.state, device);
  return NO_CONTENT;
}

/** The action parameters `verificationCode` (required) and `displayName` (optional) of an activation body. */
function activationBody(ctx: HandlerContext, others: readonly string[]): { code: string; displayName: string | undefined; body: Record<string, unknown> } {
  const body = objectBody(ctx, ['verificationCode', 'displayName', ...others], 'hardwareOathAuthenticationMethod');
  const code = body['verificationCode'];
  if (typeof code !== 'string' || code.length === 0) throw errors.badRequest('verificationCode is required.');
  const displayName = body['displayName'];
  if (displayName !== undefined && displayName !== null && typeof displayName !== 'string') throw errors.badRequest('displayName must be a string.');
  return { code, displayName: typeof displayName === 'string' ? displayName : undefined, body };
}

/** True when `code` is the token's code now (±1 step). */
function codeIsValid(device: DeviceRecord, code: string): boolean {
  return device.secret !== null && verifyTotp(device.secret, code, device.timeIntervalInSeconds, device.hashFunction);
}

function invalidCode(): GraphError {
  return new GraphError(400, 'badRequest', 'The verification code is not valid for this hardware OATH token.');
}

function markActivated(ctx: HandlerContext, device: DeviceRecord, displayName: string | undefined): void {
  if (device.status !== 'activated') ctx.state.unsettledUntil(device, performance.now() + lagMs(ctx));
  device.status = 'activated';
  device.lastUsedDateTime = new Date().toISOString();
  if (displayName !== undefined) device.displayName = displayName;
}

/** The policy propagation delay and the activation pace (behaviour switches), checked before the code. */
function checkActivationAllowed(ctx: HandlerContext): void {
  const refusal = activationRefusal(ctx.state, ctx.timeScale);
  if (refusal) throw refusal;
}

function activateUserToken(ctx: HandlerContext): HandlerResult {
  const { device } = requireUserToken(ctx);
  const { code, displayName } = activationBody(ctx, []);
  checkActivationAllowed(ctx);
  if (!codeIsValid(device, code)) {
    // A wrong code leaves an already activated token as it was.
    if (device.status !== 'activated') device.status = 'failedActivation';
    throw invalidCode();
  }
  markActivated(ctx, device, displayName);
  return NO_CONTENT;
}

/** Deactivating keeps the token assigned to the user, as Graph documents ("It remains assigned"). */
function deactivateUserToken(ctx: HandlerContext): HandlerResult {
  const { device } = requireUserToken(ctx);
  if (ctx.req.body !== undefined) objectBody(ctx, [], 'hardwareOathAuthenticationMethod');
  device.status = 'assigned';
  return NO_CONTENT;
}

/**
 * Assigns and activates in one step: nothing changes unless the code is valid (a wrong code leaves the
 * token unassigned, in the inventory).
 */
function assignAndActivateDevice(ctx: HandlerContext, user: UserRecord, device: DeviceRecord, code: string, displayName: string | undefined): HandlerResult {
  checkActivationAllowed(ctx);
  if (!codeIsValid(device, code)) throw invalidCode();
  assign(device, user);
  markActivated(ctx, device, displayName);
  return NO_CONTENT;
}

function assignAndActivate(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const { code, displayName, body } = activationBody(ctx, ['device']);
  return assignAndActivateDevice(ctx, user, deviceToAssign(ctx, user, body['device']), code, displayName);
}

/**
 * By serial number: the inventory's token with that serial. Serials may repeat in the inventory; then
 * the one token still available is taken, and several available ones are refused as ambiguous.
 */
function assignAndActivateBySerialNumber(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const { code, displayName, body } = activationBody(ctx, ['serialNumber']);
  const serial = body['serialNumber'];
  if (typeof serial !== 'string' || serial.length === 0) throw errors.badRequest('serialNumber is required.');
  const matches = ctx.state.inventory().filter((d) => d.serialNumber === serial);
  if (matches.length === 0) throw errors.resourceNotFound(serial);
  const available = matches.filter((d) => !d.assignedTo);
  if (available.length > 1) {
    throw errors.badRequest(`${available.length} hardware OATH tokens in the inventory have the serial number '${serial}': assign one by its id.`);
  }
  const device = available[0] ?? matches.find((d) => d.assignedTo === user.id) ?? matches[0]!;
  checkAssignable(user, device);
  return assignAndActivateDevice(ctx, user, device, code, displayName);
}
