import { authenticationTypeOf } from './domain-roots.js';
import { EMAIL_METHOD_ID, PHONE_METHOD_IDS, PHONE_TYPES } from './phone-number.js';
import type { EmulatorState } from './state.js';

/**
 * GET /_emulator/state: the whole state in the tenant file's shape, with generated ids filled in. Secrets are
 * never shown: a hardware device carries `secretFingerprint` (first 16 hex of sha256 of the secret bytes)
 * instead of `secretKey`, and so does a software OATH method.
 */
export function snapshotState(state: EmulatorState): Record<string, unknown> {
  return {
    tenant: { id: state.tenant.id, size: state.tenant.size, displayName: state.tenant.displayName },
    identity: identityJson(state),
    users: state.users.map((u) => ({
      ...u.props,
      id: u.id,
      userPrincipalName: u.userPrincipalName,
      methods: {
        phone: PHONE_TYPES.filter((t) => u.phones[t]).map((t) => ({ id: PHONE_METHOD_IDS[t], phoneType: t, phoneNumber: u.phones[t]!.phoneNumber })),
        email: u.email ? [{ id: EMAIL_METHOD_ID, emailAddress: u.email.emailAddress }] : [],
        microsoftAuthenticator: u.authenticators.map((a) => ({ ...a })),
        softwareOath: u.softwareOath.map((s) => ({
          id: s.id,
          secretFingerprint: s.secret ? s.secret.fingerprint() : null,
          createdDateTime: s.createdDateTime,
        })),
        hardwareOath: [...u.hardwareOath],
      },
      signInPreferences: { ...u.signInPreferences },
    })),
    groups: state.groups.map((g) => ({ ...g.props, id: g.id, members: [...g.members] })),
    contacts: state.contacts.map((c) => ({ ...c.props })),
    domains: state.domains.map((d) => ({
      id: d.id,
      authenticationType: authenticationTypeOf(state.domains, d),
      isRoot: d.isRoot,
      isDefault: d.isDefault,
      isInitial: d.isInitial,
      isVerified: d.isVerified,
      federatedIdpMfaBehavior: d.federation?.['federatedIdpMfaBehavior'] ?? null,
      federation: d.federation ? { ...d.federation } : null,
    })),
    featureRolloutPolicies: state.rolloutPolicies.map((p) => ({ ...p, appliesTo: [...p.appliesTo] })),
    hardwareOathDevices: state.devices.map((d) => {
      const owner = d.assignedTo ? state.findUser(d.assignedTo) : undefined;
      return {
        id: d.id,
        serialNumber: d.serialNumber,
        manufacturer: d.manufacturer,
        model: d.model,
        displayName: d.displayName,
        secretFingerprint: d.secret ? d.secret.fingerprint() : null,
        timeIntervalInSeconds: d.timeIntervalInSeconds,
        hashFunction: d.hashFunction,
        status: d.status,
        assignedTo: owner ? { id: owner.id, displayName: owner.props['displayName'] ?? null } : null,
        lastUsedDateTime: d.lastUsedDateTime,
        inInventory: d.inInventory,
      };
    }),
    authenticationMethodsPolicy: structuredClone(state.policy),
  };
}

/** The identity tokens are minted for, in the tenant file's shape. */
function identityJson(state: EmulatorState): Record<string, unknown> {
  const { appId, appDisplayName, roles, user } = state.identity;
  return user
    ? { appId, appDisplayName, userPrincipalName: user.userPrincipalName, scopes: [...user.scopes] }
    : { appId, appDisplayName, roles: [...roles] };
}
