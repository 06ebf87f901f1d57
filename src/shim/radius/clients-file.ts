import { BlockList, isIP } from 'node:net';
import { UserError } from '../../model/user-error.js';
import { readSecretFile } from '../../io/secret-file.js';

/** One RADIUS client (a VPN concentrator, a NAS): where it sends from, its shared secret, its budgets. */
export interface RadiusClient {
  name: string;
  /** As written: `ADDRESS[/PREFIX]`. */
  network: string;
  prefix: number;
  secret: Buffer;
  /** Per-client budgets (clients file options), else the serve flags. */
  rateLimit?: number;
  rateBurst?: number;
  sourceMaxFails?: number;
  match: BlockList;
}

const OPTIONS: Record<string, keyof Pick<RadiusClient, 'rateLimit' | 'rateBurst' | 'sourceMaxFails'>> = {
  'rate-limit': 'rateLimit',
  'rate-burst': 'rateBurst',
  'source-max-fails': 'sourceMaxFails',
};

/** RFC 2865 3: the shared secret SHOULD be at least 16 octets (and BlastRADIUS made weak ones dangerous). */
export const MIN_SECRET_BYTES = 16;

/**
 * The clients file: one client per line, whitespace-separated `ADDRESS[/PREFIX] SECRET [NAME]
 * [option=value ...]` (options: rate-limit, rate-burst, source-max-fails), `#` starts a comment
 * (so a secret cannot hold `#`). It holds secrets: it must be 0600 (refused outright when group or
 * others can access it, issue 17 item 17).
 */
export function readClientsFile(path: string): RadiusClient[] {
  const text = readSecretFile(path, 'RADIUS clients file', { alwaysStrict: true }).toString('utf8');
  return parseClients(text, path);
}

export function parseClients(text: string, path: string): RadiusClient[] {
  const clients: RadiusClient[] = [];
  const seen = new Map<string, number>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const where = `${path}: line ${i + 1}`;
    const fields = raw.replace(/#.*$/, '').trim().split(/\s+/).filter(Boolean);
    if (fields.length === 0) continue;
    const [network, secret, ...rest] = fields as [string, string | undefined, ...string[]];
    if (secret === undefined) throw new UserError(`${where}: expected ADDRESS[/PREFIX] SECRET [NAME]`);
    const [address, prefixText] = network.split('/') as [string, string | undefined];
    const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
    const family = isIP(plain);
    if (family === 0) throw new UserError(`${where}: ${network} is not an IP address or network`);
    const bits = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? bits : Number(prefixText);
    if (!/^\d+$/.test(prefixText ?? '0') || !Number.isInteger(prefix) || prefix < 0 || prefix > bits) throw new UserError(`${where}: prefix /${prefixText} must be 0 to ${bits}`);
    if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) throw new UserError(`${where}: the shared secret is shorter than ${MIN_SECRET_BYTES} characters (RFC 2865 3); use a long random one`);
    const match = new BlockList();
    match.addSubnet(plain, prefix, family === 4 ? 'ipv4' : 'ipv6');
    const name = rest[0] !== undefined && !rest[0].includes('=') ? rest.shift()! : network;
    const client: RadiusClient = { name, network, prefix, secret: Buffer.from(secret, 'utf8'), match };
    for (const option of rest) {
      const [key, value] = option.split('=') as [string, string | undefined];
      const field = OPTIONS[key];
      if (!field || value === undefined || !/^\d+$/.test(value)) {
        throw new UserError(`${where}: ${option} is not an option (rate-limit=N, rate-burst=N, source-max-fails=N)`);
      }
      client[field] = Number(value);
    }
    const key = `${plain}/${prefix}`;
    if (seen.has(key)) throw new UserError(`${where}: ${network} is already the client of line ${seen.get(key)}`);
    seen.set(key, i + 1);
    clients.push(client);
  }
  if (clients.length === 0) throw new UserError(`${path}: no RADIUS client (expected lines of ADDRESS[/PREFIX] SECRET [NAME])`);
  // Most specific network first.
  return clients.sort((a, b) => b.prefix - a.prefix);
}

/** The client a datagram from `address` belongs to (the most specific network), or undefined. */
export function clientFor(clients: readonly RadiusClient[], address: string): RadiusClient | undefined {
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const family = isIP(plain) === 6 ? 'ipv6' : 'ipv4';
  return clients.find((c) => c.match.check(plain, family));
}
