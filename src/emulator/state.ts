import type { Secret } from '../model/secret.js';
import type { AuthenticationMethodsPolicyJson } from './default-policy.js';
import { DEFAULT_BEHAVIOUR, type Behaviour } from './behaviour.js';
import { defaultIdentity, type SignInIdentity } from './identity.js';
import type { HashFunction } from './oath-secret.js';
import type { PhoneType } from './phone-number.js';
import { Prng } from './prng.js';

export type TenantSize = 'S' | 'M' | 'L';
export type DeviceStatus = 'available' | 'assigned' | 'activated' | 'failedActivation';
export type PreferredMethod = 'push' | 'oath' | 'voiceMobile' | 'voiceAlternateMobile' | 'voiceOffice' | 'sms';
export const PREFERRED_METHODS: readonly PreferredMethod[] = ['push', 'oath', 'voiceMobile', 'voiceAlternateMobile', 'voiceOffice', 'sms'];

/** Users may hold at most this many OATH tokens (hardware + software) and Authenticator registrations together. */
export const MAX_OATH_AND_AUTHENTICATOR = 5;

export interface PhoneRecord {
  phoneNumber: string;
  createdDateTime: string;
}

export interface AuthenticatorRecord {
  id: string;
  displayName: string;
  deviceTag: string | null;
  phoneAppVersion: string | null;
  clientAppName: 'microsoftAuthenticator' | 'outlookMobile';
  createdDateTime: string | null;
}

export interface SoftwareOathRecord {
  id: string;
  /** Write-only in Graph: never returned, only fingerprinted by the introspection endpoint. */
  secret: Secret | null;
  createdDateTime: string | null;
}

export interface SignInPreferencesRecord {
  userPreferredMethodForSecondaryAuthentication: PreferredMethod | null;
  isSystemPreferredAuthenticationMethodEnabled: boolean;
}

export interface UserRecord {
  id: string;
  userPrincipalName: string;
  /** Directory properties as Graph returns them (displayName, accountEnabled, mail, ...), id and UPN included. */
  props: Record<string, unknown>;
  phones: Partial<Record<PhoneType, PhoneRecord>>;
  email: { emailAddress: string; createdDateTime: string } | null;
  authenticators: AuthenticatorRecord[];
  softwareOath: SoftwareOathRecord[];
  /** Ids of the hardware tokens assigned to the user, in assignment order. */
  hardwareOath: string[];
  signInPreferences: SignInPreferencesRecord;
}

export interface GroupRecord {
  id: string;
  props: Record<string, unknown>;
  /** Ids of member users and groups, in the order they were added. */
  members: string[];
}

export interface ContactRecord {
  id: string;
  props: Record<string, unknown>;
}

export type DirectoryObject =
  | { kind: 'user'; user: UserRecord }
  | { kind: 'group'; group: GroupRecord }
  | { kind: 'contact'; contact: ContactRecord };

/** The object id of a directory object. */
export function objectId(o: DirectoryObject): string {
  return o.kind === 'user' ? o.user.id : o.kind === 'group' ? o.group.id : o.contact.id;
}

/** Dynamic groups compute their members from a rule: no one adds or removes members by hand. */
export function isDynamicGroup(group: GroupRecord): boolean {
  return ((group.props['groupTypes'] as string[] | undefined) ?? []).includes('DynamicMembership');
}

export interface RolloutPolicyRecord {
  id: string;
  displayName: string;
  description: string | null;
  feature: string;
  isEnabled: boolean;
  isAppliedToOrganization: boolean;
  /** Ids of the groups the policy applies to, in the order they were added. */
  appliesTo: string[];
}

export interface DomainRecord {
  /** The domain name (lower case). */
  id: string;
  isDefault: boolean;
  isInitial: boolean;
  isVerified: boolean;
  supportedServices: string[];
  /**
   * False for a subdomain of another of the tenant's domains that was not promoted: it takes its
   * root's authentication and federation (domain-roots.ts), and has no `federation` of its own.
   */
  isRoot: boolean;
  /** internalDomainFederation properties (id included) when the domain is federated (a root only). */
  federation: Record<string, unknown> | null;
}

export interface DeviceRecord {
  id: string;
  serialNumber: string;
  manufacturer: string;
  model: string;
  displayName: string | null;
  /** Null for a legacy token whose seed the tenant file does not give: no code activates it. */
  secret: Secret | null;
  timeIntervalInSeconds: 30 | 60;
  hashFunction: HashFunction;
  status: DeviceStatus;
  /** Id of the user the token is assigned to. */
  assignedTo: string | null;
  lastUsedDateTime: string | null;
  /**
   * False for a legacy token: assigned to its user, but missing from the inventory (uploaded through the
   * admin center's CSV route). Only the user's own hardwareOathMethods show it.
   */
  inInventory: boolean;
}

export interface TenantInfo {
  id: string;
  size: TenantSize;
  displayName: string;
}

/** The emulated directory: users with their methods, groups, the hardware token inventory and the policy. */
export class EmulatorState {
  readonly users: UserRecord[] = [];
  readonly groups: GroupRecord[] = [];
  readonly contacts: ContactRecord[] = [];
  /** The tenant's domains (those of its users' UPNs when the tenant file names none). */
  domains: DomainRecord[] = [];
  /** Staged rollout policies (featureRolloutPolicies). */
  readonly rolloutPolicies: RolloutPolicyRecord[] = [];
  readonly devices: DeviceRecord[] = [];
  readonly #usersByKey = new Map<string, UserRecord>();
  readonly #groupsById = new Map<string, GroupRecord>();
  readonly #contactsById = new Map<string, ContactRecord>();
  readonly #devicesById = new Map<string, DeviceRecord>();
  /** Objects just created that Graph's other requests do not find yet (behaviour.replicationLagSeconds): until when. */
  readonly #hiddenUntil = new WeakMap<object, number>();
  /** Methods just registered or activated that the default-method check does not see yet: until when. */
  readonly #unsettledUntil = new WeakMap<object, number>();
  /** Tokens just assigned that their user's method path does not find yet: until when. */
  readonly #assignedUntil = new WeakMap<object, number>();
  /** Ids the emulator generates (methods, devices), reproducible for a seed. */
  readonly ids: Prng;
  /** Who POST /_emulator/token signs in. */
  identity: SignInIdentity;
  behaviour: Behaviour = { ...DEFAULT_BEHAVIOUR };
  /** When (performance.now()) the HardwareOath method was last enabled; -Infinity: since before the emulator started. */
  hardwareOathEnabledAt = -Infinity;
  /** The activation pace window (behaviour.activationRateLimit). */
  readonly activationWindow = { start: -Infinity, count: 0 };

  constructor(
    readonly tenant: TenantInfo,
    public policy: AuthenticationMethodsPolicyJson,
    seed: number,
  ) {
    this.ids = new Prng(seed, 'ids');
    this.identity = defaultIdentity(tenant.id);
  }

  addUser(user: UserRecord): void {
    this.users.push(user);
    this.#usersByKey.set(user.id.toLowerCase(), user);
    this.#usersByKey.set(user.userPrincipalName.toLowerCase(), user);
  }

  /** By object id or user principal name, case-insensitively (as Graph resolves /users/{id|upn}). */
  findUser(idOrUpn: string): UserRecord | undefined {
    return this.#usersByKey.get(idOrUpn.toLowerCase());
  }

  addGroup(group: GroupRecord): void {
    this.groups.push(group);
    this.#groupsById.set(group.id.toLowerCase(), group);
  }

  findGroup(id: string): GroupRecord | undefined {
    return this.#groupsById.get(id.toLowerCase());
  }

  addDevice(device: DeviceRecord): void {
    this.devices.push(device);
    this.#devicesById.set(device.id.toLowerCase(), device);
  }

  /** A token by id; one created within the replication lag is not found yet. */
  findDevice(id: string): DeviceRecord | undefined {
    const d = this.#devicesById.get(id.toLowerCase());
    return d && this.isVisible(d) ? d : undefined;
  }

  /** The tokens the inventory lists (legacy tokens held by users are not among them; new ones once replicated). */
  inventory(): DeviceRecord[] {
    return this.devices.filter((d) => d.inInventory && this.isVisible(d));
  }

  /** Staged rollout policies other requests find (one created within the replication lag is not among them yet). */
  visibleRolloutPolicies(): RolloutPolicyRecord[] {
    return this.rolloutPolicies.filter((p) => this.isVisible(p));
  }

  /** Keeps a new object from other requests until `until` (performance.now() time). */
  hideUntil(obj: object, until: number): void {
    holdUntil(this.#hiddenUntil, obj, until);
  }

  isVisible(obj: object, now = performance.now()): boolean {
    return isPast(this.#hiddenUntil, obj, now);
  }

  /**
   * Keeps a method just registered (a phone) or activated (a token) from the default-method check until
   * `until`: a new method may not be seen everywhere at once (behaviour.replicationLagSeconds).
   */
  unsettledUntil(method: object, until: number): void {
    holdUntil(this.#unsettledUntil, method, until);
  }

  isSettled(method: object, now = performance.now()): boolean {
    return isPast(this.#unsettledUntil, method, now);
  }

  /**
   * Keeps a token just assigned from its user's method path (`/users/{id}/authentication/hardwareOathMethods/{id}`,
   * and its activate, deactivate and delete) until `until`: the user's new method may not be found there
   * at first (behaviour.replicationLagSeconds); the inventory shows the assignment at once.
   */
  holdAssignment(device: object, until: number): void {
    holdUntil(this.#assignedUntil, device, until);
  }

  isAssignmentVisible(device: object, now = performance.now()): boolean {
    return isPast(this.#assignedUntil, device, now);
  }

  removeDevice(device: DeviceRecord): void {
    const i = this.devices.indexOf(device);
    if (i >= 0) this.devices.splice(i, 1);
    this.#devicesById.delete(device.id.toLowerCase());
  }

  addContact(contact: ContactRecord): void {
    this.contacts.push(contact);
    this.#contactsById.set(contact.id.toLowerCase(), contact);
  }

  /** A user, group or contact by object id (for group membership). */
  directoryObject(id: string): DirectoryObject | undefined {
    const key = id.toLowerCase();
    const group = this.#groupsById.get(key);
    if (group) return { kind: 'group', group };
    const contact = this.#contactsById.get(key);
    if (contact) return { kind: 'contact', contact };
    const user = this.#usersByKey.get(key);
    if (user && user.id.toLowerCase() === key) return { kind: 'user', user };
    return undefined;
  }
}

/** OATH tokens (hardware + software) plus Authenticator registrations: the count Entra caps at 5. */
export function oathAndAuthenticatorCount(user: UserRecord): number {
  return user.authenticators.length + user.softwareOath.length + user.hardwareOath.length;
}

/**
 * Why the user cannot have `method` as default MFA method, or undefined when they can: Entra only accepts a
 * method the user has registered.
 */
export function preferredMethodProblem(state: EmulatorState, user: UserRecord, method: PreferredMethod): string | undefined {
  switch (method) {
    case 'push':
      return user.authenticators.length > 0 ? undefined : 'push requires a Microsoft Authenticator registration';
    case 'oath': {
      const activatedHardware = user.hardwareOath.some((id) => {
        const d = state.findDevice(id);
        return d?.status === 'activated' && state.isSettled(d);
      });
      return activatedHardware || user.softwareOath.length > 0 ? undefined : 'oath requires an activated hardware or software OATH token';
    }
    case 'sms':
    case 'voiceMobile':
      return settledPhone(state, user.phones.mobile) ? undefined : `${method} requires a mobile phone method`;
    case 'voiceAlternateMobile':
      return settledPhone(state, user.phones.alternateMobile) ? undefined : `${method} requires an alternateMobile phone method`;
    case 'voiceOffice':
      return settledPhone(state, user.phones.office) ? undefined : `${method} requires an office phone method`;
  }
}

function settledPhone(state: EmulatorState, phone: PhoneRecord | undefined): boolean {
  return phone !== undefined && state.isSettled(phone);
}

function holdUntil(held: WeakMap<object, number>, obj: object, until: number): void {
  if (until > performance.now()) held.set(obj, until);
}

/** Whether what `held` holds back of `obj` is over (forgotten once it is). */
function isPast(held: WeakMap<object, number>, obj: object, now: number): boolean {
  const until = held.get(obj);
  if (until === undefined) return true;
  if (now < until) return false;
  held.delete(obj);
  return true;
}
