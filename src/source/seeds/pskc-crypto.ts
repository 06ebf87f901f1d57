import { createDecipheriv, createHmac, pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ownValue } from '../../model/own-value.js';

/**
 * The cryptography of RFC 6030 §6 (and of the drafts before it): the XML Encryption block ciphers
 * in CBC mode (AES, Triple-DES; the IV is the first block of the CipherValue unless the file gives
 * one, PKCS #7 padding), the key wraps (AES by RFC 3394, Triple-DES by RFC 3217), PBKDF2 key
 * derivation, and HMAC ValueMACs. All of it is Node's (OpenSSL's). Errors carry no key material.
 */

const pbkdf2Async = promisify(pbkdf2);

export type ValueCipher =
  | {
      kind: 'cbc';
      /** Node's cipher name. */
      node: string;
      /** Key lengths the cipher takes, in bytes. */
      keyLengths: readonly number[];
      blockSize: number;
      /** The name in messages. */
      label: string;
    }
  | { kind: 'kw-aes'; node: string; padNode: string; keyLengths: readonly number[]; label: string }
  | { kind: 'kw-3des'; keyLengths: readonly number[]; label: string };

const TRIPLE_DES_KEYS: readonly number[] = [24, 16];

/**
 * XML Encryption ciphers by URI fragment (`http://www.w3.org/2001/04/xmlenc#aes128-cbc`), with the
 * older names drafts and vendors used (as python-pskc normalises them). A Triple-DES key is 24
 * bytes (three keys) or 16 (two keys, K1 K2 K1).
 */
const CIPHERS: Record<string, ValueCipher> = {
  'aes128-cbc': { kind: 'cbc', node: 'aes-128-cbc', keyLengths: [16], blockSize: 16, label: 'AES-128-CBC' },
  'aes192-cbc': { kind: 'cbc', node: 'aes-192-cbc', keyLengths: [24], blockSize: 16, label: 'AES-192-CBC' },
  'aes256-cbc': { kind: 'cbc', node: 'aes-256-cbc', keyLengths: [32], blockSize: 16, label: 'AES-256-CBC' },
  'tripledes-cbc': { kind: 'cbc', node: 'des-ede3-cbc', keyLengths: TRIPLE_DES_KEYS, blockSize: 8, label: 'Triple-DES-CBC' },
  'kw-aes128': { kind: 'kw-aes', node: 'id-aes128-wrap', padNode: 'id-aes128-wrap-pad', keyLengths: [16], label: 'AES-128 key wrap' },
  'kw-aes192': { kind: 'kw-aes', node: 'id-aes192-wrap', padNode: 'id-aes192-wrap-pad', keyLengths: [24], label: 'AES-192 key wrap' },
  'kw-aes256': { kind: 'kw-aes', node: 'id-aes256-wrap', padNode: 'id-aes256-wrap-pad', keyLengths: [32], label: 'AES-256 key wrap' },
  'kw-tripledes': { kind: 'kw-3des', keyLengths: TRIPLE_DES_KEYS, label: 'Triple-DES key wrap' },
};

/** Older spellings of the same ciphers (python-pskc's aliases; PBE-* are the drafts' password-based names). */
const ALIASES: Record<string, string> = {
  '3des-cbc': 'tripledes-cbc',
  '3des112-cbc': 'tripledes-cbc',
  '3des168-cbc': 'tripledes-cbc',
  'kw-3des': 'kw-tripledes',
  'kw-aes-128': 'kw-aes128',
  'kw-aes-192': 'kw-aes192',
  'kw-aes-256': 'kw-aes256',
  'pbe-3des112-cbc': 'tripledes-cbc',
  'pbe-3des168-cbc': 'tripledes-cbc',
  'pbe-aes128-cbc': 'aes128-cbc',
  'pbe-aes192-cbc': 'aes192-cbc',
  'pbe-aes256-cbc': 'aes256-cbc',
};

export const SUPPORTED_CIPHER_LABELS = Object.values(CIPHERS).map((c) => c.label);

/** The fragment (or last path segment) of an algorithm URI, lower-cased. */
export function algorithmName(uri: string): string {
  const s = uri.trim().toLowerCase();
  const hash = s.lastIndexOf('#');
  if (hash !== -1) return s.slice(hash + 1);
  const cut = Math.max(s.lastIndexOf('/'), s.lastIndexOf(':'));
  return s.slice(cut + 1);
}

export function valueCipher(uri: string): ValueCipher | undefined {
  const name = algorithmName(uri);
  return ownValue(CIPHERS, ownValue(ALIASES, name) ?? name);
}

/** "NONE" (or nothing): the drafts' way of saying the values are not encrypted. */
export function isNoCipher(uri: string | undefined): boolean {
  return uri === undefined || uri.trim() === '' || uri.trim().toLowerCase() === 'none';
}

/** The key length a password-based draft cipher derives (PBE-3DES112-CBC: 16 bytes, 3DES168: 24). */
export function pbeKeyLength(uri: string, cipher: ValueCipher): number {
  const name = algorithmName(uri);
  if (name.includes('3des112')) return 16;
  if (name.includes('3des168')) return 24;
  return cipher.keyLengths[0]!;
}

/** Node hash name of an HMAC algorithm URI (`...xmldsig#hmac-sha1`, `...xmldsig-more#hmac-sha256`, `HMAC-SHA1`). */
export function hmacHash(uri: string): string | undefined {
  const m = /^hmac-?(sha-?1|sha-?224|sha-?256|sha-?384|sha-?512|md5)$/.exec(algorithmName(uri));
  return m?.[1]?.replace('-', '');
}

export type DecryptResult = { ok: true; plain: Buffer } | { ok: false; reason: 'length' | 'padding' };

/**
 * Decrypts one value. CBC: the IV is `iv` when the file gives one (older drafts put it once in the
 * container), else the first block of `data`; a padding failure is how a wrong key usually shows.
 * Key wraps check their own integrity value, which fails the same way for a wrong key or an altered
 * value (reported as 'padding' too). AES key wrap is RFC 3394, or RFC 5649 (with padding, as
 * python-pskc writes seeds that are not a multiple of 8 bytes under the same URI).
 */
export function decryptValue(cipher: ValueCipher, key: Buffer, data: Buffer, iv?: Buffer): DecryptResult {
  switch (cipher.kind) {
    case 'cbc': {
      const b = cipher.blockSize;
      const withIv = iv === undefined;
      if (data.length % b !== 0 || data.length < (withIv ? 2 * b : b) || (iv !== undefined && iv.length !== b)) return { ok: false, reason: 'length' };
      return decipher(cipher.node, cipherKey(cipher, key), withIv ? data.subarray(0, b) : iv, withIv ? data.subarray(b) : data, true);
    }
    case 'kw-aes': {
      if (data.length % 8 !== 0 || data.length < 16) return { ok: false, reason: 'length' };
      const plain = decipher(cipher.node, key, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'), data, false);
      return plain.ok ? plain : decipher(cipher.padNode, key, Buffer.from('a65959a6', 'hex'), data, false);
    }
    case 'kw-3des':
      // OpenSSL's des3-wrap is RFC 3217 (CMS Triple-DES key wrap): its IV travels inside the data.
      if (data.length % 8 !== 0 || data.length < 24) return { ok: false, reason: 'length' };
      return decipher('des3-wrap', cipherKey(cipher, key), Buffer.alloc(0), data, false);
  }
}

/** A two-key Triple-DES key (K1 K2) as the three-key form OpenSSL takes (K1 K2 K1). */
function cipherKey(cipher: ValueCipher, key: Buffer): Buffer {
  const tripleDes = cipher.kind === 'kw-3des' || (cipher.kind === 'cbc' && cipher.node === 'des-ede3-cbc');
  return tripleDes && key.length === 16 ? Buffer.concat([key, key.subarray(0, 8)]) : key;
}

function decipher(node: string, key: Buffer, iv: Buffer, data: Buffer, padding: boolean): DecryptResult {
  try {
    const d = createDecipheriv(node, key, iv);
    d.setAutoPadding(padding);
    return { ok: true, plain: Buffer.concat([d.update(data), d.final()]) };
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
