import { isIP, SocketAddress } from 'node:net';

/**
 * One text per IP address, for the sources failures are counted under (client_ip, Calling-Station-Id,
 * the TCP peer): `2001:DB8::1`, `2001:0db8::1`, `2001:db8:0:0:0:0:0:1` and `2001:db8::1%eth0` are
 * one end user, so they must be one source for the per-source budgets and the two-sources rule.
 *
 * Node writes the address back (inet_ntop through net.SocketAddress): lower case, no leading zeros,
 * the longest run of zero groups as `::`. An IPv4-mapped IPv6 address (`::ffff:203.0.113.9`, also as
 * `::ffff:cb00:7109`) is the IPv4 address. A zone id (`%eth0`, IPv6 only) is dropped: it names the
 * interface of the caller's host the address was seen on, not another end user (and Node's own
 * `socket.remoteAddress` carries one for link-local peers, which a caller may pass on as it is).
 *
 * Returns undefined for text that is not an IPv4 or IPv6 address (Node's `isIP`; an empty zone id
 * or a zone on an IPv4 address is not one).
 */
export function canonicalIp(text: string): string | undefined {
  const family = isIP(text);
  if (family === 0) return undefined;
  if (family === 4) return text; // isIP takes dotted quads only (no leading zeros, no short forms): already canonical
  const zone = text.indexOf('%');
  const address = new SocketAddress({ address: zone >= 0 ? text.slice(0, zone) : text, family: 'ipv6' }).address;
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The source an end user's address counts as, for the failure budgets, the rate limits and the
 * two-sources rule: an IPv4 address as it is; an IPv6 address by its /64 (`2001:db8:0:1::/64`, written as Node writes addresses), the
 * network one home or phone is given, inside which it picks new addresses at will (privacy
 * extensions): counted by the whole address, one end user would have a fresh budget per address.
 * Undefined for text that is not an IP address.
 */
export function endUserSource(text: string): string | undefined {
  const ip = canonicalIp(text);
  if (ip === undefined || !ip.includes(':')) return ip;
  const [head = '', tail] = ip.split('::');
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? front : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  const network = new SocketAddress({ address: [...groups.slice(0, 4), '0', '0', '0', '0'].join(':'), family: 'ipv6' }).address;
  return `${network}/64`;
}
