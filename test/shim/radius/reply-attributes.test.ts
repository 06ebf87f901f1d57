import { describe, expect, it } from 'vitest';
import { CODE, decodePacket, encodePacket } from '../../../src/shim/radius/packet.js';
import { parseReplyAttributes } from '../../../src/shim/radius/reply-attributes.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** The attributes' bytes as an answer carries them (after the 20-byte header). */
const onTheWire = (attributes: ReturnType<ReturnType<typeof parseReplyAttributes>['forUser']>): Buffer =>
  encodePacket({ code: CODE.accessAccept, identifier: 0, authenticator: Buffer.alloc(16), attributes }).subarray(20);

describe('RADIUS reply attributes: vendor attributes (RFC 2865 5.26) and names in any case', () => {
  it('encodes Vendor-Specific as type 26, length, 4-byte Vendor-Id, vendor type, vendor length, value (bytes computed by hand)', () => {
    const rules = parseReplyAttributes('user:ivan@contoso.com Cisco-AVPair=shell:priv-lvl=15 ASA-Group-Policy=VPN-Admins\n', 'a');
    expect(onTheWire(rules.forUser('ivan@contoso.com', undefined))).toEqual(
      hex(`
        1a 19  00 00 00 09  01 13  73 68 65 6c 6c 3a 70 72 69 76 2d 6c 76 6c 3d 31 35
        1a 12  00 00 0c 04  19 0c  56 50 4e 2d 41 64 6d 69 6e 73
      `),
    );
    // PaloAlto-User-Group 25461/5, Fortinet-Group-Name 12356/1, Juniper-Local-User-Name 2636/1, PaloAlto-Admin-Role 25461/1.
    const more = parseReplyAttributes('group:g PaloAlto-User-Group=gp Fortinet-Group-Name=fg Juniper-Local-User-Name=ju PaloAlto-Admin-Role=ro\n', 'a');
    expect(onTheWire(more.forUser('x', 'g'))).toEqual(
      hex(`
        1a 0a  00 00 63 75  05 04  67 70
        1a 0a  00 00 30 44  01 04  66 67
        1a 0a  00 00 0a 4c  01 04  6a 75
        1a 0a  00 00 63 75  01 04  72 6f
      `),
    );
  });

  it('takes any vendor attribute by number as Vendor-Specific=VENDOR:TYPE:TEXT, the text holding colons and =; the same bytes as the named form', () => {
    const byNumber = parseReplyAttributes('user:x Vendor-Specific=9:1:shell:priv-lvl=15\n', 'a').forUser('x', undefined);
    expect(byNumber).toEqual(parseReplyAttributes('user:x Cisco-AVPair=shell:priv-lvl=15\n', 'a').forUser('x', undefined));
    // A vendor the table does not name (Microsoft 311, MS-RAS-Version 18), and text with spaces in quotes after VENDOR:TYPE:.
    const ms = parseReplyAttributes('user:x Vendor-Specific=311:18:"MSRASV5.20 beta" vendor-specific="3076:25:GP Two"\n', 'a').forUser('x', undefined);
    expect(onTheWire(ms)).toEqual(Buffer.concat([hex('1a 17 00 00 01 37 12 11'), Buffer.from('MSRASV5.20 beta'), hex('1a 0e 00 00 0c 04 19 08'), Buffer.from('GP Two')]));
    // What a parser reads back: one attribute 26 each.
    const parsed = decodePacket(encodePacket({ code: CODE.accessAccept, identifier: 0, authenticator: Buffer.alloc(16), attributes: ms }));
    expect(parsed.attributes.map((a) => [a.type, a.value.readUInt32BE(0), a.value[4], a.value[5], a.value.subarray(6).toString()])).toEqual([
      [26, 311, 18, 17, 'MSRASV5.20 beta'],
      [26, 3076, 25, 8, 'GP Two'],
    ]);
  });

  it('repeats Cisco-AVPair (and Fortinet-Group-Name, PaloAlto-User-Group) in the order written; refuses a once-only one twice, however it is written', () => {
    const rules = parseReplyAttributes('group:g Cisco-AVPair=a Class=c Cisco-AVPair=b Vendor-Specific=9:1:c Fortinet-Group-Name=f1 Fortinet-Group-Name=f2 PaloAlto-User-Group=p1 PaloAlto-User-Group=p2\n', 'a');
    expect(rules.forUser('x', 'g').map((a) => (a.type === 26 ? `${a.value.readUInt32BE(0)}/${a.value[4]}=${a.value.subarray(6).toString()}` : `${a.type}=${a.value.toString()}`))).toEqual([
      '9/1=a',
      '25=c',
      '9/1=b',
      '9/1=c',
      '12356/1=f1',
      '12356/1=f2',
      '25461/5=p1',
      '25461/5=p2',
    ]);
    expect(() => parseReplyAttributes('group:g ASA-Group-Policy=a ASA-Group-Policy=b\n', 'a')).toThrow('a: line 1: ASA-Group-Policy is given more than once; an Access-Accept carries it at most once (the device applies one)');
    expect(() => parseReplyAttributes('group:g ASA-Group-Policy=a Vendor-Specific=3076:25:b\n', 'a')).toThrow('a: line 1: ASA-Group-Policy is given more than once');
    expect(() => parseReplyAttributes('group:g Juniper-Local-User-Name=a juniper-local-user-name=b\n', 'a')).toThrow('Juniper-Local-User-Name is given more than once');
    // Unknown vendor attributes may repeat: the shim cannot know they may not.
    expect(parseReplyAttributes('group:g Vendor-Specific=311:18:a Vendor-Specific=311:18:b\n', 'a').forUser('x', 'g')).toHaveLength(2);
  });

  it('refuses a vendor attribute longer than 253 bytes (247 of text), a Vendor-Id or type out of range, and a malformed generic form', () => {
    const most = 'x'.repeat(247);
    const [fits] = parseReplyAttributes(`user:x Cisco-AVPair=${most}\n`, 'a').forUser('x', undefined);
    expect(fits!.value).toHaveLength(253);
    expect(onTheWire([fits!]).subarray(0, 2)).toEqual(hex('1a ff'));
    expect(() => parseReplyAttributes(`user:x Cisco-AVPair=${most}y\n`, 'a')).toThrow(
      'a: line 1: Cisco-AVPair takes 1 to 247 bytes of text (a Vendor-Specific attribute holds 253 bytes, 6 of them the vendor\'s headers)',
    );
    expect(() => parseReplyAttributes(`user:x Vendor-Specific=9:1:${most}y\n`, 'a')).toThrow('a: line 1: Cisco-AVPair takes 1 to 247 bytes');
    expect(() => parseReplyAttributes(`user:x Vendor-Specific=311:18:${most}y\n`, 'a')).toThrow('a: line 1: Vendor-Specific 311:18 takes 1 to 247 bytes');
    expect(() => parseReplyAttributes('user:x Cisco-AVPair=\n', 'a')).toThrow('Cisco-AVPair takes 1 to 247 bytes');
    expect(() => parseReplyAttributes('user:x Vendor-Specific=9:1:\n', 'a')).toThrow('Cisco-AVPair takes 1 to 247 bytes');
    for (const bad of ['Vendor-Specific=9:shell', 'Vendor-Specific=Cisco:1:x', 'Vendor-Specific=shell:priv-lvl=15', 'Vendor-Specific=-9:1:x']) {
      expect(() => parseReplyAttributes(`user:x ${bad}\n`, 'a')).toThrow('a: line 1: Vendor-Specific takes VENDOR:TYPE:TEXT');
    }
    expect(() => parseReplyAttributes('user:x Vendor-Specific=0:1:x\n', 'a')).toThrow('a: line 1: Vendor-Specific: the Vendor-Id 0 is not 1 to 16777215');
    expect(() => parseReplyAttributes('user:x Vendor-Specific=16777216:1:x\n', 'a')).toThrow('the Vendor-Id 16777216 is not 1 to 16777215');
    expect(() => parseReplyAttributes('user:x Vendor-Specific=9:256:x\n', 'a')).toThrow("the vendor's attribute number 256 is not 1 to 255");
    expect(() => parseReplyAttributes('user:x Vendor-Specific=9:0:x\n', 'a')).toThrow("the vendor's attribute number 0 is not 1 to 255");
    // A number for a name is pointed to the generic form.
    expect(() => parseReplyAttributes('user:x 26=9:1:x\n', 'a')).toThrow(/a: line 1: 26=9:1:x: expected Name=value with Name one of .*Cisco-AVPair.*, or Vendor-Specific=VENDOR:TYPE:TEXT; an attribute is given by name, a vendor's as Vendor-Specific=VENDOR:TYPE:TEXT$/);
    // A rule's vendor attributes count towards its 2,048 bytes.
    const many = Array.from({ length: 9 }, () => `Cisco-AVPair=${'c'.repeat(240)}`).join(' ');
    expect(() => parseReplyAttributes(`group:VPN ${many}\n`, 'a')).toThrow(/group:VPN's attributes take 2232 bytes; at most 2048 fit in an answer/);
  });

  it('matches attribute names whatever their case (class=a was refused); the values keep theirs', () => {
    const rules = parseReplyAttributes('user:x class=a FILTER-ID=B session-timeout=60 framed-ip-address=10.8.0.7 REPLY-MESSAGE=Hi cisco-avpair=Shell:X\n', 'a');
    expect(rules.forUser('x', undefined)).toEqual(
      parseReplyAttributes('user:x Class=a Filter-Id=B Session-Timeout=60 Framed-IP-Address=10.8.0.7 Reply-Message=Hi Cisco-AVPair=Shell:X\n', 'a').forUser('x', undefined),
    );
    // A single-valued one twice is refused whatever the case of each.
    expect(() => parseReplyAttributes('user:x Session-Timeout=5 SESSION-TIMEOUT=6\n', 'a')).toThrow('a: line 1: Session-Timeout is given more than once; an Access-Accept carries it at most once (RFC 2865 5.44)');
    expect(() => parseReplyAttributes('user:x framed-pool=a Framed-Pool=b\n', 'a')).toThrow('Framed-Pool is given more than once; an Access-Accept carries it at most once (RFC 2869 5.19)');
    // Messages name the attribute as documented.
    expect(() => parseReplyAttributes('user:x session-timeout=soon\n', 'a')).toThrow('a: line 1: Session-Timeout takes a whole number');
  });
});
