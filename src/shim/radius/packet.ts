import { hash, timingSafeEqual } from 'node:crypto';
import { HmacKey } from '../../model/hmac-key.js';

/**
 * RADIUS packets (RFC 2865), the User-Password hiding of PAP (RFC 2865 5.2), the Response
 * Authenticator (RFC 2865 3) and the Message-Authenticator (RFC 3579 3.2, HMAC-MD5). MD5 is what the
 * protocol prescribes; the shared secret is the key.
 */

export const CODE = {
  accessRequest: 1,
  accessAccept: 2,
  accessReject: 3,
  accountingRequest: 4,
  accessChallenge: 11,
  statusServer: 12,
} as const;

export const ATTR = {
  userName: 1,
  userPassword: 2,
  chapPassword: 3,
  nasIpAddress: 4,
  replyMessage: 18,
  /** RFC 2865 5.26 (vendor-attributes.ts). */
  vendorSpecific: 26,
  callingStationId: 31,
  proxyState: 33,
  nasIdentifier: 32,
  eapMessage: 79,
  messageAuthenticator: 80,
} as const;

const HEADER = 20;
export const MAX_PACKET = 4096;

export interface Attribute {
  type: number;
  value: Buffer;
}

export interface Packet {
  code: number;
  identifier: number;
  /** The 16-byte Request (or Response) Authenticator. */
  authenticator: Buffer;
  attributes: Attribute[];
}

/** Why a datagram is not a RADIUS packet (it is then dropped). */
export class MalformedPacketError extends Error {}

/** Parses a datagram (RFC 2865 3: octets past Length are padding and ignored; fewer are malformed). */
export function decodePacket(buf: Buffer): Packet {
  if (buf.length < HEADER) throw new MalformedPacketError(`${buf.length} bytes: shorter than a RADIUS header`);
  const length = buf.readUInt16BE(2);
  if (length < HEADER || length > MAX_PACKET || length > buf.length) throw new MalformedPacketError(`length field ${length} does not fit the ${buf.length}-byte datagram`);
  const attributes: Attribute[] = [];
  let at = HEADER;
  while (at < length) {
    if (at + 2 > length) throw new MalformedPacketError('an attribute header runs past the packet');
    const type = buf[at]!;
    const len = buf[at + 1]!;
    if (len < 2 || at + len > length) throw new MalformedPacketError(`attribute ${type} has length ${len}, which does not fit`);
    attributes.push({ type, value: buf.subarray(at + 2, at + len) });
    at += len;
  }
  return { code: buf[0]!, identifier: buf[1]!, authenticator: buf.subarray(4, 20), attributes };
}

/** The packet's bytes; `authenticator` as given (callers fill in the Response Authenticator afterwards). */
export function encodePacket(p: Packet): Buffer {
  const length = HEADER + p.attributes.reduce((n, a) => n + 2 + a.value.length, 0);
  if (length > MAX_PACKET) throw new RangeError(`a RADIUS packet of ${length} bytes is longer than ${MAX_PACKET}`);
  const buf = Buffer.alloc(length);
  buf[0] = p.code;
  buf[1] = p.identifier;
  buf.writeUInt16BE(length, 2);
  p.authenticator.copy(buf, 4);
  let at = HEADER;
  for (const a of p.attributes) {
    if (a.value.length > 253) throw new RangeError(`attribute ${a.type} is longer than 253 bytes`);
    buf[at] = a.type;
    buf[at + 1] = a.value.length + 2;
    a.value.copy(buf, at + 2);
    at += a.value.length + 2;
  }
  return buf;
}

/** Writes `a` at `at`; returns where the next attribute goes. */
function putAttribute(buf: Buffer, at: number, a: Attribute): number {
  if (a.value.length > 253) throw new RangeError(`attribute ${a.type} is longer than 253 bytes`);
  buf[at] = a.type;
  buf[at + 1] = a.value.length + 2;
  a.value.copy(buf, at + 2);
  return at + a.value.length + 2;
}

export function attribute(p: Packet, type: number): Buffer | undefined {
  for (const a of p.attributes) if (a.type === type) return a.value;
  return undefined;
}

/** How many attributes of `type` the packet carries (RFC 2865 5.44 allows some at most once). */
export function attributeCount(p: Packet, type: number): number {
  let n = 0;
  for (const a of p.attributes) if (a.type === type) n++;
  return n;
}

/** Scratch for md5(a, b): one thread, used synchronously (grown if ever too small). */
let md5Scratch = Buffer.alloc(MAX_PACKET + 256);

/**
 * MD5 of a then b, as a latin1 string (one char a byte): one `crypto.hash` call on a reused buffer.
 * A digest returned as a Buffer, or a Buffer.concat, costs more than the hash itself (a native
 * allocation each).
 */
function md5(a: Uint8Array, b: Uint8Array): string {
  const n = a.length + b.length;
  if (n > md5Scratch.length) md5Scratch = Buffer.alloc(n);
  md5Scratch.set(a, 0);
  md5Scratch.set(b, a.length);
  return hash('md5', md5Scratch.subarray(0, n), 'binary');
}

/**
 * The HMAC-MD5 key of each shared secret, its padded blocks computed once (model/hmac-key.ts),
 * looked up by the secret's Buffer (a client's, for as long as it is configured).
 */
const hmacKeys = new WeakMap<Buffer, HmacKey>();

function hmacKeyOf(secret: Buffer): HmacKey {
  let key = hmacKeys.get(secret);
  if (key === undefined) {
    key = new HmacKey('md5', secret, MAX_PACKET);
    hmacKeys.set(secret, key);
  }
  return key;
}

/** A 16-byte digest compared in constant time with `bytes[at, at + 16)`. */
const compared = Buffer.alloc(16);
function equals16(digest: string, bytes: Buffer, at: number): boolean {
  if (at + 16 > bytes.length) return false;
  compared.write(digest, 0, 'latin1');
  return timingSafeEqual(compared, bytes.subarray(at, at + 16));
}

/** Where the Message-Authenticator's value sits in the packet's bytes, or -1. */
function messageAuthenticatorOffset(buf: Buffer): number {
  const length = buf.readUInt16BE(2);
  for (let at = HEADER; at + 2 <= length; at += buf[at + 1]!) {
    if (buf[at + 1]! < 2) return -1;
    if (buf[at] === ATTR.messageAuthenticator) return buf[at + 1] === 18 ? at + 2 : -1;
  }
  return -1;
}

/**
 * HMAC-MD5 over the packet (up to its Length) with the Message-Authenticator's value zeroed and
 * `authenticator` in the header, as a latin1 string. The packet is copied into the key's scratch
 * space and changed there, never in place.
 */
function messageAuthenticatorOf(buf: Buffer, valueAt: number, secret: Buffer, authenticator: Buffer): string {
  const key = hmacKeyOf(secret);
  const length = Math.min(buf.readUInt16BE(2), buf.length, MAX_PACKET);
  const m = key.message;
  buf.copy(m, 0, 0, length);
  authenticator.copy(m, 4);
  m.fill(0, valueAt, valueAt + 16);
  return key.digest(length);
}

/**
 * True when the Access-Request (or Status-Server) carries exactly one Message-Authenticator and it
 * verifies with the client's secret (RFC 3579 3.2; required on every request since BlastRADIUS).
 */
export function verifyRequestMessageAuthenticator(buf: Buffer, p: Packet, secret: Buffer): boolean {
  if (attributeCount(p, ATTR.messageAuthenticator) !== 1) return false;
  const at = messageAuthenticatorOffset(buf);
  if (at < 0) return false;
  return equals16(messageAuthenticatorOf(buf, at, secret, p.authenticator), buf, at);
}

/**
 * An answer to `request`: the Message-Authenticator first (RFC 3579, and the BlastRADIUS advice to
 * put it first), computed with the Request Authenticator in the header, then `attributes`, then the
 * request's Proxy-State attributes, unmodified and in order (RFC 2865 5.33: proxies route answers
 * by them), then the Response Authenticator MD5(Code | Identifier | Length | Request Authenticator |
 * Attributes | Secret).
 */
export function encodeResponse(code: number, request: Packet, attributes: Attribute[], secret: Buffer): Buffer {
  // Written straight into the answer's bytes (no list of attributes put together first): every byte
  // is written, so the buffer need not start zeroed.
  let length = HEADER + 18;
  for (const a of attributes) length += 2 + a.value.length;
  for (const a of request.attributes) if (a.type === ATTR.proxyState) length += 2 + a.value.length;
  if (length > MAX_PACKET) throw new RangeError(`a RADIUS packet of ${length} bytes is longer than ${MAX_PACKET}`);
  const buf = Buffer.allocUnsafe(length);
  buf[0] = code;
  buf[1] = request.identifier;
  buf.writeUInt16BE(length, 2);
  request.authenticator.copy(buf, 4);
  buf[HEADER] = ATTR.messageAuthenticator;
  buf[HEADER + 1] = 18;
  buf.fill(0, HEADER + 2, HEADER + 18);
  let at = HEADER + 18;
  for (const a of attributes) at = putAttribute(buf, at, a);
  for (const a of request.attributes) if (a.type === ATTR.proxyState) at = putAttribute(buf, at, a);
  buf.write(messageAuthenticatorOf(buf, HEADER + 2, secret, request.authenticator), HEADER + 2, 'latin1');
  buf.write(md5(buf, secret), 4, 'latin1');
  return buf;
}

/**
 * RFC 2865 5.2: c(i) = p(i) XOR MD5(S + c(i-1)), c(0) = the Request Authenticator. Each block's key
 * chains on the previous *hidden* block: the output when hiding, the input when revealing.
 */
function papXor(input: Buffer, secret: Buffer, requestAuthenticator: Buffer, hiding: boolean): Buffer {
  const out = Buffer.alloc(input.length);
  let previous = requestAuthenticator;
  for (let i = 0; i < input.length; i += 16) {
    const b = md5(secret, previous);
    for (let j = 0; j < 16; j++) out[i + j] = input[i + j]! ^ b.charCodeAt(j);
    previous = (hiding ? out : input).subarray(i, i + 16);
  }
  return out;
}

/** RFC 2865 5.2: the password hidden with the secret and the Request Authenticator, back in clear (trailing NULs cut). */
export function decodeUserPassword(hidden: Buffer, secret: Buffer, requestAuthenticator: Buffer): Buffer | undefined {
  if (hidden.length === 0 || hidden.length % 16 !== 0 || hidden.length > 128) return undefined;
  const out = papXor(hidden, secret, requestAuthenticator, false);
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

/** Where decodeUserPasswordText reveals a password (wiped after each use). */
const revealed = Buffer.alloc(128);

/**
 * decodeUserPassword as UTF-8 text (what the shim verifies), with no Buffer made: the password is
 * revealed into a scratch buffer that is zeroed again before returning.
 */
export function decodeUserPasswordText(hidden: Buffer, secret: Buffer, requestAuthenticator: Buffer): string | undefined {
  if (hidden.length === 0 || hidden.length % 16 !== 0 || hidden.length > 128) return undefined;
  let previous: Buffer = requestAuthenticator;
  for (let i = 0; i < hidden.length; i += 16) {
    const b = md5(secret, previous);
    for (let j = 0; j < 16; j++) revealed[i + j] = hidden[i + j]! ^ b.charCodeAt(j);
    previous = hidden.subarray(i, i + 16);
  }
  let end = hidden.length;
  while (end > 0 && revealed[end - 1] === 0) end--;
  const text = revealed.toString('utf8', 0, end);
  revealed.fill(0, 0, hidden.length);
  return text;
}

/** RFC 2865 5.2 the other way (for tests and the benchmark's client). */
export function hideUserPassword(password: Buffer, secret: Buffer, requestAuthenticator: Buffer): Buffer {
  const padded = Buffer.alloc(Math.max(16, Math.ceil(password.length / 16) * 16));
  password.copy(padded);
  return papXor(padded, secret, requestAuthenticator, true);
}

/** An Access-Request as a client builds it, with a Message-Authenticator (tests and the benchmark). */
export function encodeAccessRequest(identifier: number, authenticator: Buffer, attributes: Attribute[], secret: Buffer, options: { messageAuthenticator?: boolean; code?: number } = {}): Buffer {
  const withMa = options.messageAuthenticator !== false;
  const buf = encodePacket({
    code: options.code ?? CODE.accessRequest,
    identifier,
    authenticator,
    attributes: withMa ? [...attributes, { type: ATTR.messageAuthenticator, value: Buffer.alloc(16) }] : attributes,
  });
  if (withMa) {
    const at = messageAuthenticatorOffset(buf);
    buf.write(messageAuthenticatorOf(buf, at, secret, authenticator), at, 'latin1');
  }
  return buf;
}

/** True when `response` answers `requestAuthenticator` under `secret` (its Response Authenticator checks). */
export function verifyResponseAuthenticator(response: Buffer, requestAuthenticator: Buffer, secret: Buffer): boolean {
  const copy = Buffer.from(response.subarray(0, response.readUInt16BE(2)));
  const given = Buffer.from(copy.subarray(4, 20));
  requestAuthenticator.copy(copy, 4);
  return timingSafeEqual(Buffer.from(md5(copy, secret), 'latin1'), given);
}

/** True when the response's Message-Authenticator verifies (computed with the Request Authenticator). */
export function verifyResponseMessageAuthenticator(response: Buffer, requestAuthenticator: Buffer, secret: Buffer): boolean {
  const at = messageAuthenticatorOffset(response);
  if (at < 0) return false;
  return equals16(messageAuthenticatorOf(response, at, secret, requestAuthenticator), response, at);
}
