import type { AuthenticationMethodsPolicy, UserDefaultAuthenticationMethodType } from '@microsoft/microsoft-graph-types-beta';
import type { UserMatch } from './user-match.js';

export type PhoneType = 'mobile' | 'alternateMobile' | 'office';
export type DefaultMethod = Exclude<UserDefaultAuthenticationMethodType, 'unknownFutureValue'>;

/** Graph's fixed ids of phone methods, one per type. */
export const PHONE_METHOD_IDS: Record<PhoneType, string> = {
  mobile: '3179e48a-750b-4051-897c-87b9720928f7',
  alternateMobile: 'b6332ec1-7057-4abe-9331-3d72feddfe41',
  office: 'e37fc753-ff3b-4958-9484-eaa9425c82bc',
};

/** A hardware OATH token as the tenant's inventory shows it (Graph never returns the secret). */
export interface TenantHardwareToken {
  id: string;
  serialNumber: string;
  status: 'available' | 'assigned' | 'activated' | 'failedActivation' | string;
  hashFunction?: string;
  timeIntervalInSeconds?: number;
  /** Object id of the user it is assigned to, if any. */
  assignedToId?: string;
  manufacturer?: string;
  model?: string;
}

/** One tenant user's authentication state, as the plan reads it through Graph. */
export interface TenantUser {
  id: string;
  userPrincipalName: string;
  accountEnabled?: boolean;
  phones: { phoneType: PhoneType; phoneNumber: string }[];
  emails: { id: string; emailAddress: string }[];
  /** Microsoft Authenticator registrations. */
  authenticatorCount: number;
  softwareOathCount: number;
  /** Passkeys (FIDO2), Windows Hello for Business and platform credentials: strong methods Graph cannot create. */
  passwordlessCount?: number;
  /** Hardware OATH methods on the user (device ids, with serials when the inventory knows them). */
  hardwareOath: { id: string; serialNumber?: string; status?: string; notInInventory?: boolean }[];
  defaultMethod: DefaultMethod | null;
  isSystemPreferredEnabled?: boolean;
  /** `Member` or `Guest` (external users meet the SMS/voice retirement later), when read. */
  userType?: string;
  /**
   * Ids of the cutover groups (TenantCutover.groups) the user is a direct member of, when they were
   * read (plan, rollback); absent when not read (apply's re-reads of users).
   */
  memberOf?: string[];
  /**
   * Ids of the groups the authentication methods policy targets (as the plan leaves it) that hold
   * the user, nested groups included, when they were read (plan, from format 2.3); absent when not.
   */
  policyGroups?: string[];
  /**
   * (plan, `--match-by upn,on-premises`) The other tenant users whose onPremisesUserPrincipalName is
   * this user's UPN: the username found by UPN may be theirs (Entra Connect's duplicate-attribute
   * handling gives a synced user whose UPN a cloud-only user holds another UPN). Absent when none.
   */
  sameOnPremisesUpn?: { id: string; upn: string; onPremisesDomainName: string | null }[];
}

/** A group the cutover uses (a staged rollout group, the campaign group), as read. */
export interface TenantGroup {
  id: string;
  displayName: string;
  /** `groupTypes` holds DynamicMembership: its members come from a rule and cannot be written. */
  dynamic: boolean;
  /** Direct members by kind: staged rollout refuses groups holding groups (nesting) or contacts. */
  users: number;
  groups: number;
  contacts: number;
}

/** The staged rollout policy of feature multiFactorAuthentication. */
export interface TenantRolloutPolicy {
  id: string;
  displayName: string;
  isEnabled: boolean;
  isAppliedToOrganization: boolean;
  /** Ids of the groups it applies to. */
  appliesTo: string[];
}

/** A verified federated domain and its federation configuration (internalDomainFederation). */
export interface TenantFederatedDomain {
  /** The domain name, lower case (Graph's domain id). */
  id: string;
  /** The internalDomainFederation's id (needed to PATCH it); null when the domain has none. */
  federationId: string | null;
  federatedIdpMfaBehavior: string | null;
  /**
   * (from 2.18) Its verified subdomains that are not roots (`isRoot: false`), lower case, sorted: they
   * take this domain's federation (model/federation-root.ts). Absent: none, or not read (a plan older
   * than 2.18).
   */
  subdomains?: string[];
}

/**
 * A member of a rollout group the plan switches (one it attaches, or every group of the policy it
 * enables), as read: what they can sign in with, by kind (nothing of a phone but its type).
 */
export interface TenantRolloutMember {
  id: string;
  userPrincipalName: string;
  /** The groups read that hold them directly. */
  memberOf: string[];
  /** The authentication methods policy's target groups that hold them (the policy after the plan judges their methods). */
  policyGroups: string[];
  phones: PhoneType[];
  /** An activated hardware OATH token (or one whose status Graph does not give). */
  hardwareOath: boolean;
  softwareOath: boolean;
  authenticator: boolean;
  passwordless: boolean;
}

/** What the plan read for the cutover (staged rollout, federation, the campaign group). */
export interface TenantCutover {
  /** The multiFactorAuthentication rollout policy; null when the tenant has none. */
  rolloutPolicy: TenantRolloutPolicy | null;
  /** The --rollout-group groups, those the policy applies to, and the --campaign-group. */
  groups: TenantGroup[];
  /** Verified federated domains (read for --rollout-group and --federated-mfa). */
  federatedDomains: TenantFederatedDomain[];
  /**
   * (from 2.17) The verified managed domains (authenticationType `Managed`), lower case, read with the
   * federated ones: Entra authenticates their users and does their MFA already, so staged rollout
   * changes nothing for them. Absent when not read (a plan older than 2.17): no domain counts managed.
   */
  managedDomains?: string[];
  /**
   * Every user member of the groups the plan switches (from 2.6): those outside the plan's users are
   * switched too, so the plan judges what they can sign in with; apply tells a member who joined since.
   */
  rolloutMembers?: TenantRolloutMember[];
  /**
   * The export's users a narrower scope leaves out, looked up by on-premises name for the federation's
   * final step (`--federated-mfa reject`, `--match-by upn,on-premises`): each whose name tenant users
   * of a federated domain may be, with their Entra UPNs (those of the name's own domain aside, which
   * the name tells). Present when they were looked up: a `DOMAIN\sam` or `sam` absent matched no one.
   */
  outOfScopeMatches?: { user: string; upns: string[] }[];
  /**
   * (2.16, `--federated-mfa reject`) By federated domain whose final step the plan may take: the
   * domain's tenant users outside the plan's users (not read as one of them), enabled, and not
   * switched by staged rollout once the plan is applied, with what they can sign in with. The
   * federation moves them to Entra MFA too; present for each domain listed (`users` empty: none).
   */
  domainUsers?: TenantDomainUsers[];
}

/** The tenant users of one federated domain the plan's users do not hold, as the plan read them. */
export interface TenantDomainUsers {
  /** The domain, lower case. */
  domain: string;
  users: TenantRolloutMember[];
}

/** What the plan knows of the tenant. */
export interface TenantSnapshot {
  /** The tenant read (GET /organization); id 'unknown' when it was not read. */
  tenant: { id: string; displayName: string };
  policy: AuthenticationMethodsPolicy;
  /**
   * Keyed by lower-cased UPN; a user a plan's read matched by an on-premises name is keyed by the
   * export's username (lower case), as every user the plan reads is. Users absent here were not found.
   */
  users: Map<string, TenantUser>;
  /**
   * By export username (lower case): the users looked up by an on-premises name once no tenant user
   * had the username as UPN, and how (matched, or refused: ambiguous, another domain, shared). Absent
   * when the read matched by UPN only.
   */
  matches?: Map<string, UserMatch>;
  /** Inventory tokens keyed by serialKey(serial); a serial may exist more than once (Graph allows it). */
  hardwareTokens: Map<string, TenantHardwareToken[]>;
  /** Staged rollout, federation and campaign group state, when the plan's cutover options asked for it. */
  cutover?: TenantCutover;
}
