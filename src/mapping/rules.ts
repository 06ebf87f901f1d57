/**
 * Every mapping decision carries one of these rule ids; docs/mapping.md lists them (a test keeps
 * the two in step). The texts say what the rule does, for auditors.
 */
export const RULES = {
  // Users
  'EXPORT-DATA': 'A problem in the export or the seed files is reported: a user\'s (an unreadable value, a short seed) in that user\'s plan, the rest of the user migrated; one of no user in users.csv (a seed no user has, a device of someone not in the export, a row with no username; a seed file `--tokens` named twice, read once) in every plan, so that every token and device of the input is accounted for.',
  'USER-MATCH':
    "An export user is matched to the tenant user whose UPN equals the username, case-insensitively. With `--match-by upn,on-premises` (the default), when other tenant users have the username as onPremisesUserPrincipalName, the UPN's user is kept and a warning (user-match-upn-other-on-premises) names the others.",
  'USER-MATCH-ONPREM-UPN':
    'With `--match-by upn,on-premises` (the default), an export user whose username `name@suffix` no tenant user has as UPN is matched to the synced user whose onPremisesUserPrincipalName equals it, case-insensitively, when exactly one has it; an info finding (user-matched-on-premises) names the Entra UPN, and everything the plan writes goes to that user.',
  'USER-MATCH-SAM':
    "With `--match-by upn,on-premises` (the default), an export user whose username `DOMAIN\\sam` or `sam` (no @) no tenant user has as UPN is matched to the synced user whose onPremisesSamAccountName equals `sam`, case-insensitively, when exactly one has it; for `DOMAIN\\sam` only among users whose onPremisesDomainName is DOMAIN's (the one `--netbios-domain` gives, else the one whose first label is DOMAIN and that `--netbios-domain` gives no other name). The first label is a guess: a user of the sAMAccountName in another domain that may be DOMAIN's (one `--netbios-domain` gives no name) makes it ambiguous (user-match-ambiguous, error). An info finding (user-matched-on-premises) names the Entra UPN. Users with the sAMAccountName in other domains only are not matched: a warning (user-match-domain-differs) names them.",
  'USER-MATCH-AMBIGUOUS':
    'An export user whose on-premises name more than one tenant user fits (user-match-ambiguous), or whose one tenant user another export user is matched to as well, by UPN or on-premises name (user-match-shared), is not matched, never guessed: an error finding names the tenant users (or the other export user), and nothing is written for them.',
  'USER-DISABLED': 'A user disabled in MFA Server, or whose enabled value cannot be read, is skipped: nothing is written for them.',
  'USER-NOT-FOUND': 'A user with no tenant account of that UPN (nor, with `--match-by upn,on-premises`, of that on-premises name) is skipped and reported.',
  'USER-PIN-MODE': 'Phone call (PIN) and mobile app (PIN) modes have no per-user cloud setting: reported with the replacement (voice OTP, number matching).',
  'USER-SMS-PIN-MODE': 'Text message (OTP + PIN) mode has no per-user cloud setting: the user types the one-way SMS code alone, without the PIN; reported.',
  'USER-TWO-WAY-SMS': 'Two-way text messages are not supported by Entra: the user gets one-way SMS codes.',
  'USER-NO-METHOD': 'A user left with no cloud MFA method the policy lets them use once the plan is applied is reported, whatever the default-method mode: they cannot do Entra MFA until one is registered. The finding is no-usable-method, unless a finding on the user already says so (default-method-unset; the cutover findings not-switched and switched-without-method), so that one fact is said once; summary.user_status.no_usable_method counts them all.',
  'USER-SIGNED-IN-SELF':
    'A delegated run (an admin signed in) does not write the signed-in admin\'s own phone and email methods: Graph does not let a user change their own phone or email methods through its authentication methods API. `plan` signed in so lists those changes, and the default method and switch that wait for them, in `not_applicable` (the terminal and the report mark them); apply and resume, whichever identity they sign in with, leave them out before sending anything (journaled skipped, the run partial and resumable signed in as another admin or an application), and so does rollback with their undos (finished by `rollback ROLLBACK_ID` signed in so). The saved plan is the same whoever signs in. Hardware OATH tokens and the rest of the user\'s changes are sent.',
  // Phones (Microsoft's migration utility rules)
  'PHONE-PRIMARY-MOBILE': 'Primary phone without extension -> mobile.',
  'PHONE-PRIMARY-OFFICE': 'Primary phone with extension -> office (Entra cannot send SMS to a number with an extension).',
  'PHONE-PRIMARY-SMS-DROP-EXT': 'Primary phone with extension when the default method is text message -> extension dropped, mobile.',
  'PHONE-BACKUP-ALTERNATE': 'Backup phone without extension -> alternateMobile.',
  'PHONE-BACKUP-OFFICE': 'Backup phone with extension -> office.',
  'PHONE-BACKUP-SKIPPED': "Backup phone with extension skipped when the primary phone, with an extension too, holds the office phone (Entra has one); when a text-message default sent the primary to mobile, the backup takes the free office phone (PHONE-BACKUP-OFFICE).",
  'PHONE-BACKUP-SAME': 'Backup phone skipped when it is the number the primary phone is written as (extension included): Entra would hold one phone twice.',
  'PHONE-BACKUP-AS-MOBILE': 'Backup phone becomes mobile when the user would have no mobile: Entra needs a mobile before an alternateMobile.',
  'PHONE-REPLACE': "A tenant phone of the type MFA Server's phone goes to, with another number, is updated to MFA Server's (the utility's \"update MFA phone\"): a warning says the tenant's number is replaced (the numbers are the change's before and after, masked unless `--show-phone-numbers`), and rollback restores it.",
  'PHONE-INVALID': 'A phone that is not a valid number for its country is never sent.',
  'PHONE-KEEP-CLOUD': 'A phone the tenant has and MFA Server does not is kept (deleted only with --prune).',
  'PHONE-PRUNE': 'With --prune, a tenant phone absent from MFA Server is deleted.',
  'PHONE-PRUNE-KEPT':
    "With --prune, a tenant phone absent from MFA Server that Graph cannot delete is kept and reported: the one behind the user's default method when the plan does not move the default (a delete that frees it waits for the default's change), and a mobile beside a kept alternate.",
  // Email
  'EMAIL-FROM-EXPORT': 'With --include-email, the MFA Server email address becomes the email method.',
  'EMAIL-INVALID': "With --include-email, an MFA Server email cell that is not an email address (a name, an @ and a domain with a dot, no spaces: the address Graph's email method takes) is not migrated and is reported; the tenant's email method is left as it is.",
  'EMAIL-REPLACE': "With --include-email, a tenant email method with another address (case aside) is updated to MFA Server's: a warning (email-replaced) says the tenant's address is replaced (the addresses are the change's before and after), and rollback restores it.",
  // OATH
  'OATH-HARDWARE': 'A TOTP token (6 digits, 30/60 s, SHA-1/SHA-256) -> hardware OATH token created, assigned and activated.',
  'OATH-EXISTS': 'A token whose serial the tenant already has assigned to the user and activated is left as it is (never duplicated).',
  'OATH-ACTIVATE-EXISTING': 'A token whose serial is in the tenant inventory, unassigned or not yet activated, is assigned and activated rather than created again.',
  'OATH-LEGACY': "A token the user already holds but the tenant's inventory does not list (uploaded through the older admin-center CSV route) is never created again: activated if it is not, left as it is otherwise, and reported (token-legacy).",
  'OATH-ASSIGNED-ELSEWHERE': 'A token whose serial is assigned to another tenant user is not touched and is reported.',
  'OATH-GUEST': 'A guest user (userType Guest) is given no hardware OATH token: Entra does not assign them to guests in the resource tenant. Reported (token-guest); the verify shim can keep the token working.',
  'OATH-DRIFT': "A TOTP token planned for Entra whose seed file records a clock drift of two steps or more is reported (token-drift): Entra takes no drift, so it may refuse the token's codes; the verify shim applies it. A drift of one step is inside every validator's window.",
  'OATH-HOTP-UNSUPPORTED': 'HOTP tokens cannot move to Entra: reported (the verify shim can keep them working).',
  'OATH-UNSUPPORTED': 'Tokens with other digits, periods or hashes cannot move to Entra: reported.',
  'OATH-CHECK-DIGIT':
    'A TOTP token whose device appends a Luhn check digit to each code (PSKC ResponseFormat CheckDigits) cannot move to Entra, which takes the code alone: reported (token-unsupported); the verify shim checks the code and its check digit.',
  'OATH-SEED-MISSING': 'A token serial with no seed cannot be migrated: reported (where a seed file holds the serial but its reader left the record out, with where and why).',
  'OATH-DEVICE-LIMIT': 'At most 5 OATH tokens plus Authenticator registrations per user, counting what the tenant has: the rest are reported.',
  // Mobile app
  'APP-REREGISTER': 'Mobile app registrations cannot be created through Graph: the user must register Microsoft Authenticator again (registration campaign).',
  // Default method
  'DEFAULT-FROM-SERVER': "MFA Server's default method maps to Entra's: phone call -> voice (where the phone went), text message -> sms, OATH token -> oath, mobile app -> push.",
  'DEFAULT-NEVER': "With --default-method never, no default method is set or changed.",
  'DEFAULT-SYSTEM-PREFERRED': "A user with system-preferred MFA on (Microsoft managed) signs in with the method Entra prefers: a default method set for them is used only by the NPS extension and the AD FS adapter, and the plan says so: per user where Graph gives the user's flag (default-ignored-system-preferred), and once for the plan when the tenant's policy has it on or Microsoft managed (system-preferred-on).",
  'DEFAULT-IF-UNSET': 'With --default-method if-unset (the default), a default already set in the tenant is kept.',
  'DEFAULT-MOST-SECURE': 'With --default-method most-secure-if-unset, an unset default becomes the most secure method the user will have.',
  'DEFAULT-POLICY-FALLBACK': 'A default whose method the policy does not enable, or the user will not have, falls back to the most secure enabled method the user will have.',
  'DEFAULT-PUSH-NEEDS-APP': 'Mobile app default becomes push only when the user already has Microsoft Authenticator in the tenant.',
  'DEFAULT-SMS-LANDLINE':
    'A mobile phone whose number libphonenumber types as taking no text messages (a landline: FIXED_LINE, not FIXED_LINE_OR_MOBILE; a toll-free, premium-rate or shared-cost number, a UAN or voicemail) may not receive them: the most secure method puts voice before SMS on it, and an SMS default the plan still sets on it (MFA Server\'s text message, or no voice to fall back to) is reported.',
  'DEFAULT-KEPT-TOKEN-MISSING': "A user whose OATH token has no seed (planned with --allow-missing-seeds) keeps their default method whenever the token would have decided it: a missing seed never moves a user's default.",
  // Tenant policy
  'POL-VOICE': 'Phone call allowed or in use in MFA Server, or a migrating user will have a phone -> Voice enabled for the target group (a migrated phone cannot be used while neither voice nor SMS is enabled).',
  'POL-VOICE-OFFICE': 'A user will have an office phone -> Voice allows office phones.',
  'POL-SMS': 'Text message allowed or in use -> SMS enabled for the target group.',
  'POL-SMS-SIGN-IN':
    'SMS the plan turns on is for MFA only: the targets it leaves enabled get isUsableForSignIn false (SMS sign-in needs no password, and MFA Server used text messages as a second factor only); SMS the tenant already has on with sign-in usable is left as it is and reported.',
  'POL-AUTHENTICATOR': 'Mobile app allowed or in use -> Microsoft Authenticator enabled for the target group.',
  'POL-AUTHENTICATOR-OTP': 'Mobile app OATH passcode -> Authenticator OTP codes allowed (isSoftwareOathEnabled).',
  'POL-HARDWARE-OATH': 'OATH tokens allowed or in use -> hardware OATH tokens enabled for the target group.',
  'POL-TAP': 'User-initiated one-time bypass -> Temporary Access Pass enabled, one-time use, default lifetime from the bypass time (in whole minutes, rounded up; POL-TAP-LIFETIME); the minimum lifetime is lowered, or the maximum raised, in the same PATCH where the default would pass it, as Graph takes a default only between the two; where TAP is already on for others, the target group is added and its settings, which are every TAP user\'s, are kept and reported.',
  'POL-TAP-LIFETIME': 'A bypass time outside the lifetimes Graph takes for a Temporary Access Pass (10 to 43200 minutes, 30 days) is clamped to them and reported (tap-lifetime-clamped): info for a bypass of under 10 minutes (the pass outlives it), a warning for one of over 30 days (the pass ends before it would).',
  'POL-CAMPAIGN': 'User enrollment or mobile app activation allowed -> the Authenticator registration campaign is enabled for the target group.',
  'POL-REPORT-SUSPICIOUS': 'Fraud alert -> report suspicious activity enabled, with the reporting code; where it is already on for others (it takes one target), it is left as it is and reported.',
  'POL-USER-NOT-TARGETED':
    "A method a user will have that the policy, as the plan leaves it, does not enable for them (disabled, not targeted at them or a group holding them, nested groups included, or excluded) does not count as a usable method: it is reported, never used as their default, and never switches them to Entra MFA.",
  'POL-MANUAL': 'A server setting with no cloud equivalent through Graph: reported with the manual step to take.',
  // Cutover (staged rollout, federation, the SMS/voice retirement)
  'CUTOVER-STAGED-ROLLOUT':
    'With --rollout-group, the staged rollout policy of feature multiFactorAuthentication exists and is enabled (created if missing, never for the whole organisation) and applies to every named group; a group staged rollout cannot use (dynamic, holding groups or contacts, over 50,000 members, over 200 members when first added, past 10 groups) refuses the plan.',
  'CUTOVER-SWITCH-USER':
    'A user left with at least one working cloud MFA method is added to the first named rollout group with room (at most 50,000 members a group), only once every other change of theirs succeeded; a user already in a rollout group is left there; a user with no cloud method is not switched by it and is reported (not-switched): they stay on MFA Server, unless the plan sets the federation of their domain with --force-federation, which moves them to Entra MFA with nothing to sign in with, as their finding then says.',
  'CUTOVER-MANAGED-DOMAIN':
    "A user whose UPN is in a verified managed domain (authenticationType Managed: Entra authenticates them) is on Entra MFA already for their Entra sign-ins (MFA Server can have served them only on premises: RADIUS, IIS, LDAP, which the cutover does not move): staged rollout changes nothing for them, so they are not added to a rollout group (switched-managed-domain, one note per domain) and count as switched; one with no cloud MFA method the policy lets them use is warned of (switched-without-method), not refused. Apply checks the domain is still managed (otherwise the plan is stale, even with --skip-stale).",
  'CUTOVER-FEDERATION':
    "With --federated-mfa reject, each verified federated domain of the plan's users gets federatedIdpMfaBehavior rejectMfaByFederatedIdp, last, once every switch of its users succeeded; refused while a user of the domain is neither switched nor switched by the plan, while a username refused as matching no one tenant user alone (user-match-ambiguous, user-match-shared, user-match-domain-differs) has a candidate in the domain that no row of the plan is matched to, or while a tenant user of the domain outside the export (enabled, not switched by staged rollout) has no cloud MFA method they can use (unless --force-federation, which names them in federation-forced). A verified subdomain that is not a root (isRoot false, e.g. eu.contoso.com under contoso.com) takes its root's federation: its users count as the root's, the root's federation is the one changed, and its tenant users outside the export are checked with the root's; a promoted subdomain (isRoot true) is a domain of its own.",
  'CUTOVER-PHONE-DEADLINE':
    'A user left with SMS and voice only (email does not count: it is not an MFA method) is reported with the day Microsoft-provided SMS and voice retire for them, 2027-02-01 (2027-07-01 for external users), from which a blocking passkey registration prompt stops their sign-in; the plan also says whether the tenant lets them register a passkey.',
  'CUTOVER-CAMPAIGN': 'With --campaign-group, users left with SMS and voice only are added to that assigned group, and the Microsoft Authenticator registration campaign targets it.',
} as const;

export type RuleId = keyof typeof RULES;
