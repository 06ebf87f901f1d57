/**
 * What to do with a PSKC key past its ExpiryDate (Policy, or the drafts' on the Key). 'leave'
 * (default): left out, as RFC 6030 section 5 asks. 'take': read, with a warning per key, because
 * vendors (Feitian and others) write a shipment's warranty or battery estimate there while the
 * tokens go on producing good codes; the admin says so on purpose, and the plan records it. Every
 * other Policy rule (a StartDate still to come among them) is enforced either way.
 */
export type PskcExpiredMode = 'leave' | 'take';

export const PSKC_EXPIRED_MODES: readonly PskcExpiredMode[] = ['leave', 'take'];
