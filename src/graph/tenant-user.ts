import type { DefaultMethod, PhoneType, TenantHardwareToken, TenantUser } from '../model/tenant.js';
import type { DirectoryUser } from './calls/users.js';
import type { RawDevice } from './calls/hardware-oath.js';
import { isMaskedPhoneNumber, MaskedPhoneError } from './masked-phone.js';

/** Strong methods the tool never creates but that count for the user (not phone-only). */
const PASSWORDLESS_TYPES = ['.fido2AuthenticationMethod', '.windowsHelloForBusinessAuthenticationMethod', '.platformCredentialAuthenticationMethod'];

const DEFAULT_METHODS: ReadonlySet<string> = new Set(['push', 'oath', 'voiceMobile', 'voiceAlternateMobile', 'voiceOffice', 'sms']);

export function toToken(d: RawDevice): TenantHardwareToken {
  return {
    id: d.id,
    serialNumber: String(d.serialNumber),
    status: d.status ?? 'available',
    ...(d.hashFunction ? { hashFunction: d.hashFunction } : {}),
    ...(d.timeIntervalInSeconds ? { timeIntervalInSeconds: d.timeIntervalInSeconds } : {}),
    ...(d.assignedTo?.id ? { assignedToId: d.assignedTo.id } : {}),
    ...(d.manufacturer ? { manufacturer: d.manufacturer } : {}),
    ...(d.model ? { model: d.model } : {}),
  };
}

/** Inventory tokens by the user they are assigned to, then by device id. */
export function tokensByAssignee(hardwareTokens: ReadonlyMap<string, TenantHardwareToken[]>): Map<string, Map<string, TenantHardwareToken>> {
  const byAssignee = new Map<string, Map<string, TenantHardwareToken>>();
  for (const list of hardwareTokens.values()) {
    for (const t of list) {
      if (!t.assignedToId) continue;
      let m = byAssignee.get(t.assignedToId);
      if (!m) byAssignee.set(t.assignedToId, (m = new Map()));
      m.set(t.id, t);
    }
  }
  return byAssignee;
}

/**
 * A user's state from their methods list and sign-in preferences; hardware tokens get their serial
 * and status from the method itself, the user's own token list (`ownTokens`), or the inventory.
 * A phone number Graph showed masked is refused (MaskedPhoneError): every reader of the tenant (plan,
 * status, apply's re-reads, rollback) would otherwise take it for the user's number.
 */
export function toTenantUser(u: DirectoryUser, methods: unknown, prefs: unknown, assigned: ReadonlyMap<string, TenantHardwareToken>, ownTokens?: ReadonlyMap<string, RawDevice>): TenantUser {
  const user: TenantUser = {
    id: u.id,
    userPrincipalName: u.userPrincipalName,
    ...(u.accountEnabled !== undefined ? { accountEnabled: u.accountEnabled } : {}),
    ...(typeof u.userType === 'string' ? { userType: u.userType } : {}),
    phones: [],
    emails: [],
    authenticatorCount: 0,
    softwareOathCount: 0,
    hardwareOath: [],
    defaultMethod: null,
  };
  for (const m of (methods as { value?: Record<string, unknown>[] } | null)?.value ?? []) {
    const type = String(m['@odata.type'] ?? '');
    if (type.endsWith('.phoneAuthenticationMethod')) {
      if (isMaskedPhoneNumber(m.phoneNumber)) throw new MaskedPhoneError(u.userPrincipalName, String(m.phoneType));
      user.phones.push({ phoneType: m.phoneType as PhoneType, phoneNumber: String(m.phoneNumber) });
    }
    else if (type.endsWith('.emailAuthenticationMethod')) user.emails.push({ id: String(m.id), emailAddress: String(m.emailAddress) });
    else if (type.endsWith('.microsoftAuthenticatorAuthenticationMethod')) user.authenticatorCount++;
    else if (type.endsWith('.softwareOathAuthenticationMethod')) user.softwareOathCount++;
    else if (PASSWORDLESS_TYPES.some((t) => type.endsWith(t))) user.passwordlessCount = (user.passwordlessCount ?? 0) + 1;
    else if (type.endsWith('.hardwareOathAuthenticationMethod')) {
      const device = m.device as RawDevice | undefined;
      const id = String(device?.id ?? m.id);
      const known = assigned.get(id);
      const own = ownTokens?.get(id);
      const serial = (m.serialNumber as string | undefined) ?? device?.serialNumber ?? known?.serialNumber ?? own?.serialNumber;
      const status = (m.status as string | undefined) ?? device?.status ?? known?.status ?? own?.status;
      user.hardwareOath.push({ id, ...(serial !== undefined ? { serialNumber: String(serial) } : {}), ...(status ? { status } : {}), ...(!known ? { notInInventory: true } : {}) });
    }
  }
  const preferred = (prefs as { userPreferredMethodForSecondaryAuthentication?: string | null } | null)?.userPreferredMethodForSecondaryAuthentication;
  user.defaultMethod = preferred && DEFAULT_METHODS.has(preferred) ? (preferred as DefaultMethod) : null;
  const system = (prefs as { isSystemPreferredAuthenticationMethodEnabled?: boolean } | null)?.isSystemPreferredAuthenticationMethodEnabled;
  if (system !== undefined) user.isSystemPreferredEnabled = system;
  return user;
}
