import type { OathType } from '../../model/export-data.js';

/**
 * A PSKC key algorithm URI in a seed CSV's algorithm cell: python-pskc's pskc2csv writes the key's
 * `Algorithm` there (`urn:ietf:params:xml:ns:keyprov:pskc:hotp`, the drafts' `…pskc#totp`), which names
 * the token type, not the hash. Null when the cell is not such a URI (then it names the hash);
 * 'other' for the key algorithms that are not HOTP or TOTP (PIN, OCRA, SecurID).
 */
const PSKC_ALGORITHM = /^(?:urn:ietf:params:xml:ns:keyprov:pskc|https?:\/\/www\.ietf\.org\/keyprov\/pskc)[:#]/i;

export function pskcAlgorithmKind(cell: string): OathType | 'other' | null {
  const s = cell.trim();
  if (!PSKC_ALGORITHM.test(s)) return null;
  const t = s.toLowerCase();
  return /[:#]hotp$/.test(t) ? 'hotp' : /[:#]totp$/.test(t) ? 'totp' : 'other';
}
