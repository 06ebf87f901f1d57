import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import type { Prepared } from '../graph/batch-pipeline.js';
import { activateToken, assignToken, createDevice, deactivateToken, deleteDevice, unassignToken } from '../graph/calls/hardware-oath.js';
import { patchMethodConfiguration, patchRegistrationCampaign, patchReportSuspiciousActivity } from '../graph/calls/policy.js';
import { createEmailMethod, createPhoneMethod, deleteEmailMethod, deletePhoneMethod, setDefaultMethod, updateEmailMethod, updatePhoneMethod } from '../graph/calls/user-methods.js';
import type { OathSeed } from '../model/export-data.js';
import type { PhoneType } from '../model/tenant.js';
import { serialKey } from '../model/serial.js';
import { splitResource } from '../plan/resource-state.js';
import { encodeBase32 } from '../source/seeds/secret-encoding.js';
import { activationCode } from './activation-code.js';
import type { Operation } from './operations.js';

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
export function callFor(op: Operation, ctx: CallContext): Prepared {
  const after = op.after ?? {};
  const userId = op.userId ?? '';
  switch (op.kind) {
    case 'policy-config':
      return { call: patchMethodConfiguration(op.resource.slice('authenticationMethodConfigurations/'.length), after) };
    case 'policy-root': {
      const body = rootPolicyBody(after, ctx.policy);
      if (body.campaign && body.report) return { error: 'the registration campaign and the report-suspicious-activity settings are written by two operations' };
      if (body.campaign) return { call: patchRegistrationCampaign(body.campaign) };
      if (body.report) return { call: patchReportSuspiciousActivity(body.report) };
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
          secretKey: encodeBase32(seed.seed.secret.reveal()),
          timeIntervalInSeconds: Number(after.timeIntervalInSeconds),
          hashFunction: String(after.hashFunction),
          assignTo: userId,
        }),
      };
    }
    case 'token-assign':
      return { call: assignToken(userId, String(after.deviceId)) };
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
      if (!deviceId) return { error: 'the token device id is unknown' };
      return { call: deactivateToken(userId, deviceId) };
    }
    case 'token-unassign': {
      const deviceId = (op.before as { deviceId?: string } | null)?.deviceId;
      if (!deviceId) return { error: 'the token device id is unknown' };
      return { call: unassignToken(userId, deviceId) };
    }
    case 'token-delete': {
      const deviceId = (op.before as { deviceId?: string } | null)?.deviceId;
      if (!deviceId) return { error: 'the token device id is unknown' };
      return { call: deleteDevice(deviceId) };
    }
  }
}

/** What a successful answer gives that later operations need (a created token's device id). */
export function resultOf(op: Operation, body: unknown): Record<string, unknown> | undefined {
  if (op.kind === 'token-create') {
    const id = (body as { id?: string } | null)?.id;
    return id ? { deviceId: id } : undefined;
  }
  return undefined;
}

function phoneOf(after: Record<string, unknown>): { phoneNumber: string; phoneType: PhoneType } {
  return { phoneNumber: String(after.phoneNumber), phoneType: after.phoneType as PhoneType };
}

function seedFor(op: Operation, ctx: CallContext): { seed: OathSeed } | { error: string } {
  const serial = splitResource(op.resource)[1]!;
  const seed = ctx.seeds.get(serialKey(serial));
  if (!seed) return { error: `the seed of token ${serial} is no longer in the seed files` };
  if (seed.fingerprint !== op.after?.secretFingerprint) return { error: `the seed of token ${serial} changed since the plan (fingerprint ${seed.fingerprint}, planned ${String(op.after?.secretFingerprint)})` };
  return { seed };
}

/** The device id a token operation works on: created by this run, or the tenant's (the plan's `before`). */
export function deviceIdOf(op: Operation, ctx: Pick<CallContext, 'results'>): string | undefined {
  const fromCreate = ctx.results.get(`${op.userId}/${op.resource}/create`)?.deviceId;
  if (typeof fromCreate === 'string') return fromCreate;
  const before = op.before as { id?: string } | null;
  return before?.id;
}

/** The root policy's complex properties, each sent whole: current values merged with the planned ones. */
function rootPolicyBody(after: Record<string, unknown>, policy: AuthenticationMethodsPolicy): { campaign?: Record<string, unknown>; report?: Record<string, unknown> } {
  let campaign: Record<string, unknown> | undefined;
  let report: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(after)) {
    const [target, property] = [key.slice(0, key.lastIndexOf('.')), key.slice(key.lastIndexOf('.') + 1)];
    if (target === ROOT_CAMPAIGN) (campaign ??= { ...(policy.registrationEnforcement?.authenticationMethodsRegistrationCampaign ?? {}) })[property] = value;
    else if (target === ROOT_REPORT) (report ??= { ...(policy.reportSuspiciousActivitySettings ?? {}) })[property] = value;
  }
  return { ...(campaign ? { campaign } : {}), ...(report ? { report } : {}) };
}
