import type { Problem, ProblemCode, ProblemList, Where } from '../../model/problem.js';
import { parseInteger } from './oath-parameters.js';
import { algorithmName, cbcCipher, decryptCbc, derivePbkdf2, hmacHash, valueMacMatches, type CbcCipher } from './pskc-crypto.js';
import { attr, child, childAny, type XmlElement } from './pskc-xml-stream.js';
import type { PskcMacMode } from './pskc-mac-mode.js';
import type { SeedReadOptions } from './read-seed-files.js';
import { decodeBase64 } from './secret-encoding.js';

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
 * The encryption and MAC keys of one PSKC file, resolved once (PBKDF2 runs once per file, not per
 * key), and the decryption + ValueMAC check of each EncryptedValue.
 *
 * A wrong key or password is told apart from a tampered value: the MACKey is itself encrypted, so
 * a key that decrypts it with valid padding is the right one (a wrong key passes PKCS #7 with odds of
 * about 2^-96 for a 20-byte MAC key). Until some value has decrypted under the key, a padding failure
 * means a wrong key, reported once for the file; after that it means a damaged value.
 */
export class PskcKeys {
  #key: ResolvedKey | undefined;
  /** null: the file has no MACMethod. */
  #mac: { hash: string | undefined; key: Buffer } | null | undefined;
  #keyConfirmed = false;
  #unprotected = 0;

  constructor(
    private readonly file: string,
    private readonly opts: SeedReadOptions,
    private readonly encryptionKeyEl: XmlElement | undefined,
    private readonly macMethodEl: XmlElement | undefined,
    private readonly macMode: PskcMacMode,
  ) {}

  /**
   * Resolves the encryption key (PBKDF2 runs here, once per file) and the MAC key, given the first
   * EncryptedValue of the file. Throws PskcFatal when the file cannot be decrypted at all.
   */
  async prepare(firstEncrypted: XmlElement, line: number): Promise<void> {
    const uri = attr(childAny(firstEncrypted, 'EncryptionMethod'), 'Algorithm');
    const cipher = uri ? this.#cipher(uri, line) : undefined;
    this.#key = await this.#resolveKey(cipher?.keyLength ?? 16);
    this.#mac = this.#macKey();
  }

  /**
   * Decrypts `enc` (the EncryptedValue of Data element `dataEl`) and checks its ValueMAC.
   * Returns null after reporting a damaged value, 'mac-failed' after reporting a MAC failure.
   */
  decryptValue(dataEl: XmlElement, enc: XmlElement, serial: string, line: number, path: string, problems: ProblemList): Buffer | null | 'mac-failed' {
    const what = `${dataEl.name} of token ${serial}`;
    const where: Where = { file: this.file, path: `${path}/EncryptedValue`, field: dataEl.name };
    if (line > 0) where.line = line;
    const methodUri = attr(childAny(enc, 'EncryptionMethod'), 'Algorithm');
    if (!methodUri) {
      problems.error('pskc-invalid', where, `the EncryptedValue of ${what} has no EncryptionMethod Algorithm`);
      return null;
    }
    const cipher = this.#cipher(methodUri, line);
    const cipherText = childAny(childAny(enc, 'CipherData'), 'CipherValue')?.text;
    const data = cipherText === undefined ? null : decodeBase64(cipherText);
    if (data === null) {
      problems.error('pskc-invalid', where, `the EncryptedValue of ${what} has no valid Base64 CipherData/CipherValue`);
      return null;
    }
    const { key, source } = this.#keyFor(cipher);
    const result = decryptCbc(cipher, key, data);
    if (!result.ok) {
      if (result.reason === 'length') {
        problems.error('pskc-invalid', where, `the CipherValue of ${what} is not an IV followed by whole cipher blocks`);
        return null;
      }
      if (!this.#keyConfirmed) throw this.#wrongKey(source);
      // The key is right (other values decrypted): a value that fails its MAC too was altered.
      const failure = this.macMode === 'off' ? undefined : this.#macFailure(dataEl, data, undefined);
      if (failure !== undefined) return this.#macFailed(what, `${failure}, and it does not decrypt: the value was altered`, where, path, problems);
      problems.error('pskc-decrypt', where, `${what} does not decrypt (bad padding) although other values in the file do: the value is damaged`);
      return null;
    }
    if (this.macMode !== 'off') {
      const failure = this.#macFailure(dataEl, data, result.plain);
      if (failure !== undefined) {
        result.plain.fill(0);
        return this.#macFailed(what, failure, where, path, problems);
      }
    }
    this.#keyConfirmed = true;
    return result.plain;
  }

  /**
   * Encrypted values that nothing protects (no MACMethod, no ValueMAC): AES-CBC does not notice a
   * changed byte (a flipped IV byte silently changes the seed). Under allow-unprotected they are read
   * with one warning for the file; under fail and skip they refuse it (the problem returned is the
   * refusal); under off nothing is counted.
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

  #macFailed(what: string, failure: string, where: Where, path: string, problems: ProblemList): 'mac-failed' {
    const consequence = this.macMode === 'skip' ? 'the key is left out' : 'the file is refused';
    problems.error('pskc-mac', { ...where, path: `${path}/ValueMAC`, field: 'ValueMAC' }, `${what}: ${failure}; ${consequence}`);
    return 'mac-failed';
  }

  /** Why the value's MAC does not verify, or undefined when it does (or when nothing protects it). */
  #macFailure(dataEl: XmlElement, data: Buffer, plain: Buffer | undefined): string | undefined {
    const mac = this.#mac;
    const macEl = child(dataEl, 'ValueMAC');
    if (mac === null || mac === undefined) {
      if (macEl === undefined) {
        if (plain !== undefined) this.#unprotected++;
        return undefined;
      }
      return 'it has a ValueMAC but the file has no MACMethod to check it with';
    }
    if (macEl === undefined) return 'it has no ValueMAC although the file declares a MACMethod';
    const expected = decodeBase64(macEl.text);
    if (expected === null || expected.length === 0) return 'its ValueMAC is not valid Base64';
    if (!valueMacMatches(mac.hash!, mac.key, expected, data, plain)) {
      return plain === undefined ? 'its ValueMAC does not match' : 'its ValueMAC does not match (checked over IV+ciphertext and over the plaintext)';
    }
    return undefined;
  }

  #cipher(uri: string, line: number | undefined): CbcCipher {
    const cipher = cbcCipher(uri);
    if (cipher === undefined) {
      throw this.#fatal(
        'pskc-decrypt',
        `encryption algorithm "${uri.trim()}" is not supported (supported: AES-128-CBC, AES-192-CBC, AES-256-CBC); ask the vendor for an AES-CBC file`,
        line,
      );
    }
    return cipher;
  }

  #keyFor(cipher: CbcCipher): ResolvedKey {
    const resolved = this.#key;
    if (resolved === undefined) throw new Error('PskcKeys.prepare() was not awaited before decryptValue()');
    if (resolved.key.length !== cipher.keyLength) {
      throw this.#fatal(
        'pskc-decrypt',
        `the ${resolved.source} is ${resolved.key.length} bytes but the file's cipher needs a ${cipher.keyLength}-byte key`,
        this.encryptionKeyEl?.line,
      );
    }
    return resolved;
  }
  async #resolveKey(defaultLength: number): Promise<ResolvedKey> {
    const ek = this.encryptionKeyEl;
    const line = ek?.line;
    const derived = childAny(ek, 'DerivedKey');
    if (derived !== undefined) {
      if (this.opts.pskcPassword === undefined) {
        throw this.#fatal('pskc-decrypt', 'the file is encrypted with a password-derived key (PBKDF2): give the password with --pskc-password-file', line);
      }
      const method = childAny(derived, 'KeyDerivationMethod');
      const uri = attr(method, 'Algorithm') ?? '';
      if (algorithmName(uri) !== 'pbkdf2') {
        throw this.#fatal('pskc-decrypt', `key derivation "${uri}" is not supported (only PBKDF2)`, line);
      }
      const params = childAny(method, 'PBKDF2-params');
      const salt = decodeBase64(childAny(childAny(params, 'Salt'), 'Specified')?.text ?? '');
      if (salt === null || salt.length === 0) throw this.#fatal('pskc-invalid', 'incomplete PBKDF2 parameters: no Salt/Specified value', line);
      const iterations = parseInteger(childAny(params, 'IterationCount')?.text ?? '', 1, MAX_PBKDF2_ITERATIONS);
      if (iterations === null) {
        throw this.#fatal('pskc-invalid', `PBKDF2 IterationCount must be a whole number from 1 to ${MAX_PBKDF2_ITERATIONS}`, line);
      }
      const lengthText = childAny(params, 'KeyLength')?.text;
      const keyLength = lengthText === undefined ? defaultLength : parseInteger(lengthText, 1, 64);
      if (keyLength === null) throw this.#fatal('pskc-invalid', 'PBKDF2 KeyLength must be a whole number from 1 to 64', line);
      const prfUri = attr(childAny(params, 'PRF'), 'Algorithm');
      const prf = prfUri === undefined || prfUri.trim() === '' ? 'sha1' : hmacHash(prfUri);
      if (prf === undefined || prf === 'md5') throw this.#fatal('pskc-decrypt', `PBKDF2 PRF "${prfUri}" is not supported`, line);
      const key = await derivePbkdf2(this.opts.pskcPassword, { salt, iterations, keyLength, prf });
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
      throw this.#fatal('pskc-decrypt', `the file is encrypted with a pre-shared key${name ? ` (KeyName "${name}")` : ''}: give it with --pskc-key-file`, line);
    }
    return { key: this.opts.pskcKey, source: 'pre-shared key (--pskc-key-file)' };
  }

  /** The MAC algorithm and key; decrypting the MACKey also proves the encryption key right. */
  #macKey(): { hash: string | undefined; key: Buffer } | null {
    const method = this.macMethodEl;
    if (method === undefined) return null;
    const line = method.line;
    const uri = attr(method, 'Algorithm') ?? '';
    const hash = hmacHash(uri);
    if (hash === undefined && this.macMode !== 'off') {
      throw this.#fatal('pskc-mac', `MACMethod algorithm "${uri}" is not supported (HMAC-SHA1/224/256/384/512, HMAC-MD5); --pskc-mac off reads the file without checking MACs`, line);
    }
    const macKeyEl = child(method, 'MACKey');
    if (macKeyEl === undefined) {
      // Older drafts MAC with the encryption key itself.
      return { hash, key: this.#key!.key };
    }
    const cipherUri = attr(childAny(macKeyEl, 'EncryptionMethod'), 'Algorithm');
    if (!cipherUri) throw this.#fatal('pskc-invalid', 'MACKey has no EncryptionMethod Algorithm', line);
    const cipher = this.#cipher(cipherUri, line);
    const data = decodeBase64(childAny(childAny(macKeyEl, 'CipherData'), 'CipherValue')?.text ?? '');
    if (data === null) throw this.#fatal('pskc-invalid', 'MACKey has no valid Base64 CipherData/CipherValue', line);
    const { key, source } = this.#keyFor(cipher);
    const result = decryptCbc(cipher, key, data);
    if (!result.ok) {
      if (result.reason === 'length') throw this.#fatal('pskc-invalid', 'the MACKey CipherValue is not an IV followed by whole cipher blocks', line);
      throw this.#wrongKey(source);
    }
    this.#keyConfirmed = true;
    return { hash, key: result.plain };
  }

  #wrongKey(source: ResolvedKey['source']): PskcFatal {
    const what = source.startsWith('password') ? 'password' : 'key';
    return this.#fatal('pskc-decrypt', `cannot decrypt the file with the given ${source}: wrong ${what}? Nothing was read from the file`, this.encryptionKeyEl?.line);
  }

  #fatal(code: ProblemCode, message: string, line?: number): PskcFatal {
    const p: Omit<Problem, 'severity'> = { code, file: this.file, message };
    if (line !== undefined && line > 0) p.line = line;
    return new PskcFatal(p);
  }
}
