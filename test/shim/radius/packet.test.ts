import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ATTR,
  CODE,
  attribute,
  decodePacket,
  decodeUserPassword,
  decodeUserPasswordText,
  encodePacket,
  encodeAccessRequest,
  encodeResponse,
  hideUserPassword,
  MalformedPacketError,
  verifyRequestMessageAuthenticator,
  verifyResponseAuthenticator,
  verifyResponseMessageAuthenticator,
} from '../../../src/shim/radius/packet.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** RFC 2865 section 7.1: the Access-Request of user nemo, password arctangent, secret xyzzy5461, and its Access-Accept. */
const RFC2865_REQUEST = hex(`01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb 98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce
  31 96 e4 3f 78 2a 0a ee 04 06 c0 a8 01 10 05 06 00 00 00 03`);
const RFC2865_ACCEPT = hex(`02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf 9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03`);
const SECRET = Buffer.from('xyzzy5461');

describe('RADIUS packets (RFC 2865, RFC 3579)', () => {
  it('decodes the RFC 2865 7.1 Access-Request and reveals its PAP password', () => {
    const p = decodePacket(RFC2865_REQUEST);
    expect(p).toMatchObject({ code: CODE.accessRequest, identifier: 0 });
    expect(attribute(p, ATTR.userName)!.toString()).toBe('nemo');
    expect(decodeUserPassword(attribute(p, ATTR.userPassword)!, SECRET, p.authenticator)!.toString()).toBe('arctangent');
    // Hiding it again gives the RFC's bytes.
    expect(hideUserPassword(Buffer.from('arctangent'), SECRET, p.authenticator)).toEqual(attribute(p, ATTR.userPassword));
  });

  it('checks the RFC 2865 7.1 Response Authenticator, and computes the same one', () => {
    const request = decodePacket(RFC2865_REQUEST);
    expect(verifyResponseAuthenticator(RFC2865_ACCEPT, request.authenticator, SECRET)).toBe(true);
    expect(verifyResponseAuthenticator(RFC2865_ACCEPT, request.authenticator, Buffer.from('wrong'))).toBe(false);
    // MD5(Code+ID+Length+RequestAuth+Attributes+Secret), written out.
    const copy = Buffer.from(RFC2865_ACCEPT);
    request.authenticator.copy(copy, 4);
    expect(createHash('md5').update(copy).update(SECRET).digest()).toEqual(RFC2865_ACCEPT.subarray(4, 20));
  });

  it('hides and reveals passwords of any length up to 128 bytes (several 16-byte blocks, chained)', () => {
    const ra = Buffer.alloc(16, 0x5a);
    for (const length of [1, 6, 15, 16, 17, 31, 32, 33, 64, 127, 128]) {
      const password = Buffer.from(Array.from({ length }, (_, i) => 0x30 + (i % 10)));
      const hidden = hideUserPassword(password, SECRET, ra);
      expect(hidden.length % 16, `length ${length}`).toBe(0);
      expect(decodeUserPassword(hidden, SECRET, ra), `length ${length}`).toEqual(password);
    }
    expect(decodeUserPassword(Buffer.alloc(15), SECRET, ra)).toBeUndefined();
    expect(decodeUserPassword(Buffer.alloc(144), SECRET, ra)).toBeUndefined();
  });

  it('computes the Message-Authenticator as RFC 3579 3.2 defines it and refuses a request whose packet was changed', () => {
    const ra = Buffer.alloc(16, 7);
    const secret = Buffer.from('0123456789abcdef0123');
    const buf = encodeAccessRequest(42, ra, [{ type: ATTR.userName, value: Buffer.from('ivan@contoso.com') }, { type: ATTR.userPassword, value: hideUserPassword(Buffer.from('123456'), secret, ra) }], secret);
    const p = decodePacket(buf);
    // HMAC-MD5 over the packet with the attribute's value as 16 zero octets.
    const at = buf.length - 16;
    expect(buf[at - 2]).toBe(ATTR.messageAuthenticator);
    const zeroed = Buffer.from(buf);
    zeroed.fill(0, at);
    expect(createHmac('md5', secret).update(zeroed).digest()).toEqual(buf.subarray(at));
    expect(verifyRequestMessageAuthenticator(buf, p, secret)).toBe(true);
    expect(verifyRequestMessageAuthenticator(buf, p, Buffer.from('another secret 0123'))).toBe(false);
    const tampered = Buffer.from(buf);
    tampered[22]! ^= 1; // a byte of User-Name
    expect(verifyRequestMessageAuthenticator(tampered, decodePacket(tampered), secret)).toBe(false);
    const none = encodeAccessRequest(42, ra, [{ type: ATTR.userName, value: Buffer.from('x') }], secret, { messageAuthenticator: false });
    expect(verifyRequestMessageAuthenticator(none, decodePacket(none), secret)).toBe(false);
  });

  it('answers with the Message-Authenticator first and a valid Response Authenticator', () => {
    const ra = Buffer.alloc(16, 9);
    const secret = Buffer.from('0123456789abcdef0123');
    const request = decodePacket(encodeAccessRequest(7, ra, [{ type: ATTR.userName, value: Buffer.from('u') }], secret));
    const response = encodeResponse(CODE.accessAccept, request, [{ type: ATTR.replyMessage, value: Buffer.from('Accepted') }], secret);
    const r = decodePacket(response);
    expect(r.code).toBe(CODE.accessAccept);
    expect(r.identifier).toBe(7);
    expect(r.attributes[0]!.type).toBe(ATTR.messageAuthenticator);
    expect(verifyResponseMessageAuthenticator(response, ra, secret)).toBe(true);
    expect(verifyResponseAuthenticator(response, ra, secret)).toBe(true);
    expect(verifyResponseAuthenticator(response, Buffer.alloc(16), secret)).toBe(false);
  });

  it('copies the request\'s Proxy-State attributes into the answer, unmodified and in order (RFC 2865 5.33)', () => {
    const ra = Buffer.alloc(16, 3);
    const secret = Buffer.from('0123456789abcdef0123');
    const states = [Buffer.from('proxy-one'), Buffer.from([0, 1, 2, 255])];
    const request = decodePacket(encodeAccessRequest(9, ra, [{ type: ATTR.proxyState, value: states[0]! }, { type: ATTR.userName, value: Buffer.from('u') }, { type: ATTR.proxyState, value: states[1]! }], secret));
    const response = encodeResponse(CODE.accessReject, request, [{ type: ATTR.replyMessage, value: Buffer.from('Wrong code') }], secret);
    const r = decodePacket(response);
    expect(r.attributes.map((a) => a.type)).toEqual([ATTR.messageAuthenticator, ATTR.replyMessage, ATTR.proxyState, ATTR.proxyState]);
    expect(r.attributes.filter((a) => a.type === ATTR.proxyState).map((a) => a.value)).toEqual(states);
    expect(verifyResponseMessageAuthenticator(response, ra, secret)).toBe(true);
    expect(verifyResponseAuthenticator(response, ra, secret)).toBe(true);
  });

  it('computes both authenticators as createHmac and createHash do, whatever the secret\'s length and with several secrets in turn', () => {
    const ra = Buffer.alloc(16, 0x42);
    // Secrets shorter than, as long as and longer than HMAC-MD5's 64-byte block (RFC 2104 hashes a longer key first).
    const secrets = [Buffer.from('0123456789abcdef'), Buffer.alloc(64, 'k'), Buffer.from('s'.repeat(65)), Buffer.from('x'.repeat(200))];
    for (let round = 0; round < 2; round++) {
      for (const secret of secrets) {
        const buf = encodeAccessRequest(3, ra, [{ type: ATTR.userName, value: Buffer.from(`user-${secret.length}`) }], secret);
        const at = buf.length - 16;
        const zeroed = Buffer.from(buf);
        zeroed.fill(0, at);
        expect(buf.subarray(at), `request, secret of ${secret.length}`).toEqual(createHmac('md5', secret).update(zeroed).digest());
        // Octets past Length are padding: not in the HMAC (RFC 2865 3), and the datagram itself is not changed.
        const padded = Buffer.concat([buf, Buffer.alloc(7, 0xee)]);
        const before = Buffer.from(padded);
        expect(verifyRequestMessageAuthenticator(padded, decodePacket(padded), secret)).toBe(true);
        expect(padded).toEqual(before);
        const request = decodePacket(buf);
        const response = encodeResponse(CODE.accessReject, request, [{ type: ATTR.replyMessage, value: Buffer.from('Wrong code') }], secret);
        const withRequestAuth = Buffer.from(response);
        ra.copy(withRequestAuth, 4);
        const maZeroed = Buffer.from(withRequestAuth);
        maZeroed.fill(0, 22, 38);
        expect(response.subarray(22, 38), `response, secret of ${secret.length}`).toEqual(createHmac('md5', secret).update(maZeroed).digest());
        expect(response.subarray(4, 20)).toEqual(createHash('md5').update(withRequestAuth).update(secret).digest());
        for (const other of secrets) if (other !== secret) expect(verifyRequestMessageAuthenticator(buf, request, other)).toBe(false);
      }
    }
  });

  it('reveals PAP passwords as text as decodeUserPassword does, and answers byte for byte as the packet encoder would', () => {
    const ra = Buffer.alloc(16, 0x11);
    const secret = Buffer.from('0123456789abcdef0123');
    for (const password of ['123456', '', '\u00e9t\u00e9 code', 'x'.repeat(16), 'y'.repeat(17), 'z'.repeat(128)]) {
      const hidden = hideUserPassword(Buffer.from(password), secret, ra);
      expect(decodeUserPasswordText(hidden, secret, ra)).toBe(decodeUserPassword(hidden, secret, ra)!.toString('utf8'));
    }
    expect(decodeUserPasswordText(Buffer.alloc(15), secret, ra)).toBeUndefined();
    expect(decodeUserPasswordText(Buffer.alloc(144), secret, ra)).toBeUndefined();
    const request = decodePacket(encodeAccessRequest(5, ra, [{ type: ATTR.proxyState, value: Buffer.from('p1') }, { type: ATTR.userName, value: Buffer.from('u') }], secret));
    const attributes = [{ type: ATTR.replyMessage, value: Buffer.from('Accepted') }, { type: 26, value: Buffer.from([0, 0, 0, 9, 1, 5, 0x61, 0x62, 0x63]) }];
    const response = encodeResponse(CODE.accessAccept, request, attributes, secret);
    // The same packet made the plain way: header, a zeroed Message-Authenticator, the attributes, the Proxy-State.
    const plain = encodePacket({ code: CODE.accessAccept, identifier: 5, authenticator: ra, attributes: [{ type: ATTR.messageAuthenticator, value: Buffer.alloc(16) }, ...attributes, { type: ATTR.proxyState, value: Buffer.from('p1') }] });
    plain.set(createHmac('md5', secret).update(plain).digest(), 22);
    plain.set(createHash('md5').update(plain).update(secret).digest(), 4);
    expect(response).toEqual(plain);
    expect(() => encodeResponse(CODE.accessAccept, request, [{ type: ATTR.replyMessage, value: Buffer.alloc(254) }], secret)).toThrow(RangeError);
  });

  it('refuses malformed datagrams', () => {
    expect(() => decodePacket(Buffer.alloc(19))).toThrow(MalformedPacketError);
    const short = Buffer.from(RFC2865_REQUEST);
    short.writeUInt16BE(200, 2);
    expect(() => decodePacket(short)).toThrow(/length field 200/);
    const badAttr = Buffer.from(RFC2865_REQUEST);
    badAttr[21] = 1; // attribute length below 2
    expect(() => decodePacket(badAttr)).toThrow(/attribute 1 has length 1/);
    // Octets past Length are padding (RFC 2865 3).
    expect(decodePacket(Buffer.concat([RFC2865_REQUEST, Buffer.alloc(5)])).attributes).toHaveLength(4);
  });
});
