import { encodeBase32 } from '../../otp/base32.js';
import type { GraphCall } from '../graph-call.js';

/** The tenant's hardware OATH token inventory: beta only. */
const INVENTORY = '/directory/authenticationMethodDevices/hardwareOathDevices';
const userTokens = (userId: string) => `/users/${encodeURIComponent(userId)}/authentication/hardwareOathMethods`;

/** A device of the inventory as Graph returns it; items may come flat or with the device under `device`. */
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

/** Inventory tokens with a serial (Graph allows the same serial more than once). */
export const findDevicesBySerial = (serial: string): GraphCall => ({
  method: 'GET',
  version: 'beta',
  path: `${INVENTORY}?$filter=${encodeURIComponent(`serialNumber eq '${serial.replace(/'/g, "''")}'`)}`,
});

export const listDevices = (): GraphCall => ({ method: 'GET', version: 'beta', path: INVENTORY });

export const getDevice = (deviceId: string): GraphCall => ({ method: 'GET', version: 'beta', path: `${INVENTORY}/${encodeURIComponent(deviceId)}` });

export interface NewDevice {
  serialNumber: string;
  manufacturer: string;
  model: string;
  /** The seed: Base32-encoded (Graph's `secretKey`) only in the call's body, which is built when it is sent and never kept. */
  secret: Uint8Array;
  timeIntervalInSeconds: number;
  hashFunction: string;
  /** Assigned to this user in the same call. */
  assignTo?: string;
}

export const createDevice = (d: NewDevice): GraphCall => ({
  method: 'POST',
  version: 'beta',
  path: INVENTORY,
  body: {
    serialNumber: d.serialNumber,
    manufacturer: d.manufacturer,
    model: d.model,
    secretKey: encodeBase32(d.secret),
    timeIntervalInSeconds: d.timeIntervalInSeconds,
    hashFunction: d.hashFunction,
    ...(d.assignTo ? { assignTo: { id: d.assignTo } } : {}),
  },
});

/**
 * Many inventory tokens in one request: a `#$delta` PATCH of the collection (entra-docs
 * how-to-mfa-manage-oath-tokens). Created unassigned; keep a request well under Graph's 4 MB.
 * Each item carries an `@contentId`, as every sample of the docs does (whether Graph requires it
 * is not documented).
 */
export const bulkCreateDevices = (devices: readonly Omit<NewDevice, 'assignTo'>[]): GraphCall => ({
  method: 'PATCH',
  version: 'beta',
  path: INVENTORY,
  body: {
    '@context': '#$delta',
    value: devices.map((d, i) => ({ '@contentId': String(i + 1), serialNumber: d.serialNumber, manufacturer: d.manufacturer, model: d.model, secretKey: encodeBase32(d.secret), timeIntervalInSeconds: d.timeIntervalInSeconds, hashFunction: d.hashFunction })),
  },
});

/** Assigns an inventory token to the user and activates it, in one write, by its serial number. */
export const assignAndActivateBySerial = (userId: string, serialNumber: string, verificationCode: string): GraphCall => ({
  method: 'POST',
  version: 'beta',
  path: `${userTokens(userId)}/assignAndActivateBySerialNumber`,
  body: { serialNumber, verificationCode },
});

export const deleteDevice = (deviceId: string): GraphCall => ({ method: 'DELETE', version: 'beta', path: `${INVENTORY}/${encodeURIComponent(deviceId)}` });

/** The user's own hardware OATH methods: shows tokens the inventory list may miss (legacy uploads). */
export const listUserTokens = (userId: string): GraphCall => ({ method: 'GET', version: 'beta', path: userTokens(userId) });

export const assignToken = (userId: string, deviceId: string): GraphCall => ({ method: 'POST', version: 'beta', path: userTokens(userId), body: { device: { id: deviceId } } });

export const unassignToken = (userId: string, deviceId: string): GraphCall => ({ method: 'DELETE', version: 'beta', path: `${userTokens(userId)}/${encodeURIComponent(deviceId)}` });

export const activateToken = (userId: string, deviceId: string, verificationCode: string): GraphCall => ({
  method: 'POST',
  version: 'beta',
  path: `${userTokens(userId)}/${encodeURIComponent(deviceId)}/activate`,
  body: { verificationCode },
});

export const deactivateToken = (userId: string, deviceId: string): GraphCall => ({
  method: 'POST',
  version: 'beta',
  path: `${userTokens(userId)}/${encodeURIComponent(deviceId)}/deactivate`,
});

/** A device of an inventory list or Get, in either shape the docs show (flat, or under `device`; a Get wrapped in `value`). */
export function deviceOf(item: unknown): RawDevice | undefined {
  let o = item as Record<string, unknown> | null;
  if (o && typeof o === 'object' && o.value && typeof o.value === 'object' && !Array.isArray(o.value)) o = o.value as Record<string, unknown>;
  if (!o || typeof o !== 'object') return undefined;
  const nested = o.device as Record<string, unknown> | undefined;
  const d = nested && typeof nested === 'object' ? { ...nested, ...(nested.id === undefined && typeof o.id === 'string' ? { id: o.id } : {}) } : o;
  if (typeof d.id !== 'string' || d.serialNumber === undefined || d.serialNumber === null) return undefined;
  return d as unknown as RawDevice;
}
