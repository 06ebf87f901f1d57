import type { TenantSnapshot, TenantUser } from '../model/tenant.js';
import { canonicalJson } from '../plan/fingerprint.js';
import { savedAsRead } from '../graph/policy-reader.js';
import { policyPropertyState, sameResourceState, splitResource, userResourceState } from '../plan/resource-state.js';
import { serialKey } from '../model/serial.js';
import { defaultSetWhereNone, phoneKeptBehind } from '../model/rollback-limits.js';
import type { OpRecord } from './journal.js';
import { bulkNotSent } from './bulk-before.js';
import { deviceLookupOf, deviceLookupReason, needsDeviceLookup } from './rollback-device-lookup.js';
import { ROLLOUT_POLICY_OP, tenantUpnOf, type Operation } from './operations.js';

/** What a rollback journals for an object it left alone because it changed since the run. */
export const CHANGED_SINCE = 'changed since the run';

/**
 * An undo left alone with what it waits for (the default restored before a phone is deleted, say):
 * sent alone, Graph would refuse it on every pass. Only --force sends either.
 */
export const waitsForLeftAlone = (resource: string) => `${CHANGED_SINCE}: it waits for the undo of ${resource}, left alone`;

/** A journaled error that says the undo was left alone: changed since the run, or waiting for one that was. */
export const isLeftAloneError = (error: string | undefined) => error === CHANGED_SINCE || (error?.startsWith(`${CHANGED_SINCE}: `) ?? false);

/** Operations that give a user an OATH token (the rollback removes or deactivates it). */
const TOKEN_ADDS: ReadonlySet<Operation['kind']> = new Set(['token-create', 'token-assign', 'token-assign-activate', 'token-activate']);

/**
 * Why a default method set where the user had none stays, and what it names once the rollback is done:
 * a phone (kept with it: Graph will not delete the phone behind the default), a token this rollback
 * removes (it then names nothing: a rehearsal counted 675 users left with default oath and no token, the
 * summary saying only "left as oath"), or a method the rollback leaves. Said only where it applies: a
 * scale test read "where this rollback removes the method it names, it names nothing" for 15,472 users
 * whose phone was kept.
 */
export function defaultLeftReason(method: string, tokensRemoved: boolean): string {
  const left = `the user had no default method before the run and Graph cannot unset one: left as ${method}`;
  const phone = phoneKeptBehind(method);
  if (phone) return `${left}, which uses ${phone}: that phone stays, so the default still names a method the user has`;
  if (method === 'oath' && tokensRemoved) return `${left}, though this rollback takes back the OATH token the run added or activated for the user: unless they have another OATH method, the default names one they cannot use, and Entra asks them for another method at sign-in (or to register one)`;
  return `${left}, a method this rollback does not take away`;
}

/** Why a token a run's assign-and-activate took from its bulk create, with no device id journaled, stays in the inventory. */
export function bulkLeftReason(origin: 'held' | 'found' | 'unknown'): string {
  if (origin === 'held') return "the inventory held a token of this serial before the run's bulk create: not the run's, so it stays in the inventory (this rollback takes back only the assignment and activation the run made)";
  if (origin === 'found') {
    return "the inventory held a token of this serial when the run's bulk create was sent again, after Graph refused its earlier send outright (which made none): not the run's, so it stays in the inventory (this rollback takes back only the assignment and activation the run made)";
  }
  return "the run's journal (of an older version) neither records the id of this token nor says whether the run's bulk create made it or found it in the inventory: it stays in the inventory; delete it there if the run made it";
}

/**
 * Why a token the run made, by its journal, stays in the inventory when the journal (of an older
 * version) lacks its device id: a token of the serial found in the tenant now may be an admin's (one
 * uploaded since, one re-using the serial), so the rollback does not delete it; the admin can.
 */
export function unrecordedLeftReason(serial: string, by: 'bulk create' | 'token create'): string {
  return `the run's journal (written by an earlier version) does not record the id of the token of serial ${serial} its ${by} made, so it does not record that the run made the token of that serial the inventory holds now: it stays in the inventory (the run's assignment and activation of it, if any, are still taken back); delete it there if it is the run's`;
}

/**
 * What kind of thing a rollback leaves in place, told apart by this and never by the reason's words
 * (said for the admin, and reworded as it needs): `adopted`, made by another run of the plan;
 * `behind-default`, the phone behind a default method Graph cannot unset; `default-set`, that default;
 * `token-in-inventory`, a token that stays in the inventory (its id not journaled, or not known to be
 * the run's), which the rollback reads to tell one deleted since; `policy-id-unrecorded`, the staged
 * rollout policy the run created, its id not journaled.
 */
export type UnreversibleKind = 'adopted' | 'behind-default' | 'default-set' | 'token-in-inventory' | 'policy-id-unrecorded';

/** An object a rollback names (its user's, else the inventory's or the policy's), with why. */
export interface ObjectReason {
  user?: string;
  target: string;
  reason: string;
}

export interface Unreversible extends ObjectReason {
  /** Journaled with the rollback's header; a header written before it has none (it is read for the reason alone). */
  kind: UnreversibleKind;
}

/**
 * The inverse of each done operation, newest first, chained per user (a default method is restored
 * before the phone it pointed at is deleted; a token is deactivated before it is unassigned and
 * deleted) and the policy last (it went first). What Graph cannot undo is listed instead. Pure.
 */
export function inverseOperations(
  done: readonly Operation[],
  records: ReadonlyMap<string, OpRecord>,
  /** The groups the staged rollout policy applied to when the run's plan read it (2.2 plans), so that a group added since is seen. */
  seenAppliesTo?: readonly string[],
  /** How many users each group the plan read held once the run was done (2.2 plans), so that users added to them since are seen. */
  membersLeft?: Readonly<Record<string, number>>,
): { inverses: Operation[]; notReversible: Unreversible[] } {
  const notReversible: Unreversible[] = [];
  // A default method set where there was none stays (Graph cannot unset one), and so does the phone
  // it points at: Graph refuses to delete the phone that backs the default method.
  const keptDefaults = new Map<string, string>();
  // (The plan counts them by the same rule, model/rollback-limits.ts, before anything is applied.)
  for (const op of done) {
    const set = op.kind === 'signin-update' ? defaultSetWhereNone(op.resource, op.before, op.after) : undefined;
    if (set !== undefined && op.userId) keptDefaults.set(op.userId, set);
  }
  // Users whose OATH tokens (the run's, or activated by it) this rollback removes or deactivates: a
  // default of oath left in place names nothing of theirs then. Adopted objects are not undone.
  const tokensUndone = new Set(done.filter((o) => TOKEN_ADDS.has(o.kind) && o.userId && !records.get(o.id)?.result?.adopted).map((o) => o.userId!));
  const lastOf = new Map<string, string>();
  const userOps: Operation[] = [];
  const inventoryOps: Operation[] = [];
  const policyOps: Operation[] = [];
  // A domain's federation is put back first, on its own: it went last, and it is the change that
  // reaches every user of the domain.
  const federationOps: Operation[] = [];
  // Then the staged rollout's own undos (a group detached, the policy disabled or deleted), before
  // any user's: the rollback reads who is still switched to Entra MFA once they are done
  // (rollback-switched.ts), and leaves those users' methods in place.
  const rolloutOps: Operation[] = [];
  const add = (o: Operation) => {
    if (o.kind === 'federation-update') {
      federationOps.push(o);
      return;
    }
    if (ROLLOUT_UNDOS.has(o.kind)) {
      const prev = rolloutOps.at(-1);
      o.dependsOn = prev ? [prev.id] : [];
      rolloutOps.push(o);
      return;
    }
    // Inventory deletes are not chained: each waits only for its own token's unassign (below), so
    // they go side by side and one refused does not hold back the rest.
    if (!o.userId && o.kind === 'token-delete') {
      inventoryOps.push(o);
      return;
    }
    const key = o.userId ?? 'policy';
    const prev = lastOf.get(key);
    o.dependsOn = prev ? [prev] : [];
    lastOf.set(key, o.id);
    (o.userId ? userOps : policyOps).push(o);
  };
  const createdPolicy = records.get(ROLLOUT_POLICY_OP)?.result?.policyId;
  // The users the policy's groups held when the run was done: a disable or delete must not switch back users added since.
  const membersOf = (groupIds: readonly string[]) => {
    const counts = Object.fromEntries(groupIds.filter((g) => membersLeft?.[g] !== undefined).map((g) => [g, membersLeft![g]!]));
    return Object.keys(counts).length > 0 ? { membersLeft: counts } : {};
  };
  // The groups the policy holds once the run is done: what it held (none, if the run created it) and what the run attached.
  const attachedByRun = done.filter((o) => o.kind === 'rollout-attach').map((o) => String(o.after?.groupId));
  // Devices created by bulk creates, by serial (an assign-and-activate by serial answers no id).
  const bulkDevices = new Map<string, string>();
  /** By serial (serialKey): the unassign a bulk-created token's delete from the inventory waits for. */
  const unassignBySerial = new Map<string, { id: string; userId: string }>();
  /**
   * By serial: a bulk create's tokens whose device id its journaled result lacks: `made`, sent and not
   * among what its request left out (its journaled `before`: `present`, `leftOut`), yet with no id (`devices:
   * {}` from a journal of an older version): not deleted, since what holds the serial now may be an
   * admin's, and said; `held`, in the inventory before it, or left out of its request as its user's
   * writes were (`before.leftOut`: left out as stale), not the run's; `found`, found in the
   * inventory when it was sent again after a send Graph refused outright (its result's `foundNotMade`),
   * not the run's; `unknown`, sent by a version that did not journal what the inventory held, so not
   * known to be the run's. None is ever deleted: the rollback deletes only tokens whose ids the run
   * journaled as made.
   */
  const bulkUnrecorded = new Map<string, { serial: string; op: string; origin: 'made' | 'held' | 'found' | 'unknown' }>();
  for (const op of done) {
    if (op.kind !== 'token-bulk-create') continue;
    const result = records.get(op.id)?.result;
    const devices = (result?.devices as Record<string, string> | undefined) ?? {};
    for (const [serial, id] of Object.entries(devices)) bulkDevices.set(serialKey(serial), id);
    const recorded = new Set(Object.keys(devices).map(serialKey));
    const notMade = new Set((Array.isArray(result?.foundNotMade) ? result.foundNotMade : []).map((x) => serialKey(String(x))));
    // Read back by a rollback and not found (a create applied in part): never made, nothing to delete or say.
    const notFound = new Set((Array.isArray(result?.notFound) ? result.notFound : []).map((x) => serialKey(String(x))));
    // Undefined: never sent (every line `started` journals it), so it made nothing.
    const journaled = records.get(op.id)?.before;
    // What its request left out (held already, or its user not written): none of it the run's.
    const notSent = bulkNotSent(journaled);
    for (const t of (op.after?.tokens as { serialNumber?: unknown }[] | undefined) ?? []) {
      const serial = String(t.serialNumber ?? '');
      const key = serialKey(serial);
      if (recorded.has(key) || notFound.has(key)) continue;
      const origin = notMade.has(key) ? 'found' : notSent ? (notSent.has(key) ? 'held' : 'made') : journaled === undefined && recorded.size === 0 ? 'held' : 'unknown';
      bulkUnrecorded.set(key, { serial, op: op.id, origin });
    }
  }
  const assignedSerials = new Set(done.filter((o) => o.kind === 'token-assign-activate' && !records.get(o.id)?.result?.adopted).map((o) => serialKey(String((o.after as { serialNumber?: string } | null)?.serialNumber ?? ''))));
  for (const op of [...done].reverse()) {
    const base = { user: op.user, ...(op.tenantUpn !== undefined ? { tenantUpn: op.tenantUpn } : {}), userId: op.userId, resource: op.resource, stateFingerprint: '', dependsOn: [] } as Omit<Operation, 'id' | 'kind' | 'after' | 'before'>;
    const id = `rollback/${op.id}`;
    const planned = op.before as Record<string, unknown> | null;
    // Found made by another run of the plan when this one sent it (a second operator): theirs to undo.
    if (records.get(op.id)?.result?.adopted) {
      notReversible.push({ ...(op.user ? { user: op.user } : {}), target: op.resource, reason: 'made by another run of the plan, found there when this run sent it: left for that run to undo', kind: 'adopted' });
      continue;
    }
    switch (op.kind) {
      case 'phone-create': {
        const kept = op.userId ? keptDefaults.get(op.userId) : undefined;
        if (kept && phoneKeptBehind(kept) === op.resource) {
          notReversible.push({ user: op.user!, target: op.resource, reason: `it backs the default method ${kept}, which Graph cannot unset: left in place`, kind: 'behind-default' });
          break;
        }
        add({ ...base, id, kind: 'phone-delete', after: null, before: op.after });
        break;
      }
      case 'phone-update':
        add({ ...base, id, kind: 'phone-update', after: planned, before: op.after });
        break;
      case 'phone-delete':
        add({ ...base, id, kind: 'phone-create', after: planned, before: null });
        break;
      case 'email-create':
        add({ ...base, id, kind: 'email-delete', after: null, before: op.after });
        break;
      case 'email-update':
        add({ ...base, id, kind: 'email-update', after: planned, before: op.after });
        break;
      case 'token-create': {
        const deviceId = records.get(op.id)?.result?.deviceId;
        add({ ...base, id: `${id}/unassign`, kind: 'token-unassign', after: null, before: { ...op.after, deviceId } });
        // No id journaled (an older version): unassigned once looked up by serial, never deleted from
        // the inventory (a token of that serial there now may be an admin's), said.
        if (typeof deviceId === 'string') add({ ...base, id: `${id}/delete`, kind: 'token-delete', after: null, before: { ...op.after, deviceId } });
        else notReversible.push({ user: op.user!, target: op.resource, reason: unrecordedLeftReason(splitResource(op.resource)[1] ?? '', 'token create'), kind: 'token-in-inventory' });
        break;
      }
      case 'token-assign':
        add({ ...base, id, kind: 'token-unassign', after: null, before: { ...op.after, deviceId: (op.after as { deviceId?: string } | null)?.deviceId } });
        break;
      case 'token-assign-activate': {
        const serial = String((op.after as { serialNumber?: string } | null)?.serialNumber ?? '');
        const fromRun = records.get(op.id)?.result?.deviceId;
        const deviceId = typeof fromRun === 'string' ? fromRun : (bulkDevices.get(serialKey(serial)) ?? (op.before as { id?: string } | null)?.id);
        // No id: looked up by serial when the rollback reads the tenant (rollback-device-lookup.ts).
        add({ ...base, id: `${id}/deactivate`, kind: 'token-deactivate', after: null, before: { ...op.after, deviceId } });
        add({ ...base, id: `${id}/unassign`, kind: 'token-unassign', after: null, before: { ...op.after, deviceId } });
        unassignBySerial.set(serialKey(serial), { id: `${id}/unassign`, userId: op.userId ?? '' });
        // Its bulk create did not make it: the run's assignment and activation are undone, the token stays.
        // One it made with no id recorded is said once, with its bulk create (below).
        const unrecorded = deviceId === undefined ? bulkUnrecorded.get(serialKey(serial)) : undefined;
        if (unrecorded && unrecorded.origin !== 'made') notReversible.push({ user: op.user!, target: op.resource, reason: bulkLeftReason(unrecorded.origin), kind: 'token-in-inventory' });
        break;
      }
      case 'token-bulk-create':
        // The tokens it created go from the inventory once their users' inverses have unassigned them.
        for (const [serial, deviceId] of Object.entries((records.get(op.id)?.result?.devices as Record<string, string> | undefined) ?? {})) {
          add({ id: `${id}/${serial}`, kind: 'token-delete', resource: `hardwareOathMethods/${serial}`, stateFingerprint: '', dependsOn: [], after: null, before: { serialNumber: serial, deviceId } });
        }
        // Those it made whose ids its result lacks (an older version's journal): not deleted (a token
        // of the serial in the inventory now may be an admin's), said once, with no user; its user's
        // deactivate and unassign still look it up by serial.
        for (const u of bulkUnrecorded.values()) {
          if (u.op !== op.id) continue;
          if (u.origin === 'made') notReversible.push({ target: `hardwareOathMethods/${u.serial}`, reason: unrecordedLeftReason(u.serial, 'bulk create'), kind: 'token-in-inventory' });
          // Not assigned by the run either (its user's assign left out): said once, with no user.
          else if (u.origin === 'unknown' && !assignedSerials.has(serialKey(u.serial))) notReversible.push({ target: `hardwareOathMethods/${u.serial}`, reason: bulkLeftReason('unknown'), kind: 'token-in-inventory' });
        }
        break;
      case 'token-activate': {
        // Deactivated (Graph: it stays assigned); a token the run created or assigned is then unassigned by their inverses.
        const created = records.get(`${op.userId}/${op.resource}/create`)?.result?.deviceId;
        const deviceId = typeof created === 'string' ? created : (op.before as { id?: string } | null)?.id;
        add({ ...base, id, kind: 'token-deactivate', after: null, before: { ...op.after, deviceId } });
        break;
      }
      case 'signin-update': {
        const set = defaultSetWhereNone(op.resource, planned, op.after);
        if (set !== undefined) {
          notReversible.push({ user: op.user!, target: op.resource, reason: defaultLeftReason(set, op.userId !== undefined && tokensUndone.has(op.userId)), kind: 'default-set' });
          break;
        }
        add({ ...base, id, kind: 'signin-update', after: planned, before: op.after });
        break;
      }
      case 'policy-config':
      case 'policy-root':
        add({ ...base, id, kind: op.kind, after: planned, before: op.after });
        break;
      case 'rollout-add':
      case 'campaign-add':
        add({ ...base, id, kind: 'group-member-remove', after: null, before: { groupId: op.resource.split('/')[1] } });
        break;
      case 'rollout-attach': {
        const policyId = typeof createdPolicy === 'string' ? createdPolicy : op.after?.policyId;
        add({ ...base, id, kind: 'rollout-detach', after: null, before: { groupId: op.after?.groupId, policyId, ...membersOf([String(op.after?.groupId)]) } });
        break;
      }
      case 'rollout-policy-create':
        if (typeof createdPolicy === 'string') add({ ...base, id, kind: 'rollout-policy-delete', after: null, before: { policyId: createdPolicy, appliesTo: attachedByRun, ...membersOf(attachedByRun) } });
        else notReversible.push({ target: op.resource, reason: 'the id of the staged rollout policy the run created was not recorded: delete it in the portal', kind: 'policy-id-unrecorded' });
        break;
      case 'rollout-policy-update':
        add({ ...base, id, kind: 'rollout-policy-update', after: { id: planned?.id, isEnabled: planned?.isEnabled === true }, before: { ...planned, ...op.after, ...(seenAppliesTo ? { appliesTo: [...seenAppliesTo, ...attachedByRun] } : {}), ...membersOf([...(seenAppliesTo ?? []), ...attachedByRun]) } });
        break;
      case 'federation-update':
        add({ ...base, id, kind: 'federation-update', after: planned, before: op.after });
        break;
      default:
        break;
    }
  }
  // A deactivate whose token this rollback then unassigns (the run assigned it, or created it): the
  // token was not the user's before the run, so one found unassigned and not activated is as before.
  const unassigned = new Set(userOps.filter((o) => o.kind === 'token-unassign').map((o) => `${o.userId} ${o.resource}`));
  for (const o of userOps) if (o.kind === 'token-deactivate' && unassigned.has(`${o.userId} ${o.resource}`)) o.before = { ...(o.before as Record<string, unknown>), unassignedAfter: true };
  // A bulk-created token leaves the inventory once its user's unassign is done.
  for (const o of inventoryOps) {
    const unassign = unassignBySerial.get(serialKey(String((o.before as { serialNumber?: unknown } | null)?.serialNumber ?? '')));
    o.dependsOn = unassign ? [unassign.id] : [];
    // Whom the run assigned it to (this rollback unassigns it first): anyone else holding it is a change.
    if (unassign) o.before = { ...(o.before as Record<string, unknown>), heldBy: unassign.userId };
  }
  // Nothing else starts before every federation is put back: a domain left rejecting its IdP's MFA
  // while its users leave the rollout group (or lose their methods) would stop their sign-ins.
  const federations = federationOps.map((o) => o.id);
  if (federations.length > 0) for (const o of [...rolloutOps, ...userOps, ...inventoryOps, ...policyOps]) if (o.dependsOn.length === 0) o.dependsOn = [...federations];
  // The policy is put back last, after every user's methods are.
  const lastUserOps = [...lastOf.entries()].filter(([k]) => k !== 'policy').map(([, v]) => v);
  const firstPolicy = policyOps[0];
  if (firstPolicy) firstPolicy.dependsOn = [...firstPolicy.dependsOn, ...lastUserOps];
  return { inverses: [...federationOps, ...rolloutOps, ...userOps, ...inventoryOps, ...policyOps], notReversible };
}

/**
 * For an inverse sent with no answer journaled: changed since only when the object is neither as the
 * run left it (not undone yet) nor as the inverse makes it (undone, the answer lost).
 */
export function changedSinceSent(inv: Operation, tenant: TenantSnapshot): string | undefined {
  const reason = changedSince(inv, tenant);
  if (!reason || !inv.user) return reason;
  const user = tenant.users.get(tenantUpnOf(inv)!.toLowerCase());
  if (!user) return reason;
  const now = userResourceState(inv.resource, user, tenant.hardwareTokens);
  const target = inv.after as Record<string, unknown> | null | undefined;
  const undone = target === null || target === undefined ? !now : !!now && sameResourceState(inv.resource, now, target);
  return undone ? undefined : reason;
}

/**
 * A removal whose target is gone already (another run's rollback, an admin): nothing is left for it
 * to undo, and it is done, not "changed since the run" (which would keep the rollback partial for
 * good, however often it is finished).
 */
export function alreadyUndone(inv: Operation, tenant: TenantSnapshot): boolean {
  // A token undo the journal gave no device id is gone only when no token of its serial is left (one
  // found is judged by its id below, as if journaled: an earlier pass's may be gone since).
  const lookup = deviceLookupOf(inv);
  if (lookup === 'gone') return true;
  if (lookup === 'ambiguous' || lookup === 'not-the-runs' || needsDeviceLookup(inv)) return false;
  // The staged rollout policy the run created, deleted since; a group it attached, detached since (or
  // its policy deleted): nothing is left for the undo to remove.
  if (!inv.userId && (inv.kind === 'rollout-policy-delete' || inv.kind === 'rollout-detach')) {
    const policy = tenant.cutover?.rolloutPolicy;
    const left = (inv.before as { policyId?: unknown; groupId?: unknown } | null) ?? {};
    if (!tenant.cutover) return false;
    if (!policy || policy.id !== left.policyId) return true;
    return inv.kind === 'rollout-detach' && !policy.appliesTo.includes(String(left.groupId));
  }
  // A token the run created, deleted from the inventory since: found nowhere by its journaled id.
  if (inv.kind === 'token-delete') {
    if (typeof (inv.before as { deviceId?: unknown } | null)?.deviceId !== 'string') return false;
    const holder = inv.user ? tenant.users.get(tenantUpnOf(inv)!.toLowerCase()) : undefined;
    if (inv.user && !holder) return false;
    return deviceNow(inv, tenant, holder) === undefined;
  }
  if (!inv.user) return false;
  const user = tenant.users.get(tenantUpnOf(inv)!.toLowerCase());
  if (!user) return false;
  const now = userResourceState(inv.resource, user, tenant.hardwareTokens);
  switch (inv.kind) {
    case 'phone-delete':
    case 'email-delete':
      return now === null;
    case 'token-deactivate':
    case 'token-unassign':
      // Gone only when the device is nowhere: one assigned to someone else since is not undone, it
      // is changed (and left alone, with its delete).
      return deviceNow(inv, tenant, user) === undefined;
    case 'group-member-remove':
      return user.memberOf !== undefined && !user.memberOf.includes(String((inv.before as { groupId?: unknown } | null)?.groupId));
    default:
      return false;
  }
}

/**
 * An undo whose object holds already what it would put back (the run's journaled `before`): another
 * run's rollback (a second operator's state folder) or an admin restored it since. Nothing is left to
 * send, and it is no change since the run that only --force may overwrite: it is done, said apart
 * (`alreadyAsBefore`). A removal whose object is gone is alreadyUndone's, not this. Pure.
 */
export function alreadyAsBefore(inv: Operation, tenant: TenantSnapshot): boolean {
  const target = inv.after as Record<string, unknown> | null;
  if (inv.kind === 'policy-config' || inv.kind === 'policy-root') {
    const entries = Object.entries(target ?? {});
    return entries.length > 0 && entries.every(([key, value]) => samePolicyValue(tenant, inv, key, value));
  }
  if (inv.kind === 'federation-update') {
    const domain = inv.resource.split('/')[1];
    const d = tenant.cutover?.federatedDomains.find((x) => x.id === domain);
    return !!d && target !== null && d.federatedIdpMfaBehavior === target.federatedIdpMfaBehavior;
  }
  if (inv.kind === 'rollout-policy-update') {
    const policy = tenant.cutover?.rolloutPolicy;
    return !!policy && target !== null && policy.id === target.id && policy.isEnabled === target.isEnabled;
  }
  const lookup = deviceLookupOf(inv);
  if (lookup === 'ambiguous' || lookup === 'not-the-runs' || needsDeviceLookup(inv)) return false;
  if (!inv.user) return false;
  const user = tenant.users.get(tenantUpnOf(inv)!.toLowerCase());
  if (!user) return false;
  switch (inv.kind) {
    case 'phone-update':
    case 'phone-create':
    case 'email-update': {
      const now = userResourceState(inv.resource, user, tenant.hardwareTokens);
      return !!now && target !== null && sameResourceState(inv.resource, now, target);
    }
    case 'signin-update':
      return target !== null && user.defaultMethod === target.userPreferredMethodForSecondaryAuthentication;
    case 'token-deactivate': {
      // Not activated, and the user's still (or, when this rollback unassigns it next, no one's).
      const device = deviceNow(inv, tenant, user);
      if (!device || device.status === undefined || device.status === 'activated') return false;
      return device.assignedToId === user.id || (device.assignedToId === undefined && (inv.before as { unassignedAfter?: unknown } | null)?.unassignedAfter === true);
    }
    case 'token-unassign': {
      // In the inventory, assigned to no one (a token found nowhere is alreadyUndone's).
      const device = deviceNow(inv, tenant, user);
      return !!device && device.assignedToId === undefined;
    }
    default:
      return false;
  }
}

/** A policy undo's property as the tenant holds it now, against the value the undo writes back. */
function samePolicyValue(tenant: TenantSnapshot, inv: Operation, key: string, value: unknown): boolean {
  const [target, property] = inv.kind === 'policy-config' ? [inv.resource, key] : [key.slice(0, key.lastIndexOf('.')), key.slice(key.lastIndexOf('.') + 1)];
  return canonicalJson(policyPropertyState(tenant.policy, target, property)) === canonicalJson(savedAsRead(target, property, value));
}

/** The serial of `x` when it is a token this rollback leaves in the inventory (which a token deleted since makes untrue). */
function tokenLeftInInventory(x: Unreversible): string | undefined {
  const [kind, serial] = splitResource(x.target);
  return x.kind === 'token-in-inventory' && kind === 'hardwareOathMethods' && serial ? serial : undefined;
}

/** The serials of the tokens `unreversible` leaves in the inventory: the rollback reads them, to tell those deleted since. */
export function serialsLeftInInventory(unreversible: readonly Unreversible[]): string[] {
  return unreversible.flatMap((x) => tokenLeftInInventory(x) ?? []);
}

/**
 * What Graph cannot undo that is gone already (removed outside this tool since the run: a phone
 * deleted, the default method the run set unset, a token left in the inventory deleted from it):
 * nothing of it is left in place, and the rollback says so rather than "left in place". Only phones,
 * defaults and tokens; a user not read is not judged, and a token's serial must have been read
 * (serialsLeftInInventory). Pure.
 */
export function notReversibleGone(x: Unreversible, tenant: TenantSnapshot): boolean {
  // No token of its serial in the inventory (an admin deleted it, or another run's rollback): none is left there.
  const serial = tokenLeftInInventory(x);
  if (serial !== undefined) return (tenant.hardwareTokens.get(serialKey(serial)) ?? []).length === 0;
  if (!x.user) return false;
  const user = tenant.users.get(x.user.toLowerCase());
  if (!user) return false;
  const [kind] = splitResource(x.target);
  if (kind === 'phoneMethods') return userResourceState(x.target, user, tenant.hardwareTokens) === null;
  if (kind === 'signInPreferences') return user.defaultMethod === null;
  return false;
}

/** Why an inverse must not run: the object it would touch no longer holds what the run left there. Pure. */
export function changedSince(inv: Operation, tenant: TenantSnapshot): string | undefined {
  const left = inv.before as Record<string, unknown> | null;
  if (inv.kind === 'policy-config' || inv.kind === 'policy-root') {
    for (const [key, value] of Object.entries(left ?? {})) {
      if (!samePolicyValue(tenant, inv, key, value)) return `${key.slice(key.lastIndexOf('.') + 1)} changed since the run`;
    }
    return undefined;
  }
  if (CUTOVER_KINDS.has(inv.kind) && !inv.userId) return cutoverChangedSince(inv, tenant);
  // Not known to be the run's: left alone, said why. More than one of its serial: not changed, it fails (never sent).
  const lookup = deviceLookupOf(inv);
  if (lookup === 'not-the-runs') return deviceLookupReason(inv);
  if (lookup === 'ambiguous') return undefined;
  // A token of the inventory the run created: not deleted while someone holds it (an unassign left
  // alone does not hold back its delete, which must not take another user's token).
  if (inv.kind === 'token-delete' && !inv.user) {
    const device = deviceNow(inv, tenant);
    const heldBy = (inv.before as { heldBy?: unknown } | null)?.heldBy;
    return device?.assignedToId && device.assignedToId !== heldBy ? 'the token is assigned to another user' : undefined;
  }
  const user = inv.user ? tenant.users.get(tenantUpnOf(inv)!.toLowerCase()) : undefined;
  if (!user) return 'the user is no longer in the tenant';
  const now = userResourceState(inv.resource, user, tenant.hardwareTokens);
  switch (inv.kind) {
    case 'phone-delete':
    case 'phone-update':
      return now && sameResourceState(inv.resource, now, left) ? undefined : 'the phone changed since the run';
    case 'phone-create':
      return now ? 'a phone of that type exists again' : undefined;
    case 'email-delete':
    case 'email-update':
      return now && sameResourceState(inv.resource, now, left) ? undefined : 'the email method changed since the run';
    case 'token-deactivate':
    case 'token-unassign':
      return now && now.assignedTo === user.id ? undefined : 'the token is no longer assigned to the user';
    case 'token-delete': {
      // The token the run created for the user, deleted once unassigned: not if another user holds it now.
      const device = deviceNow(inv, tenant, user);
      return device?.assignedToId && device.assignedToId !== user.id ? 'the token is assigned to another user' : undefined;
    }
    case 'signin-update':
      return now?.userPreferredMethodForSecondaryAuthentication === left?.userPreferredMethodForSecondaryAuthentication ? undefined : 'the default method changed since the run';
    case 'group-member-remove':
      if (!user.memberOf) return undefined;
      return user.memberOf.includes(String(left?.groupId)) ? undefined : 'the user is no longer a member of the group';
    default:
      return undefined;
  }
}

/**
 * The device an inverse names (its `before.deviceId`) as the tenant holds it now: among the
 * inventory's tokens of its serial (the resource's), or held by the user. Looked up by serial: a
 * rollback compares up to one inverse per token against all of them.
 */
function deviceNow(inv: Operation, tenant: TenantSnapshot, user?: TenantUser): { id: string; assignedToId?: string; status?: string } | undefined {
  const deviceId = (inv.before as { deviceId?: unknown } | null)?.deviceId;
  if (typeof deviceId !== 'string') return undefined;
  const inInventory = tenant.hardwareTokens.get(serialKey(splitResource(inv.resource)[1] ?? ''))?.find((t) => t.id === deviceId);
  if (inInventory) return inInventory;
  const held = user?.hardwareOath.find((t) => t.id === deviceId);
  return held ? { id: held.id, assignedToId: user!.id, ...(held.status !== undefined ? { status: held.status } : {}) } : undefined;
}

/** The staged rollout's undos that switch users back to MFA Server as a whole (not a member removed). */
export const ROLLOUT_UNDOS: ReadonlySet<Operation['kind']> = new Set(['rollout-detach', 'rollout-policy-delete', 'rollout-policy-update']);

const CUTOVER_KINDS: ReadonlySet<Operation['kind']> = new Set(['rollout-policy-update', 'rollout-policy-delete', 'rollout-detach', 'federation-update']);

/** The rollout policy and the federations, as the rollback reads them: each must still hold what the run left. */
function cutoverChangedSince(inv: Operation, tenant: TenantSnapshot): string | undefined {
  const c = tenant.cutover;
  if (!c) return undefined;
  const left = (inv.before as Record<string, unknown> | null) ?? {};
  const policy = c.rolloutPolicy;
  // A group attached since the run: disabling or deleting the policy would switch its users back to MFA Server.
  const addedSince = () => {
    if (!policy || !Array.isArray(left.appliesTo)) return undefined;
    if (policy.isAppliedToOrganization) return 'the staged rollout policy applies to the whole organisation since the run';
    const added = policy.appliesTo.filter((id) => !(left.appliesTo as unknown[]).includes(id));
    if (added.length > 0) return `${added.length} group(s) were added to the staged rollout policy since the run (${added.slice(0, 5).join(', ')}): its users would be switched back`;
    return membersAddedSince();
  };
  // Users added to its groups since (by hand, or by a run rolled back out of order): switched back too.
  const membersAddedSince = () => {
    for (const [groupId, n] of Object.entries((left.membersLeft as Record<string, number> | undefined) ?? {})) {
      const g = c.groups.find((x) => x.id === groupId);
      if (g && policy?.appliesTo.includes(groupId) && g.users > n) return `${g.users - n} user(s) were added to "${g.displayName}" since the run (it holds ${g.users}, the run left ${n}): they would be switched back to MFA Server`;
    }
    return undefined;
  };
  switch (inv.kind) {
    case 'rollout-policy-update':
      return policy && policy.id === left.id && policy.isEnabled === left.isEnabled ? addedSince() : 'the staged rollout policy changed since the run';
    case 'rollout-policy-delete':
      return policy?.id === left.policyId ? addedSince() : 'the staged rollout policy the run created is gone';
    case 'rollout-detach':
      return policy && policy.id === left.policyId && policy.appliesTo.includes(String(left.groupId)) ? membersAddedSince() : 'the group no longer is in the staged rollout policy';
    case 'federation-update': {
      const domain = inv.resource.split('/')[1];
      const d = c.federatedDomains.find((x) => x.id === domain);
      return d?.federatedIdpMfaBehavior === left.federatedIdpMfaBehavior ? undefined : `the federation of ${domain} changed since the run`;
    }
    default:
      return undefined;
  }
}
