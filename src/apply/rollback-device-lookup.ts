import type { TenantSnapshot } from '../model/tenant.js';
import { serialKey } from '../model/serial.js';
import { splitResource } from '../plan/resource-state.js';
import type { OpRecord } from './journal.js';
import { tenantUpnOf, type Operation } from './operations.js';

/**
 * A token undo whose device id the run's journal lacks (a journal of an older version, a token create
 * done with no id recorded, `devices: {}`): what looking its serial up found, in its `before`.
 * `found`: the one token of the serial, the run's (`deviceId` set); `gone`: no token of the serial is
 * left; `ambiguous`: more than one, and the rollback does not guess (the undo fails, nothing sent);
 * `not-the-runs`: one, neither held by the run's user nor (for a delete) unassigned: left alone.
 */
export type DeviceLookup = 'found' | 'gone' | 'ambiguous' | 'not-the-runs';

interface LookedUp {
  deviceId?: string;
  deviceLookup?: DeviceLookup;
  /** Why an `ambiguous` or `not-the-runs` undo is not sent: the serial and the user, said. */
  deviceLookupReason?: string;
  serialNumber?: unknown;
  heldBy?: unknown;
}

const TOKEN_UNDOS: ReadonlySet<Operation['kind']> = new Set(['token-deactivate', 'token-unassign', 'token-delete']);

const lookedUp = (inv: Operation): LookedUp => (inv.before as LookedUp | null) ?? {};

/** A token undo that names no device and was not looked up yet: never taken as gone for that alone. */
export function needsDeviceLookup(inv: Operation): boolean {
  const b = lookedUp(inv);
  return TOKEN_UNDOS.has(inv.kind) && typeof b.deviceId !== 'string' && b.deviceLookup === undefined;
}

/** How the lookup ended for an undo (undefined: it had its device id from the journal). */
export const deviceLookupOf = (inv: Operation): DeviceLookup | undefined => (TOKEN_UNDOS.has(inv.kind) ? lookedUp(inv).deviceLookup : undefined);

/** Why an undo whose device could not be told is not sent. */
export const deviceLookupReason = (inv: Operation): string | undefined => lookedUp(inv).deviceLookupReason;

/** The token's serial and whom the run gave it to (an inventory delete: the user whose unassign it waits for). */
function tokenOf(inv: Operation): { serial: string; holder: string | undefined } {
  const b = lookedUp(inv);
  const serial = splitResource(inv.resource)[1] ?? String(b.serialNumber ?? '');
  return { serial, holder: inv.userId ?? (typeof b.heldBy === 'string' ? b.heldBy : undefined) };
}

const keyOf = (inv: Operation) => {
  const { serial, holder } = tokenOf(inv);
  return `${holder?.toLowerCase() ?? ''} ${serialKey(serial)}`;
};

/**
 * The device ids an earlier pass of this rollback found for undos it sent (journaled with them), given
 * to the undos of the same token that still lack one: a token it deactivated is unassigned and deleted
 * by the same id, not looked up again.
 */
export function withJournaledDevices(inverses: readonly Operation[], journaled: ReadonlyMap<string, OpRecord>): Operation[] {
  const found = new Map<string, string>();
  for (const inv of inverses) {
    const id = (journaled.get(inv.id)?.before as LookedUp | null | undefined)?.deviceId;
    if (TOKEN_UNDOS.has(inv.kind) && typeof id === 'string') found.set(keyOf(inv), id);
  }
  if (found.size === 0) return [...inverses];
  return inverses.map((inv) => {
    const id = needsDeviceLookup(inv) ? found.get(keyOf(inv)) : undefined;
    return id === undefined ? inv : { ...inv, before: { ...lookedUp(inv), deviceId: id, deviceLookup: 'found' } };
  });
}

/**
 * Each token undo the journal gives no device id is given the tenant's token of its serial, when it is
 * the run's: the one token of that serial (the inventory's, or one only the user's methods show) held
 * by the run's user, or, for the delete of a token the run made and gave no one, unassigned. None
 * left: gone already. (The rollback builds no inventory delete of a token whose id the journal lacks:
 * rollback-inverses.ts; a delete is looked up here only by way of caution.)
 * More than one: not guessed (a token the run did not make could be deleted, or another user's
 * unassigned). Pure: the tenant as read for the rollback.
 */
export function lookUpDevices(inverses: readonly Operation[], tenant: TenantSnapshot): Operation[] {
  return inverses.map((inv) => (needsDeviceLookup(inv) ? { ...inv, before: { ...lookedUp(inv), ...lookUp(inv, tenant) } } : inv));
}

function lookUp(inv: Operation, tenant: TenantSnapshot): LookedUp {
  const { serial, holder } = tokenOf(inv);
  const key = serialKey(serial);
  const holders = new Map<string, string | undefined>();
  for (const t of tenant.hardwareTokens.get(key) ?? []) holders.set(t.id, t.assignedToId);
  // A token the inventory does not list (an older admin-center upload) shows among the user's methods only.
  const user = inv.user ? tenant.users.get(tenantUpnOf(inv)!.toLowerCase()) : undefined;
  for (const t of user?.hardwareOath ?? []) if (t.serialNumber !== undefined && serialKey(t.serialNumber) === key && !holders.has(t.id)) holders.set(t.id, user!.id);
  if (holders.size === 0) return { deviceLookup: 'gone' };
  const who = inv.user ? `for ${inv.user}` : holder ? `for the user ${holder}` : 'in the inventory';
  if (holders.size > 1) {
    return {
      deviceLookup: 'ambiguous',
      deviceLookupReason: `not undone: the run's journal does not record the id of the token of serial ${serial} it ${inv.kind === 'token-delete' ? 'made' : 'assigned'} ${who}, and the tenant holds ${holders.size} tokens of that serial (${[...holders.keys()].join(', ')}): the rollback does not guess, and touches none. Tell the run's token from the others (the admin center) and remove it by hand, or remove the others, then run this rollback again`,
    };
  }
  const [[id, assignedTo]] = [...holders] as [[string, string | undefined]];
  const held = assignedTo !== undefined && holder !== undefined && assignedTo.toLowerCase() === holder.toLowerCase();
  // A delete of a token a user held (the run's, or the user it waits to be unassigned from) takes it
  // only while that user holds it, as the user's own undos do: unassigned, it may be an admin's that
  // re-uses the serial (a review: one rollback called it not the run's for the unassign, then deleted it).
  if (held || (inv.kind === 'token-delete' && assignedTo === undefined && holder === undefined)) return { deviceId: id, deviceLookup: 'found' };
  return {
    deviceLookup: 'not-the-runs',
    deviceLookupReason: `${inv.kind === 'token-delete' && assignedTo !== undefined ? 'the token is assigned to another user' : 'the token is no longer assigned to the user'}: the one token of serial ${serial} in the tenant (${id}) is ${assignedTo ? `assigned to another user (${assignedTo})` : 'assigned to no one'}, and the run's journal does not record the id of the one it ${inv.kind === 'token-delete' ? 'made' : 'assigned'} ${who}: not known to be the run's, left alone`,
  };
}
