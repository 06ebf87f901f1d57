import { describe, expect, it } from 'vitest';
import type { OpRecord } from '../../src/apply/journal.js';
import { callFor } from '../../src/apply/op-calls.js';
import type { Operation } from '../../src/apply/operations.js';
import { lookUpDevices, needsDeviceLookup, withJournaledDevices } from '../../src/apply/rollback-device-lookup.js';
import { alreadyUndone, bulkLeftReason, changedSince, inverseOperations, unrecordedLeftReason } from '../../src/apply/rollback-inverses.js';
import type { TenantHardwareToken, TenantSnapshot, TenantUser } from '../../src/model/tenant.js';

const U = '00000000-0000-4000-8000-000000000001';
const V = '00000000-0000-4000-8000-000000000002';
const op = (o: Partial<Operation> & Pick<Operation, 'id' | 'kind' | 'resource'>): Operation => ({ user: 'a@x.com', userId: U, stateFingerprint: '', dependsOn: [], before: null, after: null, ...o });
const user = (id: string, upn: string): TenantUser => ({ id, userPrincipalName: upn, phones: [], emails: [], authenticatorCount: 0, softwareOathCount: 0, hardwareOath: [], defaultMethod: null });
const tenantWith = (tokens: TenantHardwareToken[]): TenantSnapshot => ({
  tenant: { id: 't', displayName: 'T' },
  policy: {},
  users: new Map([
    ['a@x.com', user(U, 'a@x.com')],
    ['b@x.com', user(V, 'b@x.com')],
  ]),
  hardwareTokens: new Map([['b1', tokens]]),
});

const bulk = op({ id: 'tokens/abc', kind: 'token-bulk-create', resource: 'hardwareOathDevices', user: undefined, userId: undefined, after: { tokens: [{ serialNumber: 'B1' }, { serialNumber: 'B2' }] } });
const assign = (serial: string, userId = U, upn = 'a@x.com') =>
  op({ id: `${userId}/hardwareOathMethods/${serial}/assign-activate`, kind: 'token-assign-activate', resource: `hardwareOathMethods/${serial}`, user: upn, userId, after: { serialNumber: serial, created: true }, dependsOn: [bulk.id] });
/** The bulk create done with no device ids, as a journal of an older version left it; `before` as its `started` line journaled it (undefined: never sent). */
const bulkDone = (before: unknown) => new Map<string, OpRecord>([[bulk.id, { op: bulk.id, state: 'done', ...(before !== undefined ? { before } : {}), result: { devices: {} } }]]);

describe('rollback: a bulk create done with no device ids (a journal of an older version)', () => {
  it("never deletes from the inventory a token it made whose id the journal lacks: said, with the serial; its users' undos look theirs up", () => {
    const { inverses, notReversible } = inverseOperations([bulk, assign('B1'), assign('B2', V, 'b@x.com')], bulkDone({ present: [] }));
    // A token of the serial the inventory holds now may be an admin's: not the run's by the journal.
    expect(inverses.filter((i) => i.kind === 'token-delete')).toEqual([]);
    expect(notReversible).toEqual([
      { target: 'hardwareOathMethods/B1', reason: unrecordedLeftReason('B1', 'bulk create'), kind: 'token-in-inventory' },
      { target: 'hardwareOathMethods/B2', reason: unrecordedLeftReason('B2', 'bulk create'), kind: 'token-in-inventory' },
    ]);
    expect(unrecordedLeftReason('B1', 'bulk create')).toMatch(/^the run's journal \(written by an earlier version\) does not record the id of the token of serial B1 its bulk create made, .*: it stays in the inventory .*; delete it there if it is the run's$/);
    const token = inverses.filter((i) => i.resource === 'hardwareOathMethods/B1');
    expect(token.map((i) => [i.kind, i.dependsOn])).toEqual([
      ['token-deactivate', []],
      ['token-unassign', [`rollback/${U}/hardwareOathMethods/B1/assign-activate/deactivate`]],
    ]);
    for (const i of token) expect(needsDeviceLookup(i)).toBe(true);
  });

  it("leaves in the inventory, said, a token of a serial the inventory held before it (or that a version not journaling what it held may have found there, or that it found when sent again after a refusal), and still takes back the run's assignment", () => {
    for (const [before, result, origin] of [
      // B2 was not there: made by it, with no id recorded: left too (said once, with no user).
      [{ present: ['b1'] }, { devices: {} }, 'held'],
      // Never sent: it found every serial there.
      [undefined, { devices: {} }, 'held'],
      // Sent by a version that journaled no `present`: not known to be the run's.
      [null, { devices: {} }, 'unknown'],
      // Found there when sent again after a send Graph refused outright: someone else's.
      [{ present: [] }, { devices: {}, foundNotMade: ['B1'] }, 'found'],
    ] as const) {
      const records = bulkDone(before);
      records.set(bulk.id, { ...records.get(bulk.id)!, result });
      const { inverses, notReversible } = inverseOperations([bulk, assign('B1')], records);
      expect(inverses.filter((i) => i.resource === 'hardwareOathMethods/B1').map((i) => i.kind)).toEqual(['token-deactivate', 'token-unassign']);
      expect(inverses.filter((i) => i.kind === 'token-delete')).toEqual([]);
      expect(notReversible).toEqual([
        { user: 'a@x.com', target: 'hardwareOathMethods/B1', reason: bulkLeftReason(origin), kind: 'token-in-inventory' },
        // B2's user was left out: what it (or the older version) may have made is said, with no user.
        ...(origin === 'unknown' ? [{ target: 'hardwareOathMethods/B2', reason: bulkLeftReason('unknown'), kind: 'token-in-inventory' }] : []),
        ...(before && 'present' in before ? [{ target: 'hardwareOathMethods/B2', reason: unrecordedLeftReason('B2', 'bulk create'), kind: 'token-in-inventory' }] : []),
      ]);
    }
    // Someone else's, not the run's: nothing said of deleting it.
    expect(bulkLeftReason('found')).not.toMatch(/delete/);
  });

  it('deletes a token whose id the journal records, after its user\'s unassign, as before', () => {
    const records = bulkDone({ present: [] });
    records.set(bulk.id, { ...records.get(bulk.id)!, result: { devices: { B1: 'd1' } } });
    const { inverses } = inverseOperations([bulk, assign('B1')], records);
    expect(inverses.filter((i) => i.kind === 'token-delete').map((i) => [i.before, i.dependsOn])).toEqual([[{ serialNumber: 'B1', deviceId: 'd1', heldBy: U }, [`rollback/${U}/hardwareOathMethods/B1/assign-activate/unassign`]]]);
  });

  it("says nothing of a serial it left out because its user was left out as stale (before.leftOut): never sent, never the run's", () => {
    const records = bulkDone({ present: [], leftOut: ['B2'] });
    records.set(bulk.id, { ...records.get(bulk.id)!, result: { devices: { B1: 'd1' } } });
    // B2's user was left out as stale: their assign-and-activate skipped, not done.
    const { inverses, notReversible } = inverseOperations([bulk, assign('B1')], records);
    expect(inverses.filter((i) => i.kind === 'token-delete').map((i) => (i.before as { serialNumber: string }).serialNumber)).toEqual(['B1']);
    expect(notReversible).toEqual([]);
  });
});

describe('rollback: a token create done with no device id (a journal of an older version)', () => {
  const create = op({ id: `${U}/hardwareOathMethods/C1/create`, kind: 'token-create', resource: 'hardwareOathMethods/C1', after: { serialNumber: 'C1' } });
  it('is unassigned once looked up, never deleted from the inventory: said, with the serial', () => {
    const { inverses, notReversible } = inverseOperations([create], new Map([[create.id, { op: create.id, state: 'done', result: {} }]]));
    expect(inverses.map((i) => i.kind)).toEqual(['token-unassign']);
    expect(needsDeviceLookup(inverses[0]!)).toBe(true);
    expect(notReversible).toEqual([{ user: 'a@x.com', target: 'hardwareOathMethods/C1', reason: unrecordedLeftReason('C1', 'token create'), kind: 'token-in-inventory' }]);
    // With its id journaled: unassigned and deleted by it.
    const recorded = inverseOperations([create], new Map([[create.id, { op: create.id, state: 'done', result: { deviceId: 'c1' } }]]));
    expect(recorded.inverses.map((i) => [i.kind, (i.before as { deviceId?: string }).deviceId])).toEqual([
      ['token-unassign', 'c1'],
      ['token-delete', 'c1'],
    ]);
    expect(recorded.notReversible).toEqual([]);
  });
});

describe('rollback: a token undo with no device id, looked up by serial in the tenant', () => {
  const { inverses } = inverseOperations([bulk, assign('B1')], bulkDone({ present: [] }));
  const [deactivate, unassign] = inverses.filter((i) => i.resource === 'hardwareOathMethods/B1') as [Operation, Operation];
  // An inventory delete with no id, as the rollback no longer builds one (a delete is looked up only by way of caution).
  const del = op({ id: `rollback/${bulk.id}/B1`, kind: 'token-delete', resource: 'hardwareOathMethods/B1', user: undefined, userId: undefined, before: { serialNumber: 'B1', heldBy: U } });
  const look = (tokens: TenantHardwareToken[]) => {
    const tenant = tenantWith(tokens);
    return { tenant, ops: lookUpDevices([deactivate, unassign, del], tenant) };
  };

  it('is never gone already for lacking an id alone', () => {
    expect(alreadyUndone(deactivate, tenantWith([{ id: 'd1', serialNumber: 'B1', status: 'activated', assignedToId: U }]))).toBe(false);
  });

  it("takes the one token of the serial held by the run's user (for the delete: or unassigned)", () => {
    const { tenant, ops } = look([{ id: 'd1', serialNumber: 'B1', status: 'activated', assignedToId: U }]);
    for (const o of ops) {
      expect(o.before).toMatchObject({ deviceId: 'd1', deviceLookup: 'found' });
      expect(alreadyUndone(o, tenant)).toBe(false);
      expect(changedSince(o, tenant)).toBeUndefined();
    }
    // Unassigned: not the run's user's any more; a delete of a token a user held is no exception (an
    // admin's re-using the serial, say): the undos agree, and nothing is deleted.
    const unassigned = look([{ id: 'd1', serialNumber: 'B1', status: 'available' }]);
    expect(unassigned.ops.map((o) => (o.before as { deviceLookup: string }).deviceLookup)).toEqual(['not-the-runs', 'not-the-runs', 'not-the-runs']);
    expect(changedSince(unassigned.ops[2]!, unassigned.tenant)).toMatch(/^the token is no longer assigned to the user: the one token of serial B1 in the tenant \(d1\) is assigned to no one, .*not known to be the run's, left alone$/);
    // The delete of one no user held (the run gave it no one): unassigned, it is taken.
    const noHolder = { ...del, before: { serialNumber: 'B1' } };
    expect(lookUpDevices([noHolder], tenantWith([{ id: 'd1', serialNumber: 'B1', status: 'available' }]))[0]!.before).toMatchObject({ deviceId: 'd1', deviceLookup: 'found' });
  });

  it('none of the serial left: gone already', () => {
    const { tenant, ops } = look([]);
    for (const o of ops) expect(alreadyUndone(o, tenant)).toBe(true);
  });

  it("one held by another user: not the run's, left alone, said why", () => {
    const { tenant, ops } = look([{ id: 'd9', serialNumber: 'B1', status: 'activated', assignedToId: V }]);
    for (const o of ops) {
      expect((o.before as { deviceId?: unknown }).deviceId).toBeUndefined();
      expect(alreadyUndone(o, tenant)).toBe(false);
      expect(changedSince(o, tenant)).toMatch(new RegExp(`^the token (is no longer assigned to the user|is assigned to another user): the one token of serial B1 in the tenant \\(d9\\) is assigned to another user \\(${V}\\), and the run's journal does not record the id of the one it (assigned for a@x\\.com|made for the user ${U}): not known to be the run's, left alone$`));
    }
  });

  it('more than one of the serial: not guessed, not changed, not gone: the undo fails with the serial and the user', () => {
    const { tenant, ops } = look([
      { id: 'd1', serialNumber: 'B1', status: 'activated', assignedToId: U },
      { id: 'd2', serialNumber: 'b1', status: 'available' },
    ]);
    for (const o of ops) {
      expect((o.before as { deviceId?: unknown }).deviceId).toBeUndefined();
      expect(o.before).toMatchObject({ deviceLookup: 'ambiguous', deviceLookupReason: expect.stringMatching(/^not undone: the run's journal does not record the id of the token of serial B1 it (assigned for a@x\.com|made for the user .+), and the tenant holds 2 tokens of that serial \(d1, d2\): the rollback does not guess, and touches none/) });
      expect(alreadyUndone(o, tenant)).toBe(false);
      expect(changedSince(o, tenant)).toBeUndefined();
    }
  });

  it('an undo left with no device (more than one, or not the run\'s) is never sent, --force or not: it fails with why', () => {
    const ctx = { results: new Map(), seeds: new Map(), policy: {}, now: Date.now };
    const [two] = look([
      { id: 'd1', serialNumber: 'B1', status: 'activated', assignedToId: U },
      { id: 'd2', serialNumber: 'B1', status: 'available' },
    ]).ops;
    expect(callFor(two!, ctx)).toEqual({ error: expect.stringMatching(/^not undone: .* 2 tokens of that serial \(d1, d2\)/) });
    const [theirs] = look([{ id: 'd9', serialNumber: 'B1', status: 'activated', assignedToId: V }]).ops;
    expect(callFor(theirs!, ctx)).toEqual({ error: expect.stringMatching(/not known to be the run's, left alone$/) });
  });

  it("takes an id an earlier pass of the rollback found and journaled, for every undo of that token", () => {
    const journaled = new Map<string, OpRecord>([[deactivate.id, { op: deactivate.id, state: 'done', before: { ...(deactivate.before as object), deviceId: 'd1', deviceLookup: 'found' } }]]);
    expect(withJournaledDevices([deactivate, unassign, del], journaled).map((o) => (o.before as { deviceId?: string }).deviceId)).toEqual(['d1', 'd1', 'd1']);
  });
});
