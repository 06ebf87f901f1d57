import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import type { Prepared } from '../graph/batch-pipeline.js';
import { activateToken, assignAndActivateBySerial, assignToken, bulkCreateDevices, createDevice, deactivateToken, deleteDevice, deviceOf, unassignToken } from '../graph/calls/hardware-oath.js';
import { patchMethodConfiguration, patchRegistrationCampaign, patchReportSuspiciousActivity } from '../graph/calls/policy.js';
import { addGroupMember, removeGroupMember } from '../graph/calls/groups.js';
import { setFederatedIdpMfaBehavior } from '../graph/calls/domains.js';
import { attachRolloutGroup, createRolloutPolicy, deleteRolloutPolicy, detachRolloutGroup, updateRolloutPolicy } from '../graph/calls/rollout.js';
import { createEmailMethod, createPhoneMethod, deleteEmailMethod, deletePhoneMethod, setDefaultMethod, updateEmailMethod, updatePhoneMethod } from '../graph/calls/user-methods.js';
import type { OathSeed } from '../model/export-data.js';
import type { PhoneType } from '../model/tenant.js';
import { serialKey } from '../model/serial.js';
import { splitResource } from '../plan/resource-state.js';
import { activationCode } from './activation-code.js';
import { deviceLookupReason } from './rollback-device-lookup.js';
import { ROLLOUT_POLICY_OP, type Operation } from './operations.js';

export interface CallContext {
  /** Results of finished operations (a created token's device id), by operation id. */
  results: ReadonlyMap<string, Record<string, unknown>>;
  /** Seeds read again from the source at apply time, by serialKey. */
  seeds: ReadonlyMap<string, OathSeed>;
  /** The policy as read at the start of the run (a complex property is PATCHed whole). */
  policy: AuthenticationMethodsPolicy;
  now: () => number;
}

const ROOT_CAMPAIGN = 'registrationEnforcement/authenticationMethodsRegistrationCampaign';
const ROOT_REPORT = 'reportSuspiciousActivitySettings';

/**
 * The Graph call that performs an operation, made when its batch is formed (an activation code is
 * valid for one time step): or a wait (the code would expire in flight), or why it cannot be made.
 */
export function callFor(op: Operation, ctx: CallContext, skipSerials?: ReadonlySet<string>): Prepared {
  const after = op.after ?? {};
  const userId = op.userId ?? '';
  switch (op.kind) {
    case 'policy-config':
      return { call: patchMethodConfiguration(op.resource.slice('authenticationMethodConfigurations/'.length), after) };
    case 'policy-root': {
      const changes = rootPolicyChanges(after);
      if (changes.campaign && changes.report) return { error: 'the registration campaign and the report-suspicious-activity settings are written by two operations' };
      if (changes.campaign) return { call: patchRegistrationCampaign(changes.campaign, ctx.policy) };
      if (changes.report) return { call: patchReportSuspiciousActivity(changes.report, ctx.policy) };
      return { error: 'nothing to write to the policy' };
    }
    case 'phone-create':
      return { call: createPhoneMethod(userId, phoneOf(after)) };
    case 'phone-update':
      return { call: updatePhoneMethod(userId, phoneOf(after)) };
    case 'phone-delete':
      return { call: deletePhoneMethod(userId, splitResource(op.resource)[1] as PhoneType) };
    case 'email-create':
      return { call: createEmailMethod(userId, String(after.emailAddress)) };
    case 'email-update':
      return { call: updateEmailMethod(userId, String(after.emailAddress)) };
    case 'email-delete':
      return { call: deleteEmailMethod(userId) };
    case 'token-create': {
      const seed = seedFor(op, ctx);
      if ('error' in seed) return seed;
      return {
        call: createDevice({
          serialNumber: seed.seed.serial,
          manufacturer: seed.seed.manufacturer ?? 'Unknown',
          model: seed.seed.model ?? 'Unknown',
          secret: seed.seed.secret.reveal(),
          timeIntervalInSeconds: Number(after.timeIntervalInSeconds),
          hashFunction: String(after.hashFunction),
          assignTo: userId,
        }),
      };
    }
    case 'token-assign':
      return { call: assignToken(userId, String(after.deviceId)) };
    case 'token-bulk-create': {
      const devices = [];
      for (const t of (after.tokens as { serialNumber: string; secretFingerprint: string; hashFunction: string; timeIntervalInSeconds: number }[]) ?? []) {
        if (skipSerials?.has(serialKey(t.serialNumber))) continue;
        const seed = seedOf(t.serialNumber, t.secretFingerprint, ctx);
        if ('error' in seed) return seed;
        devices.push({ serialNumber: seed.seed.serial, manufacturer: seed.seed.manufacturer ?? 'Unknown', model: seed.seed.model ?? 'Unknown', secret: seed.seed.secret.reveal(), timeIntervalInSeconds: Number(t.timeIntervalInSeconds), hashFunction: String(t.hashFunction) });
      }
      return { call: bulkCreateDevices(devices) };
    }
    case 'token-assign-activate': {
      const seed = seedFor(op, ctx);
      if ('error' in seed) return seed;
      const timing = activationCode(seed.seed.secret, after.timeIntervalInSeconds as 30 | 60, after.hashFunction as 'hmacsha1' | 'hmacsha256', ctx.now());
      if ('waitMs' in timing) return { deferMs: timing.waitMs };
      // An inventory token is asked for by the serial as the inventory holds it (Graph matches it as
      // written; the seed file may write its accents decomposed), a token the run created by the seed's.
      const held = (op.before as { serialNumber?: unknown } | null)?.serialNumber;
      return { call: assignAndActivateBySerial(userId, typeof held === 'string' ? held : seed.seed.serial, timing.code) };
    }
    case 'token-activate': {
      const seed = seedFor(op, ctx);
      if ('error' in seed) return seed;
      const deviceId = deviceIdOf(op, ctx);
      if (!deviceId) return { error: 'the token device id is unknown' };
      const timing = activationCode(seed.seed.secret, after.timeIntervalInSeconds as 30 | 60, after.hashFunction as 'hmacsha1' | 'hmacsha256', ctx.now());
      if ('waitMs' in timing) return { deferMs: timing.waitMs };
      return { call: activateToken(userId, deviceId, timing.code) };
    }
    case 'signin-update':
      return { call: setDefaultMethod(userId, String(after.userPreferredMethodForSecondaryAuthentication)) };
    case 'token-deactivate': {
      const deviceId = (op.before as { deviceId?: string } | null)?.deviceId;
      if (!deviceId) return { error: unknownDevice(op) };
      return { call: deactivateToken(userId, deviceId) };
    }
    case 'token-unassign': {
      const deviceId = (op.before as { deviceId?: string } | null)?.deviceId;
      if (!deviceId) return { error: unknownDevice(op) };
      return { call: unassignToken(userId, deviceId) };
    }
    case 'token-delete': {
      const deviceId = (op.before as { deviceId?: string } | null)?.deviceId;
      if (!deviceId) return { error: unknownDevice(op) };
      return { call: deleteDevice(deviceId) };
    }
    case 'rollout-policy-create':
      return { call: createRolloutPolicy(String(after.displayName), 'Users moved from MFA Server to Entra MFA, group by group (mfa-migrate)') };
    case 'rollout-policy-update':
    case 'rollout-policy-delete':
    case 'rollout-attach':
    case 'rollout-detach': {
      const policyId = rolloutPolicyIdOf(op, ctx);
      if (!policyId) return { error: 'the staged rollout policy id is unknown' };
      if (op.kind === 'rollout-policy-update') return { call: updateRolloutPolicy(policyId, { isEnabled: after.isEnabled === true }) };
      if (op.kind === 'rollout-policy-delete') return { call: deleteRolloutPolicy(policyId) };
      const groupId = String((op.kind === 'rollout-attach' ? after : (op.before as Record<string, unknown> | null) ?? {}).groupId);
      return { call: op.kind === 'rollout-attach' ? attachRolloutGroup(policyId, groupId) : detachRolloutGroup(policyId, groupId) };
    }
    case 'rollout-add':
    case 'campaign-add':
      return { call: addGroupMember(splitResource(op.resource)[1]!, userId) };
    case 'group-member-remove':
      return { call: removeGroupMember(splitResource(op.resource)[1]!, userId) };
    case 'federation-update': {
      const domain = op.resource.split('/')[1]!;
      return { call: setFederatedIdpMfaBehavior(domain, String(after.id), String(after.federatedIdpMfaBehavior)) };
    }
  }
}

/** The rollout policy an operation works on: created by this run, or the tenant's (planned, or recorded by the run undone). */
export function rolloutPolicyIdOf(op: Operation, ctx: Pick<CallContext, 'results'>): string | undefined {
  const created = ctx.results.get(ROLLOUT_POLICY_OP)?.policyId;
  if (typeof created === 'string') return created;
  for (const v of [op.after?.policyId, op.after?.id, (op.before as Record<string, unknown> | null)?.policyId, (op.before as Record<string, unknown> | null)?.id]) {
    if (typeof v === 'string') return v;
  }
  return undefined;
}

/** What a successful answer gives that later operations need (a created token's device id). */
export function resultOf(op: Operation, body: unknown): Record<string, unknown> | undefined {
  if (op.kind === 'token-bulk-create') {
    // The tokens created, by serial: what rollback deletes.
    const devices: Record<string, string> = {};
    for (const item of (body as { value?: unknown[] } | null)?.value ?? []) {
      const d = deviceOf(item);
      if (d) devices[String(d.serialNumber)] = d.id;
    }
    return { devices };
  }
  if (op.kind === 'token-create') {
    const id = (body as { id?: string } | null)?.id;
    return id ? { deviceId: id } : undefined;
  }
  if (op.kind === 'rollout-policy-create') {
    const id = (body as { id?: string } | null)?.id;
    return id ? { policyId: id } : undefined;
  }
  return undefined;
}

function phoneOf(after: Record<string, unknown>): { phoneNumber: string; phoneType: PhoneType } {
  return { phoneNumber: String(after.phoneNumber), phoneType: after.phoneType as PhoneType };
}

function seedFor(op: Operation, ctx: CallContext): { seed: OathSeed } | { error: string } {
  return seedOf(splitResource(op.resource)[1]!, op.after?.secretFingerprint, ctx);
}

function seedOf(serial: string, fingerprint: unknown, ctx: CallContext): { seed: OathSeed } | { error: string } {
  const seed = ctx.seeds.get(serialKey(serial));
  if (!seed) return { error: `the seed of token ${serial} is no longer in the seed files` };
  if (seed.fingerprint !== fingerprint) return { error: `the seed of token ${serial} changed since the plan (fingerprint ${seed.fingerprint}, planned ${String(fingerprint)})` };
  return { seed };
}

/** Why a token undo names no device: its serial's lookup said (more than one token, or not the run's), else unknown. */
function unknownDevice(op: Operation): string {
  return deviceLookupReason(op) ?? 'the token device id is unknown';
}

/** The device id a token operation works on: created by this run, or the tenant's (the plan's `before`). */
export function deviceIdOf(op: Operation, ctx: Pick<CallContext, 'results'>): string | undefined {
  const fromCreate = ctx.results.get(`${op.userId}/${op.resource}/create`)?.deviceId;
  if (typeof fromCreate === 'string') return fromCreate;
  const before = op.before as { id?: string } | null;
  return before?.id;
}

/** The planned properties of the root policy's two targets (`target.property` keys of the plan). */
function rootPolicyChanges(after: Record<string, unknown>): { campaign?: Record<string, unknown>; report?: Record<string, unknown> } {
  let campaign: Record<string, unknown> | undefined;
  let report: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(after)) {
    const [target, property] = [key.slice(0, key.lastIndexOf('.')), key.slice(key.lastIndexOf('.') + 1)];
    if (target === ROOT_CAMPAIGN) (campaign ??= {})[property] = value;
    else if (target === ROOT_REPORT) (report ??= {})[property] = value;
  }
  return { ...(campaign ? { campaign } : {}), ...(report ? { report } : {}) };
}
