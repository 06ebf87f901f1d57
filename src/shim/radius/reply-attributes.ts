import { isIP } from 'node:net';
import { readGuardedConfigText } from '../../io/config-file.js';
import { UserError } from '../../model/user-error.js';
import type { Attribute } from './packet.js';
import { userKey } from '../store-model.js';
import { asField, fieldLines } from './config-fields.js';

/**
 * `--radius-attributes FILE`: attributes returned on Access-Accept per user or per export group
 * (users.csv `user_group`), since VPN policies key on them (Entra's NPS extension drops them when
 * OTP is used). One rule per line: `user:UPN` or `group:NAME`, then `Name=value` pairs; `#` starts a
 * comment. A user's own rule replaces its group's whole (nothing is merged, so a single-valued
 * attribute in both is the user's); group names match whatever their case. Values are text, or
 * whole numbers for the integer attributes, or IPv4 addresses for the address ones. A name or value
 * with spaces is written in double quotes: `group:"VPN Users" Reply-Message="Welcome to the VPN"`.
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

/** Where a quoted part may start besides a field's start: after `user:`, `group:` or `Name=`. */
const QUOTE_AFTER = /^(?:user:|group:|[A-Za-z-]+=)$/;

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
    const attributes = pairs.map((pair) => encodeAttribute(pair, where));
    const selector = `${m[1]}:${asField(m[2]!)}`;
    refuseRepeats(attributes, where);
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

/** A rule gives each single-valued attribute at most once (RFC 2865 5.44). */
function refuseRepeats(attributes: Attribute[], where: string): void {
  const seen = new Set<number>();
  for (const a of attributes) {
    const [name, entry] = Object.entries(DICTIONARY).find(([, e]) => e.type === a.type)!;
    if (entry.once && seen.has(a.type)) throw new UserError(`${where}: ${name} is given more than once; an Access-Accept carries it at most once (RFC 2865 5.44)`);
    seen.add(a.type);
  }
}

function encodeAttribute(pair: string, where: string): Attribute {
  const eq = pair.indexOf('=');
  const name = eq > 0 ? pair.slice(0, eq) : pair;
  const value = eq > 0 ? pair.slice(eq + 1) : '';
  // Own keys only: `toString=x` must not find Object.prototype's.
  const entry = Object.hasOwn(DICTIONARY, name) ? DICTIONARY[name] : undefined;
  if (!entry || eq < 0) {
    // A word with no '=' is most often the rest of a value with spaces, or of a group name.
    const hint = eq < 0 ? '; a name or value with spaces goes in double quotes (group:"VPN Users", Reply-Message="Welcome to the VPN")' : '';
    throw new UserError(`${where}: ${asField(pair)}: expected Name=value with Name one of ${Object.keys(DICTIONARY).join(', ')}${hint}`);
  }
  if (entry.kind === 'integer') {
    if (!/^\d+$/.test(value) || Number(value) > 0xffff_ffff) throw new UserError(`${where}: ${name} takes a whole number from 0 to 4294967295 (RADIUS integers are 32 bits)`);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(Number(value));
    return { type: entry.type, value: buf };
  }
  if (entry.kind === 'ipv4') {
    if (isIP(value) !== 4) throw new UserError(`${where}: ${name} takes an IPv4 address`);
    // A netmask is ones then zeros (255.255.255.0): another is a typo the VPN would reject or misread.
    if (name === 'Framed-IP-Netmask' && !/^1*0*$/.test(value.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join(''))) {
      throw new UserError(`${where}: Framed-IP-Netmask ${value} is no netmask (its bits must be ones, then zeros, as 255.255.255.0)`);
    }
    return { type: entry.type, value: Buffer.from(value.split('.').map(Number)) };
  }
  const buf = Buffer.from(value, 'utf8');
  if (buf.length === 0 || buf.length > 253) throw new UserError(`${where}: ${name} takes 1 to 253 bytes of text`);
  return { type: entry.type, value: buf };
}
