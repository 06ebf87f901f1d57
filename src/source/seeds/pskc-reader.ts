import type { OathAlgorithm, OathType } from '../../model/export-data.js';
import { ProblemList, type Problem, type ProblemCode, type Where } from '../../model/problem.js';
import { COUNTER_MAX, DIGITS_MAX, DIGITS_MIN, PERIOD_MAX, digitsMessage, parseInteger, parseOathAlgorithm } from './oath-parameters.js';
import { warnIfShortSecret } from './oath-seed.js';
import { warnIfCounterNearEnd } from './counter-headroom.js';
import { binaryInteger, plainInteger } from './pskc-integers.js';
import { PskcFatal, PskcKeys, type EncryptedField, type PskcContainerProtection } from './pskc-keys.js';
import { policyVerdict } from './pskc-policy.js';
import type { PskcMacMode } from './pskc-mac-mode.js';
import { attr, child, childAny, DEFAULT_PSKC_LIMITS, DRAFT_NAMESPACES, ownString, streamPskc, PskcStreamError, StringPool, type PskcRoot, type XmlElement } from './pskc-xml-stream.js';
import type { SeedReadOptions } from './read-seed-files.js';
import { decodeBase64 } from './secret-encoding.js';
import { refuseSecretLikeCell } from './secret-like-cell.js';
import { base32InBase64, encodedTwice, hexInBase64, mayBeTextMessage } from './secret-suspect.js';
import { leftOutAt } from '../seed-left-out.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A GUID as an Id may be written: bare, in braces, or as a `urn:uuid:` (RFC 4122's URN; a review saw one refused). */
const guidIdOf = (id: string): string => id.replace(/^urn:uuid:/i, '').replace(/^\{(.*)\}$/, '$1');
import type { SeedSink } from './seed-sink.js';
import { composedUsername } from '../../model/username.js';
import { shownValue } from '../../model/shown-value.js';

/** The Key's id attribute as the file names it: RFC 6030's `Id`, the drafts' `KeyId` (-00: `SecretId`). */
function idAttribute(key: XmlElement): string {
  return attr(key, 'Id') !== undefined ? 'Id' : attr(key, 'KeyId') !== undefined ? 'KeyId' : 'SecretId';
}

/** What a secret-suspect error on a key says happens, and what to do. */
const SKIPPED_ENCODED_TWICE = 'the key is skipped: ask the vendor for a file with the seed encoded once';

/** An xs:boolean (`true`, `false`, `1`, `0`; any case, as python-pskc reads it); undefined for anything else. */
function xsBoolean(text: string): boolean | undefined {
  const s = text.trim().toLowerCase();
  return s === 'true' || s === '1' ? true : s === 'false' || s === '0' ? false : undefined;
}

/** Version 1.0 however written: `1`, `1.0`, `1.00` (the schema's VersionType is digits, a dot, digits). */
const RFC6030_VERSION = /^1(\.0{1,3})?$/;

/**
 * Reads a PSKC file into OathSeeds: HOTP and TOTP keys, plain or encrypted (pre-shared key or
 * password), with ValueMACs checked according to `pskcMac`. Two dialects:
 *
 * - RFC 6030: KeyContainer Version 1.0 / KeyPackage / DeviceInfo + Key@Algorithm / Data/Secret …
 * - the drafts before it, as older token shipments use them: draft-ietf-keyprov-pskc (Device
 *   instead of KeyPackage, Key@KeyAlgorithm and @KeyId, Usage/ResponseFormat, MACAlgorithm) and
 *   draft-hoyer-keyprov-portable-symmetric-key-container (as ActivIdentity writes it: a
 *   container-level EncryptionMethod with the IV or a PBE salt, DigestMethod, DeviceId, and
 *   Data Name="SECRET" holding a Value and a ValueDigest; its -00 says SecretContainer and Secret).
 *
 * This is the hot path for 100k-token files: per key it does a handful of child lookups and one
 * hash; element paths for problems are built only when a problem is reported.
 */

export const DEFAULT_MAX_XML_BYTES = 256 * 1024 * 1024;

type OathKeyKind = OathType | 'other';
type Dialect = 'rfc6030' | 'draft';

const HOTP_URI = 'urn:ietf:params:xml:ns:keyprov:pskc:hotp';
const TOTP_URI = 'urn:ietf:params:xml:ns:keyprov:pskc:totp';
const kindCache = new Map<string, OathKeyKind>();

/**
 * `urn:ietf:params:xml:ns:keyprov:pskc:hotp`, the drafts' `…pskc#totp`, `http://www.ietf.org/keyprov/pskc#hotp`
 * and plain `HOTP`. OCRA (`…#OCRA-1:HOTP-SHA1-6:…`), PIN, SecurID and the like are 'other'.
 */
function keyKind(algorithm: string): OathKeyKind {
  if (algorithm === HOTP_URI) return 'hotp';
  if (algorithm === TOTP_URI) return 'totp';
  let kind = kindCache.get(algorithm);
  if (kind === undefined) {
    const s = algorithm.trim().toLowerCase();
    kind = /(^|[:#/])hotp$/.test(s) ? 'hotp' : /(^|[:#/])totp$/.test(s) ? 'totp' : 'other';
    if (kindCache.size < 100) kindCache.set(ownString(algorithm), kind);
  }
  return kind;
}

/** The drafts' `Data Name="..."` for each RFC 6030 Data child. */
const LEGACY_DATA_NAMES: Record<string, DataName> = { secret: 'Secret', counter: 'Counter', time: 'Time', time_interval: 'TimeInterval', timeinterval: 'TimeInterval', time_drift: 'TimeDrift', timedrift: 'TimeDrift' };
type DataName = 'Secret' | 'Counter' | 'Time' | 'TimeInterval' | 'TimeDrift';

/** The line of the element at fault, else `fallback` (its KeyPackage's): the stream keeps every element's line (0 for none). */
const lineOf = (el: { line: number } | undefined, fallback: number): number => (el !== undefined && el.line > 0 ? el.line : fallback);

/** An integer Data element (Counter, Time, TimeInterval, TimeDrift) that could not be read. */
const BAD = Symbol('bad');

/** Where a key is: its package (line, element and 1-based index), its key element, and the serial once known. */
interface KeyLocation {
  line: number;
  /** `KeyPackage[3]` (or the drafts' `Device[3]`). */
  pkg: string;
  /** `Key` (or the first draft's `Secret`). */
  key: string;
  serial: string;
}

/** A Data value: RFC 6030's Data/<Name>, or the drafts' Data Name="<NAME>" (Value, ValueDigest). */
interface DataValue {
  el: XmlElement;
  name: DataName;
  legacy: boolean;
}

/** Reads a PSKC file, handing each seed to `sink` as soon as it is read (a refused file is discarded there). */
export async function readPskcFileInto(path: string, display: string, opts: SeedReadOptions, problems: ProblemList, sink: SeedSink): Promise<void> {
  const reader = new PskcFileReader(display, opts, sink);
  await reader.read(path, opts.maxXmlBytes ?? DEFAULT_MAX_XML_BYTES, problems);
}

class PskcFileReader {
  readonly #display: string;
  readonly #opts: SeedReadOptions;
  readonly #macMode: PskcMacMode;
  /** Problems of this file; merged into the caller's list at the end (errors only if refused). */
  readonly #problems = new ProblemList();
  readonly #sink: SeedSink;
  readonly #pool = new StringPool();
  readonly #container: PskcContainerProtection = {};
  #keys: PskcKeys | undefined;
  #root: PskcRoot | undefined;
  /** Known from the root's namespace, or from the first package (KeyPackage or the drafts' Device). */
  #dialect: Dialect | undefined;
  #packages = 0;
  /** The first KeyPackage (or Device) outside the container's namespace: why a file holds no package, if it holds none. */
  #strayPackage: XmlElement | undefined;
  #macFailures = 0;
  /** Where the first ValueMAC that failed is: the file's refusal is placed there. */
  #firstMacFailure: Where | undefined;
  /** What Policy dates are checked against: one time for the whole file. */
  readonly #now: Date;

  constructor(display: string, opts: SeedReadOptions, sink: SeedSink) {
    this.#sink = sink;
    this.#display = display;
    this.#opts = opts;
    this.#macMode = opts.pskcMac ?? 'fail';
    this.#now = opts.now ?? new Date();
  }

  async read(path: string, maxBytes: number, problems: ProblemList): Promise<void> {
    try {
      await streamPskc(path, maxBytes, { root: (r) => this.#onRoot(r), element: (el) => this.#element(el) }, { ...DEFAULT_PSKC_LIMITS, ...this.#opts.pskcLimits });
      if (this.#dialect === undefined) this.#decideDialect('rfc6030');
    } catch (err) {
      if (err instanceof PskcStreamError) {
        const code: ProblemCode = err.kind === 'unsafe' ? 'pskc-unsafe' : err.kind === 'not-pskc' ? 'seed-format-unknown' : 'pskc-invalid';
        return this.#refuse(problems, { severity: 'error', code, ...this.#where(err.line, err.place.path, err.place.field), message: `${err.message}; the file is refused` });
      }
      if (err instanceof PskcFatal) return this.#refuse(problems, { severity: 'error', ...err.problem });
      const errno = err as NodeJS.ErrnoException;
      if (err instanceof Error && typeof errno.code === 'string' && errno.syscall !== undefined) {
        return this.#refuse(problems, { severity: 'error', code: 'file-unreadable', file: this.#display, message: `cannot read the seed file (${errno.code})` });
      }
      throw err;
    }
    if (this.#packages === 0) this.#noPackage();
    if ((this.#macMode === 'fail' || this.#macMode === 'allow-unprotected') && this.#macFailures > 0) {
      return this.#refuse(problems, {
        severity: 'error',
        code: 'pskc-mac',
        ...this.#firstMacFailure,
        file: this.#display,
        message: `${this.#macFailures} ValueMAC check(s) failed${this.#firstMacFailure?.line !== undefined ? ` (the first at line ${this.#firstMacFailure.line})` : ''}, so the whole file is refused (--pskc-mac ${this.#macMode}). The file may have been altered; if you trust it, --pskc-mac skip reads the other keys`,
      });
    }
    const unprotected = this.#keys?.unprotectedProblem();
    if (unprotected?.severity === 'error') return this.#refuse(problems, unprotected);
    if (unprotected !== undefined) this.#problems.items.push(unprotected);
    for (const p of this.#problems.items) problems.items.push(p);
  }

  /** Nothing from the file is used: pass on its errors (warnings about single keys no longer matter). */
  #refuse(problems: ProblemList, last: Problem): void {
    for (const p of this.#problems.items) if (p.severity === 'error') problems.items.push(p);
    problems.items.push(last);
    this.#sink.discard();
  }

  #where(line?: number, path?: string, field?: string): Where {
    const w: Where = { file: this.#display };
    if (line !== undefined && line > 0) w.line = line;
    if (path) w.path = path;
    if (field) w.field = field;
    return w;
  }

  #onRoot(root: PskcRoot): void {
    this.#root = root;
    // The drafts' own namespaces (and the first draft's SecretContainer) say so at once; in RFC
    // 6030's namespace, draft-ietf-keyprov-pskc-02's files show it by their Device elements.
    if (root.name === 'SecretContainer' || DRAFT_NAMESPACES.includes(root.namespace)) this.#dialect = 'draft';
  }

  /**
   * RFC 6030 files must say Version 1.0 (a later version may change what the elements mean); `1`
   * (some vendors' tools write it; python-pskc reads it) and `1.00` are the same version. The
   * drafts wrote 1, 1.0, 1.2 or nothing, and are read as the drafts they are.
   */
  #decideDialect(dialect: Dialect): void {
    this.#dialect = dialect;
    const root = this.#root;
    const version = root?.attrs.Version ?? root?.attrs.version;
    if (dialect === 'rfc6030' && version !== undefined && !RFC6030_VERSION.test(version.trim())) {
      throw new PskcStreamError('invalid', `KeyContainer Version ${shownValue(String(version))} is not supported (expected 1.0)`, root?.line, { field: 'Version' });
    }
  }

  #element(el: XmlElement): Promise<void> | void {
    if (el.name === 'Signature') {
      // RFC 6030 section 7's XML Signature over the container: checking it needs the signer's
      // certificate, which nothing here is given. Said, so that no one takes the file as verified.
      this.#problems.warning(
        'pskc-signature',
        this.#where(el.line, 'Signature'),
        'the file carries an XML Signature (ds:Signature), which is not checked: the keys are read as if it had none. Only the ValueMACs of encrypted values (and the key or password) show the values were not altered',
      );
      return;
    }
    if (!el.inPskc) {
      if ((el.name === 'KeyPackage' || el.name === 'Device') && this.#strayPackage === undefined) this.#strayPackage = el;
      return;
    }
    switch (el.name) {
      case 'KeyPackage':
      case 'Device': {
        if (this.#dialect === undefined) this.#decideDialect(el.name === 'Device' ? 'draft' : 'rfc6030');
        const index = ++this.#packages;
        if (this.#keys === undefined) {
          const first = this.#firstEncrypted(el, index);
          if (first !== undefined) {
            // The first encrypted value: resolve the keys once (PBKDF2 is async), then read on.
            const keys = new PskcKeys(this.#display, this.#opts, this.#container, this.#macMode, this.#dialect === 'draft');
            this.#keys = keys;
            return keys.prepare(first, lineOf(first, el.line)).then(() => this.#package(el, index));
          }
        }
        this.#package(el, index);
        return;
      }
      case 'EncryptionKey':
        this.#container.encryptionKey = el;
        return;
      case 'EncryptionMethod':
        this.#container.encryptionMethod = el;
        return;
      case 'MACMethod':
        this.#container.macMethod = el;
        return;
      case 'DigestMethod':
        this.#container.digestMethod = el;
        return;
      case 'MACAlgorithm':
        this.#container.macAlgorithm = el;
        return;
    }
  }

  /**
   * A container without a package. Packages in another namespace are not read (look-alikes are
   * ignored), but when they are all there is, that is why: most often the root's prefix
   * (`<pskc:KeyContainer xmlns:pskc=...>`), which does not carry over to unprefixed children.
   */
  #noPackage(): void {
    const stray = this.#strayPackage;
    if (stray === undefined) {
      this.#problems.error('pskc-invalid', this.#where(this.#root?.line, undefined, 'KeyPackage'), 'the KeyContainer holds no KeyPackage');
      return;
    }
    const rootNs = this.#root?.namespace ?? '';
    const strayNs = stray.namespace ?? '';
    const where = strayNs === '' ? 'in no namespace' : `in namespace ${shownValue(strayNs)}`;
    const qname = this.#root?.qname ?? '';
    const prefix = qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : undefined;
    const hint =
      strayNs === '' && prefix !== undefined
        ? ` (the KeyContainer's prefix ${shownValue(prefix)} does not carry over to children written without one: the file needs them prefixed too, or the namespace declared as the default, xmlns="${rootNs}")`
        : '';
    this.#problems.error(
      'pskc-invalid',
      this.#where(stray.line, stray.name, stray.name),
      `the KeyContainer holds no ${stray.name} in its own namespace (${rootNs === '' ? 'none' : rootNs}): the first ${stray.name} (line ${stray.line}) is ${where}, so it and any like it are not read${hint}; ask the vendor for a corrected file`,
    );
  }

  /** The key elements of a package: Key (the first draft: Secret, under Device). */
  *#keyElements(pkg: XmlElement): Generator<XmlElement> {
    for (const c of pkg.children) {
      if (c.inPskc && (c.name === 'Key' || (c.name === 'Secret' && pkg.name === 'Device'))) yield c;
    }
  }

  #package(pkg: XmlElement, index: number): void {
    let keys = 0;
    for (const key of this.#keyElements(pkg)) {
      keys++;
      this.#key(key, pkg, index);
    }
    if (keys === 0) this.#problems.warning('pskc-invalid', this.#where(pkg.line, `${pkg.name}[${index}]`), `${pkg.name} has no Key: nothing to read from it`);
  }

  #key(key: XmlElement, pkg: XmlElement, index: number): void {
    const line = pkg.line;
    const deviceInfo = child(pkg, 'DeviceInfo') ?? child(pkg, 'DeviceId');
    const keyId = attr(key, 'Id') ?? attr(key, 'KeyId') ?? attr(key, 'SecretId');
    const serial = ownString((child(deviceInfo, 'SerialNo')?.text ?? '').trim() || (keyId ?? '').trim());
    const loc: KeyLocation = { line, pkg: `${pkg.name}[${index}]`, key: key.name, serial };
    // As the CSV readers do: a serial, user or device name holding what looks like a seed (a file
    // written with its fields swapped) is never shown, nor kept as a name (a security review).
    const where = (field: string, el: XmlElement | undefined) => this.#where(lineOf(el, line), field === 'UserId' ? loc.pkg : `${loc.pkg}/DeviceInfo`, field);
    const serialNo = (child(deviceInfo, 'SerialNo')?.text ?? '').trim();
    if (serialNo && refuseSecretLikeCell(serialNo, 'SerialNo', 'serial', this.#problems, where('SerialNo', child(deviceInfo, 'SerialNo')), 'key')) return;
    // A Key Id standing in for a missing SerialNo becomes the serial, shown everywhere: checked the
    // same way, unless it has a GUID's exact shape (a Key Id may be one, as a UserId may).
    if (!serialNo && keyId !== undefined && !GUID.test(guidIdOf(keyId.trim()))) {
      const idAttr = idAttribute(key);
      if (refuseSecretLikeCell(keyId, `Key ${idAttr} (standing in for the missing SerialNo)`, 'serial', this.#problems, this.#where(lineOf(key, line), `${loc.pkg}/${key.name}`, idAttr), 'key')) return;
    }
    // From here on each problem that leaves the key out carries its serial (Problem.serial): the token's user is told why it has no seed.
    const tagged = (w: Where): Where => (serial ? { ...w, serial } : w);
    for (const field of ['Manufacturer', 'Model'] as const) {
      if (refuseSecretLikeCell(child(deviceInfo, field)?.text ?? '', field, 'name', this.#problems, tagged(where(field, child(deviceInfo, field))), 'key')) return;
    }
    // A UserId may be a directory object's GUID (hex in a GUID's shape, which the check would take for a seed).
    const userIdEl = child(key, 'UserId') ?? child(deviceInfo, 'UserId');
    const userId = (userIdEl?.text ?? '').trim();
    if (!GUID.test(guidIdOf(userId)) && refuseSecretLikeCell(userId, 'UserId', 'name', this.#problems, tagged(where('UserId', userIdEl)), 'key')) return;
    const algorithmUri = attr(key, 'Algorithm') ?? attr(key, 'KeyAlgorithm') ?? attr(key, 'SecretAlgorithm');
    let type: OathKeyKind;
    if (algorithmUri === undefined || algorithmUri.trim() === '') {
      // Optional in RFC 6030's schema: a key with a TimeInterval is TOTP, any other HOTP.
      type = this.#dataValue(key, 'TimeInterval') !== undefined ? 'totp' : 'hotp';
      this.#problems.warning(
        'pskc-invalid',
        this.#at(loc, '', 'Algorithm', key),
        `Key${this.#of(loc)} has no Algorithm attribute; read as ${type.toUpperCase()} because it ${type === 'totp' ? 'has' : 'has no'} TimeInterval`,
      );
    } else {
      type = keyKind(algorithmUri);
    }
    if (type === 'other') {
      this.#problems.warning(
        'value-invalid',
        tagged(this.#at(loc, '', 'Algorithm', key)),
        `key algorithm ${shownValue(algorithmUri!)}${this.#of(loc)} is neither HOTP nor TOTP; the key is left out`,
      );
      return;
    }
    if (!serial) {
      this.#problems.error('pskc-invalid', this.#where(lineOf(deviceInfo ?? key, line), `${loc.pkg}/DeviceInfo`, 'SerialNo'), `${pkg.name} has no DeviceInfo/SerialNo and its Key no Id: the token has no serial number`);
      return;
    }
    // RFC 6030 section 5: a key its Policy does not allow now is left out (its secret is not even
    // decrypted), with a warning: the file is not at fault.
    const policy = policyVerdict(key, this.#now, this.#opts.pskcExpired);
    const named = `token ${serial}${keyId ? ` (Key Id ${shownValue(keyId)})` : ''}`;
    if (!policy.usable) {
      this.#problems.warning('pskc-policy', this.#skips(loc, policy.path, policy.field, policy.el), `${named} is left out: ${policy.reason}`);
      return;
    }
    if (policy.transactions !== undefined) {
      this.#problems.warning(
        'pskc-policy',
        this.#at(loc, 'Policy/NumberOfTransactions', 'NumberOfTransactions', child(child(key, 'Policy'), 'NumberOfTransactions')),
        `${named} may be used ${policy.transactions} time(s) by its Policy, but neither Entra nor the shim counts uses: the token keeps working after that`,
      );
    }

    let ok = true;
    const params = child(key, 'AlgorithmParameters');
    let algorithm: OathAlgorithm = 'sha1';
    // privacyIDEA's export writes the hash as <Suite hashalgo="sha256"/>.
    const suiteEl = child(params, 'Suite');
    const suite = suiteEl?.text.trim() || attr(suiteEl, 'hashalgo')?.trim();
    if (suite) {
      const parsed = parseOathAlgorithm(suite);
      if (parsed === null) {
        this.#problems.error('value-invalid', this.#skips(loc, 'AlgorithmParameters/Suite', 'Suite', suiteEl), `Suite ${shownValue(suite)} of token ${serial} is not SHA1, SHA256 or SHA512`);
        ok = false;
      } else {
        algorithm = parsed;
      }
    }
    let digits = 6;
    let checkDigit = false;
    // RFC 6030: AlgorithmParameters/ResponseFormat; the drafts: Usage/ResponseFormat (Format, length).
    const responseParent = child(params, 'ResponseFormat') !== undefined ? 'AlgorithmParameters' : 'Usage';
    const response = child(params, 'ResponseFormat') ?? child(child(key, 'Usage'), 'ResponseFormat');
    if (response !== undefined) {
      const length = attr(response, 'Length') ?? attr(response, 'length');
      const parsed = length === undefined ? null : parseInteger(length, DIGITS_MIN, DIGITS_MAX);
      if (parsed === null) {
        this.#problems.error('value-invalid', this.#skips(loc, `${responseParent}/ResponseFormat`, 'Length', response), `${digitsMessage(`the ResponseFormat Length of token ${serial}`, length ?? '')}; the key is left out`);
        ok = false;
      } else {
        digits = parsed;
      }
      const encoding = attr(response, 'Encoding') ?? attr(response, 'Format') ?? attr(response, 'format');
      if (encoding !== undefined && encoding.trim().toUpperCase() !== 'DECIMAL') {
        this.#problems.error('value-invalid', this.#skips(loc, `${responseParent}/ResponseFormat`, 'Encoding', response), `ResponseFormat Encoding ${shownValue(encoding)} of token ${serial} is not DECIMAL`);
        ok = false;
      }
      // RFC 6030 4.3.4: the device appends a Luhn check digit to each response (python-pskc also
      // reads the singular CheckDigit some files write). Read as Length's digits plus that one.
      const checkName = attr(response, 'CheckDigits') !== undefined ? 'CheckDigits' : 'CheckDigit';
      const check = attr(response, checkName);
      if (check !== undefined) {
        const flag = xsBoolean(check);
        if (flag === undefined) {
          this.#problems.error('value-invalid', this.#skips(loc, `${responseParent}/ResponseFormat`, checkName, response), `ResponseFormat ${checkName} ${shownValue(check)} of token ${serial} is not true or false; the key is left out`);
          ok = false;
        } else {
          checkDigit = flag;
        }
      }
    }

    const secretValue = this.#dataValue(key, 'Secret');
    if (secretValue === undefined) {
      this.#problems.error('pskc-invalid', this.#skips(loc, 'Data', 'Secret', child(key, 'Data') ?? key), `Key of token ${serial} has no Data/Secret`);
      return;
    }
    this.#warnPlainBesideEncrypted(secretValue, loc);
    // A PlainValue in hex or Base32 (where PSKC puts Base64) is refused before it is decoded into a wrong seed.
    const secret = this.#plainEncodedWrong(secretValue, loc) ? null : this.#binary(secretValue, loc);
    // Only the values of the key's own type are read: exporters fill the others with anything
    // (privacyIDEA writes an HOTP key's TimeInterval as 0, and a TOTP key's Counter as its last step).
    const hotp = type === 'hotp';
    const counter = hotp ? this.#integer(this.#dataValue(key, 'Counter'), loc, 0n, COUNTER_MAX, false) : undefined;
    const interval = hotp ? undefined : this.#integer(this.#dataValue(key, 'TimeInterval'), loc, 1n, BigInt(PERIOD_MAX), false);
    const time = hotp ? undefined : this.#integer(this.#dataValue(key, 'Time'), loc, 0n, BigInt(Number.MAX_SAFE_INTEGER), false);
    const drift = hotp || interval === BAD ? undefined : this.#drift(key, loc, interval === undefined ? 30 : Number(interval));
    if (secret !== null && secret.length === 0) {
      this.#problems.error('secret-invalid', this.#skips(loc, this.#dataPath(secretValue), 'Secret', secretValue.el), `the secret of token ${serial} is empty`);
      return;
    }
    if (secret !== null && this.#encodedTwice(secretValue, loc, secret)) {
      secret.fill(0);
      return;
    }
    if (secret === null || counter === BAD || interval === BAD || drift === BAD || time === BAD || !ok) {
      secret?.fill(0);
      return;
    }
    if (type === 'hotp' && counter === undefined) {
      this.#problems.warning('value-invalid', this.#at(loc, 'Data', 'Counter', child(key, 'Data') ?? key), `HOTP token ${serial} has no Counter; 0 is assumed (the token may need a resync)`);
    }
    const counterValue = this.#dataValue(key, 'Counter');
    if (counter !== undefined) warnIfCounterNearEnd(serial, counter, this.#problems, this.#at(loc, this.#dataPath(counterValue!), 'Counter', counterValue?.el));
    if (type === 'totp' && time !== undefined && time !== 0n) {
      this.#problems.warning('value-invalid', this.#at(loc, 'Data/Time', 'Time', this.#dataValue(key, 'Time')?.el), `TOTP token ${serial} has Time ${time}; codes are computed from the Unix epoch (T0 = 0)`);
    }
    const user = composedUsername((child(key, 'UserId')?.text ?? child(deviceInfo, 'UserId')?.text ?? '').trim());
    warnIfShortSecret(serial, secret.length, this.#problems, () => this.#at(loc, this.#dataPath(secretValue), undefined, secretValue.el));
    if (policy.expired !== undefined) {
      this.#problems.warning('pskc-policy', this.#at(loc, policy.expired.path, 'ExpiryDate', policy.expired.el), `${named} expired on ${policy.expired.on} (its ExpiryDate) and is read anyway (--pskc-expired take)`);
    }
    this.#sink.addRead(
      {
        serial,
        type,
        algorithm,
        digits,
        ...(checkDigit ? { checkDigit: true as const } : {}),
        period: type === 'totp' ? (interval === undefined ? 30 : Number(interval)) : null,
        counter: type === 'hotp' ? (counter ?? 0n) : null,
        timeDrift: drift === undefined ? undefined : Number(drift),
        manufacturer: this.#pool.get(child(deviceInfo, 'Manufacturer')?.text.trim() ?? ''),
        model: this.#pool.get(child(deviceInfo, 'Model')?.text.trim() ?? ''),
        user: ownString(user),
        ...(keyId !== undefined ? { keyId: ownString(keyId) } : {}),
        ...(policy.expired !== undefined ? { expiredOn: policy.expired.on } : {}),
        source: this.#display,
        line,
        serialField: serialNo ? 'SerialNo' : idAttribute(key),
        secretField: 'Secret',
      },
      secret,
    );
  }

  /**
   * TimeDrift, in time steps (RFC 6030). privacyIDEA's export writes its timeShift there instead: seconds,
   * as a decimal (`-12.5`); a key issued by privacyIDEA has it turned into whole steps. Any other
   * drift that is not a whole number is left out with a warning (codes then start from no drift).
   */
  #drift(key: XmlElement, loc: KeyLocation, period: number): bigint | undefined | typeof BAD {
    const v = this.#dataValue(key, 'TimeDrift');
    const text = v === undefined ? undefined : child(v.el, v.legacy ? 'Value' : 'PlainValue')?.text.trim();
    if (text === undefined || !/^[+-]?\d+\.\d*$/.test(text)) return this.#integer(v, loc, -1_000_000n, 1_000_000n, true);
    if ((child(key, 'Issuer')?.text.trim().toLowerCase() ?? '') === 'privacyidea') return BigInt(Math.round(Number(text) / period));
    this.#problems.warning('value-invalid', this.#at(loc, this.#dataPath(v!), 'TimeDrift', v!.el), `TimeDrift ${shownValue(text)} of token ${loc.serial} is not a whole number of time steps; it is left out`);
    return undefined;
  }

  /**
   * A secret nothing protects where the file protects the others, or one written both ways: read as
   * they are (the file is the vendor's), but said, since either can be a value put in by hand after
   * the file was made (a review found both read in silence). RFC 6030's schema has a choice of
   * PlainValue or EncryptedValue; with both, the EncryptedValue is the one the transport key and its
   * ValueMAC vouch for, and the one read.
   */
  #warnPlainBesideEncrypted(v: DataValue, loc: KeyLocation): void {
    if (v.legacy) return;
    const plain = child(v.el, 'PlainValue');
    if (plain === undefined) return;
    const where = this.#at(loc, `${this.#dataPath(v)}/PlainValue`, v.name, plain);
    if (child(v.el, 'EncryptedValue') !== undefined) {
      this.#problems.warning('pskc-invalid', where, `the ${v.name} of token ${loc.serial} has both a PlainValue and an EncryptedValue: the EncryptedValue is read and the PlainValue ignored; ask the vendor which is right`);
      return;
    }
    const c = this.#container;
    if (c.encryptionKey === undefined && c.macMethod === undefined && c.macAlgorithm === undefined) return;
    this.#problems.warning(
      'pskc-plain-value',
      where,
      `the ${v.name} of token ${loc.serial} is a PlainValue in a file that encrypts its values (EncryptionKey, MACMethod): it is read, but neither the key nor a ValueMAC shows it was not put in or altered after the file was made; check it with the vendor`,
    );
  }

  /** The secret's plain value (PlainValue, or a draft's unencrypted Value), if it has one. */
  #plainOf(v: DataValue, loc: KeyLocation): XmlElement | undefined {
    return this.#encrypted(v, loc) === undefined ? child(v.el, v.legacy ? 'Value' : 'PlainValue') : undefined;
  }

  /**
   * A plain secret written in hex or Base32 where PSKC puts Base64 (secret-suspect.ts): both alphabets
   * are inside Base64's, so it would decode to a wrong seed. Refused with an error, never decoded.
   */
  #plainEncodedWrong(v: DataValue, loc: KeyLocation): boolean {
    const plain = this.#plainOf(v, loc);
    if (plain === undefined) return false;
    const chars = plain.text.replace(/\s+/g, '').replace(/=+$/, '').length;
    const looks = hexInBase64(plain.text) ? `${chars} hex digits: a seed written in hex` : base32InBase64(plain.text) ? `${chars} Base32 characters: a seed written in Base32` : undefined;
    if (looks === undefined) return false;
    this.#problems.error(
      'secret-suspect',
      this.#skips(loc, `${this.#dataPath(v)}/${plain.name}`, v.name, plain),
      `the ${v.name} ${plain.name} of token ${loc.serial} is ${looks} where PSKC puts Base64, which read as Base64 is a wrong seed; ${SKIPPED_ENCODED_TWICE}`,
    );
    return true;
  }

  /**
   * A secret whose bytes are the text of an encoded seed (secret-suspect.ts): a hex, Base32 or Base64
   * string (the seed encoded twice). Such a key is refused with an error, never read: its token would
   * be activated with a wrong seed, and no code would match.
   */
  #encodedTwice(v: DataValue, loc: KeyLocation, secret: Buffer): boolean {
    const plain = this.#plainOf(v, loc);
    const element = plain?.name ?? (v.legacy ? 'Value' : 'EncryptedValue');
    const where = this.#at(loc, `${this.#dataPath(v)}/${element}`, v.name, plain ?? child(v.el, element) ?? v.el);
    const found = encodedTwice(secret);
    if (found === null) return false;
    const { looks } = found;
    const which = plain === undefined ? 'decrypted secret' : 'secret';
    if (!found.refused) {
      this.#problems.warning('secret-suspect', where, mayBeTextMessage(which, loc.serial ?? '(no serial)', secret.length, looks));
      return false;
    }
    this.#problems.error('secret-suspect', leftOutAt(where, loc.serial), `the ${which} of token ${loc.serial} is ${secret.length} bytes that are ${looks}, not seed bytes: the file holds the seed encoded twice, and read as it is no code would match; ${SKIPPED_ENCODED_TWICE}`);
    return true;
  }

  /** " (token S)" when the serial is known. */
  #of(loc: KeyLocation): string {
    return loc.serial ? ` (token ${loc.serial})` : '';
  }

  /**
   * Where something of the key is: `sub` is its path below the key element ('' for the key itself),
   * `el` the element at fault (or the nearest one there is, for one missing), whose own line is named
   * (a fault deep in a KeyPackage was placed at the package's first line).
   */
  #at(loc: KeyLocation, sub: string, field: string | undefined, el: XmlElement | undefined): Where {
    return this.#where(lineOf(el, loc.line), `${loc.pkg}/${loc.key}${sub ? `/${sub}` : ''}`, field);
  }

  /** Where a problem is that leaves the key out: #at, with the serial the token's user is told why by (Problem.serial). */
  #skips(loc: KeyLocation, sub: string, field: string | undefined, el: XmlElement | undefined): Where {
    return leftOutAt(this.#at(loc, sub, field, el), loc.serial);
  }

  /** `Data/Secret`, or the drafts' `Data[@Name="SECRET"]`. */
  #dataPath(v: DataValue): string {
    return v.legacy ? `Data[@Name="${attr(v.el, 'Name')}"]` : `Data/${v.name}`;
  }

  /**
   * A key's Data value. RFC 6030 files are looked up RFC 6030's way only (the hot path); in the
   * drafts (or when a key has no Data/Secret) the drafts' Data Name="..." elements are looked at too.
   */
  #dataValue(key: XmlElement, name: DataName): DataValue | undefined {
    const data = child(key, 'Data');
    const el = child(data, name);
    if (el !== undefined) return { el, name, legacy: false };
    if (this.#dialect !== 'draft' && (name !== 'Secret' || data === undefined)) return undefined;
    for (const d of key.children) {
      if (d.name !== 'Data' || !d.inPskc) continue;
      const legacyName = attr(d, 'Name');
      if (legacyName !== undefined && LEGACY_DATA_NAMES[legacyName.trim().toLowerCase()] === name) return { el: d, name, legacy: true };
    }
    return undefined;
  }

  /** The value's encrypted form, if it has one: RFC 6030's EncryptedValue, or a draft's Value that the file encrypts. */
  #encrypted(v: DataValue, loc: Pick<KeyLocation, 'pkg' | 'key'>): EncryptedField | undefined {
    if (!v.legacy) {
      const enc = child(v.el, 'EncryptedValue');
      if (enc === undefined) return undefined;
      const path = `${loc.pkg}/${loc.key}/${this.#dataPath(v)}`;
      // draft-ietf-keyprov-pskc-02's Figure 5 puts the ValueMAC inside the EncryptedValue.
      const macEl = child(v.el, 'ValueMAC') ?? child(v.el, 'ValueDigest') ?? (this.#dialect === 'draft' ? child(enc, 'ValueMAC') : undefined);
      // That draft names PBES2 here and the real cipher in an EncryptionScheme inside it.
      const method = childAny(enc, 'EncryptionMethod');
      const cipherUri = attr(childAny(method, 'EncryptionScheme'), 'Algorithm') ?? attr(method, 'Algorithm');
      return { name: v.name, path, cipherUri, cipherText: childAny(childAny(enc, 'CipherData'), 'CipherValue')?.text, macText: macEl?.text, valueElement: 'EncryptedValue', line: enc.line, ...(macEl ? { macLine: macEl.line } : {}), ...(method ? { methodLine: method.line } : {}), pathLine: v.el.line };
    }
    // As python-pskc reads them: a draft's Value is encrypted when the container names a cipher and
    // the value carries a digest; otherwise it is the plain value (Base64).
    const value = child(v.el, 'Value');
    const macEl = child(v.el, 'ValueMAC') ?? child(v.el, 'ValueDigest');
    const macText = macEl?.text;
    if (value === undefined || macText === undefined || PskcKeys.containerCipherUri(this.#container) === undefined) return undefined;
    return { name: v.name, path: `${loc.pkg}/${loc.key}/${this.#dataPath(v)}`, cipherUri: undefined, cipherText: value.text, macText, valueElement: 'Value', line: value.line, ...(macEl ? { macLine: macEl.line } : {}), pathLine: v.el.line };
  }

  /** The first encrypted value of a package, if any: the cue to resolve the file's keys. */
  #firstEncrypted(pkg: XmlElement, index: number): EncryptedField | undefined {
    for (const key of this.#keyElements(pkg)) {
      for (const name of ['Secret', 'Counter', 'TimeInterval', 'TimeDrift', 'Time'] as const) {
        const v = this.#dataValue(key, name);
        const enc = v === undefined ? undefined : this.#encrypted(v, { pkg: `${pkg.name}[${index}]`, key: key.name });
        if (enc !== undefined) return enc;
      }
    }
    return undefined;
  }

  /** A value's bytes: PlainValue (Base64), EncryptedValue, or a draft's Value. Reports and returns null on failure. */
  #binary(v: DataValue, loc: KeyLocation): Buffer | null {
    const enc = this.#encrypted(v, loc);
    if (enc !== undefined) {
      if (this.#keys === undefined) throw new Error('an encrypted value before the file keys were prepared');
      const result = this.#keys.decrypt(enc, loc.serial, lineOf(enc, loc.line), this.#problems);
      if (result === 'mac-failed') {
        this.#macFailures++;
        this.#firstMacFailure ??= this.#at(loc, `${this.#dataPath(v)}/ValueMAC`, 'ValueMAC', child(v.el, 'ValueMAC') ?? child(v.el, 'ValueDigest') ?? v.el);
        return null;
      }
      return result;
    }
    const plain = child(v.el, v.legacy ? 'Value' : 'PlainValue');
    if (plain === undefined) {
      this.#problems.error('pskc-invalid', this.#skips(loc, this.#dataPath(v), v.name, v.el), `${v.name} of token ${loc.serial} has neither a PlainValue nor an EncryptedValue`);
      return null;
    }
    const bytes = decodeBase64(plain.text);
    if (bytes === null) {
      this.#problems.error('secret-invalid', this.#skips(loc, `${this.#dataPath(v)}/${plain.name}`, v.name, plain), `the ${v.name} ${plain.name} of token ${loc.serial} is not valid Base64`);
    }
    return bytes;
  }

  /**
   * Integer Data values: decimal PlainValue (or Base64 of the number's digits or of its big-endian
   * bytes, as the drafts and some vendors write it), or encrypted (digits or big-endian bytes).
   */
  #integer(v: DataValue | undefined, loc: KeyLocation, min: bigint, max: bigint, signed: boolean): bigint | undefined | typeof BAD {
    if (v === undefined) return undefined;
    let n: bigint | null;
    const enc = this.#encrypted(v, loc);
    const plain = enc === undefined ? child(v.el, v.legacy ? 'Value' : 'PlainValue') : undefined;
    if (plain !== undefined) {
      n = plainInteger(plain.text, signed);
    } else {
      const bytes = this.#binary(v, loc);
      if (bytes === null) return BAD;
      n = binaryInteger(bytes, signed);
      bytes.fill(0);
    }
    const where = this.#skips(loc, this.#dataPath(v), v.name, plain ?? v.el);
    if (n === null) {
      // Never quoted: whatever stands there is not a number, and could be anything (a seed, even).
      const why =
        plain !== undefined
          ? `the ${v.name} ${plain.name} of token ${loc.serial} is not a whole number: it must be decimal digits (RFC 6030), or Base64 (padded) of the number's digits or of its big-endian bytes`
          : `the decrypted ${v.name} of token ${loc.serial} is neither decimal digits nor a big-endian number of up to 8 bytes`;
      this.#problems.error('value-invalid', where, `${why}; the key is left out`);
      return BAD;
    }
    if (n < min || n > max) {
      this.#problems.error('value-invalid', where, `${v.name} of token ${loc.serial} must be a whole number from ${min} to ${max}${v.name === 'TimeInterval' ? ' (seconds)' : ''}`);
      return BAD;
    }
    return n;
  }
}
