import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import { isSuccess, type GraphCall } from '../graph/graph-call.js';
import type { GraphClient } from '../graph/graph-client.js';
import { deviceOf, findDevicesBySerial, getDevice, type RawDevice } from '../graph/calls/hardware-oath.js';
import { getPolicy } from '../graph/calls/policy.js';
import { policyAsRead, savedAsRead } from '../graph/policy-reader.js';
import { getSignInPreferences, listEmailMethods, listPhoneMethods } from '../graph/calls/user-methods.js';
import { isMaskedPhoneNumber, MaskedPhoneError } from '../graph/masked-phone.js';
import { listFederationConfiguration, parseFederation } from '../graph/calls/domains.js';
import { checkMemberGroups, listDirectMemberOf } from '../graph/calls/groups.js';
import { readRolloutPolicy } from '../graph/cutover-reader.js';
import { PHONE_METHOD_IDS } from '../model/tenant.js';
import { serialForms, serialKey } from '../model/serial.js';
import { canonicalJson } from '../plan/fingerprint.js';
import { methodConfiguration, splitResource } from '../plan/resource-state.js';
import { tenantUpnOf, type Operation } from './operations.js';
import { NEW_PLAN_NEEDED } from './new-plan-needed.js';
import { bulkNotSent } from './bulk-before.js';

/** The inventory's devices of a serial, in each form Graph may hold it (serialForms), read together. */
async function devicesOfSerial(read: (call: GraphCall) => Promise<unknown[]>, serial: string): Promise<RawDevice[]> {
  const found = await Promise.all(serialForms(serial).map((form) => read(findDevicesBySerial(form))));
  const byId = new Map<string, RawDevice>();
  for (const d of found.flat().map(deviceOf)) if (d !== undefined && serialKey(String(d.serialNumber)) === serialKey(serial)) byId.set(d.id, d);
  return [...byId.values()];
}

/** What the inventory holds for a token about to be created. */
export type InventoryLookup = { found: 'none' } | { found: 'mine'; deviceId: string } | { found: 'other'; reason: string };

/**
 * Looks a token's serial up right before it is created: a device already assigned to the user
 * (another apply of the same plan got there first) is adopted, so the activation that follows
 * proves its seed; one held by anybody else, or unassigned, appeared since the plan and is not
 * created again beside it (Graph would take the same serial twice).
 */
export async function lookUpBeforeCreate(op: Operation, client: GraphClient): Promise<InventoryLookup> {
  const serial = splitResource(op.resource)[1]!;
  const same = await devicesOfSerial(inventoryReader(client, serial), serial);
  const mine = same.find((d) => d.assignedTo?.id === op.userId);
  if (mine) return { found: 'mine', deviceId: mine.id };
  if (same.length === 0) return { found: 'none' };
  const holder = same[0]!.assignedTo?.id;
  return { found: 'other', reason: `a token with serial ${serial} appeared in the inventory since the plan (${holder ? `assigned to ${holder}` : 'unassigned'}): not created beside it; ${NEW_PLAN_NEEDED}` };
}

/**
 * The serials of a bulk create that the inventory holds already (another apply of the plan, an earlier
 * attempt of this run, or someone), by serialKey, with a device id of each: left out of it.
 */
export async function serialsPresent(op: Operation, client: GraphClient): Promise<Map<string, string>> {
  const present = new Map<string, string>();
  // All at once: the client packs reads issued together into $batch envelopes (one at a time was a round trip each).
  await Promise.all(
    ((op.after?.tokens as { serialNumber: string }[]) ?? []).map(async (t) => {
      const [d] = await devicesOfSerial(inventoryReader(client, t.serialNumber), t.serialNumber);
      if (d) present.set(serialKey(t.serialNumber), d.id);
    }),
  );
  return present;
}

/** Inventory reads for the look-ups before a create: a failure is an error naming the serial. */
function inventoryReader(client: GraphClient, serial: string): (call: GraphCall) => Promise<unknown[]> {
  return async (call) => {
    const res = await client.read<{ value?: unknown[] }>(call);
    if (!isSuccess(res)) throw new Error(`reading the inventory for ${serial} failed: ${res.status}`);
    return res.body?.value ?? [];
  };
}

/** A read-back Graph answered with a final failure (the retry policy had already retried what it retries). */
export class ReadBackError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** A read-back's GET of one operation: a 404 is null, another failure a ReadBackError. */
function readBackGetter(op: Operation, client: GraphClient) {
  return async <T>(call: GraphCall): Promise<T | null> => {
    const res = await client.read<T>(call);
    if (res.status === 404) return null;
    if (!isSuccess(res)) throw new ReadBackError(`reading back ${op.id} failed: ${res.status}`, res.status);
    return res.body;
  };
}

/** The inventory's devices of a serial, as read-backs read (a 404 is none). */
function readBackDevices(get: ReturnType<typeof readBackGetter>) {
  return async (serial: string) => devicesOfSerial(async (call) => (await get<{ value?: unknown[] }>(call))?.value ?? [], serial);
}

/**
 * The tokens a bulk create sends: those of its plan beyond what its request left out (its journaled
 * `before`: what the inventory held before it, and the serials of users not written): what it made
 * of these is the run's.
 */
function bulkSent(op: Operation): { serialNumber: string }[] {
  const notSent = bulkNotSent(op.before) ?? new Set<string>();
  return ((op.after?.tokens as { serialNumber: string }[]) ?? []).filter((t) => !notSent.has(serialKey(t.serialNumber)));
}

/** What a bulk create of unknown outcome made, read serial by serial: the device of each found, and the serials not found. */
export interface BulkFound {
  devices: Record<string, string>;
  missing: string[];
  /** How many tokens it sent (beyond what its `before` says it left out). */
  sent: number;
}

/**
 * Reads back every token a bulk create sent, all at once (packed into $batch requests), where
 * verifyOp stops at the first missing: a rollback credits the run with the tokens an answer lost
 * mid-way left made (Graph may apply a bulk create in part), to delete them. The executor keeps
 * verifyOp's short read: it sends the rest again either way.
 */
export async function readBackBulk(op: Operation, client: GraphClient): Promise<BulkFound> {
  const devicesFor = readBackDevices(readBackGetter(op, client));
  const sent = bulkSent(op);
  const found = await Promise.all(sent.map(async (t) => (await devicesFor(t.serialNumber))[0]));
  const devices: Record<string, string> = {};
  const missing: string[] = [];
  sent.forEach((t, i) => (found[i] ? (devices[t.serialNumber] = found[i].id) : missing.push(t.serialNumber)));
  return { devices, missing, sent: sent.length };
}

export interface Verified {
  /** The operation's change is in the tenant. */
  done: boolean;
  /** What a success would have given (a created token's device id). */
  result?: Record<string, unknown>;
  /** Not done, and sending it again cannot do it (the tenant holds something else in its place): why. */
  refused?: string;
}

/**
 * Whether an operation's change is in the tenant: asked when a write's outcome is unknown (a
 * timeout, a reset connection, a 5xx, a conflict) so that it is never sent twice, and for
 * operations a crashed run left `started`.
 */
export async function verifyOp(op: Operation, client: GraphClient): Promise<Verified> {
  const get = readBackGetter(op, client);
  const devicesFor = readBackDevices(get);
  const after = op.after ?? {};
  const userId = op.userId ?? '';
  switch (op.kind) {
    case 'policy-config': {
      const policy = policyAsRead(await get<AuthenticationMethodsPolicy>(getPolicy()));
      const config = policy ? methodConfiguration(policy, op.resource.slice('authenticationMethodConfigurations/'.length)) : undefined;
      return { done: !!config && Object.entries(after).every(([k, v]) => canonicalJson(config[k]) === canonicalJson(savedAsRead(op.resource, k, v))) };
    }
    case 'policy-root': {
      const policy = policyAsRead(await get<AuthenticationMethodsPolicy>(getPolicy())) ?? {};
      return {
        done: Object.entries(after).every(([key, v]) => {
          const [target, property] = [key.slice(0, key.lastIndexOf('.')), key.slice(key.lastIndexOf('.') + 1)];
          const holder = (target === 'reportSuspiciousActivitySettings' ? policy.reportSuspiciousActivitySettings : policy.registrationEnforcement?.authenticationMethodsRegistrationCampaign) as Record<string, unknown> | undefined;
          return canonicalJson(holder?.[property]) === canonicalJson(v);
        }),
      };
    }
    case 'phone-create':
    case 'phone-update':
    case 'phone-delete': {
      const list = (await get<{ value?: { id: string; phoneNumber: string; phoneType: string }[] }>(listPhoneMethods(userId)))?.value ?? [];
      const type = splitResource(op.resource)[1];
      const p = list.find((x) => x.phoneType === type || x.id === PHONE_METHOD_IDS[type as keyof typeof PHONE_METHOD_IDS]);
      if (op.kind === 'phone-delete') return { done: !p };
      // A masked number never equals the one written: refused, not read as "not applied" (sent again, or undone as never made).
      if (p && isMaskedPhoneNumber(p.phoneNumber)) throw new MaskedPhoneError(tenantUpnOf(op) ?? userId, String(type));
      return { done: !!p && p.phoneNumber.replace(/\s+/g, '') === String(after.phoneNumber).replace(/\s+/g, '') };
    }
    case 'email-create':
    case 'email-update':
    case 'email-delete': {
      const list = (await get<{ value?: { emailAddress: string }[] }>(listEmailMethods(userId)))?.value ?? [];
      if (op.kind === 'email-delete') return { done: list.length === 0 };
      return { done: list.some((e) => e.emailAddress.toLowerCase() === String(after.emailAddress).toLowerCase()) };
    }
    case 'token-deactivate': {
      const deviceId = (op.before as { deviceId?: string } | null)?.deviceId ?? '';
      const device = deviceOf(await get(getDevice(deviceId)));
      return { done: !device || device.status !== 'activated' };
    }
    case 'token-unassign':
    case 'token-delete': {
      const deviceId = (op.before as { deviceId?: string } | null)?.deviceId ?? '';
      const device = deviceOf(await get(getDevice(deviceId)));
      if (op.kind === 'token-delete') return { done: !device };
      return { done: !device || !device.assignedTo?.id };
    }
    case 'token-bulk-create': {
      // Done when every serial it creates is in the inventory (assigned since, or not). The devices it
      // made are the run's (rollback deletes them); those the inventory held before it are not.
      const made = bulkSent(op);
      if (made.length === 0) return { done: true, result: { devices: {} } };
      // The first alone (missing while Graph has not shown them, or when nothing was made: one read),
      // then the rest at once, packed into $batch requests (one after another they took a round trip each).
      const [first] = await devicesFor(made[0]!.serialNumber);
      if (!first) return { done: false };
      const rest = await Promise.all(made.slice(1).map(async (t) => (await devicesFor(t.serialNumber))[0]));
      if (rest.some((d) => d === undefined)) return { done: false };
      const devices: Record<string, string> = { [made[0]!.serialNumber]: first.id };
      made.slice(1).forEach((t, i) => (devices[t.serialNumber] = rest[i]!.id));
      return { done: true, result: { devices } };
    }
    case 'token-create':
    case 'token-assign':
    case 'token-assign-activate':
    case 'token-activate': {
      const serial = splitResource(op.resource)[1]!;
      const mine = (await devicesFor(serial)).find((d) => d.assignedTo?.id === op.userId);
      if (!mine) return { done: false };
      if (op.kind === 'token-activate' || op.kind === 'token-assign-activate') return { done: mine.status === 'activated', ...(op.kind === 'token-assign-activate' ? { result: { deviceId: mine.id } } : {}) };
      return { done: true, result: { deviceId: mine.id } };
    }
    case 'signin-update': {
      const prefs = await get<{ userPreferredMethodForSecondaryAuthentication?: string | null }>(getSignInPreferences(userId));
      return { done: prefs?.userPreferredMethodForSecondaryAuthentication === after.userPreferredMethodForSecondaryAuthentication };
    }
    case 'rollout-policy-create':
    case 'rollout-policy-update':
    case 'rollout-policy-delete':
    case 'rollout-attach':
    case 'rollout-detach': {
      const policy = await readRolloutPolicy(client);
      if (op.kind === 'rollout-policy-create') {
        if (!policy) return { done: false };
        // A feature has one policy. Only one by this plan's name is this run's (or a second operator's
        // run of the same plan): another's is never adopted, or a rollback would delete it.
        if (policy.displayName === after.displayName) return { done: true, result: { policyId: policy.id } };
        return { done: false, refused: `a staged rollout policy for MFA, "${policy.displayName}" (${policy.id}), was created by someone else since the plan; a feature has one policy` };
      }
      if (op.kind === 'rollout-policy-update') return { done: policy?.isEnabled === after.isEnabled };
      const before = (op.before as { policyId?: string; groupId?: string } | null) ?? {};
      if (op.kind === 'rollout-policy-delete') return { done: policy?.id !== before.policyId };
      if (op.kind === 'rollout-attach') return { done: !!policy?.appliesTo.includes(String(after.groupId)) };
      return { done: !policy?.appliesTo.includes(String(before.groupId)) };
    }
    case 'rollout-add':
    case 'campaign-add':
    case 'group-member-remove': {
      // The user's membership asked of the user: paging the group (up to 50,000 members) while a run
      // adds or removes others can skip a member, and a skipped member read as removed stays switched.
      const groupId = splitResource(op.resource)[1]!;
      const held = await get<{ value?: string[] }>(checkMemberGroups(userId, [groupId]));
      // A user deleted since is in no group: nothing left to remove, and nobody to add.
      if (held === null) return op.kind === 'group-member-remove' ? { done: true } : { done: false, refused: 'the user no longer exists' };
      const member = (held.value ?? []).some((id) => id.toLowerCase() === groupId.toLowerCase());
      // checkMemberGroups counts nested groups. A rollout group holds none (staged rollout refuses
      // them); the campaign group may, so a membership it reports for an add or a removal is
      // confirmed among the user's direct memberships: a user also held through a nested group is
      // removed once the direct membership is gone (rare: an outcome that was unknown, or a retry).
      if (member && op.kind !== 'rollout-add') {
        let direct = false;
        for await (const g of client.pages<{ id?: string }>(listDirectMemberOf(userId), `reading back the groups user ${userId} is a direct member of`)) {
          if (g.id?.toLowerCase() === groupId.toLowerCase()) direct = true;
        }
        return { done: op.kind === 'group-member-remove' ? !direct : direct };
      }
      return { done: op.kind === 'group-member-remove' ? !member : member };
    }
    case 'federation-update': {
      const domain = op.resource.split('/')[1]!;
      const f = parseFederation(await get(listFederationConfiguration(domain)));
      return { done: f?.federatedIdpMfaBehavior === after.federatedIdpMfaBehavior };
    }
  }
}
