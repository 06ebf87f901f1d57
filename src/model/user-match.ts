import { CONTROL_BUT_NEWLINE, INVISIBLE, REORDERING } from './hidden-characters.js';

/**
 * Matching an MFA Server username to its Entra user when the username is not the user's UPN.
 *
 * MFA Server's username is the AD userPrincipalName, else the sAMAccountName (Directory Integration's
 * attribute map); deployments also use `DOMAIN\user`, and many on-premises UPNs have a suffix Entra
 * does not route (`jdoe@corp.local`, with `jdoe@contoso.com` in Entra: alternate login ID). After the
 * UPN, a username is looked up by the synced names Graph gives (`onPremisesUserPrincipalName`,
 * `onPremisesSamAccountName` with `onPremisesDomainName`), and matched only when exactly one tenant
 * user fits: never a guess. Pure: the Graph reads are src/graph/tenant-reader.ts's.
 */

/** `--match-by`: the UPN always; `on-premises` adds the synced on-premises names. */
export type MatchBy = 'upn' | 'on-premises';

/** `--match-by` when not given: the UPN, then the on-premises names. */
export const DEFAULT_MATCH_BY: readonly MatchBy[] = ['upn', 'on-premises'];

/** The synced attribute a username is looked up by. */
export type OnPremisesAttribute = 'onPremisesUserPrincipalName' | 'onPremisesSamAccountName';

/** The rules of docs/mapping.md a match (or a refusal) is made by (a subset of mapping/rules.ts's ids). */
export type MatchRule = 'USER-MATCH-ONPREM-UPN' | 'USER-MATCH-SAM' | 'USER-MATCH-AMBIGUOUS';

/** What a username gives to look up by, when it is not found by UPN. */
export interface OnPremisesName {
  by: OnPremisesAttribute;
  /** The on-premises UPN (the whole username), or the sAMAccountName. */
  value: string;
  /** `DOMAIN\sam`: the domain part as written (a NetBIOS name). */
  domain?: string;
}

/** A tenant user as the on-premises lookups read it. */
export interface OnPremisesCandidate {
  id: string;
  userPrincipalName: string;
  onPremisesUserPrincipalName?: string | null;
  onPremisesSamAccountName?: string | null;
  onPremisesDomainName?: string | null;
}

/** A tenant user a match names: enough for an auditor (and for apply to check it again). */
export interface MatchedUser {
  id: string;
  upn: string;
  onPremisesDomainName: string | null;
}

/**
 * How an export user was found by an on-premises name, or why not, as the plan records it (JSON
 * plan `users[].match`, the saved plan's user line). Absent for a user found by UPN, or not found at all.
 *
 * - `matched`: exactly one tenant user fits; `users` holds it.
 * - `ambiguous`: more than one fits; `users` holds them: not matched. For `DOMAIN\sam` with DOMAIN
 *   told by the first label only (no --netbios-domain for it), the users of the name in every domain
 *   that may be DOMAIN's count (domainMayBe): the first label picks one, another may be the one.
 * - `domain-differs`: `DOMAIN\sam`, and tenant users have the sAMAccountName only in domains that are
 *   not DOMAIN's; `users` holds them: not matched.
 * - `shared`: the one user that fits is the one another export user is matched to (`shared_with`),
 *   by UPN or by an on-premises name: MFA Server holds the person twice; not matched.
 */
export interface UserMatch {
  outcome: 'matched' | 'ambiguous' | 'domain-differs' | 'shared';
  rule: MatchRule;
  by: OnPremisesAttribute;
  value: string;
  domain?: string;
  /** The DNS domain --netbios-domain gives for `domain`, when it gives one (else the first-label rule applied). */
  dns_domain?: string;
  users: MatchedUser[];
  shared_with?: string;
}

/**
 * What no part of a UPN holds: @, `?` (Entra's UPN characters leave it out; a `?` is what an ASCII
 * export made of a letter it could not write), spaces, control characters, and the characters that
 * do not show as themselves (bidirectional marks, zero-width and other invisible ones).
 */
export const NOT_IN_UPN = `@?\\s${CONTROL_BUT_NEWLINE}\\n${REORDERING}${INVISIBLE}`;
const NOT_IN_UPN_PART = new RegExp(`[${NOT_IN_UPN}]`);
/** Characters a sAMAccountName cannot hold (AD's rule), and the characters that do not show as themselves: such a name is not looked up. */
const NOT_IN_SAM = new RegExp(`["/\\\\[\\]:;|=,+*?<>@${CONTROL_BUT_NEWLINE}\\n${REORDERING}${INVISIBLE}]`);
/** Characters a NetBIOS domain name cannot hold. */
const NOT_IN_NETBIOS = new RegExp(`[\\\\/:*?"<>|@\\s${CONTROL_BUT_NEWLINE}${REORDERING}${INVISIBLE}]`);

/**
 * What a username is looked up by once no tenant user has it as UPN: `name@suffix` by the on-premises
 * UPN, `DOMAIN\sam` and a bare `sam` by the sAMAccountName; undefined for a name neither can be.
 */
export function onPremisesName(username: string): OnPremisesName | undefined {
  const name = username.trim();
  if (name !== username || name === '') return undefined;
  const at = name.indexOf('@');
  if (at >= 0) return at > 0 && at === name.lastIndexOf('@') && at < name.length - 1 && !NOT_IN_UPN_PART.test(name.replace('@', '')) ? { by: 'onPremisesUserPrincipalName', value: name } : undefined;
  const slash = name.indexOf('\\');
  if (slash >= 0) {
    const domain = name.slice(0, slash);
    const sam = name.slice(slash + 1);
    if (domain === '' || NOT_IN_NETBIOS.test(domain) || sam === '' || NOT_IN_SAM.test(sam) || /^\s|\s$/.test(sam)) return undefined;
    return { by: 'onPremisesSamAccountName', value: sam, domain };
  }
  return NOT_IN_SAM.test(name) ? undefined : { by: 'onPremisesSamAccountName', value: name };
}

/** The first label of a DNS domain (`corp` of `corp.contoso.com`). */
export function firstLabel(dnsDomain: string): string {
  return dnsDomain.split('.')[0]!;
}

/** Whether --netbios-domain gives the DNS domain `dnsDomain` to a NetBIOS name (any). */
function givenToAName(dnsDomain: string, netbiosDomains: ReadonlyMap<string, string>): boolean {
  const d = dnsDomain.toLowerCase();
  for (const v of netbiosDomains.values()) if (v.toLowerCase() === d) return true;
  return false;
}

/**
 * Whether a tenant user's on-premises domain is the NetBIOS domain `netbios`: the DNS domain
 * --netbios-domain gives for it when it gives one, else the one whose first label is `netbios`
 * (case aside), unless --netbios-domain gives that domain to another NetBIOS name. A user with no
 * on-premises domain fits no domain.
 */
export function domainFits(netbios: string, onPremisesDomainName: string | null | undefined, netbiosDomains: ReadonlyMap<string, string>): boolean {
  if (!onPremisesDomainName) return false;
  const dns = netbiosDomains.get(netbios.toLowerCase());
  if (dns !== undefined) return dns.toLowerCase() === onPremisesDomainName.toLowerCase();
  return firstLabel(onPremisesDomainName).toLowerCase() === netbios.toLowerCase() && !givenToAName(onPremisesDomainName, netbiosDomains);
}

/**
 * Whether a tenant user's on-premises domain may be the NetBIOS domain `netbios`, as far as Graph and
 * --netbios-domain tell (Graph gives no NetBIOS name): when --netbios-domain gives `netbios` a domain,
 * only that one; else any domain it does not give to another NetBIOS name (the first-label rule is a
 * guess, which the other users of the sAMAccountName must not contradict), a user without one too.
 */
export function domainMayBe(netbios: string, onPremisesDomainName: string | null | undefined, netbiosDomains: ReadonlyMap<string, string>): boolean {
  if (netbiosDomains.has(netbios.toLowerCase())) return domainFits(netbios, onPremisesDomainName, netbiosDomains);
  return !onPremisesDomainName || !givenToAName(onPremisesDomainName, netbiosDomains);
}

/** The value a candidate has for an attribute, lower case (Graph compares them case-insensitively). */
export function attributeOf(c: OnPremisesCandidate, by: OnPremisesAttribute): string | undefined {
  const v = c[by];
  return typeof v === 'string' ? v.toLowerCase() : undefined;
}

const matched = (c: OnPremisesCandidate): MatchedUser => ({ id: c.id, upn: c.userPrincipalName, onPremisesDomainName: c.onPremisesDomainName ?? null });

/** The users of a match in a fixed order (by UPN), so that a plan is the same whatever order Graph listed them in. */
const sorted = (users: MatchedUser[]): MatchedUser[] => users.sort((a, b) => (a.upn.toLowerCase() < b.upn.toLowerCase() ? -1 : a.upn.toLowerCase() > b.upn.toLowerCase() ? 1 : a.id < b.id ? -1 : 1));

/**
 * How a username not found by UPN matches the tenant users read for its on-premises name
 * (`candidates`: those Graph returned for the lookup; they are filtered here again, case aside);
 * undefined when no tenant user has the name at all.
 */
export function decideMatch(name: OnPremisesName, candidates: readonly OnPremisesCandidate[], netbiosDomains: ReadonlyMap<string, string>): UserMatch | undefined {
  const value = name.value.toLowerCase();
  const having = [...new Map(candidates.filter((c) => attributeOf(c, name.by) === value).map((c) => [c.id.toLowerCase(), c])).values()];
  if (having.length === 0) return undefined;
  const base = {
    by: name.by,
    value: name.value,
    ...(name.domain !== undefined ? { domain: name.domain } : {}),
    ...(name.domain !== undefined && netbiosDomains.has(name.domain.toLowerCase()) ? { dns_domain: netbiosDomains.get(name.domain.toLowerCase())! } : {}),
  };
  const rule: MatchRule = name.by === 'onPremisesUserPrincipalName' ? 'USER-MATCH-ONPREM-UPN' : 'USER-MATCH-SAM';
  const fits = name.domain === undefined ? having : having.filter((c) => domainFits(name.domain!, c.onPremisesDomainName, netbiosDomains));
  if (fits.length === 0) return { outcome: 'domain-differs', rule, ...base, users: sorted(having.map(matched)) };
  // DOMAIN told by the first label only is a guess: a user of the name in a domain that may be DOMAIN's too makes it ambiguous.
  const mayBe = name.domain === undefined ? having : having.filter((c) => domainMayBe(name.domain!, c.onPremisesDomainName, netbiosDomains));
  if (mayBe.length > 1) return { outcome: 'ambiguous', rule: 'USER-MATCH-AMBIGUOUS', ...base, users: sorted(mayBe.map(matched)) };
  return { outcome: 'matched', rule, ...base, users: [matched(fits[0]!)] };
}

/** The match refused because its user is another export user's too. */
export function sharedMatch(m: UserMatch, withUser: string): UserMatch {
  return { ...m, outcome: 'shared', rule: 'USER-MATCH-AMBIGUOUS', shared_with: withUser };
}

/** The tenant user a match found, when it found one (outcome `matched`). */
export function matchedUser(m: UserMatch | undefined): MatchedUser | undefined {
  return m?.outcome === 'matched' ? m.users[0] : undefined;
}

/** `--netbios-domain NAME=dns.domain` values as a map (NetBIOS name lower case -> DNS domain); throws a message on a bad one. */
export function parseNetbiosDomains(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const netbios = eq > 0 ? v.slice(0, eq).trim() : '';
    const dns = eq > 0 ? v.slice(eq + 1).trim() : '';
    if (netbios === '' || NOT_IN_NETBIOS.test(netbios) || !/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(dns)) {
      throw new Error(`--netbios-domain ${JSON.stringify(v)}: give NAME=dns.domain (the NetBIOS domain name, then the DNS domain Graph names as onPremisesDomainName), e.g. CORP=ad.contoso.com`);
    }
    // AD's NetBIOS domain names are 15 characters at most: a longer one is a DNS name or a typo.
    if (netbios.length > 15) throw new Error(`--netbios-domain ${JSON.stringify(v)}: ${netbios} is no NetBIOS domain name (15 characters at most); give the short name users type before the backslash`);
    const key = netbios.toLowerCase();
    if (out.has(key) && out.get(key)!.toLowerCase() !== dns.toLowerCase()) throw new Error(`--netbios-domain gives ${netbios} twice, as ${out.get(key)} and ${dns}`);
    // A DNS domain is one NetBIOS domain's: two names for it would let either name match its users.
    const other = [...out].find(([k, d]) => k !== key && d.toLowerCase() === dns.toLowerCase());
    if (other) throw new Error(`--netbios-domain gives ${dns} two NetBIOS names, ${other[0].toUpperCase()} and ${netbios}: an AD domain has one`);
    out.set(key, dns);
  }
  return out;
}

/** A netbios map as the plan records it (`options.netbios_domains`): NetBIOS name upper case -> DNS domain, sorted. */
export function netbiosRecord(map: ReadonlyMap<string, string>): Record<string, string> {
  return Object.fromEntries([...map].map(([k, v]) => [k.toUpperCase(), v] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The recorded map back (`options.netbios_domains`). */
export function netbiosMapOf(record: Readonly<Record<string, string>> | null | undefined): Map<string, string> {
  return new Map(Object.entries(record ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}
