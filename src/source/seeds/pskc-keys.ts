import { addTo } from '../../model/add-to.js';
import type { Problem, ProblemCode, ProblemList, Where } from '../../model/problem.js';
import { parseInteger } from './oath-parameters.js';
import { algorithmName, decryptValue, derivePbkdf2, hmacHash, isNoCipher, pbeKeyLength, SUPPORTED_CIPHER_LABELS, valueCipher, valueMacMatches, type ValueCipher } from './pskc-crypto.js';
import type { PskcMacMode } from './pskc-mac-mode.js';
import type { PskcKeyOption, PskcPasswordOption } from './pskc-credentials.js';
import { attr, child, childAny, type XmlElement } from './pskc-xml-stream.js';
import type { SeedReadOptions } from './read-seed-files.js';
import { decodeBase64 } from './secret-encoding.js';
import { shownValue } from '../../model/shown-value.js';

/** A problem that makes the whole file unreadable (no key, wrong key, unsupported cipher). */
export class PskcFatal extends Error {
  constructor(readonly problem: Omit<Problem, 'severity'>) {
    super(problem.message);
    this.name = 'PskcFatal';
  }
}

/** Where a problem of the file's keys is: the line, element path and element, as far as known. */
interface Place {
  line?: number;
  path?: string;
  field?: string;
}

/** An element's place: its path below the KeyContainer, its name, and its line when the stream kept it. */
function placeOf(el: XmlElement | undefined, path: string): Place {
  const place: Place = { path, field: path.slice(path.lastIndexOf('/') + 1) };
  if (el !== undefined && el.line > 0) place.line = el.line;
  return place;
}

/** Iteration counts above this are refused: a hostile file could otherwise stall the run for hours. */
const MAX_PBKDF2_ITERATIONS = 10_000_000;

interface ResolvedKey {
  key: Buffer;
  kind: 'key' | 'password';
  /** How the admin supplied it, for messages: `pre-shared key (--pskc-key-file)`, or with its file when several were given. */
  source: string;
  /** The file it came from, when several were given. */
  file?: string;
}

/** The MAC algorithm and key of a file; `fromMacKey` when the key is RFC 6030's MACKey, decrypted under the file key. */
interface MacKey {
  hash: string | undefined;
  key: Buffer;
  declared: boolean;
  fromMacKey: boolean;
}

/**
 * What shows a candidate key (of several given) is the file's, strongest first: its first value's
 * ValueMAC verifies; a key wrap's own integrity check passes, or the MACKey decrypts with valid
 * padding; the first value decrypts with valid CBC padding (which a wrong key passes about once in
 * 256 times: no evidence at all).
 */
const EVIDENCE = ['mac', 'integrity', 'padding'] as const;
type Evidence = (typeof EVIDENCE)[number];

/**
 * What the KeyContainer says about protection, RFC 6030's way (EncryptionKey, MACMethod) or the
 * drafts' (a container-level EncryptionMethod with its IV or PBE salt, DigestMethod, MACAlgorithm).
 */
export interface PskcContainerProtection {
  encryptionKey?: XmlElement;
  encryptionMethod?: XmlElement;
  macMethod?: XmlElement;
  digestMethod?: XmlElement;
  macAlgorithm?: XmlElement;
}

/** One encrypted value of a key, wherever the dialect puts it. */
export interface EncryptedField {
  /** The value's name in messages and problem fields: Secret, Counter, ... */
  name: string;
  /** Its element path in problems (without the EncryptedValue / ValueMAC step). */
  path: string;
  /** The value's own EncryptionMethod algorithm (EncryptionScheme inside it wins); else the container's applies. */
  cipherUri: string | undefined;
  /** Base64 ciphertext. */
  cipherText: string | undefined;
  /** Base64 ValueMAC (the drafts: ValueDigest), when there is one. */
  macText: string | undefined;
  /** Where the ciphertext sits, for messages: `EncryptedValue` or the drafts' `Value`. */
  valueElement: 'EncryptedValue' | 'Value';
  /** That element's line (0 when not known): a problem of the value names it, not its KeyPackage's. */
  line: number;
  /** The ValueMAC's (or ValueDigest's) line, when there is one: a MAC that fails is placed there. */
  macLine?: number;
  /** Its own EncryptionMethod's line, when it has one: a cipher refused is placed there. */
  methodLine?: number;
  /** The value's own element's line (`path`'s: Secret, Counter...): a ValueMAC missing is placed there. */
  pathLine?: number;
}

/**
 * The encryption and MAC keys of one PSKC file, resolved once (PBKDF2 runs once per file, not per
 * key), and the decryption + ValueMAC check of each encrypted value.
 *
 * A wrong key or password is told apart from a tampered value: the MACKey is itself encrypted, so
 * a key that decrypts it with valid padding is the right one (a wrong key passes PKCS #7 with odds of
 * about 2^-96 for a 20-byte MAC key). Until some value has decrypted under the key, a padding (or key
 * wrap integrity) failure means a wrong key, reported once for the file; after that a damaged value.
 */
export class PskcKeys {
  #key: ResolvedKey | undefined;
  /** null: the file declares no MAC algorithm (and, for the drafts, none is implied). */
  #mac: MacKey | null | undefined;
  #keyConfirmed = false;
  #unprotected = 0;
  /** Where the first value nothing protects is, for the file's one problem about them. */
  #firstUnprotected: Where | undefined;
  /** Where the file's first encrypted value is: what a problem of the key is placed at when the file has no EncryptionKey. */
  #firstValue: Place = {};
  /** A PBKDF2 key's length: the file's KeyLength (its place) or, without one, the first value's cipher's. */
  #derivedLength: { bytes: number; keyLength?: Place } | undefined;
  /** The drafts' container-level IV (the CipherValues then hold no IV). */
  readonly #iv: Buffer | undefined;

  constructor(
    private readonly file: string,
    private readonly opts: SeedReadOptions,
    private readonly container: PskcContainerProtection,
    private readonly macMode: PskcMacMode,
    /** A pre-RFC file: a ValueMAC without a declared algorithm is HMAC-SHA1 with the encryption key, the drafts' only MAC. */
    private readonly draft = false,
  ) {
    const ivText = childAny(container.encryptionMethod ?? container.encryptionKey, 'IV')?.text;
    this.#iv = ivText === undefined ? undefined : (decodeBase64(ivText.trim()) ?? undefined);
  }

  /** The cipher of the drafts' container-level EncryptionMethod; undefined when it says NONE or is absent. */
  static containerCipherUri(container: PskcContainerProtection): string | undefined {
    const method = container.encryptionMethod;
    const uri = attr(method, 'Algorithm') ?? attr(method, 'algorithm');
    return isNoCipher(uri) ? undefined : uri;
  }

  /**
   * Resolves the encryption key (PBKDF2 runs here, once per file) and the MAC key, given the first
   * encrypted value of the file. Throws PskcFatal when the file cannot be decrypted at all.
   */
  async prepare(first: EncryptedField, line: number): Promise<void> {
    this.#firstValue = { line, path: `${first.path}/${first.valueElement}`, field: first.name };
    const uri = this.#cipherUri(first);
    const cipher = uri ? this.#cipher(uri, this.#methodPlace(first, line)) : undefined;
    const candidates = await this.#resolveKeys(cipher);
    const key = candidates.length === 1 ? candidates[0]! : this.#choose(candidates, first, cipher);
    this.#key = key;
    const mac = this.#macKeyFor(key, false);
    if (mac === 'wrong-key') throw this.#wrongKey(key);
    this.#mac = mac;
    if (mac?.fromMacKey) this.#keyConfirmed = true;
  }

  /**
   * The file's key among several given (a vendor sends one per shipment): the one whose evidence on
   * the file's first value is strongest (EVIDENCE), when no other key's is as strong; a tie is
   * refused rather than guessed at, and so is a file no key decrypts. A file whose values no MAC
   * protects (read only under allow-unprotected or off) gets the one key that decrypts its first value
   * with valid padding, the check a single key given gets too; two that do are a tie.
   */
  #choose(candidates: ResolvedKey[], first: EncryptedField, cipher: ValueCipher | undefined): ResolvedKey {
    const place = this.#keyPlace();
    const kind = candidates[0]!.kind;
    const given = `${candidates.length} ${kind === 'key' ? 'pre-shared keys (--pskc-key-file' : 'passwords (--pskc-password-file'} ${fileNames(candidates)})`;
    const data = first.cipherText === undefined ? null : decodeBase64(first.cipherText);
    if (cipher === undefined || data === null || data.length === 0) {
      throw this.#fatal('pskc-invalid', `the file's first encrypted value (${first.path}) has no cipher or no valid ciphertext, so none of the ${given} can be tried on it`, this.#firstValue);
    }
    const fitting = candidates.filter((c) => cipher.keyLengths.includes(c.key.length));
    if (fitting.length === 0) {
      throw this.#fatal('pskc-decrypt', `none of the ${given} is ${cipher.keyLengths.join(' or ')} bytes, as the file's cipher (${cipher.label}) needs`, place);
    }
    if (fitting.length === 1) return fitting[0]!;
    const found = new Map<Evidence, ResolvedKey[]>();
    for (const c of fitting) {
      const evidence = this.#evidence(c, first, cipher, data);
      if (evidence !== undefined) addTo(found, evidence, c);
    }
    const best = EVIDENCE.find((e) => found.has(e));
    if (best === undefined) throw this.#fatal('pskc-decrypt', `cannot decrypt the file with any of the ${given}: is its own among them? Nothing was read from the file`, place);
    const keys = found.get(best)!;
    if (keys.length === 1) return keys[0]!;
    const why =
      best === 'padding'
        ? `${first.macText === undefined ? 'its values carry no ValueMAC' : 'its first ValueMAC verifies under none of them'}, while a wrong ${kind} decrypts a value with valid padding about once in 256 times`
        : 'nothing in the file tells them apart';
    const which = keys.length === candidates.length ? `each of the ${given} decrypts the file` : `${keys.length} of the ${given} decrypt the file (${fileNames(keys)})`;
    throw this.#fatal('pskc-decrypt', `${which}, and ${why}: which is its own is not guessed, and nothing was read from the file. Read it in a run with its own ${kind} alone`, place);
  }

  /** How strongly the file's first value shows `c` to be its key; undefined when it does not decrypt. */
  #evidence(c: ResolvedKey, first: EncryptedField, cipher: ValueCipher, data: Buffer): Evidence | undefined {
    const mac = this.#macKeyFor(c, true);
    if (mac === 'wrong-key') return undefined;
    const result = decryptValue(cipher, c.key, data, cipher.kind === 'cbc' ? this.#iv : undefined);
    try {
      const expected = first.macText === undefined ? null : decodeBase64(first.macText);
      if (mac !== null && mac.hash !== undefined && expected !== null && expected.length > 0 && valueMacMatches(mac.hash, mac.key, expected, data, result.ok ? result.plain : undefined)) return 'mac';
      if (!result.ok) return undefined;
      if (cipher.kind !== 'cbc' || mac?.fromMacKey) return 'integrity';
      return 'padding';
    } finally {
      if (result.ok) result.plain.fill(0);
      if (mac !== null && mac.fromMacKey) mac.key.fill(0);
    }
  }

  /**
   * Decrypts one value and checks its ValueMAC.
   * Returns null after reporting a damaged value, 'mac-failed' after reporting a MAC failure.
   */
  decrypt(field: EncryptedField, serial: string, line: number, problems: ProblemList): Buffer | null | 'mac-failed' {
    const what = `${field.name} of token ${serial}`;
    // A value that does not decrypt or verify leaves its key out: the serial goes with the problem (Problem.serial).
    const where: Where = { file: this.file, path: `${field.path}/${field.valueElement}`, field: field.name, serial };
    if (line > 0) where.line = line;
    const methodUri = this.#cipherUri(field);
    if (!methodUri) {
      problems.error('pskc-invalid', where, `the ${field.valueElement} of ${what} has no EncryptionMethod Algorithm`);
      return null;
    }
    const cipher = this.#cipher(methodUri, this.#methodPlace(field, line));
    const data = field.cipherText === undefined ? null : decodeBase64(field.cipherText);
    if (data === null || data.length === 0) {
      problems.error('pskc-invalid', where, `the ${field.valueElement} of ${what} has no valid Base64 ${field.valueElement === 'Value' ? 'Value' : 'CipherData/CipherValue'}`);
      return null;
    }
    const resolved = this.#keyFor(cipher);
    const result = decryptValue(cipher, resolved.key, data, cipher.kind === 'cbc' ? this.#iv : undefined);
    if (!result.ok) {
      if (result.reason === 'length') {
        const shape = cipher.kind === 'cbc' ? (this.#iv ? 'whole cipher blocks' : 'an IV followed by whole cipher blocks') : 'a whole number of 8-byte blocks';
        problems.error('pskc-invalid', where, `the ciphertext of ${what} is not ${shape}`);
        return null;
      }
      if (!this.#keyConfirmed) throw this.#wrongKey(resolved);
      // The key is right (other values decrypted): a value that fails its MAC too was altered.
      const failure = this.macMode === 'off' ? undefined : this.#macFailure(field, cipher, data, undefined);
      if (failure !== undefined) return this.#macFailed(what, `${failure}, and it does not decrypt: the value was altered`, where, field, problems);
      problems.error('pskc-decrypt', where, `${what} does not decrypt (${cipher.kind === 'cbc' ? 'bad padding' : 'the key wrap integrity check fails'}) although other values in the file do: the value is damaged`);
      return null;
    }
    if (this.macMode !== 'off') {
      const unprotected = this.#unprotected;
      const failure = this.#macFailure(field, cipher, data, result.plain);
      // The ValueMAC missing: placed at its value's element, as a missing element is.
      if (unprotected === 0 && this.#unprotected > 0) this.#firstUnprotected = { ...where, ...(field.pathLine ? { line: field.pathLine } : {}), path: field.path, field: 'ValueMAC' };
      if (failure !== undefined) {
        result.plain.fill(0);
        return this.#macFailed(what, failure, where, field, problems);
      }
    }
    this.#keyConfirmed = true;
    return result.plain;
  }

  /**
   * Encrypted values that nothing protects (no MAC algorithm, no ValueMAC, not a key wrap): AES-CBC
   * does not notice a changed byte (a flipped IV byte silently changes the seed). Under
   * allow-unprotected they are read with one warning for the file; under fail and skip they refuse it
   * (the problem returned is the refusal); under off nothing is counted.
   */
  unprotectedProblem(): Problem | undefined {
    const n = this.#unprotected;
    if (n === 0) return undefined;
    const what = `${n} encrypted value(s) carry no ValueMAC and the file declares no MACMethod: nothing shows whether they were altered`;
    // Placed at the first such value (the file's MACMethod is what is missing, and has no place).
    const at = { ...this.#firstUnprotected, file: this.file };
    if (this.macMode === 'allow-unprotected') return { severity: 'warning', code: 'pskc-mac', ...at, message: `${what} (read under --pskc-mac allow-unprotected)` };
    return {
      severity: 'error',
      code: 'pskc-mac',
      ...at,
      message: `${what}, so the whole file is refused (--pskc-mac ${this.macMode}). Ask the vendor for a file with ValueMACs; if you trust this one, --pskc-mac allow-unprotected reads it`,
    };
  }

  #cipherUri(field: EncryptedField): string | undefined {
    return field.cipherUri ?? PskcKeys.containerCipherUri(this.container);
  }

  #macFailed(what: string, failure: string, where: Where, field: EncryptedField, problems: ProblemList): 'mac-failed' {
    const consequence = this.macMode === 'skip' ? 'the key is left out (--pskc-mac skip)' : 'the file is refused';
    problems.error('pskc-mac', { ...where, ...(field.macLine ? { line: field.macLine } : {}), path: `${field.path}/ValueMAC`, field: 'ValueMAC' }, `${what}: ${failure}; ${consequence}`);
    return 'mac-failed';
  }

  /** Why the value's MAC does not verify, or undefined when it does (or when nothing asks for one). */
  #macFailure(field: EncryptedField, cipher: ValueCipher, data: Buffer, plain: Buffer | undefined): string | undefined {
    const mac = this.#mac;
    const wrapped = cipher.kind !== 'cbc'; // a key wrap checks its own integrity
    if (mac === null || mac === undefined) {
      if (field.macText === undefined) {
        if (plain !== undefined && !wrapped) this.#unprotected++;
        return undefined;
      }
      return 'it has a ValueMAC but the file has no MACMethod to check it with';
    }
    if (field.macText === undefined) {
      if (!mac.declared) {
        if (plain !== undefined && !wrapped) this.#unprotected++;
        return undefined;
      }
      return wrapped ? undefined : 'it has no ValueMAC although the file declares a MACMethod';
    }
    const expected = decodeBase64(field.macText);
    if (expected === null || expected.length === 0) return 'its ValueMAC is not valid Base64';
    if (!valueMacMatches(mac.hash!, mac.key, expected, data, plain)) {
      return plain === undefined ? 'its ValueMAC does not match' : 'its ValueMAC does not match (checked over IV+ciphertext and over the plaintext)';
    }
    return undefined;
  }

  #cipher(uri: string, place: Place): ValueCipher {
    const cipher = valueCipher(uri);
    if (cipher === undefined) {
      throw this.#fatal(
        'pskc-decrypt',
        `encryption algorithm ${shownValue(uri)} is not supported (supported: ${SUPPORTED_CIPHER_LABELS.join(', ')}); ask the vendor for a file in one of those`,
        place,
      );
    }
    return cipher;
  }

  /** Where a value's cipher is named: its own EncryptionMethod (at its line, else its EncryptedValue's), else the container's (the drafts). */
  #methodPlace(field: EncryptedField, line: number): Place {
    if (field.cipherUri !== undefined) return { line: field.methodLine || line, path: `${field.path}/${field.valueElement}/EncryptionMethod`, field: 'EncryptionMethod' };
    return placeOf(this.container.encryptionMethod, 'EncryptionMethod');
  }

  #keyFor(cipher: ValueCipher): ResolvedKey {
    const resolved = this.#key;
    if (resolved === undefined) throw new Error('PskcKeys.prepare() was not awaited before decrypt()');
    if (!cipher.keyLengths.includes(resolved.key.length)) {
      const needs = `${cipher.label} needs a ${cipher.keyLengths.join(' or ')}-byte key`;
      const derived = this.#derivedLength;
      if (resolved.kind === 'password' && derived !== undefined) {
        // The length is the file's doing (its KeyLength, or the first value's cipher), not the password's.
        const keyLength = derived.keyLength;
        if (keyLength !== undefined) throw this.#fatal('pskc-invalid', `${keyLengthSays(keyLength, derived.bytes)}, but the cipher ${needs}: the file's key derivation is wrong, not the password; ask the vendor for a corrected file`, keyLength);
        throw this.#fatal('pskc-invalid', `the file's PBKDF2 parameters give no KeyLength, so the key is derived ${derived.bytes} bytes long for the cipher of its first value, but another value's cipher (${needs}); ask the vendor for a file with a KeyLength`, this.#keyPlace());
      }
      throw this.#fatal('pskc-decrypt', `the ${resolved.source} is ${resolved.key.length} bytes but the file's cipher (${cipher.label}) needs a ${cipher.keyLengths.join(' or ')}-byte key`, this.#keyPlace());
    }
    return resolved;
  }

  /**
   * Where a problem of the file key is: the EncryptionKey (the drafts: the container's EncryptionMethod),
   * else the first encrypted value (a file that says nothing of its key).
   */
  #keyPlace(): Place {
    const { encryptionKey, encryptionMethod } = this.container;
    if (encryptionKey !== undefined) return placeOf(encryptionKey, 'EncryptionKey');
    if (encryptionMethod !== undefined) return placeOf(encryptionMethod, 'EncryptionMethod');
    return this.#firstValue;
  }

  /** The candidate file keys: derived from the passwords given (PBKDF2, or the drafts' PBE), else the pre-shared keys given. */
  async #resolveKeys(cipher: ValueCipher | undefined): Promise<ResolvedKey[]> {
    const ek = this.container.encryptionKey;
    const derived = childAny(ek, 'DerivedKey');
    if (derived !== undefined) return this.#pbkdf2Keys(derived, cipher);
    // The drafts: a password-based cipher named on the container's EncryptionMethod, its salt and
    // iteration count beside it (PBKDF2 with HMAC-SHA1, the key as long as the cipher's).
    const method = this.container.encryptionMethod;
    const methodUri = PskcKeys.containerCipherUri(this.container);
    if (method !== undefined && methodUri !== undefined && (algorithmName(methodUri).startsWith('pbe') || childAny(method, 'PBESalt') !== undefined)) return this.#pbeKeys(method, methodUri);
    return this.#preSharedKeys(ek);
  }

  /** The keys an EncryptionKey's DerivedKey derives from the passwords given: PBKDF2 alone, its parameters placed where the file has them. */
  #pbkdf2Keys(derived: XmlElement, cipher: ValueCipher | undefined): Promise<ResolvedKey[]> {
    const derivedPath = `EncryptionKey/${derived.name}`;
    const passwords = this.#passwords(placeOf(derived, derivedPath));
    const method = childAny(derived, 'KeyDerivationMethod');
    const methodPath = `${derivedPath}/KeyDerivationMethod`;
    const uri = attr(method, 'Algorithm') ?? '';
    if (algorithmName(uri) !== 'pbkdf2') {
      throw this.#fatal('pskc-decrypt', `key derivation ${shownValue(uri)} is not supported (only PBKDF2)`, method === undefined ? placeOf(derived, derivedPath) : placeOf(method, methodPath));
    }
    const params = childAny(method, 'PBKDF2-params');
    const paramsPath = `${methodPath}/PBKDF2-params`;
    // A parameter that is missing is placed at its parent, the nearest element there is.
    const param = (name: string, parent = params, parentPath = paramsPath): Place => {
      const el = childAny(parent, name);
      return el !== undefined ? placeOf(el, `${parentPath}/${name}`) : { ...placeOf(parent ?? method, parent === undefined ? methodPath : parentPath), field: name };
    };
    const saltEl = childAny(params, 'Salt');
    const salt = this.#salt(childAny(saltEl, 'Specified')?.text, saltEl === undefined ? param('Salt') : param('Specified', saltEl, `${paramsPath}/Salt`));
    const iterations = this.#iterations(childAny(params, 'IterationCount')?.text, param('IterationCount'));
    const lengthText = childAny(params, 'KeyLength')?.text;
    const keyLengthPlace = param('KeyLength');
    const keyLength = lengthText === undefined ? (cipher?.keyLengths[0] ?? 16) : parseInteger(lengthText, 1, 64);
    if (keyLength === null) throw this.#fatal('pskc-invalid', 'PBKDF2 KeyLength must be a whole number from 1 to 64', keyLengthPlace);
    this.#derivedLength = lengthText === undefined ? { bytes: keyLength } : { bytes: keyLength, keyLength: keyLengthPlace };
    // A KeyLength the cipher cannot take is the file's fault, and said so before the password is blamed (or PBKDF2 run).
    if (lengthText !== undefined && cipher !== undefined && !cipher.keyLengths.includes(keyLength)) {
      throw this.#fatal(
        'pskc-invalid',
        `${keyLengthSays(keyLengthPlace, keyLength)}, but its cipher (${cipher.label}) needs a ${cipher.keyLengths.join(' or ')}-byte key: the file's key derivation is wrong, not the password; ask the vendor for a corrected file`,
        keyLengthPlace,
      );
    }
    const prfUri = attr(childAny(params, 'PRF'), 'Algorithm');
    const prf = prfUri === undefined || prfUri.trim() === '' ? 'sha1' : hmacHash(prfUri);
    if (prf === undefined || prf === 'md5') throw this.#fatal('pskc-decrypt', `PBKDF2 PRF ${shownValue(String(prfUri))} is not supported`, param('PRF'));
    return Promise.all(passwords.map(async (p) => ({ ...p, key: await derivePbkdf2(p.password, { salt, iterations, keyLength, prf }) })));
  }

  /** The keys the drafts' password-based cipher on the container's EncryptionMethod derives from the passwords given. */
  #pbeKeys(method: XmlElement, methodUri: string): Promise<ResolvedKey[]> {
    const methodPlace = placeOf(method, 'EncryptionMethod');
    const pbeCipher = this.#cipher(methodUri, methodPlace);
    const passwords = this.#passwords(methodPlace);
    const param = (name: string): Place => {
      const el = childAny(method, name);
      return el !== undefined ? placeOf(el, `EncryptionMethod/${name}`) : { ...methodPlace, field: name };
    };
    const salt = this.#salt(childAny(method, 'PBESalt')?.text, param('PBESalt'));
    const iterations = this.#iterations(childAny(method, 'PBEIterationCount')?.text, param('PBEIterationCount'));
    const keyLength = pbeKeyLength(methodUri, pbeCipher);
    this.#derivedLength = { bytes: keyLength };
    return Promise.all(passwords.map(async (p) => ({ ...p, key: await derivePbkdf2(p.password, { salt, iterations, keyLength, prf: 'sha1' }) })));
  }

  /** The pre-shared keys given (--pskc-key-file), for a file encrypted with one; a file encrypted for a certificate is refused. */
  #preSharedKeys(ek: XmlElement | undefined): ResolvedKey[] {
    if (childAny(ek, 'X509Data') !== undefined || childAny(ek, 'EncryptedKey') !== undefined || childAny(ek, 'KeyValue') !== undefined) {
      throw this.#fatal(
        'pskc-decrypt',
        'the file is encrypted for a certificate (asymmetric key transport), which is not supported: ask the vendor for a file protected by a pre-shared key or a password',
        this.#keyPlace(),
      );
    }
    const keys = givenKeys(this.opts);
    if (keys.length === 0) {
      const name = childAny(ek, 'KeyName')?.text.trim();
      throw this.#fatal('pskc-decrypt', `the file is encrypted with a pre-shared key${name ? ` (KeyName ${shownValue(name)})` : ''}: give it with --pskc-key-file`, this.#keyPlace());
    }
    return keys.map((k) => (keys.length === 1 ? { key: k.key, kind: 'key', source: 'pre-shared key (--pskc-key-file)' } : { key: k.key, kind: 'key', source: `pre-shared key of --pskc-key-file ${fileName(k)}`, file: fileName(k) }));
  }

  /** The passwords given, each with how messages name it. */
  #passwords(place: Place): { password: string; kind: 'password'; source: string; file?: string }[] {
    const passwords = givenPasswords(this.opts);
    if (passwords.length === 0) {
      throw this.#fatal('pskc-decrypt', 'the file is encrypted with a password-derived key (PBKDF2): give the password with --pskc-password-file', place);
    }
    return passwords.map((p) =>
      passwords.length === 1
        ? { password: p.password, kind: 'password', source: 'password (--pskc-password-file)' }
        : { password: p.password, kind: 'password', source: `password of --pskc-password-file ${fileName(p)}`, file: fileName(p) },
    );
  }

  #salt(text: string | undefined, place: Place): Buffer {
    const salt = decodeBase64(text ?? '');
    if (salt === null || salt.length === 0) throw this.#fatal('pskc-invalid', 'incomplete PBKDF2 parameters: no Salt/Specified value', place);
    return salt;
  }

  #iterations(text: string | undefined, place: Place): number {
    const iterations = parseInteger(text ?? '', 1, MAX_PBKDF2_ITERATIONS);
    if (iterations === null) throw this.#fatal('pskc-invalid', `PBKDF2 IterationCount must be a whole number from 1 to ${MAX_PBKDF2_ITERATIONS}`, place);
    return iterations;
  }

  /**
   * The MAC algorithm and key: RFC 6030's MACMethod (its MACKey encrypted under the file key, which
   * decrypting also proves right), or the drafts' DigestMethod / MACAlgorithm, which MAC with the
   * encryption key itself.
   */
  #macKeyFor(resolved: ResolvedKey, trial: boolean): MacKey | null | 'wrong-key' {
    const { macMethod, digestMethod, macAlgorithm } = this.container;
    const declared = macMethod ?? digestMethod;
    const uri = (declared !== undefined ? (attr(declared, 'Algorithm') ?? attr(declared, 'algorithm')) : macAlgorithm?.text)?.trim();
    if (uri === undefined || (declared === undefined && uri === '')) return this.draft ? { hash: 'sha1', key: resolved.key, declared: false, fromMacKey: false } : null;
    const macEl = declared ?? macAlgorithm!;
    const hash = hmacHash(uri);
    if (hash === undefined && this.macMode !== 'off') {
      throw this.#fatal('pskc-mac', `MACMethod algorithm ${shownValue(uri)} is not supported (HMAC-SHA1/224/256/384/512, HMAC-MD5); --pskc-mac off reads the file without checking MACs`, placeOf(macEl, macEl.name));
    }
    const macKeyEl = child(macMethod, 'MACKey');
    if (macKeyEl === undefined) {
      // Older drafts MAC with the encryption key itself.
      return { hash, key: resolved.key, declared: true, fromMacKey: false };
    }
    const macKeyPath = 'MACMethod/MACKey';
    const methodEl = childAny(macKeyEl, 'EncryptionMethod');
    const cipherUri = attr(methodEl, 'Algorithm');
    if (!cipherUri) throw this.#fatal('pskc-invalid', 'MACKey has no EncryptionMethod Algorithm', methodEl === undefined ? placeOf(macKeyEl, macKeyPath) : placeOf(methodEl, `${macKeyPath}/EncryptionMethod`));
    const cipher = this.#cipher(cipherUri, placeOf(methodEl, `${macKeyPath}/EncryptionMethod`));
    const cipherValueEl = childAny(childAny(macKeyEl, 'CipherData'), 'CipherValue');
    const cipherValuePlace = cipherValueEl === undefined ? placeOf(macKeyEl, macKeyPath) : placeOf(cipherValueEl, `${macKeyPath}/CipherData/CipherValue`);
    const data = decodeBase64(cipherValueEl?.text ?? '');
    if (data === null) throw this.#fatal('pskc-invalid', 'MACKey has no valid Base64 CipherData/CipherValue', cipherValuePlace);
    if (trial && !cipher.keyLengths.includes(resolved.key.length)) return 'wrong-key';
    const key = trial ? resolved.key : this.#keyFor(cipher).key;
    const result = decryptValue(cipher, key, data, cipher.kind === 'cbc' ? this.#iv : undefined);
    if (!result.ok) {
      if (result.reason === 'length') throw this.#fatal('pskc-invalid', 'the MACKey CipherValue is not an IV followed by whole cipher blocks', cipherValuePlace);
      return 'wrong-key';
    }
    return { hash, key: result.plain, declared: true, fromMacKey: true };
  }

  #wrongKey(resolved: ResolvedKey): PskcFatal {
    const given = resolved.file !== undefined ? 'the' : 'the given';
    return this.#fatal('pskc-decrypt', `cannot decrypt the file with ${given} ${resolved.source}: wrong ${resolved.kind}? Nothing was read from the file`, this.#keyPlace());
  }

  #fatal(code: ProblemCode, message: string, place: Place): PskcFatal {
    const p: Omit<Problem, 'severity'> = { code, file: this.file, message };
    if (place.line !== undefined && place.line > 0) p.line = place.line;
    if (place.path) p.path = place.path;
    if (place.field) p.field = place.field;
    return new PskcFatal(p);
  }
}

/** "the file's PBKDF2 KeyLength (line 9) is 32 bytes": the fault named, with its line when known. */
function keyLengthSays(place: Place, bytes: number): string {
  return `the file's PBKDF2 KeyLength${place.line !== undefined ? ` (line ${place.line})` : ''} is ${bytes} bytes`;
}

/** The pre-shared keys given (`pskcKey` and `pskcKeys`), each once. */
function givenKeys(opts: SeedReadOptions): PskcKeyOption[] {
  const all = [...(opts.pskcKey ? [{ key: opts.pskcKey }] : []), ...(opts.pskcKeys ?? [])];
  return all.filter((k, i) => all.findIndex((o) => o.key.equals(k.key)) === i);
}

/** The passwords given (`pskcPassword` and `pskcPasswords`), each once. */
function givenPasswords(opts: SeedReadOptions): PskcPasswordOption[] {
  const all = [...(opts.pskcPassword !== undefined ? [{ password: opts.pskcPassword }] : []), ...(opts.pskcPasswords ?? [])];
  return all.filter((p, i) => all.findIndex((o) => o.password === p.password) === i);
}

/** A given key's or password's file, as messages name it (the API may give none: its place then). */
function fileName(given: { file?: string }): string {
  return given.file ?? '(not from a file)';
}

function fileNames(keys: readonly { file?: string }[]): string {
  return keys.map(fileName).join(', ');
}
