import { shownValue } from '../../model/shown-value.js';
import type { PskcExpiredMode } from './pskc-expired-mode.js';
import { attr, child, type XmlElement } from './pskc-xml-stream.js';

/**
 * A key's `<Policy>` (RFC 6030 section 5), read for one question: may the key be migrated now?
 *
 * - StartDate / ExpiryDate: "It MUST be ensured that the key is only used between the start and the
 *   end date (inclusive)": a key outside its dates is left out (the drafts put them on the Key itself),
 *   unless the admin takes expired keys on purpose (--pskc-expired take): then an ExpiryDate past is
 *   reported in the verdict (`expired`) and the rest of the Policy still decides.
 * - KeyUsage: "The recipient of the PSKC document MUST enforce the key usage": without OTP the key
 *   is not for one-time passwords (CR is OCRA's challenge-response), so it is left out.
 * - PINPolicy: `Local` (the device checks the PIN) is fine; `Prepend`, `Append` and `Algorithmic`
 *   put the PIN into what the user types or into the code, which neither Entra nor the shim checks.
 * - NumberOfTransactions: 0 means the key may not be used at all; any other count is reported,
 *   since neither Entra nor the shim counts uses.
 * - Anything else, and any value not understood: "If the <Policy> element contains child elements
 *   or values within elements/attributes that are not understood by the recipient of the PSKC
 *   document, then the recipient MUST assume that key usage is not permitted."
 */
export type PolicyVerdict =
  | { usable: true; transactions?: bigint; expired?: ExpiredKey }
  | {
      usable: false;
      /** Path below the Key element, e.g. `Policy/ExpiryDate`. */
      path: string;
      field: string;
      reason: string;
      /** The element at fault, whose line the problem names. */
      el: XmlElement;
    };

/** A key past its ExpiryDate, taken under --pskc-expired take. */
export interface ExpiredKey {
  /** The ExpiryDate, ISO 8601 in UTC. */
  on: string;
  /** Path below the Key element: `Policy/ExpiryDate`, or the drafts' `ExpiryDate`. */
  path: string;
  /** The ExpiryDate element, whose line the warning names. */
  el: XmlElement;
}

/** RFC 6030's registered KeyUsage values (section 12.6's registry as the RFC sets it up). */
const KEY_USAGES = new Set(['OTP', 'CR', 'Encrypt', 'Integrity', 'Verify', 'Unlock', 'Decrypt', 'KeyWrap', 'Unwrap', 'Derive', 'Generate']);
const POLICY_CHILDREN = new Set(['StartDate', 'ExpiryDate', 'NumberOfTransactions', 'KeyUsage', 'PINPolicy']);
const PIN_ATTRIBUTES = new Set(['PINKeyId', 'PINUsageMode', 'MaxFailedAttempts', 'MinLength', 'MaxLength', 'PINEncoding']);
const PIN_ENCODINGS = new Set(['DECIMAL', 'HEXADECIMAL', 'ALPHANUMERIC', 'BASE64', 'BINARY']);
const PIN_MODES: Record<string, string | undefined> = {
  Local: undefined,
  Prepend: 'the user types the PIN before the code (PINUsageMode Prepend), which neither Entra nor the shim checks',
  Append: 'the user types the PIN after the code (PINUsageMode Append), which neither Entra nor the shim checks',
  Algorithmic: 'the PIN goes into the computation of the code (PINUsageMode Algorithmic), which neither Entra nor the shim can do',
};
/** xs:dateTime; RFC 6030 says UTC, so a time without a zone is read as UTC. */
const DATE_TIME = /^(\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

const NOT_UNDERSTOOD = 'which this tool does not understand, so the key may not be used (RFC 6030 section 5)';

/** `el`: the element at fault, whose line the problem names. */
function refused(path: string, field: string, reason: string, el: XmlElement): PolicyVerdict {
  return { usable: false, path, field, reason, el };
}

/** What the key's policy says about using it at `now`; `expired` says whether a key past its ExpiryDate may be taken. */
export function policyVerdict(key: XmlElement, now: Date, expiredMode: PskcExpiredMode = 'leave'): PolicyVerdict {
  const policy = child(key, 'Policy');
  const base = policy === undefined ? '' : 'Policy/';
  if (policy !== undefined) {
    for (const c of policy.children) {
      if (!c.inPskc || !POLICY_CHILDREN.has(c.name)) return refused(`Policy/${c.name}`, c.name, `its Policy holds ${shownValue(c.name)}${c.inPskc ? '' : ' (from another namespace)'}, ${NOT_UNDERSTOOD}`, c);
    }
  }
  const holder = policy ?? key;
  let expired: ExpiredKey | undefined;
  const usable = (transactions?: bigint): PolicyVerdict => ({ usable: true, ...(transactions !== undefined ? { transactions } : {}), ...(expired !== undefined ? { expired } : {}) });
  for (const name of ['StartDate', 'ExpiryDate'] as const) {
    const el = child(holder, name);
    if (el === undefined) continue;
    const when = dateTime(el.text.trim());
    if (when === null) return refused(`${base}${name}`, name, `its ${name} is not a date and time (xs:dateTime), ${NOT_UNDERSTOOD}`, el);
    if (name === 'StartDate' && when > now.getTime()) return refused(`${base}${name}`, name, `the key is valid only from ${iso(when)} (its StartDate)`, el);
    if (name === 'ExpiryDate' && when < now.getTime()) {
      if (expiredMode === 'leave') return refused(`${base}${name}`, name, `the key expired on ${iso(when)} (its ExpiryDate); --pskc-expired take reads it if the token still works`, el);
      expired = { on: iso(when), path: `${base}${name}`, el };
    }
  }
  if (policy === undefined) return usable();

  const usageEls = policy.children.filter((c) => c.name === 'KeyUsage');
  const usages = usageEls.map((c) => c.text.trim());
  const unknownUsage = usageEls.find((c) => !KEY_USAGES.has(c.text.trim()));
  if (unknownUsage !== undefined) return refused('Policy/KeyUsage', 'KeyUsage', `its KeyUsage ${shownValue(unknownUsage.text.trim())} is not one RFC 6030 registers, ${NOT_UNDERSTOOD}`, unknownUsage);
  if (usages.length > 0 && !usages.includes('OTP')) {
    return refused('Policy/KeyUsage', 'KeyUsage', `its KeyUsage (${usages.join(', ')}) does not include OTP: the key is not for one-time passwords`, usageEls[0]!);
  }

  const pin = child(policy, 'PINPolicy');
  if (pin !== undefined) {
    const verdict = pinPolicyVerdict(pin);
    if (verdict !== undefined) return verdict;
  }

  const count = child(policy, 'NumberOfTransactions');
  if (count === undefined) return usable();
  const text = count.text.trim();
  if (!/^\+?\d+$/.test(text)) return refused('Policy/NumberOfTransactions', 'NumberOfTransactions', `its NumberOfTransactions is not a whole number, ${NOT_UNDERSTOOD}`, count);
  const transactions = BigInt(text);
  if (transactions === 0n) return refused('Policy/NumberOfTransactions', 'NumberOfTransactions', 'its NumberOfTransactions is 0: the key may not be used at all', count);
  return usable(transactions);
}

function pinPolicyVerdict(pin: XmlElement): PolicyVerdict | undefined {
  const path = 'Policy/PINPolicy';
  if (pin.children.length > 0) return refused(path, 'PINPolicy', `its PINPolicy holds ${shownValue(pin.children[0]!.name)}, ${NOT_UNDERSTOOD}`, pin.children[0]!);
  for (const name of Object.keys(pin.attrs)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    if (!PIN_ATTRIBUTES.has(name.slice(name.indexOf(':') + 1))) return refused(path, name, `its PINPolicy has attribute ${shownValue(name)}, ${NOT_UNDERSTOOD}`, pin);
  }
  for (const name of ['MaxFailedAttempts', 'MinLength', 'MaxLength']) {
    const value = attr(pin, name);
    if (value !== undefined && !/^\s*\d+\s*$/.test(value)) return refused(path, name, `its PINPolicy ${name} is not a whole number, ${NOT_UNDERSTOOD}`, pin);
  }
  const encoding = attr(pin, 'PINEncoding');
  if (encoding !== undefined && !PIN_ENCODINGS.has(encoding.trim())) return refused(path, 'PINEncoding', `its PINPolicy PINEncoding ${shownValue(encoding)}, ${NOT_UNDERSTOOD}`, pin);
  const mode = attr(pin, 'PINUsageMode')?.trim();
  // The attribute is required: without it nothing says where the PIN goes.
  if (mode === undefined || !Object.hasOwn(PIN_MODES, mode)) {
    return refused(path, 'PINUsageMode', mode === undefined ? `its PINPolicy has no PINUsageMode, ${NOT_UNDERSTOOD}` : `its PINPolicy PINUsageMode ${shownValue(mode)}, ${NOT_UNDERSTOOD}`, pin);
  }
  const why = PIN_MODES[mode];
  return why === undefined ? undefined : refused(path, 'PINUsageMode', why, pin);
}

/** Milliseconds since the epoch, or null when `text` is not an xs:dateTime. */
function dateTime(text: string): number | null {
  const m = DATE_TIME.exec(text);
  if (m === null) return null;
  const t = Date.parse(`${text.slice(0, m[8] === undefined ? text.length : text.length - m[8].length)}${m[8] ?? 'Z'}`);
  return Number.isNaN(t) ? null : t;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
