import type * as G from '@microsoft/microsoft-graph-types';
import type * as GB from '@microsoft/microsoft-graph-types-beta';
import type { WithODataType } from './default-policy.js';
import type { ApiVersion } from './graph-request.js';
import { EMAIL_METHOD_ID, maskedPhoneNumber, PASSWORD_METHOD_ID, PHONE_METHOD_IDS, PHONE_TYPES, type PhoneType } from './phone-number.js';
import { BASIC_PROFILE } from './permissions.js';
import { smsSignInState } from './sms-sign-in.js';
import type { AuthenticatorRecord, ContactRecord, DeviceRecord, EmulatorState, GroupRecord, SoftwareOathRecord, UserRecord } from './state.js';

/** User properties the emulator knows (and a tenant file may set), with the value Graph shows when unset. */
export const USER_PROPERTIES: Record<string, unknown> = {
  id: null,
  userPrincipalName: null,
  displayName: null,
  givenName: null,
  surname: null,
  mail: null,
  accountEnabled: true,
  userType: 'Member',
  jobTitle: null,
  mobilePhone: null,
  officeLocation: null,
  preferredLanguage: null,
  businessPhones: [],
  department: null,
  usageLocation: null,
  employeeId: null,
  createdDateTime: null,
  onPremisesSyncEnabled: null,
  onPremisesImmutableId: null,
  onPremisesUserPrincipalName: null,
  onPremisesSamAccountName: null,
  onPremisesDomainName: null,
  otherMails: [],
};

/** What v1.0 returns for a user without $select (accountEnabled is not among them: select it). */
const USER_DEFAULT_V1 = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

export const GROUP_PROPERTIES: Record<string, unknown> = {
  id: null,
  displayName: null,
  description: null,
  mail: null,
  mailEnabled: false,
  mailNickname: null,
  securityEnabled: true,
  groupTypes: [],
  membershipRule: null,
  membershipRuleProcessingState: null,
  visibility: null,
  createdDateTime: null,
};

export const CONTACT_PROPERTIES: Record<string, unknown> = { id: null, displayName: null, mail: null };

/** A user as Graph shows it; `basicOnly` (a `User.ReadBasic.All` caller) leaves out what is not the basic profile. */
export function userJson(user: UserRecord, version: ApiVersion, select: string[] | undefined, basicOnly = false): Partial<G.User> {
  const asked = select ?? (version === 'v1.0' ? USER_DEFAULT_V1 : Object.keys(USER_PROPERTIES));
  const names = basicOnly ? asked.filter((n) => BASIC_PROFILE.has(n)) : asked;
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = name in user.props ? user.props[name] : (USER_PROPERTIES[name] ?? null);
  // Graph always returns the key with $select on entities.
  if (select && !select.includes('id')) out['id'] = user.id;
  return out as Partial<G.User>;
}

/** A directory object's properties (`select`, or all `known` ones), unset ones as Graph shows them; the key always. */
function directoryJson(id: string, props: Record<string, unknown>, known: Record<string, unknown>, select: string[] | undefined): Record<string, unknown> {
  const names = select ?? Object.keys(known);
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = name in props ? props[name] : (known[name] ?? null);
  if (select && !select.includes('id')) out['id'] = id;
  return out;
}

export function contactJson(contact: ContactRecord, select: string[] | undefined): Partial<G.OrgContact> {
  return directoryJson(contact.id, contact.props, CONTACT_PROPERTIES, select) as Partial<G.OrgContact>;
}

export function groupJson(group: GroupRecord, select: string[] | undefined): Partial<G.Group> {
  return directoryJson(group.id, group.props, GROUP_PROPERTIES, select) as Partial<G.Group>;
}

export function phoneJson(state: EmulatorState, user: UserRecord, type: PhoneType): WithODataType<G.PhoneAuthenticationMethod> | undefined {
  const phone = user.phones[type];
  if (!phone) return undefined;
  return {
    '@odata.type': '#microsoft.graph.phoneAuthenticationMethod',
    id: PHONE_METHOD_IDS[type],
    phoneNumber: state.behaviour.maskedPhoneNumbers ? maskedPhoneNumber(phone.phoneNumber) : phone.phoneNumber,
    phoneType: type,
    smsSignInState: smsSignInState(state, user, type),
  };
}

export function phonesJson(state: EmulatorState, user: UserRecord): WithODataType<G.PhoneAuthenticationMethod>[] {
  return PHONE_TYPES.map((t) => phoneJson(state, user, t)).filter((p) => p !== undefined);
}

export function emailJson(user: UserRecord): WithODataType<G.EmailAuthenticationMethod> | undefined {
  if (!user.email) return undefined;
  return { '@odata.type': '#microsoft.graph.emailAuthenticationMethod', id: EMAIL_METHOD_ID, emailAddress: user.email.emailAddress };
}

export function authenticatorJson(a: AuthenticatorRecord): WithODataType<G.MicrosoftAuthenticatorAuthenticationMethod> {
  return {
    '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
    id: a.id,
    displayName: a.displayName,
    deviceTag: a.deviceTag,
    phoneAppVersion: a.phoneAppVersion,
    createdDateTime: a.createdDateTime,
  };
}

export function softwareOathJson(s: SoftwareOathRecord): WithODataType<G.SoftwareOathAuthenticationMethod> {
  // Graph: "secretKey: The secret key of the method. Always returns null."
  return { '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethod', id: s.id, secretKey: null };
}

function passwordJson(): WithODataType<G.PasswordAuthenticationMethod> {
  return { '@odata.type': '#microsoft.graph.passwordAuthenticationMethod', id: PASSWORD_METHOD_ID, password: null, createdDateTime: null };
}

export function deviceJson(state: EmulatorState, d: DeviceRecord): WithODataType<GB.HardwareOathTokenAuthenticationMethodDevice> {
  const owner = d.assignedTo ? state.findUser(d.assignedTo) : undefined;
  return {
    '@odata.type': '#microsoft.graph.hardwareOathTokenAuthenticationMethodDevice',
    id: d.id,
    displayName: d.displayName,
    serialNumber: d.serialNumber,
    manufacturer: d.manufacturer,
    model: d.model,
    // Secrets are write-only.
    secretKey: null,
    timeIntervalInSeconds: d.timeIntervalInSeconds,
    status: d.status,
    lastUsedDateTime: d.lastUsedDateTime,
    hashFunction: d.hashFunction,
    assignedTo: owner ? { id: owner.id, displayName: (owner.props['displayName'] as string | null) ?? null } : null,
  };
}

/** A user's hardware token as an authentication method; the method id is the device id, as in Graph. */
export function hardwareMethodJson(state: EmulatorState, d: DeviceRecord): WithODataType<GB.HardwareOathAuthenticationMethod> {
  const { '@odata.type': _type, ...device } = deviceJson(state, d);
  return { '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethod', id: d.id, device };
}

/** GET .../authentication/methods: every method the user has, password first, as Graph lists them. */
export function allMethodsJson(state: EmulatorState, user: UserRecord, version: ApiVersion): WithODataType<G.AuthenticationMethod>[] {
  const out: WithODataType<G.AuthenticationMethod>[] = [passwordJson(), ...phonesJson(state, user)];
  const email = emailJson(user);
  if (email) out.push(email);
  for (const a of user.authenticators) out.push(authenticatorJson(a));
  for (const s of user.softwareOath) out.push(softwareOathJson(s));
  // hardwareOathAuthenticationMethod exists only in the beta schema.
  if (version === 'beta') {
    for (const id of user.hardwareOath) {
      const d = state.findDevice(id);
      if (d) out.push(hardwareMethodJson(state, d));
    }
  }
  return out;
}

export function signInPreferencesJson(user: UserRecord): GB.SignInPreferences {
  return { ...user.signInPreferences };
}
