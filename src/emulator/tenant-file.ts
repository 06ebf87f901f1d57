import { readFileSync } from 'node:fs';
import { isHardwareOathEnabled } from './activation-gate.js';
import { defaultConfiguration, defaultPolicy, configurationTypeName, type AuthenticationMethodsPolicyJson } from './default-policy.js';
import { GraphError } from './graph-error.js';
import { DEFAULT_DELEGATED_PERMISSIONS, defaultIdentity, type SignInIdentity } from './identity.js';
import { parseSecretKey } from './oath-secret.js';
import { isPlainObject, mergePatch, validateConfigurationPatch, validatePolicyPatch } from './policy-rules.js';
import { guidFromName } from './prng.js';
import { GROUP_PROPERTIES, USER_PROPERTIES } from './representations.js';
import {
  EmulatorState,
  MAX_OATH_AND_AUTHENTICATOR,
  oathAndAuthenticatorCount,
  preferredMethodProblem,
  type DeviceRecord,
  type DomainRecord,
  type TenantSize,
  type UserRecord,
} from './state.js';
import { UserError } from '../model/user-error.js';
import { campaignProblems, configurationProblems } from './policy-targets.js';
import { tapConfigurationProblems } from './tap-configuration.js';
import { unsupportedGroupReason } from './rollout-rules.js';
import { hasParentDomain } from './domain-roots.js';
import { tenantDocumentSchema, type ParsedTenantDocument, type TenantDocument } from './tenant-schema.js';
import { jsonSyntaxText } from '../model/json-syntax.js';
import { UPN_REFUSAL, upnRefusal } from './upn-rules.js';

type LegacyToken = Exclude<NonNullable<NonNullable<NonNullable<ParsedTenantDocument['users']>[number]['methods']>['hardwareOath']>[number], string>;


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
    throw new TenantFileError(file, [`not valid JSON: ${jsonSyntaxText(err, text)}`]);
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
  const displayName = doc.tenant.displayName ?? defaultDisplayName(users[0]?.userPrincipalName);
  const state = new EmulatorState({ id: doc.tenant.id.toLowerCase(), size, displayName }, policy, seed);
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
      inInventory: true,
    });
    if (d.assignedTo) deviceOwners.set(state.findDevice(id)!, { user: d.assignedTo.id, path: `$.hardwareOathDevices[${i}].assignedTo.id` });
  });

  users.forEach((u, i) => {
    const at = `$.users[${i}]`;
    const id = (u.id ?? guidFromName(ns, `user:${u.userPrincipalName.toLowerCase()}`)).toLowerCase();
    // As Graph would have refused to make the user: a real tenant never holds one.
    const refused = upnRefusal(u.userPrincipalName);
    if (refused) return problems.push(`${at}.userPrincipalName: ${JSON.stringify(u.userPrincipalName)}: ${refused}; Graph refuses such a user (${UPN_REFUSAL.status} ${UPN_REFUSAL.code}: ${UPN_REFUSAL.message})`);
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
      if (typeof ref !== 'string') {
        const legacy = legacyToken(ref, id, guidFromName(ns, `legacy-token:${id}:${ref.serialNumber}:${j}`));
        if (state.findDevice(legacy.id)) return problems.push(`${path}.id: duplicate device id '${legacy.id}'`);
        state.addDevice(legacy);
        user.hardwareOath.push(legacy.id);
        return;
      }
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
  state.inventory().forEach((d, i) => {
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

  (doc.contacts ?? []).forEach((c, i) => {
    const id = (c.id ?? guidFromName(ns, `contact:${c.displayName}:${i}`)).toLowerCase();
    if (state.directoryObject(id) || state.findUser(id)) return problems.push(`$.contacts[${i}].id: duplicate object id '${id}'`);
    state.addContact({ id, props: { id, displayName: c.displayName, mail: c.mail ?? null } });
  });

  (doc.groups ?? []).forEach((g, i) => {
    const at = `$.groups[${i}]`;
    const id = (g.id ?? guidFromName(ns, `group:${g.displayName}`)).toLowerCase();
    if (state.directoryObject(id) || state.findUser(id)) return problems.push(`${at}.id: duplicate object id '${id}'`);
    const dynamic = (g.groupTypes ?? []).includes('DynamicMembership');
    if (dynamic && !g.membershipRule) problems.push(`${at}.membershipRule: a dynamic group (groupTypes DynamicMembership) needs a membership rule`);
    if (!dynamic && g.membershipRule) problems.push(`${at}.groupTypes: a group with a membership rule must have groupTypes DynamicMembership`);
    const { members: _members, ...directory } = g;
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(GROUP_PROPERTIES)) if (key in directory) props[key] = (directory as Record<string, unknown>)[key];
    props['id'] = id;
    if (dynamic) props['membershipRuleProcessingState'] ??= 'On';
    state.addGroup({ id, props, members: [] });
  });
  (doc.groups ?? []).forEach((g, i) => {
    const group = state.groups[i];
    if (!group) return;
    // A set beside the list: a 50,000-member group is quadratic with includes().
    const listed = new Set(group.members);
    (g.members ?? []).forEach((ref, j) => {
      const path = `$.groups[${i}].members[${j}]`;
      const member = state.findGroup(ref)?.id ?? state.findUser(ref)?.id ?? (state.directoryObject(ref)?.kind === 'contact' ? ref.toLowerCase() : undefined);
      if (!member) return problems.push(`${path}: no user (id or userPrincipalName), group or contact (id) '${ref}'`);
      if (member === group.id) return problems.push(`${path}: a group cannot be a member of itself`);
      if (listed.has(member)) return problems.push(`${path}: '${ref}' is listed twice`);
      listed.add(member);
      group.members.push(member);
    });
  });

  state.identity = buildIdentity(doc.identity, state, problems);
  state.behaviour = { ...state.behaviour, ...definedOnly(doc.behaviour ?? {}) };
  // Enabled some seconds before the start: so the file's policy must say.
  if (typeof doc.behaviour?.hardwareOathEnabledSecondsBeforeStart === 'number' && !isHardwareOathEnabled(state)) {
    problems.push('$.behaviour.hardwareOathEnabledSecondsBeforeStart: the HardwareOath method is disabled in $.authenticationMethodsPolicy (give it { "id": "HardwareOath", "state": "enabled" })');
  }
  buildRolloutPolicies(doc.featureRolloutPolicies ?? [], state, problems);
  state.domains = buildDomains(doc.domains, state, problems);
  // Targets name groups and users, known only now.
  for (const p of campaignProblems(state, state.policy)) problems.push(`$.authenticationMethodsPolicy.${p}`);
  for (const config of state.policy.authenticationMethodConfigurations) {
    for (const p of [...configurationProblems(state, config), ...tapConfigurationProblems(config)]) problems.push(`$.authenticationMethodsPolicy.authenticationMethodConfigurations(${config.id}).${p}`);
  }

  if (problems.length > 0) throw new TenantFileError(source, problems);
  return state;
}

/**
 * The tenant's domains: the file's, or (when it names none) those of its users' UPNs, managed and verified.
 * A federated domain carries its internalDomainFederation; every user's UPN domain must be a domain of the tenant.
 */
function buildDomains(input: ParsedTenantDocument['domains'], state: EmulatorState, problems: string[]): DomainRecord[] {
  const upnDomains = [...new Set(state.users.map((u) => u.userPrincipalName.split('@')[1]!.toLowerCase()))];
  if (!input) {
    return upnDomains.map((id, i) => ({ id, isDefault: i === 0, isInitial: false, isVerified: true, supportedServices: ['Email'], isRoot: true, federation: null }));
  }
  const domains: DomainRecord[] = [];
  input.forEach((d, i) => {
    const id = d.id.toLowerCase();
    if (domains.some((o) => o.id === id)) return problems.push(`$.domains[${i}].id: duplicate domain '${id}'`);
    const { federation } = d;
    domains.push({
      id,
      isDefault: d.isDefault ?? false,
      isInitial: d.isInitial ?? false,
      isVerified: d.isVerified ?? true,
      supportedServices: d.supportedServices ?? ['Email'],
      isRoot: d.isRoot ?? true,
      federation: federation
        ? {
            ...federation,
            id: (federation.id ?? guidFromName(state.tenant.id, `federation:${id}`)).toLowerCase(),
            federatedIdpMfaBehavior: federation.federatedIdpMfaBehavior ?? 'acceptIfMfaDoneByFederatedIdp',
          }
        : null,
    });
  });
  // A subdomain of a domain listed is a root only when promoted (isRoot: true, or a federation of its own); else its federation is its root's.
  input.forEach((d, i) => {
    const record = domains.find((o) => o.id === d.id.toLowerCase());
    if (!record) return;
    const parent = hasParentDomain(domains, record);
    if (d.isRoot === false && !parent) problems.push(`$.domains[${i}].isRoot: '${record.id}' is a subdomain of no other domain listed, so it is a root`);
    // One given a federation of its own can only have been promoted.
    if (d.isRoot === undefined) record.isRoot = !parent || record.federation !== null;
    if (!record.isRoot && record.federation) problems.push(`$.domains[${i}].federation: '${record.id}' is a subdomain (isRoot false): it takes the federation of its root domain; give it one of its own only once promoted (isRoot: true)`);
  });
  const defaults = domains.filter((d) => d.isDefault).length;
  if (defaults > 1) problems.push('$.domains: only one domain can be the default');
  if (defaults === 0 && domains[0]) domains[0].isDefault = true;
  for (const name of upnDomains) {
    if (!domains.some((d) => d.id === name && d.isVerified)) problems.push(`$.domains: users' UPN domain '${name}' is not a verified domain of the tenant`);
  }
  return domains;
}

/** Staged rollout policies; each group in appliesTo (id or display name) must meet staged rollout's rules. */
function buildRolloutPolicies(input: NonNullable<ParsedTenantDocument['featureRolloutPolicies']>, state: EmulatorState, problems: string[]): void {
  input.forEach((p, i) => {
    const at = `$.featureRolloutPolicies[${i}]`;
    const id = (p.id ?? guidFromName(state.tenant.id, `featureRolloutPolicy:${p.feature}`)).toLowerCase();
    if (state.rolloutPolicies.some((o) => o.feature === p.feature)) return problems.push(`${at}.feature: a second policy for '${p.feature}' (a feature has one)`);
    const appliesTo: string[] = [];
    (p.appliesTo ?? []).forEach((ref, j) => {
      const path = `${at}.appliesTo[${j}]`;
      const byName = state.groups.filter((g) => g.props['displayName'] === ref);
      const group = state.findGroup(ref) ?? (byName.length === 1 ? byName[0] : undefined);
      if (!group) return problems.push(`${path}: no group with id or display name '${ref}'`);
      if (appliesTo.includes(group.id)) return problems.push(`${path}: '${ref}' is listed twice`);
      const reason = unsupportedGroupReason(state, group);
      if (reason) return problems.push(`${path}: ${reason}`);
      appliesTo.push(group.id);
    });
    const max = state.behaviour.stagedRolloutLimits.groupsPerFeature;
    if (appliesTo.length > max) problems.push(`${at}.appliesTo: at most ${max} groups per feature`);
    state.rolloutPolicies.push({
      id,
      displayName: p.displayName,
      description: p.description ?? null,
      feature: p.feature,
      isEnabled: p.isEnabled,
      isAppliedToOrganization: p.isAppliedToOrganization ?? false,
      appliesTo,
    });
  });
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A tenant with no name is named after its first user's domain (contoso.com: Contoso). */
function defaultDisplayName(upn: string | undefined): string {
  const label = upn?.split('@')[1]?.split('.')[0];
  return label ? label.charAt(0).toUpperCase() + label.slice(1) : 'Emulated tenant';
}

/** The identity tokens are minted for: the file's, else this tool's app with every permission it needs. */
function buildIdentity(input: TenantDocument['identity'], state: EmulatorState, problems: string[]): SignInIdentity {
  const fallback = defaultIdentity(state.tenant.id);
  if (!input) return fallback;
  const identity: SignInIdentity = {
    appId: input.appId?.toLowerCase() ?? fallback.appId,
    appDisplayName: input.appDisplayName ?? fallback.appDisplayName,
    roles: input.roles ?? fallback.roles,
  };
  if (input.userPrincipalName === undefined) {
    if (input.scopes) problems.push('$.identity.scopes: delegated scopes need a signed-in user (identity.userPrincipalName)');
    return identity;
  }
  if (input.roles) problems.push('$.identity.roles: roles are application permissions; a signed-in user (identity.userPrincipalName) has scopes');
  const user = state.findUser(input.userPrincipalName);
  if (!user) problems.push(`$.identity.userPrincipalName: no user '${input.userPrincipalName}' in the tenant`);
  identity.user = {
    userPrincipalName: user?.userPrincipalName ?? input.userPrincipalName,
    objectId: user?.id ?? '',
    scopes: input.scopes ?? DEFAULT_DELEGATED_PERMISSIONS,
  };
  return identity;
}

/** A token the user holds that the inventory does not list; activated unless the file says otherwise. */
function legacyToken(t: LegacyToken, userId: string, generatedId: string): DeviceRecord {
  const secret = t.secretKey !== undefined ? parseSecretKey(t.secretKey) : undefined;
  return {
    id: (t.id ?? generatedId).toLowerCase(),
    serialNumber: t.serialNumber,
    manufacturer: t.manufacturer ?? 'Unknown',
    model: t.model ?? 'Unknown',
    displayName: t.displayName ?? null,
    secret: secret && 'secret' in secret ? secret.secret : null,
    timeIntervalInSeconds: t.timeIntervalInSeconds ?? 30,
    hashFunction: t.hashFunction ?? 'hmacsha1',
    status: t.status ?? 'activated',
    assignedTo: userId,
    lastUsedDateTime: t.lastUsedDateTime ?? null,
    inInventory: false,
  };
}

function uniqueBySerial(state: EmulatorState, serial: string, path: string, problems: string[]): DeviceRecord | undefined {
  const matches = state.inventory().filter((d) => d.serialNumber === serial);
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

