import type { Problem, ProblemCode, ProblemList, Where } from '../../model/problem.js';
import { parseInteger } from './oath-parameters.js';
import { algorithmName, decryptValue, derivePbkdf2, hmacHash, isNoCipher, pbeKeyLength, SUPPORTED_CIPHER_LABELS, valueCipher, valueMacMatches, type ValueCipher } from './pskc-crypto.js';
import type { PskcMacMode } from './pskc-mac-mode.js';
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

/** Iteration counts above this are refused: a hostile file could otherwise stall the run for hours. */
const MAX_PBKDF2_ITERATIONS = 10_000_000;

interface ResolvedKey {
  key: Buffer;
  /** How the admin supplied it, for messages. */
  source: 'pre-shared key (--pskc-key-file)' | 'password (--pskc-password-file)';
}

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
  #mac: { hash: string | undefined; key: Buffer; declared: boolean } | null | undefined;
  #keyConfirmed = false;
  #unprotected = 0;
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
    const uri = this.#cipherUri(first);
    const cipher = uri ? this.#cipher(uri, line) : undefined;
    this.#key = await this.#resolveKey(cipher);
    this.#mac = this.#macKey();
  }

  /**
   * Decrypts one value and checks its ValueMAC.
   * Returns null after reporting a damaged value, 'mac-failed' after reporting a MAC failure.
   */
  decrypt(field: EncryptedField, serial: string, line: number, problems: ProblemList): Buffer | null | 'mac-failed' {
    const what = `${field.name} of token ${serial}`;
    const where: Where = { file: this.file, path: `${field.path}/${field.valueElement}`, field: field.name };
    if (line > 0) where.line = line;
    const methodUri = this.#cipherUri(field);
    if (!methodUri) {
      problems.error('pskc-invalid', where, `the ${field.valueElement} of ${what} has no EncryptionMethod Algorithm`);
      return null;
    }
    const cipher = this.#cipher(methodUri, line);
    const data = field.cipherText === undefined ? null : decodeBase64(field.cipherText);
    if (data === null || data.length === 0) {
      problems.error('pskc-invalid', where, `the ${field.valueElement} of ${what} has no valid Base64 ${field.valueElement === 'Value' ? 'Value' : 'CipherData/CipherValue'}`);
      return null;
    }
    const { key, source } = this.#keyFor(cipher);
    const result = decryptValue(cipher, key, data, cipher.kind === 'cbc' ? this.#iv : undefined);
    if (!result.ok) {
      if (result.reason === 'length') {
        const shape = cipher.kind === 'cbc' ? (this.#iv ? 'whole cipher blocks' : 'an IV followed by whole cipher blocks') : 'a whole number of 8-byte blocks';
        problems.error('pskc-invalid', where, `the ciphertext of ${what} is not ${shape}`);
        return null;
      }
      if (!this.#keyConfirmed) throw this.#wrongKey(source);
      // The key is right (other values decrypted): a value that fails its MAC too was altered.
      const failure = this.macMode === 'off' ? undefined : this.#macFailure(field, cipher, data, undefined);
      if (failure !== undefined) return this.#macFailed(what, `${failure}, and it does not decrypt: the value was altered`, where, field.path, problems);
      problems.error('pskc-decrypt', where, `${what} does not decrypt (${cipher.kind === 'cbc' ? 'bad padding' : 'the key wrap integrity check fails'}) although other values in the file do: the value is damaged`);
      return null;
    }
    if (this.macMode !== 'off') {
      const failure = this.#macFailure(field, cipher, data, result.plain);
      if (failure !== undefined) {
        result.plain.fill(0);
        return this.#macFailed(what, failure, where, field.path, problems);
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
    if (this.macMode === 'allow-unprotected') return { severity: 'warning', code: 'pskc-mac', file: this.file, message: `${what} (read under --pskc-mac allow-unprotected)` };
    return {
      severity: 'error',
      code: 'pskc-mac',
      file: this.file,
      message: `${what}, so the whole file is refused (--pskc-mac ${this.macMode}). Ask the vendor for a file with ValueMACs; if you trust this one, --pskc-mac allow-unprotected reads it`,
    };
  }

  #cipherUri(field: EncryptedField): string | undefined {
    return field.cipherUri ?? PskcKeys.containerCipherUri(this.container);
  }

  #macFailed(what: string, failure: string, where: Where, path: string, problems: ProblemList): 'mac-failed' {
    const consequence = this.macMode === 'skip' ? 'the key is left out' : 'the file is refused';
    problems.error('pskc-mac', { ...where, path: `${path}/ValueMAC`, field: 'ValueMAC' }, `${what}: ${failure}; ${consequence}`);
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

  #cipher(uri: string, line: number | undefined): ValueCipher {
    const cipher = valueCipher(uri);
    if (cipher === undefined) {
      throw this.#fatal(
        'pskc-decrypt',
        `encryption algorithm ${shownValue(uri)} is not supported (supported: ${SUPPORTED_CIPHER_LABELS.join(', ')}); ask the vendor for a file in one of those`,
        line,
      );
    }
    return cipher;
  }

  #keyFor(cipher: ValueCipher): ResolvedKey {
    const resolved = this.#key;
    if (resolved === undefined) throw new Error('PskcKeys.prepare() was not awaited before decrypt()');
    if (!cipher.keyLengths.includes(resolved.key.length)) {
      throw this.#fatal(
        'pskc-decrypt',
        `the ${resolved.source} is ${resolved.key.length} bytes but the file's cipher (${cipher.label}) needs a ${cipher.keyLengths.join(' or ')}-byte key`,
        this.#keyLine(),
      );
    }
    return resolved;
  }

  #keyLine(): number | undefined {
    return (this.container.encryptionKey ?? this.container.encryptionMethod)?.line;
  }

  async #resolveKey(cipher: ValueCipher | undefined): Promise<ResolvedKey> {
    const ek = this.container.encryptionKey;
    const line = this.#keyLine();
    const derived = childAny(ek, 'DerivedKey');
    if (derived !== undefined) {
      const password = this.#password(line);
      const method = childAny(derived, 'KeyDerivationMethod');
      const uri = attr(method, 'Algorithm') ?? '';
      if (algorithmName(uri) !== 'pbkdf2') {
        throw this.#fatal('pskc-decrypt', `key derivation ${shownValue(uri)} is not supported (only PBKDF2)`, line);
      }
      const params = childAny(method, 'PBKDF2-params');
      const salt = this.#salt(childAny(childAny(params, 'Salt'), 'Specified')?.text, line);
      const iterations = this.#iterations(childAny(params, 'IterationCount')?.text, line);
      const lengthText = childAny(params, 'KeyLength')?.text;
      const keyLength = lengthText === undefined ? (cipher?.keyLengths[0] ?? 16) : parseInteger(lengthText, 1, 64);
      if (keyLength === null) throw this.#fatal('pskc-invalid', 'PBKDF2 KeyLength must be a whole number from 1 to 64', line);
      const prfUri = attr(childAny(params, 'PRF'), 'Algorithm');
      const prf = prfUri === undefined || prfUri.trim() === '' ? 'sha1' : hmacHash(prfUri);
      if (prf === undefined || prf === 'md5') throw this.#fatal('pskc-decrypt', `PBKDF2 PRF ${shownValue(String(prfUri))} is not supported`, line);
      const key = await derivePbkdf2(password, { salt, iterations, keyLength, prf });
      return { key, source: 'password (--pskc-password-file)' };
    }
    // The drafts: a password-based cipher named on the container's EncryptionMethod, its salt and
    // iteration count beside it (PBKDF2 with HMAC-SHA1, the key as long as the cipher's).
    const method = this.container.encryptionMethod;
    const methodUri = PskcKeys.containerCipherUri(this.container);
    if (method !== undefined && methodUri !== undefined && (algorithmName(methodUri).startsWith('pbe') || childAny(method, 'PBESalt') !== undefined)) {
      const pbeCipher = this.#cipher(methodUri, line);
      const password = this.#password(line);
      const salt = this.#salt(childAny(method, 'PBESalt')?.text, line);
      const iterations = this.#iterations(childAny(method, 'PBEIterationCount')?.text, line);
      const key = await derivePbkdf2(password, { salt, iterations, keyLength: pbeKeyLength(methodUri, pbeCipher), prf: 'sha1' });
      return { key, source: 'password (--pskc-password-file)' };
    }
    if (childAny(ek, 'X509Data') !== undefined || childAny(ek, 'EncryptedKey') !== undefined || childAny(ek, 'KeyValue') !== undefined) {
      throw this.#fatal(
        'pskc-decrypt',
        'the file is encrypted for a certificate (asymmetric key transport), which is not supported: ask the vendor for a file protected by a pre-shared key or a password',
        line,
      );
    }
    if (this.opts.pskcKey === undefined) {
      const name = childAny(ek, 'KeyName')?.text.trim();
      throw this.#fatal('pskc-decrypt', `the file is encrypted with a pre-shared key${name ? ` (KeyName ${shownValue(name)})` : ''}: give it with --pskc-key-file`, line);
    }
    return { key: this.opts.pskcKey, source: 'pre-shared key (--pskc-key-file)' };
  }

  #password(line: number | undefined): string {
    if (this.opts.pskcPassword === undefined) {
      throw this.#fatal('pskc-decrypt', 'the file is encrypted with a password-derived key (PBKDF2): give the password with --pskc-password-file', line);
    }
    return this.opts.pskcPassword;
  }

  #salt(text: string | undefined, line: number | undefined): Buffer {
    const salt = decodeBase64(text ?? '');
    if (salt === null || salt.length === 0) throw this.#fatal('pskc-invalid', 'incomplete PBKDF2 parameters: no Salt/Specified value', line);
    return salt;
  }

  #iterations(text: string | undefined, line: number | undefined): number {
    const iterations = parseInteger(text ?? '', 1, MAX_PBKDF2_ITERATIONS);
    if (iterations === null) throw this.#fatal('pskc-invalid', `PBKDF2 IterationCount must be a whole number from 1 to ${MAX_PBKDF2_ITERATIONS}`, line);
    return iterations;
  }

  /**
   * The MAC algorithm and key: RFC 6030's MACMethod (its MACKey encrypted under the file key, which
   * decrypting also proves right), or the drafts' DigestMethod / MACAlgorithm, which MAC with the
   * encryption key itself.
   */
  #macKey(): { hash: string | undefined; key: Buffer; declared: boolean } | null {
    const { macMethod, digestMethod, macAlgorithm } = this.container;
    const declared = macMethod ?? digestMethod;
    const uri = (declared !== undefined ? (attr(declared, 'Algorithm') ?? attr(declared, 'algorithm')) : macAlgorithm?.text)?.trim();
    if (uri === undefined || (declared === undefined && uri === '')) return this.draft ? { hash: 'sha1', key: this.#key!.key, declared: false } : null;
    const line = (declared ?? macAlgorithm)?.line;
    const hash = hmacHash(uri);
    if (hash === undefined && this.macMode !== 'off') {
      throw this.#fatal('pskc-mac', `MACMethod algorithm ${shownValue(uri)} is not supported (HMAC-SHA1/224/256/384/512, HMAC-MD5); --pskc-mac off reads the file without checking MACs`, line);
    }
    const macKeyEl = child(macMethod, 'MACKey');
    if (macKeyEl === undefined) {
      // Older drafts MAC with the encryption key itself.
      return { hash, key: this.#key!.key, declared: true };
    }
    const cipherUri = attr(childAny(macKeyEl, 'EncryptionMethod'), 'Algorithm');
    if (!cipherUri) throw this.#fatal('pskc-invalid', 'MACKey has no EncryptionMethod Algorithm', line);
    const cipher = this.#cipher(cipherUri, line);
    const data = decodeBase64(childAny(childAny(macKeyEl, 'CipherData'), 'CipherValue')?.text ?? '');
    if (data === null) throw this.#fatal('pskc-invalid', 'MACKey has no valid Base64 CipherData/CipherValue', line);
    const { key, source } = this.#keyFor(cipher);
    const result = decryptValue(cipher, key, data, cipher.kind === 'cbc' ? this.#iv : undefined);
    if (!result.ok) {
      if (result.reason === 'length') throw this.#fatal('pskc-invalid', 'the MACKey CipherValue is not an IV followed by whole cipher blocks', line);
      throw this.#wrongKey(source);
    }
    this.#keyConfirmed = true;
    return { hash, key: result.plain, declared: true };
  }

  #wrongKey(source: ResolvedKey['source']): PskcFatal {
    const what = source.startsWith('password') ? 'password' : 'key';
    return this.#fatal('pskc-decrypt', `cannot decrypt the file with the given ${source}: wrong ${what}? Nothing was read from the file`, this.#keyLine());
  }

  #fatal(code: ProblemCode, message: string, line?: number): PskcFatal {
    const p: Omit<Problem, 'severity'> = { code, file: this.file, message };
    if (line !== undefined && line > 0) p.line = line;
    return new PskcFatal(p);
  }
}
