import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defaultConfiguration, defaultPolicy, configurationTypeName, type AuthenticationMethodsPolicyJson } from './default-policy.js';
import { GraphError } from './graph-error.js';
import { parseSecretKey } from './oath-secret.js';
import { PHONE_NUMBER_RE, PHONE_TYPES } from './phone-number.js';
import { isPlainObject, mergePatch, validateConfigurationPatch, validatePolicyPatch } from './policy-rules.js';
import { GUID_RE, guidFromName } from './prng.js';
import { GROUP_PROPERTIES, USER_PROPERTIES } from './representations.js';
import {
  EmulatorState,
  MAX_OATH_AND_AUTHENTICATOR,
  PREFERRED_METHODS,
  oathAndAuthenticatorCount,
  preferredMethodProblem,
  type DeviceRecord,
  type TenantSize,
  type UserRecord,
} from './state.js';
import { UserError } from '../model/user-error.js';

/**
 * The tenant file: the emulated directory as JSON (documented in docs/emulator.md). Loading checks the
 * shape (unknown keys are errors, so typos do not pass silently) and then the rules Graph would enforce,
 * and reports every problem with its JSON path.
 */
const guid = z.string().regex(GUID_RE, 'must be a GUID');
const isoDate = z.iso.datetime({ offset: true });
const phoneNumber = z.string().regex(PHONE_NUMBER_RE, "must be in Graph's format '+{country code} {number}' with optional 'x{extension}'");
const secretKey = z.string().superRefine((value, ctx) => {
  const parsed = parseSecretKey(value);
  if ('reason' in parsed) ctx.addIssue({ code: 'custom', message: parsed.reason });
});

const userSchema = z.strictObject({
  id: guid.optional(),
  userPrincipalName: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must look like name@domain'),
  displayName: z.string().min(1),
  accountEnabled: z.boolean().optional(),
  givenName: z.string().nullable().optional(),
  surname: z.string().nullable().optional(),
  mail: z.string().nullable().optional(),
  userType: z.enum(['Member', 'Guest']).optional(),
  jobTitle: z.string().nullable().optional(),
  mobilePhone: z.string().nullable().optional(),
  officeLocation: z.string().nullable().optional(),
  preferredLanguage: z.string().nullable().optional(),
  businessPhones: z.array(z.string()).optional(),
  department: z.string().nullable().optional(),
  usageLocation: z.string().nullable().optional(),
  employeeId: z.string().nullable().optional(),
  createdDateTime: isoDate.nullable().optional(),
  onPremisesSyncEnabled: z.boolean().nullable().optional(),
  onPremisesImmutableId: z.string().nullable().optional(),
  otherMails: z.array(z.string()).optional(),
  methods: z
    .strictObject({
      phone: z.array(z.strictObject({ id: z.string().optional(), phoneType: z.enum(PHONE_TYPES), phoneNumber })).optional(),
      email: z.array(z.strictObject({ id: z.string().optional(), emailAddress: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must be an email address') })).optional(),
      microsoftAuthenticator: z
        .array(
          z.strictObject({
            id: guid.optional(),
            displayName: z.string().min(1),
            deviceTag: z.string().nullable().optional(),
            phoneAppVersion: z.string().nullable().optional(),
            clientAppName: z.enum(['microsoftAuthenticator', 'outlookMobile']).optional(),
            createdDateTime: isoDate.nullable().optional(),
          }),
        )
        .optional(),
      softwareOath: z
        .array(z.strictObject({ id: guid.optional(), secretKey: secretKey.optional(), createdDateTime: isoDate.nullable().optional() }))
        .optional(),
      hardwareOath: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  signInPreferences: z
    .strictObject({
      userPreferredMethodForSecondaryAuthentication: z.enum(PREFERRED_METHODS).nullable().optional(),
      isSystemPreferredAuthenticationMethodEnabled: z.boolean().optional(),
    })
    .optional(),
});

const groupSchema = z.strictObject({
  id: guid.optional(),
  displayName: z.string().min(1),
  description: z.string().nullable().optional(),
  mail: z.string().nullable().optional(),
  mailEnabled: z.boolean().optional(),
  mailNickname: z.string().nullable().optional(),
  securityEnabled: z.boolean().optional(),
  groupTypes: z.array(z.string()).optional(),
  createdDateTime: isoDate.nullable().optional(),
  members: z.array(z.string().min(1)).optional(),
});

const deviceSchema = z.strictObject({
  id: guid.optional(),
  serialNumber: z.string().min(1),
  manufacturer: z.string().min(1),
  model: z.string().min(1),
  displayName: z.string().nullable().optional(),
  secretKey,
  timeIntervalInSeconds: z.union([z.literal(30), z.literal(60)]),
  hashFunction: z.enum(['hmacsha1', 'hmacsha256']).optional(),
  status: z.enum(['available', 'assigned', 'activated', 'failedActivation']).optional(),
  assignedTo: z.strictObject({ id: z.string().min(1), displayName: z.string().nullable().optional() }).nullable().optional(),
  lastUsedDateTime: isoDate.nullable().optional(),
});

const tenantDocumentSchema = z.strictObject({
  $schema: z.string().optional(),
  tenant: z.strictObject({ id: guid, size: z.enum(['S', 'M', 'L']).optional(), displayName: z.string().nullable().optional() }),
  users: z.array(userSchema).optional(),
  groups: z.array(groupSchema).optional(),
  hardwareOathDevices: z.array(deviceSchema).optional(),
  authenticationMethodsPolicy: z.looseObject({}).optional(),
});

export type TenantDocument = z.input<typeof tenantDocumentSchema>;

export class TenantFileError extends UserError {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : '';
    super(`tenant file ${source} is invalid:\n  ${shown.join('\n  ')}${more}`);
    this.name = 'TenantFileError';
  }
}

function jsonPath(path: readonly PropertyKey[]): string {
  return '$' + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

export function readTenantFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TenantFileError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TenantFileError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
}

/** Builds the emulator's state from a tenant document; throws TenantFileError listing every problem. */
export function buildState(input: unknown, source: string, seed: number, now = new Date()): EmulatorState {
  const parsed = tenantDocumentSchema.safeParse(input);
  if (!parsed.success) {
    throw new TenantFileError(
      source,
      parsed.error.issues.map((i) => {
        if (i.code === 'unrecognized_keys') return `${jsonPath(i.path)}: unknown property ${i.keys.map((k) => `'${k}'`).join(', ')}`;
        return `${jsonPath(i.path)}: ${i.message}`;
      }),
    );
  }
  const doc = parsed.data;
  const problems: string[] = [];
  const loadedAt = now.toISOString();

  const policy = buildPolicy(doc.authenticationMethodsPolicy, loadedAt, problems);
  const users = doc.users ?? [];
  const size: TenantSize = doc.tenant.size ?? (users.length < 50 ? 'S' : users.length <= 500 ? 'M' : 'L');
  const state = new EmulatorState({ id: doc.tenant.id.toLowerCase(), size, displayName: doc.tenant.displayName ?? null }, policy, seed);
  const ns = state.tenant.id;

  // Devices first: users reference them.
  const deviceOwners = new Map<DeviceRecord, { user: string; path: string }>();
  (doc.hardwareOathDevices ?? []).forEach((d, i) => {
    const id = (d.id ?? guidFromName(ns, `device:${d.serialNumber}:${i}`)).toLowerCase();
    if (state.findDevice(id)) return problems.push(`$.hardwareOathDevices[${i}].id: duplicate device id '${id}'`);
    const secret = parseSecretKey(d.secretKey);
    if (!('secret' in secret)) return; // reported by the schema
    state.addDevice({
      id,
      serialNumber: d.serialNumber,
      manufacturer: d.manufacturer,
      model: d.model,
      displayName: d.displayName ?? null,
      secret: secret.secret,
      timeIntervalInSeconds: d.timeIntervalInSeconds,
      hashFunction: d.hashFunction ?? 'hmacsha1',
      status: d.status ?? 'available',
      assignedTo: null,
      lastUsedDateTime: d.lastUsedDateTime ?? null,
    });
    if (d.assignedTo) deviceOwners.set(state.findDevice(id)!, { user: d.assignedTo.id, path: `$.hardwareOathDevices[${i}].assignedTo.id` });
  });

  users.forEach((u, i) => {
    const at = `$.users[${i}]`;
    const id = (u.id ?? guidFromName(ns, `user:${u.userPrincipalName.toLowerCase()}`)).toLowerCase();
    if (state.findUser(u.userPrincipalName)) return problems.push(`${at}.userPrincipalName: duplicate userPrincipalName '${u.userPrincipalName}'`);
    if (state.findUser(id)) return problems.push(`${at}.id: duplicate user id '${id}'`);
    const { methods, signInPreferences, ...directory } = u;
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(USER_PROPERTIES)) if (key in directory) props[key] = (directory as Record<string, unknown>)[key];
    props['id'] = id;
    props['accountEnabled'] = u.accountEnabled ?? true;
    const user: UserRecord = {
      id,
      userPrincipalName: u.userPrincipalName,
      props,
      phones: {},
      email: null,
      authenticators: [],
      softwareOath: [],
      hardwareOath: [],
      signInPreferences: {
        userPreferredMethodForSecondaryAuthentication: signInPreferences?.userPreferredMethodForSecondaryAuthentication ?? null,
        isSystemPreferredAuthenticationMethodEnabled: signInPreferences?.isSystemPreferredAuthenticationMethodEnabled ?? false,
      },
    };
    (methods?.phone ?? []).forEach((p, j) => {
      if (user.phones[p.phoneType]) problems.push(`${at}.methods.phone[${j}].phoneType: the user already has a ${p.phoneType} phone (one per type)`);
      user.phones[p.phoneType] = { phoneNumber: p.phoneNumber, createdDateTime: loadedAt };
    });
    if (user.phones.alternateMobile && !user.phones.mobile) problems.push(`${at}.methods.phone: an alternateMobile phone requires a mobile phone`);
    const emails = methods?.email ?? [];
    if (emails.length > 1) problems.push(`${at}.methods.email: a user can have only one email method`);
    if (emails[0]) user.email = { emailAddress: emails[0].emailAddress, createdDateTime: loadedAt };
    (methods?.microsoftAuthenticator ?? []).forEach((a, j) => {
      user.authenticators.push({
        id: (a.id ?? guidFromName(ns, `authenticator:${id}:${j}`)).toLowerCase(),
        displayName: a.displayName,
        deviceTag: a.deviceTag ?? 'SoftwareTokenActivated',
        phoneAppVersion: a.phoneAppVersion ?? null,
        clientAppName: a.clientAppName ?? 'microsoftAuthenticator',
        createdDateTime: a.createdDateTime ?? null,
      });
    });
    (methods?.softwareOath ?? []).forEach((s, j) => {
      const secret = s.secretKey !== undefined ? parseSecretKey(s.secretKey) : undefined;
      user.softwareOath.push({
        id: (s.id ?? guidFromName(ns, `softwareOath:${id}:${j}`)).toLowerCase(),
        secret: secret && 'secret' in secret ? secret.secret : null,
        createdDateTime: s.createdDateTime ?? null,
      });
    });
    (methods?.hardwareOath ?? []).forEach((ref, j) => {
      const path = `${at}.methods.hardwareOath[${j}]`;
      const device = state.findDevice(ref) ?? uniqueBySerial(state, ref, path, problems);
      if (!device) return problems.push(`${path}: no hardware OATH device with id or serial number '${ref}'`);
      if (device.assignedTo && device.assignedTo !== id) return problems.push(`${path}: device '${ref}' is already assigned to another user`);
      const declared = deviceOwners.get(device);
      if (declared && declared.user.toLowerCase() !== id && declared.user.toLowerCase() !== u.userPrincipalName.toLowerCase()) {
        return problems.push(`${path}: device '${ref}' says it is assigned to '${declared.user}'`);
      }
      device.assignedTo = id;
      user.hardwareOath.push(device.id);
    });
    state.addUser(user);
  });

  // Assignments declared only on the device side.
  for (const [device, owner] of deviceOwners) {
    if (device.assignedTo) continue;
    const user = state.findUser(owner.user);
    if (!user) {
      problems.push(`${owner.path}: no user '${owner.user}'`);
      continue;
    }
    device.assignedTo = user.id;
    user.hardwareOath.push(device.id);
  }
  state.devices.forEach((d, i) => {
    const at = `$.hardwareOathDevices[${i}].status`;
    const declared = doc.hardwareOathDevices?.[i]?.status;
    if (d.assignedTo && d.status === 'available') {
      if (declared) problems.push(`${at}: the device is assigned to a user, so its status cannot be 'available'`);
      else d.status = 'assigned';
    }
    if (!d.assignedTo && d.status !== 'available') problems.push(`${at}: '${d.status}' needs the device to be assigned to a user`);
  });

  state.users.forEach((user, i) => {
    const at = `$.users[${i}]`;
    if (oathAndAuthenticatorCount(user) > MAX_OATH_AND_AUTHENTICATOR) {
      problems.push(`${at}.methods: at most ${MAX_OATH_AND_AUTHENTICATOR} OATH tokens and Authenticator registrations per user`);
    }
    const preferred = user.signInPreferences.userPreferredMethodForSecondaryAuthentication;
    const why = preferred ? preferredMethodProblem(state, user, preferred) : undefined;
    if (why) problems.push(`${at}.signInPreferences.userPreferredMethodForSecondaryAuthentication: ${why}`);
  });

  (doc.groups ?? []).forEach((g, i) => {
    const at = `$.groups[${i}]`;
    const id = (g.id ?? guidFromName(ns, `group:${g.displayName}`)).toLowerCase();
    if (state.findGroup(id) || state.findUser(id)) return problems.push(`${at}.id: duplicate object id '${id}'`);
    const { members: _members, ...directory } = g;
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(GROUP_PROPERTIES)) if (key in directory) props[key] = (directory as Record<string, unknown>)[key];
    props['id'] = id;
    state.addGroup({ id, props, members: [] });
  });
  (doc.groups ?? []).forEach((g, i) => {
    const group = state.groups[i];
    if (!group) return;
    (g.members ?? []).forEach((ref, j) => {
      const path = `$.groups[${i}].members[${j}]`;
      const member = state.findGroup(ref)?.id ?? state.findUser(ref)?.id;
      if (!member) return problems.push(`${path}: no user (id or userPrincipalName) or group (id) '${ref}'`);
      if (member === group.id) return problems.push(`${path}: a group cannot be a member of itself`);
      if (group.members.includes(member)) return problems.push(`${path}: '${ref}' is listed twice`);
      group.members.push(member);
    });
  });

  if (problems.length > 0) throw new TenantFileError(source, problems);
  return state;
}

function uniqueBySerial(state: EmulatorState, serial: string, path: string, problems: string[]): DeviceRecord | undefined {
  const matches = state.devices.filter((d) => d.serialNumber === serial);
  if (matches.length > 1) {
    problems.push(`${path}: serial number '${serial}' matches ${matches.length} devices; reference the device by id`);
    return undefined;
  }
  return matches[0];
}

/** Graph's defaults with the file's settings merged over them, each configuration checked as a PATCH would be. */
function buildPolicy(input: Record<string, unknown> | undefined, loadedAt: string, problems: string[]): AuthenticationMethodsPolicyJson {
  const policy = defaultPolicy(loadedAt);
  if (!input) return policy;
  const { authenticationMethodConfigurations, ...settings } = input;
  try {
    mergePatch(policy as unknown as Record<string, unknown>, validatePolicyPatch('beta', settings));
  } catch (err) {
    if (!(err instanceof GraphError)) throw err;
    problems.push(`$.authenticationMethodsPolicy: ${err.message}`);
  }
  if (authenticationMethodConfigurations === undefined) return policy;
  if (!Array.isArray(authenticationMethodConfigurations)) {
    problems.push('$.authenticationMethodsPolicy.authenticationMethodConfigurations: must be an array');
    return policy;
  }
  authenticationMethodConfigurations.forEach((entry: unknown, i) => {
    const at = `$.authenticationMethodsPolicy.authenticationMethodConfigurations[${i}]`;
    const id = isPlainObject(entry) ? entry['id'] : undefined;
    const target = typeof id === 'string' ? policy.authenticationMethodConfigurations.find((c) => c.id?.toLowerCase() === id.toLowerCase()) : undefined;
    if (!target || typeof id !== 'string' || !defaultConfiguration(id)) {
      problems.push(`${at}.id: must be one of ${policy.authenticationMethodConfigurations.map((c) => c.id).join(', ')}`);
      return;
    }
    const typeName = configurationTypeName(target);
    try {
      const body = { '@odata.type': `#microsoft.graph.${typeName}`, ...(entry as Record<string, unknown>) };
      const values = validateConfigurationPatch(typeName, body);
      delete values['id'];
      delete values['@odata.type'];
      mergePatch(target, values);
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      problems.push(`${at}: ${err.message}`);
    }
  });
  return policy;
}

