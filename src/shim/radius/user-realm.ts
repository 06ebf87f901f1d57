import { UserError } from '../../model/user-error.js';
import { userKey } from '../store-model.js';

/**
 * How the names one RADIUS client sends are looked up (clients file options `strip-realm=` and
 * `default-domain=`): VPNs send what the user typed (`grace`, `CONTOSO\grace`, `grace@CONTOSO`),
 * the store knows the export's username (`grace@contoso.com`).
 *
 * The rules, in order, on the name with the spaces and tabs around it left out (as userKey does):
 * 1. strip-realm: a name that is exactly `REALM\user` or `user@REALM` (one separator, `user`
 *    printable ASCII without `\` or `@`), REALM one of the listed ones (A-Z folded, as user names
 *    are), becomes `user`. A realm not listed is never removed: `grace@fabrikam.com` stays what it
 *    is, so it can never become contoso's grace.
 * 2. default-domain: a name with neither `\` nor `@` (as sent, or left by rule 1) becomes
 *    `user@DOMAIN`.
 * Anything else is looked up exactly as sent. The rules give the same name when applied again, so a
 * user of the store is reachable through the client exactly when they leave its name as it is
 * (realmCheck relies on it).
 */
export interface RealmRules {
  /** Realms whose prefix or suffix is removed, A-Z folded. */
  strip: readonly string[];
  /** Appended to a bare name as `@domain`. */
  defaultDomain?: string;
}

/** A-Z folded only, as userKey folds names (toLowerCase would fold the Kelvin sign to k). */
const fold = (text: string): string => text.replace(/[A-Z]+/g, (s) => s.toLowerCase());

/** A realm as the options take it: a NetBIOS domain (CONTOSO) or a DNS name (contoso.com). */
const REALM = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
/** A UPN suffix: a DNS name of two labels or more. */
const DOMAIN = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$/;
/** What may be left of a name once its realm is removed: printable ASCII, no separator. */
const BARE = /^[\x21-\x3f\x41-\x5b\x5d-\x7e]+$/;

export function normaliseUserName(sent: string, rules: RealmRules): string {
  let name = sent.replace(/^[ \t]+|[ \t]+$/g, '');
  if (rules.strip.length > 0) {
    const slash = name.indexOf('\\');
    const at = name.indexOf('@');
    const [realm, user] = slash >= 0 && at < 0 ? [name.slice(0, slash), name.slice(slash + 1)] : at >= 0 && slash < 0 ? [name.slice(at + 1), name.slice(0, at)] : ['', ''];
    if (BARE.test(user) && rules.strip.includes(fold(realm))) name = user;
  }
  if (rules.defaultDomain !== undefined && BARE.test(name)) name = `${name}@${rules.defaultDomain}`;
  return name;
}

/** `strip-realm=CONTOSO,contoso.com`'s realms; `where` names the line and field (never its text: it may be a secret). */
export function parseStripRealm(value: string, where: string): string[] {
  const realms = value.split(',');
  if (!realms.every((r) => REALM.test(r))) throw new UserError(`${where}: strip-realm takes realms separated by commas (strip-realm=CONTOSO,contoso.com): letters, digits, '-', '_' and '.', no spaces, '@' or '\\'`);
  const folded = realms.map(fold);
  if (new Set(folded).size !== folded.length) throw new UserError(`${where}: strip-realm names a realm twice`);
  return folded;
}

/** `default-domain=contoso.com`'s domain. */
export function parseDefaultDomain(value: string, where: string): string {
  if (!DOMAIN.test(value)) {
    const hint = value.startsWith('@') ? ' (without the @)' : value.includes('\\') || !value.includes('.') ? ' (a UPN suffix such as contoso.com: a NetBIOS domain such as CONTOSO is for strip-realm)' : '';
    throw new UserError(`${where}: default-domain takes a DNS domain, the UPN suffix bare names are given${hint}`);
  }
  return fold(value);
}

/**
 * The options of one line together. strip-realm names one domain: at most its NetBIOS name and its
 * DNS name. Two domains would fold two users into one name (`CONTOSO\grace` and `FABRIKAM\grace`
 * both `grace`), and a DNS domain other than default-domain's would give its users the default
 * domain's (`grace@fabrikam.com` looked up as `grace@contoso.com`).
 */
export function checkRealmRules(rules: RealmRules, where: string): void {
  const dns = rules.strip.filter((r) => r.includes('.'));
  const netbios = rules.strip.filter((r) => !r.includes('.'));
  if (dns.length > 1 || netbios.length > 1) {
    throw new UserError(`${where}: strip-realm names ${dns.length > 1 ? `${dns.length} DNS domains` : `${netbios.length} NetBIOS domains`}: it takes one domain's names (its NetBIOS name, its DNS name), since two domains' users of one name would become one user`);
  }
  if (rules.defaultDomain !== undefined && dns[0] !== undefined && dns[0] !== rules.defaultDomain) {
    throw new UserError(`${where}: strip-realm names the DNS domain ${dns[0]}, and default-domain is ${rules.defaultDomain}: ${dns[0]}'s users would be looked up as ${rules.defaultDomain}'s (user@${dns[0]} as user@${rules.defaultDomain}); name only default-domain's domain`);
  }
}

/** The options as a clients file line writes them (messages). */
function describeRealmRules(rules: RealmRules): string {
  return [rules.strip.length > 0 ? `strip-realm=${rules.strip.join(',')}` : '', rules.defaultDomain !== undefined ? `default-domain=${rules.defaultDomain}` : ''].filter(Boolean).join(' ');
}

/** How many users a warning names before giving the count. */
const NAMED = 5;

/**
 * The clients' rules against the store's users, at start and at each reload. A user whose own name a
 * client's rules turn into another user's is refused: whoever sends that name through the client
 * (that user, most likely) would have their codes checked against the other user's tokens, and
 * their failures lock the other out. A user whose name they turn into no user's cannot sign in
 * through that client at all: said, as a warning. Returns the warnings.
 */
export function realmCheck(clients: readonly { name: string; line: number; realm?: RealmRules }[], users: Iterable<{ key: string; username: string }>): string[] {
  const byKey = new Map<string, string>();
  for (const u of users) byKey.set(u.key, u.username);
  const warnings: string[] = [];
  for (const c of clients) {
    if (!c.realm) continue;
    const options = describeRealmRules(c.realm);
    const unreachable: string[] = [];
    for (const [key, username] of byKey) {
      const looked = userKey(normaliseUserName(username, c.realm));
      if (looked === key) continue;
      const other = byKey.get(looked);
      if (other !== undefined) {
        throw new UserError(
          `RADIUS client ${c.name} (clients file line ${c.line}): with ${options}, the name ${username}, a user of the store, is looked up as ${other}, another user of the store (${username}'s codes would be checked against ${other}'s tokens); remove the option from the client, or one of the two users from the store`,
        );
      }
      unreachable.push(`${username} (looked up as ${looked})`);
    }
    if (unreachable.length > 0) {
      const more = unreachable.length > NAMED ? `, and ${unreachable.length - NAMED} more` : '';
      warnings.push(`warning: RADIUS client ${c.name} (clients file line ${c.line}): ${unreachable.length} user(s) of the store cannot sign in through it: with ${options} no name sent is looked up as theirs: ${unreachable.slice(0, NAMED).join(', ')}${more}`);
    }
  }
  return warnings;
}
