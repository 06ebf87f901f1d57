import { BlockList, isIP } from 'node:net';
import { UserError } from '../../model/user-error.js';
import { readSecretText } from '../../io/secret-file.js';
import { fieldLines } from './config-fields.js';
import { checkRealmRules, parseDefaultDomain, parseStripRealm, type RealmRules } from './user-realm.js';

/** One RADIUS client (a VPN concentrator, a NAS): where it sends from, its shared secret, its budgets. */
export interface RadiusClient {
  /** The NAME field, else the network as written (the audit log's label either way). */
  name: string;
  /** The line of the clients file it is on (messages and the startup list of clients name it). */
  line: number;
  /** As written: `ADDRESS[/PREFIX]`. */
  network: string;
  /** As matched, where that is not what was written (notation aside): the address with its host bits cleared (`10.20.0.5/24` reads as `10.20.0.0/24`), IPv4 for an IPv4-mapped one. */
  readAs?: string;
  prefix: number;
  /** The network's family (an IPv4-mapped IPv6 network is read as the IPv4 one). */
  family: 4 | 6;
  secret: Buffer;
  /** Per-client budgets (clients file options), else the serve flags. */
  rateLimit?: number;
  rateBurst?: number;
  sourceMaxFails?: number;
  /** `reasons=detailed`: rejects say why (`Unknown user`, ...), as /v1/verify does; else they do not tell whether the user exists. */
  detailedReasons?: boolean;
  /** How the user names it sends are looked up (options strip-realm=, default-domain=; user-realm.ts), when either is set. */
  realm?: RealmRules;
  match: BlockList;
}

const OPTIONS: Record<string, keyof Pick<RadiusClient, 'rateLimit' | 'rateBurst' | 'sourceMaxFails'>> = {
  'rate-limit': 'rateLimit',
  'rate-burst': 'rateBurst',
  'source-max-fails': 'sourceMaxFails',
};

/** Each option's range: the `shim serve` flag's (a burst of 0 refused every request of that VPN, for good; a black-box test). */
const RANGES: Record<keyof typeof OPTIONS, [number, number]> = {
  'rate-limit': [0, 1_000_000_000],
  'rate-burst': [1, 1_000_000_000],
  'source-max-fails': [0, 1_000_000],
};

/** RFC 2865 3: the shared secret SHOULD be at least 16 octets (and BlastRADIUS made weak ones dangerous). */
export const MIN_SECRET_BYTES = 16;

/** What `reasons=` takes: `generic` (the default) or `detailed`. */
const REASONS = ['generic', 'detailed'];

const OPTION_LIST = 'rate-limit=N, rate-burst=N, source-max-fails=N, reasons=detailed, strip-realm=REALM[,REALM...], default-domain=DOMAIN';

/**
 * The clients file: one client per line, whitespace-separated `ADDRESS[/PREFIX] SECRET [NAME]
 * [option=value ...]` (options: rate-limit, rate-burst, source-max-fails, reasons, strip-realm,
 * default-domain), `#` starts a comment.
 * An unquoted secret ends at the first space (what follows is the NAME); one holding spaces or `#`
 * is written in double quotes (`"two words 0123456789"`, `\"` and `\\` inside). It holds secrets:
 * it must be 0600 (refused outright when group or others can access it, issue 17 item 17).
 */
export function readClientsFile(path: string): RadiusClient[] {
  const text = readSecretText(path, 'RADIUS clients file', { alwaysStrict: true, regularOnly: true });
  return parseClients(text, path);
}

export function parseClients(text: string, path: string): RadiusClient[] {
  const clients: RadiusClient[] = [];
  // Fields are never repeated in errors: a secret written in the wrong place must not reach a log.
  for (const { line, where, fields: all } of fieldLines(text, path)) {
    // A '#' inside an unquoted field is refused, not silently kept or cut: written as `SECRET#x`
    // it was most likely meant as a comment, or as a secret the VPN has whole.
    if (all.some((f) => !f.quoted && f.text.includes('#'))) throw new UserError(`${where}: '#' inside a field: a comment starts with '#' after white space, and a secret holding '#' goes in double quotes`);
    const fields = all.map((f) => f.text);
    const [network, secret, ...rest] = fields as [string, string | undefined, ...string[]];
    if (secret === undefined) throw new UserError(`${where}: expected ADDRESS[/PREFIX] SECRET [NAME]`);
    const [address, prefixText, ...more] = network.split('/') as [string, string | undefined, ...string[]];
    let plain = address;
    let family = isIP(plain);
    if (family === 0 || more.length > 0) throw new UserError(`${where}: the first field is not an IP address or network (ADDRESS[/PREFIX])`);
    const bits = family === 4 ? 32 : 128;
    let prefix = prefixText === undefined ? bits : Number(prefixText);
    if (!/^\d+$/.test(prefixText ?? '0') || !Number.isInteger(prefix) || prefix < 0 || prefix > bits) throw new UserError(`${where}: prefix /${prefixText} must be 0 to ${bits}`);
    // An IPv4-mapped IPv6 network (::ffff:10.0.0.0/120, or ::ffff:a00:0/120) is the IPv4 network
    // it maps: datagrams from those hosts arrive from IPv4 addresses.
    const v4 = family === 6 ? mappedIPv4(address) : undefined;
    if (v4 !== undefined) {
      if (prefix < 96) throw new UserError(`${where}: an IPv4-mapped network needs a prefix of /96 or more (it is an IPv4 network)`);
      plain = v4;
      family = 4;
      prefix -= 96;
    }
    if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
      // With more fields after it, the secret may have been cut at a space.
      const cut = rest.length > 0 && !all[1]!.quoted ? '; an unquoted secret ends at the first space (one holding spaces goes in double quotes)' : '';
      throw new UserError(`${where}: the shared secret is shorter than ${MIN_SECRET_BYTES} characters (RFC 2865 3); use a long random one${cut}`);
    }
    const match = new BlockList();
    match.addSubnet(plain, prefix, family === 4 ? 'ipv4' : 'ipv6');
    // The third field is the name unless it is an option (a quoted one always is the name).
    const named = rest[0] !== undefined && (all[2]!.quoted || !rest[0].includes('='));
    const name = named ? rest.shift()! : network;
    const fam = family === 4 ? 4 : 6;
    const readAs = networkOf(plain, prefix, fam);
    // Notation alone (case, leading zeros, ::) is not a different reading: the address as written, in canonical form, is compared.
    const asWritten = `${networkOf(plain, fam === 4 ? 32 : 128, fam).split('/')[0]}/${prefix}`;
    const client: RadiusClient = { name, network, ...(v4 !== undefined || readAs !== asWritten ? { readAs } : {}), prefix, family: fam, secret: Buffer.from(secret, 'utf8'), match, line };
    for (const [n, option] of rest.entries()) {
      const at = `${where}: field ${fields.length - rest.length + n + 1}`;
      const eq = option.indexOf('=');
      if (eq > 0 && REALM_OPTIONS.has(option.slice(0, eq))) {
        readRealmOption(client, option.slice(0, eq), option.slice(eq + 1), where, at);
        continue;
      }
      const [key, value] = option.split('=') as [string, string | undefined];
      if (key === 'reasons') {
        if (value === undefined || !REASONS.includes(value)) throw new UserError(`${where}: reasons takes ${REASONS.join(' or ')}`);
        if (client.detailedReasons !== undefined) throw new UserError(`${where}: reasons is given twice`);
        client.detailedReasons = value === 'detailed';
        continue;
      }
      const field = Object.hasOwn(OPTIONS, key) ? OPTIONS[key] : undefined;
      if (!field) throw new UserError(`${at} is not an option (${OPTION_LIST}); a secret holding spaces goes in double quotes`);
      const [min, max] = RANGES[key]!;
      if (value === undefined || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UserError(`${where}: ${key} takes a whole number from ${min} to ${max}`);
      if (client[field] !== undefined) throw new UserError(`${where}: ${key} is given twice`);
      client[field] = Number(value);
    }
    if (client.realm) checkRealmRules(client.realm, where);
    // The same network twice (10.0.0.5/24 is 10.0.0.0/24): one of them would never be matched.
    const same = clients.findIndex((c) => c.family === client.family && c.prefix === prefix && c.match.check(plain, family === 4 ? 'ipv4' : 'ipv6'));
    if (same >= 0) throw new UserError(`${where}: ${network} is already the client of line ${clients[same]!.line}`);
    // The name is the client's label in the audit log: two clients of one name could not be told
    // apart there. One name may stand for a VPN's IPv4 and IPv6 lines (one of each family). The
    // message does not repeat the name: it may be the rest of a secret cut at a space.
    const namesake = clients.find((c) => c.name === name && c.family === client.family);
    if (namesake) {
      const which = named ? 'the name (field 3)' : 'the address, which is the name of a line without one,';
      throw new UserError(`${where}: ${which} is already the name of line ${namesake.line}; give each client its own name (one name may stand only for a VPN's IPv4 line and its IPv6 line)`);
    }
    clients.push(client);
  }
  if (clients.length === 0) throw new UserError(`${path}: no RADIUS client (expected lines of ADDRESS[/PREFIX] SECRET [NAME])`);
  // Most specific network first (within a family: an address is only matched against its own).
  return clients.sort((a, b) => b.prefix - a.prefix);
}

/** The options of user-realm.ts: how the names a client sends are looked up. */
const REALM_OPTIONS = new Set(['strip-realm', 'default-domain']);

function readRealmOption(client: RadiusClient, key: string, value: string, where: string, at: string): void {
  const realm: RealmRules = client.realm ?? { strip: [] };
  if (key === 'strip-realm') {
    if (realm.strip.length > 0) throw new UserError(`${where}: strip-realm is given twice (list the realms in one, separated by commas)`);
    realm.strip = parseStripRealm(value, at);
  } else {
    if (realm.defaultDomain !== undefined) throw new UserError(`${where}: default-domain is given twice`);
    realm.defaultDomain = parseDefaultDomain(value, at);
  }
  client.realm = realm;
}

/** `address/prefix` with the host bits cleared: the network a line is matched as. */
export function networkOf(address: string, prefix: number, family: 4 | 6): string {
  if (family === 4) {
    const n = address.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    const base = prefix === 0 ? 0 : (n & (0xffffffff << (32 - prefix))) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (base >>> s) & 255).join('.')}/${prefix}`;
  }
  // The URL parser writes the address in one canonical form; its eight groups, masked, are written back through it.
  // One it cannot parse (a zone id: fe80::1%eth0) is given as written.
  let host: string;
  try {
    host = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return `${address}/${prefix}`;
  }
  const [head, tail] = host.includes('::') ? (host.split('::') as [string, string]) : [host, undefined];
  const front = head ? head.split(':') : [];
  const back = tail ? tail.split(':') : [];
  const groups = tail === undefined ? front : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  const value = groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
  const masked = prefix === 0 ? 0n : value & (((1n << BigInt(prefix)) - 1n) << BigInt(128 - prefix));
  const hex = Array.from({ length: 8 }, (_, i) => ((masked >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
  return `${new URL(`http://[${hex}]/`).hostname.slice(1, -1)}/${prefix}`;
}

/** The IPv4 address an IPv4-mapped IPv6 address (::ffff:0:0/96, in either notation) stands for, or undefined. */
function mappedIPv4(address: string): string | undefined {
  // The URL parser writes an IPv6 address in its one canonical form (the mapped part in hex).
  let host: string;
  try {
    host = new URL(`http://[${address}]/`).hostname;
  } catch {
    return undefined;
  }
  const m = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(host);
  if (!m) return undefined;
  const [hi, lo] = [parseInt(m[1]!, 16), parseInt(m[2]!, 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The client a datagram from `address` belongs to (the most specific network of its family), or undefined. */
export function clientFor(clients: readonly RadiusClient[], address: string): RadiusClient | undefined {
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const family = isIP(plain) === 6 ? 6 : 4;
  return clients.find((c) => c.family === family && c.match.check(plain, family === 4 ? 'ipv4' : 'ipv6'));
}
