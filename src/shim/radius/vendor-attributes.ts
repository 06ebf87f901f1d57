import { ATTR, type Attribute } from './packet.js';

/**
 * Bytes a vendor's value may take: an attribute holds 253 bytes of value, of which the Vendor-Id
 * takes 4 and the sub-attribute's type and length 2.
 */
export const MAX_VENDOR_VALUE_BYTES = 253 - 4 - 2;

/** A vendor attribute known by name (FreeRADIUS's dictionary names, so a FreeRADIUS admin recognises them). */
export interface VendorAttribute {
  vendor: number;
  type: number;
  /** At most one in an answer: the device applies one (a second would leave it to pick). */
  once?: true;
}

/**
 * Well-known vendor attributes VPN policies key on, all text. Others are given by number:
 * `Vendor-Specific=VENDOR:TYPE:TEXT`.
 */
export const VENDOR_ATTRIBUTES: Record<string, VendorAttribute> = {
  // Cisco IOS and ASA: `shell:priv-lvl=15`, `ip:inacl#1=...`; as many as the policy needs.
  'Cisco-AVPair': { vendor: 9, type: 1 },
  // Cisco ASA (vendor 3076, once Altiga's): the group policy applied to the session; one only.
  'ASA-Group-Policy': { vendor: 3076, type: 25, once: true },
  // Palo Alto GlobalProtect: the user's group for policy rules.
  'PaloAlto-User-Group': { vendor: 25461, type: 5 },
  // Palo Alto admin role (the firewall's own sign-in): one role.
  'PaloAlto-Admin-Role': { vendor: 25461, type: 1, once: true },
  // FortiGate: the user group the firewall policy names (FortiOS matches any of several).
  'Fortinet-Group-Name': { vendor: 12356, type: 1 },
  // Juniper Junos: the local template user the session runs as; one.
  'Juniper-Local-User-Name': { vendor: 2636, type: 1, once: true },
};

/** Vendor-Ids are SMI Private Enterprise Codes: the Vendor-Id's high-order octet is 0 (RFC 2865 5.26). */
export const MAX_VENDOR_ID = 0xff_ffff;

/**
 * A Vendor-Specific attribute holding one sub-attribute in RFC 2865 5.26's recommended format:
 * Vendor-Id (4 bytes), vendor type (1), vendor length (1: the sub-attribute's whole length), value.
 */
export function vendorSpecific(vendor: number, type: number, value: Buffer): Attribute {
  if (!Number.isInteger(vendor) || vendor < 1 || vendor > MAX_VENDOR_ID) throw new RangeError(`Vendor-Id ${vendor} is not 1 to ${MAX_VENDOR_ID}`);
  if (!Number.isInteger(type) || type < 1 || type > 255) throw new RangeError(`vendor type ${type} is not 1 to 255`);
  if (value.length > MAX_VENDOR_VALUE_BYTES) throw new RangeError(`a vendor value of ${value.length} bytes does not fit a Vendor-Specific attribute`);
  const buf = Buffer.alloc(6 + value.length);
  buf.writeUInt32BE(vendor, 0);
  buf[4] = type;
  buf[5] = 2 + value.length;
  value.copy(buf, 6);
  return { type: ATTR.vendorSpecific, value: buf };
}
