import { isIP } from 'node:net';

/**
 * MFA Server's trusted IPs against what Entra takes: public ranges only (MFA trusted IPs and named
 * locations), at most 50 MFA trusted IPs.
 */

/** Entra's MFA trusted IPs take at most 50 ranges (MFA service settings). */
export const MAX_TRUSTED_IPS = 50;

/** Address blocks that are not public (RFC 6890's special-purpose registries, the ones a trusted IP cannot be). */
const NOT_PUBLIC: readonly string[] = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24',
  '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/3',
  '::/8', '64:ff9b:1::/48', '100::/64', '2001::/23', '2001:db8::/32', '2002::/16', '3fff::/20', 'fc00::/7', 'fe80::/10', 'ff00::/8',
];

/** A range as its first and last address, in one number space per family. */
function addressRange(cidr: string): { family: 4 | 6; first: bigint; last: bigint } | undefined {
  const [ip = '', prefixText] = cidr.trim().split('/');
  const family = isIP(ip);
  if (family === 0) return undefined;
  const bits = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  const value = family === 4 ? ip.split('.').reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n) : ipv6Value(ip);
  const host = (1n << BigInt(bits - prefix)) - 1n;
  return { family: family === 4 ? 4 : 6, first: value & ~host, last: (value & ~host) | host };
}

function ipv6Value(ip: string): bigint {
  // An embedded IPv4 tail (::ffff:10.0.0.1) as two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  const text = v4 ? ip.replace(v4[1]!, ((n) => `${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`)(v4[1]!.split('.').reduce((a, o) => a * 256 + Number(o), 0))) : ip;
  const [head = '', tail] = text.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)];
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const NOT_PUBLIC_RANGES = NOT_PUBLIC.map((b) => addressRange(b)!);

/** Whether a trusted IP range is public through and through: it overlaps no special-purpose block. */
export function isPublicRange(cidr: string): boolean {
  const r = addressRange(cidr);
  if (!r) return false;
  return !NOT_PUBLIC_RANGES.some((b) => b.family === r.family && r.first <= b.last && b.first <= r.last);
}
