import { createDecipheriv, createHmac, pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ownValue } from '../../model/own-value.js';

/**
 * The cryptography of RFC 6030 §6: AES-CBC with the IV as the first block of the CipherValue and
 * PKCS #7 padding, PBKDF2 key derivation, and HMAC ValueMACs. Errors carry no key material.
 */

const pbkdf2Async = promisify(pbkdf2);

export interface CbcCipher {
  /** Node's cipher name. */
  node: string;
  keyLength: number;
}

/** XML Encryption block ciphers by URI fragment (`http://www.w3.org/2001/04/xmlenc#aes128-cbc`). */
const CBC_CIPHERS: Record<string, CbcCipher> = {
  'aes128-cbc': { node: 'aes-128-cbc', keyLength: 16 },
  'aes192-cbc': { node: 'aes-192-cbc', keyLength: 24 },
  'aes256-cbc': { node: 'aes-256-cbc', keyLength: 32 },
};

export const SUPPORTED_CIPHERS = Object.keys(CBC_CIPHERS);

/** The fragment (or last path segment) of an algorithm URI, lower-cased. */
export function algorithmName(uri: string): string {
  const s = uri.trim().toLowerCase();
  const hash = s.lastIndexOf('#');
  if (hash !== -1) return s.slice(hash + 1);
  const cut = Math.max(s.lastIndexOf('/'), s.lastIndexOf(':'));
  return s.slice(cut + 1);
}

export function cbcCipher(uri: string): CbcCipher | undefined {
  return ownValue(CBC_CIPHERS, algorithmName(uri));
}

/** Node hash name of an HMAC algorithm URI (`...xmldsig#hmac-sha1`, `...xmldsig-more#hmac-sha256`). */
export function hmacHash(uri: string): string | undefined {
  const m = /^hmac-(sha1|sha224|sha256|sha384|sha512|md5)$/.exec(algorithmName(uri));
  return m?.[1];
}

export type DecryptResult = { ok: true; plain: Buffer } | { ok: false; reason: 'length' | 'padding' };

/** AES-CBC with a leading IV block. A padding failure is how a wrong key usually shows. */
export function decryptCbc(cipher: CbcCipher, key: Buffer, ivAndCiphertext: Buffer): DecryptResult {
  if (ivAndCiphertext.length < 32 || ivAndCiphertext.length % 16 !== 0) return { ok: false, reason: 'length' };
  const decipher = createDecipheriv(cipher.node, key, ivAndCiphertext.subarray(0, 16));
  try {
    const plain = Buffer.concat([decipher.update(ivAndCiphertext.subarray(16)), decipher.final()]);
    return { ok: true, plain };
  } catch {
    return { ok: false, reason: 'padding' };
  }
}

/**
 * RFC 6030 MACs IV||ciphertext; earlier drafts (and files made by tools that followed them) MAC the
 * plaintext. Either is accepted, as python-pskc does.
 */
export function valueMacMatches(hash: string, macKey: Buffer, expected: Buffer, ivAndCiphertext: Buffer, plain: Buffer | undefined): boolean {
  const overCipher = createHmac(hash, macKey).update(ivAndCiphertext).digest();
  if (overCipher.length === expected.length && timingSafeEqual(overCipher, expected)) return true;
  if (plain === undefined) return false;
  const overPlain = createHmac(hash, macKey).update(plain).digest();
  return overPlain.length === expected.length && timingSafeEqual(overPlain, expected);
}

export interface Pbkdf2Params {
  salt: Buffer;
  iterations: number;
  keyLength: number;
  /** Node hash name of the PRF (HMAC-SHA1 when the file names none). */
  prf: string;
}

export function derivePbkdf2(password: string, p: Pbkdf2Params): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(password, 'utf8'), p.salt, p.iterations, p.keyLength, p.prf);
}
