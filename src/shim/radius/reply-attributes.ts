import { isIP } from 'node:net';
import { readGuardedConfigText } from '../../io/config-file.js';
import { UserError } from '../../model/user-error.js';
import { ATTR, type Attribute } from './packet.js';
import { userKey } from '../store-model.js';
import { asField, fieldLines } from './config-fields.js';
import { MAX_VENDOR_ID, MAX_VENDOR_VALUE_BYTES, VENDOR_ATTRIBUTES, vendorSpecific } from './vendor-attributes.js';

/**
 * `--radius-attributes FILE`: attributes returned on Access-Accept per user or per export group
 * (users.csv `user_group`), since VPN policies key on them (Entra's NPS extension drops them when
 * OTP is used). One rule per line: `user:UPN` or `group:NAME`, then `Name=value` pairs; `#` starts a
 * comment. A user's own rule replaces its group's whole (nothing is merged, so a single-valued
 * attribute in both is the user's); group names match whatever their case. Values are text, or
 * whole numbers for the integer attributes, or IPv4 addresses for the address ones. A name or value
 * with spaces is written in double quotes: `group:"VPN Users" Reply-Message="Welcome to the VPN"`.
 * Attribute names match whatever their case. Vendor attributes (RFC 2865 5.26) by their well-known
 * name (vendor-attributes.ts: `Cisco-AVPair=shell:priv-lvl=15`) or by number
 * (`Vendor-Specific=9:1:shell:priv-lvl=15`), their values text.
 */
const DICTIONARY: Record<string, { type: number; kind: 'text' | 'integer' | 'ipv4'; once?: true }> = {
  'Filter-Id': { type: 11, kind: 'text' },
  Class: { type: 25, kind: 'text' },
  // `once`: at most one in an Access-Accept (RFC 2865 5.44's table; Framed-Pool: RFC 2869 5.19).
  // A second would leave the VPN to pick one, and VPNs pick differently.
  'Session-Timeout': { type: 27, kind: 'integer', once: true },
  'Idle-Timeout': { type: 28, kind: 'integer', once: true },
  'Framed-IP-Address': { type: 8, kind: 'ipv4', once: true },
  'Framed-IP-Netmask': { type: 9, kind: 'ipv4', once: true },
  'Framed-Pool': { type: 88, kind: 'text', once: true },
  'Reply-Message': { type: 18, kind: 'text' },
};

/**
 * Encoded bytes of one rule's attributes at most: with the answer's header, Message-Authenticator,
 * Reply-Message and the request's Proxy-State (MAX_PROXY_STATE_BYTES), an answer stays within
 * RADIUS's 4,096 bytes.
 */
export const MAX_RULE_BYTES = 2048;

/** Where a quoted part may start besides a field's start: after `user:`, `group:`, `Name=` or `Vendor-Specific=VENDOR:TYPE:`. */
const QUOTE_AFTER = /^(?:user:|group:|[A-Za-z-]+=|vendor-specific=\d+:\d+:)$/i;

/** The generic form of a vendor's attribute: `Vendor-Specific=VENDOR:TYPE:TEXT`. */
const GENERIC_VSA = 'Vendor-Specific';

export interface ReplyAttributes {
  forUser(userKey: string, group: string | undefined): Attribute[];
  /** Warnings for rules naming no user or group of the store (their users would get no attributes). */
  unmatched(users: Iterable<{ key: string; group?: string | undefined }>): string[];
}

export const NO_REPLY_ATTRIBUTES: ReplyAttributes = { forUser: () => [], unmatched: () => [] };

/**
 * Reads the file, refused when group or others can write it or another user than the shim's (root
 * aside) owns it: whoever can change it can give themselves another user's Class or Filter-Id.
 */
export function readReplyAttributes(path: string): ReplyAttributes {
  return parseReplyAttributes(readGuardedConfigText(path, 'RADIUS attributes file'), path);
}

export function parseReplyAttributes(text: string, path: string): ReplyAttributes {
  const users = new Map<string, Attribute[]>();
  // Group names compare as Windows compares them: case aside.
  const groups = new Map<string, Attribute[]>();
  const lines = new Map<string, string>();
  // '#' inside a field is the field's (a guest's user#EXT#@... name, a group C#-Devs, a value).
  for (const { where, fields } of fieldLines(text, path, QUOTE_AFTER)) {
    const [first, ...pairs] = fields.map((f) => f.text) as [string, ...string[]];
    const m = /^(user|group):(.+)$/.exec(first);
    if (!m) throw new UserError(`${where}: expected user:UPN or group:NAME, then Name=value pairs`);
    const encoded = pairs.map((pair) => encodeAttribute(pair, where));
    const selector = `${m[1]}:${asField(m[2]!)}`;
    refuseRepeats(encoded, where);
    const attributes = encoded.map((e) => e.attribute);
    const bytes = attributes.reduce((n, a) => n + 2 + a.value.length, 0);
    if (bytes > MAX_RULE_BYTES) throw new UserError(`${where}: ${selector}'s attributes take ${bytes} bytes; at most ${MAX_RULE_BYTES} fit in an answer`);
    const [map, key] = m[1] === 'user' ? [users, userKey(m[2]!)] : [groups, m[2]!.toLowerCase()];
    if (map.has(key)) throw new UserError(`${where}: ${selector} has a rule already`);
    map.set(key, attributes);
    lines.set(`${m[1]}:${key}`, `${where}: ${selector}`);
  }
  return {
    forUser: (userKey, group) => users.get(userKey) ?? (group !== undefined ? groups.get(group.toLowerCase()) : undefined) ?? [],
    unmatched: (storeUsers) => {
      const seen = new Set<string>();
      for (const u of storeUsers) {
        seen.add(`user:${u.key}`);
        if (u.group !== undefined) seen.add(`group:${u.group.toLowerCase()}`);
      }
      return [...lines].filter(([k]) => !seen.has(k)).map(([, at]) => `warning: ${at} names no ${at.includes(': user:') ? 'user' : 'group'} of the store: it gives no one attributes`);
    },
  };
}

/** An attribute as read from a rule: its bytes, and what the once-only check needs. */
interface Encoded {
  attribute: Attribute;
  /** As documented (a vendor attribute given by number: its well-known name, where it has one). */
  name: string;
  /** The same attribute however it was written: the type, or Vendor-Id and vendor type. */
  identity: string;
  /** Why it may appear once, where it may (RFC 2865 5.44's table, or the device applying one). */
  once?: string;
}

/** A rule gives each single-valued attribute at most once. */
function refuseRepeats(attributes: Encoded[], where: string): void {
  const seen = new Set<string>();
  for (const a of attributes) {
    if (a.once !== undefined && seen.has(a.identity)) throw new UserError(`${where}: ${a.name} is given more than once; an Access-Accept carries it at most once (${a.once})`);
    seen.add(a.identity);
  }
}

/** Every attribute name in lower case, to its spelling as documented: names match whatever their case. */
const NAMES = new Map([...Object.keys(DICTIONARY), ...Object.keys(VENDOR_ATTRIBUTES), GENERIC_VSA].map((n) => [n.toLowerCase(), n]));

/** The well-known name of each vendor attribute, by `VENDOR:TYPE`. */
const VENDOR_NAMES = new Map(Object.entries(VENDOR_ATTRIBUTES).map(([name, v]) => [`${v.vendor}:${v.type}`, name]));

function encodeAttribute(pair: string, where: string): Encoded {
  const eq = pair.indexOf('=');
  const written = eq > 0 ? pair.slice(0, eq) : pair;
  const value = eq > 0 ? pair.slice(eq + 1) : '';
  // A Map, not an object: `toString=x` must not find Object.prototype's.
  const name = NAMES.get(written.toLowerCase());
  if (name === undefined || eq < 0) {
    // A word with no '=' is most often the rest of a value with spaces, or of a group name.
    const hint =
      eq < 0
        ? '; a name or value with spaces goes in double quotes (group:"VPN Users", Reply-Message="Welcome to the VPN")'
        : /^\d+$/.test(written)
          ? `; an attribute is given by name, a vendor's as ${GENERIC_VSA}=VENDOR:TYPE:TEXT`
          : '';
    throw new UserError(`${where}: ${asField(pair)}: expected Name=value with Name one of ${[...Object.keys(DICTIONARY), ...Object.keys(VENDOR_ATTRIBUTES)].join(', ')}, or ${GENERIC_VSA}=VENDOR:TYPE:TEXT${hint}`);
  }
  if (name === GENERIC_VSA) {
    const m = /^(\d{1,10}):(\d{1,10}):(.*)$/s.exec(value);
    if (!m) throw new UserError(`${where}: ${GENERIC_VSA} takes VENDOR:TYPE:TEXT: the Vendor-Id (a number), the vendor's attribute number, then the text (${GENERIC_VSA}=9:1:shell:priv-lvl=15)`);
    const [vendor, type] = [Number(m[1]), Number(m[2])];
    if (vendor < 1 || vendor > MAX_VENDOR_ID) throw new UserError(`${where}: ${GENERIC_VSA}: the Vendor-Id ${m[1]} is not 1 to ${MAX_VENDOR_ID} (an IANA Private Enterprise Number)`);
    if (type < 1 || type > 255) throw new UserError(`${where}: ${GENERIC_VSA}: the vendor's attribute number ${m[2]} is not 1 to 255`);
    // Given by number, a well-known attribute is still that attribute (given twice, or once-only).
    const known = VENDOR_NAMES.get(`${vendor}:${type}`);
    return vendorText(known ?? `${GENERIC_VSA} ${vendor}:${type}`, vendor, type, m[3]!, where, known !== undefined && VENDOR_ATTRIBUTES[known]!.once === true);
  }
  const vendor = VENDOR_ATTRIBUTES[name];
  if (vendor) return vendorText(name, vendor.vendor, vendor.type, value, where, vendor.once === true);
  const entry = DICTIONARY[name]!;
  const standard = (buf: Buffer): Encoded => ({ attribute: { type: entry.type, value: buf }, name, identity: String(entry.type), ...(entry.once ? { once: entry.type === 88 ? 'RFC 2869 5.19' : 'RFC 2865 5.44' } : {}) });
  if (entry.kind === 'integer') {
    if (!/^\d+$/.test(value) || Number(value) > 0xffff_ffff) throw new UserError(`${where}: ${name} takes a whole number from 0 to 4294967295 (RADIUS integers are 32 bits)`);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(Number(value));
    return standard(buf);
  }
  if (entry.kind === 'ipv4') {
    if (isIP(value) !== 4) throw new UserError(`${where}: ${name} takes an IPv4 address`);
    // A netmask is ones then zeros (255.255.255.0): another is a typo the VPN would reject or misread.
    if (name === 'Framed-IP-Netmask' && !/^1*0*$/.test(value.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join(''))) {
      throw new UserError(`${where}: Framed-IP-Netmask ${value} is no netmask (its bits must be ones, then zeros, as 255.255.255.0)`);
    }
    return standard(Buffer.from(value.split('.').map(Number)));
  }
  const buf = Buffer.from(value, 'utf8');
  if (buf.length === 0 || buf.length > 253) throw new UserError(`${where}: ${name} takes 1 to 253 bytes of text`);
  return standard(buf);
}

/** A vendor attribute of text (RFC 2865 5.26): at most 253 bytes whole, so 247 of text. */
function vendorText(name: string, vendor: number, type: number, value: string, where: string, once: boolean): Encoded {
  const buf = Buffer.from(value, 'utf8');
  if (buf.length === 0 || buf.length > MAX_VENDOR_VALUE_BYTES) {
    throw new UserError(`${where}: ${name} takes 1 to ${MAX_VENDOR_VALUE_BYTES} bytes of text (a Vendor-Specific attribute holds 253 bytes, 6 of them the vendor's headers)`);
  }
  return { attribute: vendorSpecific(vendor, type, buf), name, identity: `${ATTR.vendorSpecific}:${vendor}:${type}`, ...(once ? { once: 'the device applies one' } : {}) };
}
