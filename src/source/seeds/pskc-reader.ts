import type { OathAlgorithm, OathSeed, OathType } from '../../model/export-data.js';
import { ProblemList, type Problem, type ProblemCode, type Where } from '../../model/problem.js';
import { DIGITS_MAX, DIGITS_MIN, PERIOD_MAX, parseInteger, parseOathAlgorithm } from './oath-parameters.js';
import { warnIfShortSecret } from './oath-seed.js';
import { PskcFatal, PskcKeys } from './pskc-keys.js';
import { attr, child, DEFAULT_PSKC_LIMITS, ownString, streamPskc, PskcStreamError, StringPool, type PskcRoot, type XmlElement } from './pskc-xml-stream.js';
import type { PskcMacMode } from './pskc-mac-mode.js';
import type { SeedReadOptions } from './read-seed-files.js';
import { decodeBase64 } from './secret-encoding.js';
import type { SeedSink } from './seed-sink.js';

/**
 * Reads an RFC 6030 PSKC file into OathSeeds: HOTP and TOTP keys, plain or encrypted (pre-shared
 * key or PBKDF2 password), with ValueMACs checked according to `pskcMac`.
 *
 * This is the hot path for 100k-token files: per key it does a handful of child lookups and one
 * hash; element paths for problems are built only when a problem is reported.
 */

export const DEFAULT_MAX_XML_BYTES = 256 * 1024 * 1024;

type OathKeyKind = OathType | 'other';

const HOTP_URI = 'urn:ietf:params:xml:ns:keyprov:pskc:hotp';
const TOTP_URI = 'urn:ietf:params:xml:ns:keyprov:pskc:totp';
const kindCache = new Map<string, OathKeyKind>();

/** `urn:ietf:params:xml:ns:keyprov:pskc:hotp`, `...pskc#totp`, draft `http://www.ietf.org/keyprov/pskc#hotp`. */
function keyKind(algorithm: string): OathKeyKind {
  if (algorithm === HOTP_URI) return 'hotp';
  if (algorithm === TOTP_URI) return 'totp';
  let kind = kindCache.get(algorithm);
  if (kind === undefined) {
    const s = algorithm.trim().toLowerCase();
    kind = /[:#/]hotp$/.test(s) ? 'hotp' : /[:#/]totp$/.test(s) ? 'totp' : 'other';
    if (kindCache.size < 100) kindCache.set(ownString(algorithm), kind);
  }
  return kind;
}

/** An integer Data element (Counter, Time, TimeInterval, TimeDrift) that could not be read. */
const BAD = Symbol('bad');

/** Where a key is: its KeyPackage (line, 1-based index) and the token serial once known. */
interface KeyLocation {
  line: number;
  index: number;
  serial: string;
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
  #keys: PskcKeys | undefined;
  #encryptionKeyEl: XmlElement | undefined;
  #macMethodEl: XmlElement | undefined;
  #packages = 0;
  #macFailures = 0;

  constructor(display: string, opts: SeedReadOptions, sink: SeedSink) {
    this.#sink = sink;
    this.#display = display;
    this.#opts = opts;
    this.#macMode = opts.pskcMac ?? 'fail';
  }

  async read(path: string, maxBytes: number, problems: ProblemList): Promise<void> {
    try {
      await streamPskc(path, maxBytes, { root: (r) => this.#root(r), element: (el) => this.#element(el) }, { ...DEFAULT_PSKC_LIMITS, ...this.#opts.pskcLimits });
    } catch (err) {
      if (err instanceof PskcStreamError) {
        const code: ProblemCode = err.kind === 'unsafe' ? 'pskc-unsafe' : err.kind === 'not-pskc' ? 'seed-format-unknown' : 'pskc-invalid';
        return this.#refuse(problems, { severity: 'error', code, ...this.#where(err.line), message: `${err.message}; the file is refused` });
      }
      if (err instanceof PskcFatal) return this.#refuse(problems, { severity: 'error', ...err.problem });
      const errno = err as NodeJS.ErrnoException;
      if (err instanceof Error && typeof errno.code === 'string' && errno.syscall !== undefined) {
        return this.#refuse(problems, { severity: 'error', code: 'file-unreadable', file: this.#display, message: `cannot read the seed file (${errno.code})` });
      }
      throw err;
    }
    if (this.#packages === 0) this.#problems.error('pskc-invalid', this.#where(), 'the KeyContainer holds no KeyPackage');
    if ((this.#macMode === 'fail' || this.#macMode === 'allow-unprotected') && this.#macFailures > 0) {
      return this.#refuse(problems, {
        severity: 'error',
        code: 'pskc-mac',
        file: this.#display,
        message: `${this.#macFailures} ValueMAC check(s) failed, so the whole file is refused (--pskc-mac ${this.#macMode}). The file may have been altered; if you trust it, --pskc-mac skip reads the other keys`,
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

  #root(root: PskcRoot): void {
    const version = root.attrs.Version;
    if (version !== undefined && !/^1(\.\d+)?$/.test(version.trim())) {
      throw new PskcStreamError('invalid', `KeyContainer Version "${version}" is not supported (expected 1.0)`, root.line);
    }
  }

  #element(el: XmlElement): Promise<void> | void {
    if (!el.inPskc) return;
    if (el.name === 'KeyPackage') {
      const index = ++this.#packages;
      if (this.#keys === undefined) {
        const enc = firstEncryptedValue(el);
        if (enc !== undefined) {
          // The first encrypted value: resolve the keys once (PBKDF2 is async), then read on.
          const keys = new PskcKeys(this.#display, this.#opts, this.#encryptionKeyEl, this.#macMethodEl, this.#macMode);
          this.#keys = keys;
          return keys.prepare(enc, el.line).then(() => this.#package(el, index));
        }
      }
      this.#package(el, index);
    } else if (el.name === 'EncryptionKey') {
      this.#encryptionKeyEl = el;
    } else if (el.name === 'MACMethod') {
      this.#macMethodEl = el;
    }
  }

  #package(pkg: XmlElement, index: number): void {
    let keys = 0;
    for (const c of pkg.children) {
      if (c.name === 'Key' && c.inPskc) {
        keys++;
        this.#key(c, pkg, index);
      }
    }
    if (keys === 0) this.#problems.warning('pskc-invalid', this.#where(pkg.line, `KeyPackage[${index}]`), 'KeyPackage has no Key: nothing to read from it');
  }

  #key(key: XmlElement, pkg: XmlElement, index: number): void {
    const line = pkg.line;
    const deviceInfo = child(pkg, 'DeviceInfo');
    const serial = ownString((child(deviceInfo, 'SerialNo')?.text ?? '').trim() || (attr(key, 'Id') ?? '').trim());
    const loc: KeyLocation = { line, index, serial };
    const algorithmUri = attr(key, 'Algorithm');
    if (algorithmUri === undefined || algorithmUri.trim() === '') {
      this.#problems.error('pskc-invalid', this.#at(loc, 'Key', 'Algorithm'), `Key${this.#of(loc)} has no Algorithm attribute`);
      return;
    }
    const type = keyKind(algorithmUri);
    if (type === 'other') {
      this.#problems.warning(
        'value-invalid',
        this.#at(loc, 'Key', 'Algorithm'),
        `key algorithm "${algorithmUri.trim()}"${this.#of(loc)} is neither HOTP nor TOTP; the key is left out`,
      );
      return;
    }
    if (!serial) {
      this.#problems.error('pskc-invalid', this.#where(line, `KeyPackage[${index}]/DeviceInfo`, 'SerialNo'), 'KeyPackage has no DeviceInfo/SerialNo and its Key no Id: the token has no serial number');
      return;
    }

    let ok = true;
    const params = child(key, 'AlgorithmParameters');
    let algorithm: OathAlgorithm = 'sha1';
    const suite = child(params, 'Suite')?.text.trim();
    if (suite) {
      const parsed = parseOathAlgorithm(suite);
      if (parsed === null) {
        this.#problems.error('value-invalid', this.#at(loc, 'Key/AlgorithmParameters/Suite', 'Suite'), `Suite "${suite}" of token ${serial} is not SHA1, SHA256 or SHA512`);
        ok = false;
      } else {
        algorithm = parsed;
      }
    }
    let digits = 6;
    const response = child(params, 'ResponseFormat');
    if (response !== undefined) {
      const length = attr(response, 'Length');
      const parsed = length === undefined ? null : parseInteger(length, DIGITS_MIN, DIGITS_MAX);
      if (parsed === null) {
        this.#problems.error(
          'value-invalid',
          this.#at(loc, 'Key/AlgorithmParameters/ResponseFormat', 'Length'),
          `ResponseFormat Length of token ${serial} must be a whole number from ${DIGITS_MIN} to ${DIGITS_MAX}`,
        );
        ok = false;
      } else {
        digits = parsed;
      }
      const encoding = attr(response, 'Encoding');
      if (encoding !== undefined && encoding.trim().toUpperCase() !== 'DECIMAL') {
        this.#problems.error('value-invalid', this.#at(loc, 'Key/AlgorithmParameters/ResponseFormat', 'Encoding'), `ResponseFormat Encoding "${encoding}" of token ${serial} is not DECIMAL`);
        ok = false;
      }
    }

    const data = child(key, 'Data');
    const secretEl = child(data, 'Secret');
    if (data === undefined || secretEl === undefined) {
      this.#problems.error('pskc-invalid', this.#at(loc, 'Key/Data', 'Secret'), `Key of token ${serial} has no Data/Secret`);
      return;
    }
    const secret = this.#binary(secretEl, loc);
    const counter = this.#integer(child(data, 'Counter'), loc, 0, Number.MAX_SAFE_INTEGER, false);
    const interval = this.#integer(child(data, 'TimeInterval'), loc, 1, PERIOD_MAX, false);
    const drift = this.#integer(child(data, 'TimeDrift'), loc, -1_000_000, 1_000_000, true);
    const time = this.#integer(child(data, 'Time'), loc, 0, Number.MAX_SAFE_INTEGER, false);
    if (secret !== null && secret.length === 0) {
      this.#problems.error('secret-invalid', this.#at(loc, 'Key/Data/Secret', 'Secret'), `the secret of token ${serial} is empty`);
      return;
    }
    if (secret === null || counter === BAD || interval === BAD || drift === BAD || time === BAD || !ok) {
      secret?.fill(0);
      return;
    }
    if (type === 'hotp' && counter === undefined) {
      this.#problems.warning('value-invalid', this.#at(loc, 'Key/Data', 'Counter'), `HOTP token ${serial} has no Counter; 0 is assumed (the token may need a resync)`);
    }
    if (type === 'totp' && time !== undefined && time !== 0) {
      this.#problems.warning('value-invalid', this.#at(loc, 'Key/Data/Time', 'Time'), `TOTP token ${serial} has Time ${time}; codes are computed from the Unix epoch (T0 = 0)`);
    }
    const user = (child(key, 'UserId')?.text ?? child(deviceInfo, 'UserId')?.text ?? '').trim();
    warnIfShortSecret(serial, secret.length, this.#problems, () => this.#at(loc, 'Key/Data/Secret'));
    this.#sink.addRead(
      {
        serial,
        type,
        algorithm,
        digits,
        period: type === 'totp' ? (interval ?? 30) : null,
        counter: type === 'hotp' ? (counter ?? 0) : null,
        timeDrift: drift,
        manufacturer: this.#pool.get(child(deviceInfo, 'Manufacturer')?.text.trim() ?? ''),
        model: this.#pool.get(child(deviceInfo, 'Model')?.text.trim() ?? ''),
        user: ownString(user),
        source: this.#display,
        line,
      },
      secret,
    );
  }

  /** " (token S)" when the serial is known. */
  #of(loc: KeyLocation): string {
    return loc.serial ? ` (token ${loc.serial})` : '';
  }

  #at(loc: KeyLocation, sub: string, field?: string): Where {
    return this.#where(loc.line, `KeyPackage[${loc.index}]/${sub}`, field);
  }

  /** A Data child's bytes: PlainValue (Base64) or EncryptedValue. Reports and returns null on failure. */
  #binary(el: XmlElement, loc: KeyLocation): Buffer | null {
    const plain = child(el, 'PlainValue');
    if (plain !== undefined) {
      const bytes = decodeBase64(plain.text);
      if (bytes === null) {
        this.#problems.error('secret-invalid', this.#at(loc, `Key/Data/${el.name}/PlainValue`, el.name), `the ${el.name} PlainValue of token ${loc.serial} is not valid Base64`);
      }
      return bytes;
    }
    const enc = child(el, 'EncryptedValue');
    if (enc === undefined || this.#keys === undefined) {
      this.#problems.error('pskc-invalid', this.#at(loc, `Key/Data/${el.name}`, el.name), `${el.name} of token ${loc.serial} has neither a PlainValue nor an EncryptedValue`);
      return null;
    }
    const result = this.#keys.decryptValue(el, enc, loc.serial, loc.line, `KeyPackage[${loc.index}]/Key/Data/${el.name}`, this.#problems);
    if (result === 'mac-failed') {
      this.#macFailures++;
      return null;
    }
    return result;
  }

  /** Integer Data elements: decimal PlainValue, or an EncryptedValue holding a big-endian integer. */
  #integer(el: XmlElement | undefined, loc: KeyLocation, min: number, max: number, signed: boolean): number | undefined | typeof BAD {
    if (el === undefined) return undefined;
    let n: number | null;
    const plain = child(el, 'PlainValue');
    if (plain !== undefined) {
      n = parseInteger(plain.text, min, max);
    } else {
      const bytes = this.#binary(el, loc);
      if (bytes === null) return BAD;
      n = bigEndianInteger(bytes, signed, min, max);
    }
    if (n === null) {
      this.#problems.error('value-invalid', this.#at(loc, `Key/Data/${el.name}`, el.name), `${el.name} of token ${loc.serial} must be a whole number from ${min} to ${max}`);
      return BAD;
    }
    return n;
  }
}

/** The first EncryptedValue of a KeyPackage, if any: the cue to resolve the file's keys. */
function firstEncryptedValue(pkg: XmlElement): XmlElement | undefined {
  for (const key of pkg.children) {
    if (key.name !== 'Key') continue;
    const data = child(key, 'Data');
    if (data === undefined) continue;
    for (const d of data.children) {
      const enc = child(d, 'EncryptedValue');
      if (enc !== undefined) return enc;
    }
  }
  return undefined;
}

/** Encrypted integers are big-endian (python-pskc and vendors write 8 bytes); negative drifts as two's complement. */
function bigEndianInteger(bytes: Buffer, signed: boolean, min: number, max: number): number | null {
  if (bytes.length === 0 || bytes.length > 8) return null;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (signed && (bytes[0]! & 0x80) !== 0) v -= 1n << BigInt(bytes.length * 8);
  bytes.fill(0);
  return v >= BigInt(min) && v <= BigInt(max) ? Number(v) : null;
}
