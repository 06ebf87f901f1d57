import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import type { BatchRequestItem, GraphConnection } from '../graph/graph-connection.js';
import { findConfig } from '../mapping/policy-rules.js';
import type { OathSeed } from '../model/export-data.js';
import { PHONE_METHOD_IDS } from '../model/tenant.js';
import { canonicalJson } from '../plan/fingerprint.js';
import { splitResource } from '../plan/resource-state.js';
import { serialKey } from '../model/serial.js';
import { encodeBase32 } from '../source/seeds/secret-encoding.js';
import { activationCode } from './activation-code.js';
import { configODataType, phoneMethodId, type Operation } from './operations.js';

/** Graph's fixed id of a user's email method. */
export const EMAIL_METHOD_ID = '3ddfcfc8-9383-446f-83cc-3ab9be4be18f';

export interface RequestContext {
  /** Results of finished operations (a created token's device id). */
  results: ReadonlyMap<string, Record<string, unknown>>;
  /** Seeds re-read from the source at apply time, by serialKey. */
  seeds: ReadonlyMap<string, OathSeed>;
  /** The policy as read at the start of the run (PATCHing a complex property sends all of it). */
  policy: AuthenticationMethodsPolicy;
  now: () => number;
}

export type BuiltRequest = { request: Omit<BatchRequestItem, 'id' | 'dependsOn'> } | { waitMs: number } | { error: string };

const u = (op: Operation) => `/users/${encodeURIComponent(op.userId!)}/authentication`;

/** The Graph request (beta) for an operation, built when it is sent (activation codes are time-bound). */
export function buildRequest(op: Operation, ctx: RequestContext): BuiltRequest {
  const after = op.after ?? {};
  switch (op.kind) {
    case 'policy-config': {
      const id = op.resource.slice('authenticationMethodConfigurations/'.length);
      return { request: { method: 'PATCH', url: `/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/${id}`, body: { '@odata.type': configODataType(id), ...after } } };
    }
    case 'policy-root':
      return { request: { method: 'PATCH', url: '/policies/authenticationMethodsPolicy', body: rootPolicyBody(after, ctx.policy) } };
    case 'phone-create':
      return { request: { method: 'POST', url: `${u(op)}/phoneMethods`, body: { phoneNumber: after.phoneNumber, phoneType: after.phoneType } } };
    case 'phone-update':
      return { request: { method: 'PATCH', url: `${u(op)}/phoneMethods/${phoneMethodId(op.resource)}`, body: { phoneNumber: after.phoneNumber, phoneType: after.phoneType } } };
    case 'phone-delete':
      return { request: { method: 'DELETE', url: `${u(op)}/phoneMethods/${phoneMethodId(op.resource)}` } };
    case 'email-create':
      return { request: { method: 'POST', url: `${u(op)}/emailMethods`, body: { emailAddress: after.emailAddress } } };
    case 'email-update':
      return { request: { method: 'PATCH', url: `${u(op)}/emailMethods/${EMAIL_METHOD_ID}`, body: { emailAddress: after.emailAddress } } };
    case 'token-create': {
      const seed = seedFor(op, ctx);
      if ('error' in seed) return seed;
      return {
        request: {
          method: 'POST',
          url: '/directory/authenticationMethodDevices/hardwareOathDevices',
          body: {
            serialNumber: seed.seed.serial,
            manufacturer: seed.seed.manufacturer ?? 'Unknown',
            model: seed.seed.model ?? 'Unknown',
            secretKey: encodeBase32(seed.seed.secret.reveal()),
            timeIntervalInSeconds: after.timeIntervalInSeconds,
            hashFunction: after.hashFunction,
            assignTo: { id: op.userId },
          },
        },
      };
    }
    case 'token-assign':
      return { request: { method: 'POST', url: `${u(op)}/hardwareOathMethods`, body: { device: { id: after.deviceId } } } };
    case 'token-activate': {
      const seed = seedFor(op, ctx);
      if ('error' in seed) return seed;
      const deviceId = deviceIdOf(op, ctx);
      if (!deviceId) return { error: 'the token device id is unknown' };
      const timing = activationCode(seed.seed.secret, after.timeIntervalInSeconds as 30 | 60, after.hashFunction as 'hmacsha1' | 'hmacsha256', ctx.now());
      if ('waitMs' in timing) return timing;
      return { request: { method: 'POST', url: `${u(op)}/hardwareOathMethods/${deviceId}/activate`, body: { verificationCode: timing.code } } };
    }
    case 'signin-update':
      return { request: { method: 'PATCH', url: `${u(op)}/signInPreferences`, body: { userPreferredMethodForSecondaryAuthentication: after.userPreferredMethodForSecondaryAuthentication } } };
    case 'email-delete':
      return { request: { method: 'DELETE', url: `${u(op)}/emailMethods/${EMAIL_METHOD_ID}` } };
    case 'token-unassign': {
      const deviceId = (op.before as { deviceId?: string } | null)?.deviceId;
      if (!deviceId) return { error: 'the token device id is unknown' };
      return { request: { method: 'DELETE', url: `${u(op)}/hardwareOathMethods/${deviceId}` } };
    }
    case 'token-delete': {
      const deviceId = (op.before as { deviceId?: string } | null)?.deviceId;
      if (!deviceId) return { error: 'the token device id is unknown' };
      return { request: { method: 'DELETE', url: `/directory/authenticationMethodDevices/hardwareOathDevices/${deviceId}` } };
    }
  }
}

/** The result worth keeping from a successful response. */
export function resultOf(op: Operation, body: unknown): Record<string, unknown> | undefined {
  if (op.kind === 'token-create') {
    const id = (body as { id?: string } | null)?.id;
    return id ? { deviceId: id } : undefined;
  }
  return undefined;
}

function seedFor(op: Operation, ctx: RequestContext): { seed: OathSeed } | { error: string } {
  const serial = splitResource(op.resource)[1]!;
  const seed = ctx.seeds.get(serialKey(serial));
  if (!seed) return { error: `the seed of token ${serial} is no longer in the seed files` };
  if (seed.fingerprint !== op.after?.secretFingerprint) return { error: `the seed of token ${serial} changed since the plan (fingerprint ${seed.fingerprint}, planned ${String(op.after?.secretFingerprint)})` };
  return { seed };
}

export function deviceIdOf(op: Operation, ctx: Pick<RequestContext, 'results'>): string | undefined {
  const fromCreate = ctx.results.get(`${op.userId}/${op.resource}/create`)?.deviceId;
  if (typeof fromCreate === 'string') return fromCreate;
  const before = op.before as { id?: string } | null;
  return before?.id;
}

/** PATCH body of the policy itself: complex properties are sent whole, current values merged with the planned ones. */
function rootPolicyBody(after: Record<string, unknown>, policy: AuthenticationMethodsPolicy): Record<string, unknown> {
  const campaign: Record<string, unknown> = { ...(policy.registrationEnforcement?.authenticationMethodsRegistrationCampaign ?? {}) };
  const report: Record<string, unknown> = { ...(policy.reportSuspiciousActivitySettings ?? {}) };
  let touchCampaign = false;
  let touchReport = false;
  for (const [key, value] of Object.entries(after)) {
    const [target, property] = [key.slice(0, key.lastIndexOf('.')), key.slice(key.lastIndexOf('.') + 1)];
    if (target === 'registrationEnforcement/authenticationMethodsRegistrationCampaign') {
      campaign[property] = value;
      touchCampaign = true;
    } else if (target === 'reportSuspiciousActivitySettings') {
      report[property] = value;
      touchReport = true;
    }
  }
  return {
    ...(touchCampaign ? { registrationEnforcement: { authenticationMethodsRegistrationCampaign: campaign } } : {}),
    ...(touchReport ? { reportSuspiciousActivitySettings: report } : {}),
  };
}

/**
 * Reads whether an operation's change is in the tenant: used when a write's outcome is unknown
 * (timeout, connection reset, 5xx) so that it is never sent twice, and for operations a crashed
 * run left `started`. Returns the result a success would have given (a token's device id).
 */
export async function verifyOp(op: Operation, conn: GraphConnection, ctx: Pick<RequestContext, 'results'>): Promise<{ done: boolean; result?: Record<string, unknown> }> {
  const after = op.after ?? {};
  const get = async (url: string) => {
    const res = await conn.request<Record<string, unknown>>('GET', url, 'beta');
    if (res.status === 404) return null;
    if (res.status >= 300) throw new Error(`verification read ${url.replace(/\?.*$/, '')} failed: ${res.status}`);
    return res.body;
  };
  switch (op.kind) {
    case 'policy-config': {
      const policy = (await get('/policies/authenticationMethodsPolicy')) as AuthenticationMethodsPolicy;
      const config = findConfig(policy, op.resource.slice('authenticationMethodConfigurations/'.length)) as Record<string, unknown> | undefined;
      return { done: !!config && Object.entries(after).every(([k, v]) => canonicalJson(config[k]) === canonicalJson(v)) };
    }
    case 'policy-root': {
      const policy = (await get('/policies/authenticationMethodsPolicy')) as AuthenticationMethodsPolicy;
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
      const list = ((await get(`${u(op)}/phoneMethods`))?.value ?? []) as { id: string; phoneNumber: string; phoneType: string }[];
      const type = splitResource(op.resource)[1];
      const p = list.find((x) => x.phoneType === type || x.id === PHONE_METHOD_IDS[type as keyof typeof PHONE_METHOD_IDS]);
      if (op.kind === 'phone-delete') return { done: !p };
      return { done: !!p && p.phoneNumber.replace(/\s+/g, '') === String(after.phoneNumber).replace(/\s+/g, '') };
    }
    case 'email-create':
    case 'email-update':
    case 'email-delete': {
      const list = ((await get(`${u(op)}/emailMethods`))?.value ?? []) as { emailAddress: string }[];
      if (op.kind === 'email-delete') return { done: list.length === 0 };
      return { done: list.some((e) => e.emailAddress.toLowerCase() === String(after.emailAddress).toLowerCase()) };
    }
    case 'token-unassign':
    case 'token-delete': {
      const deviceId = (op.before as { deviceId?: string } | null)?.deviceId;
      const device = await get(`/directory/authenticationMethodDevices/hardwareOathDevices/${deviceId}`);
      if (op.kind === 'token-delete') return { done: device === null };
      return { done: device === null || !(device.assignedTo as { id?: string } | null)?.id };
    }
    case 'token-create':
    case 'token-assign':
    case 'token-activate': {
      const serial = splitResource(op.resource)[1]!;
      const filter = encodeURIComponent(`serialNumber eq '${serial.replace(/'/g, "''")}'`);
      const devices = ((await get(`/directory/authenticationMethodDevices/hardwareOathDevices?$filter=${filter}`))?.value ?? []) as { id: string; status: string; assignedTo?: { id?: string } | null }[];
      const mine = devices.find((d) => d.assignedTo?.id === op.userId);
      if (!mine) return { done: false };
      if (op.kind === 'token-activate') return { done: mine.status === 'activated' };
      return { done: true, result: { deviceId: mine.id } };
    }
    case 'signin-update': {
      const prefs = await get(`${u(op)}/signInPreferences`);
      return { done: prefs?.userPreferredMethodForSecondaryAuthentication === after.userPreferredMethodForSecondaryAuthentication };
    }
  }
}
