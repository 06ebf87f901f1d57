import { createHmac } from 'node:crypto';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { generate } from 'otplib';
import { expect } from 'vitest';
import type { OathSeed } from '../../../src/model/export-data.js';
import { secretFingerprint } from '../../../src/model/secret.js';
import { RFC4226_SECRET, RFC6238_SHA256_SECRET, RFC6238_SHA512_SECRET } from '../../../fixtures/make-vendor-seeds.js';

/**
 * The published test vectors, as the RFCs print them: a seed read from a file is right when it
 * gives these codes (computed by otplib, an implementation independent of the project's).
 */

/** RFC 4226 Appendix D: HOTP-SHA1 of "12345678901234567890", counters 0 to 9 (the Decimal column; 6 digits are its last six). */
export const RFC4226_DECIMAL = [1284755224, 1094287082, 137359152, 1726969429, 1640338314, 868254676, 1918287922, 82162583, 673399871, 645520489];

/** RFC 6238 Appendix B: 8-digit TOTP codes at these Unix times (30 s steps), per hash. */
export const RFC6238_CODES: Record<'sha1' | 'sha256' | 'sha512', Record<number, string>> = {
  sha1: { 59: '94287082', 1111111109: '07081804', 1111111111: '14050471', 1234567890: '89005924', 2000000000: '69279037', 20000000000: '65353130' },
  sha256: { 59: '46119246', 1111111109: '68084774', 1111111111: '67062674', 1234567890: '91819424', 2000000000: '90698825', 20000000000: '77737706' },
  sha512: { 59: '90693936', 1111111109: '25091201', 1111111111: '99943326', 1234567890: '93441116', 2000000000: '38618901', 20000000000: '47863826' },
};

/** Each vector's seed, by the hash RFC 6238 uses it with. */
export const VECTOR_SECRETS = { sha1: RFC4226_SECRET, sha256: RFC6238_SHA256_SECRET, sha512: RFC6238_SHA512_SECRET } as const;

const crypto = new NodeCryptoPlugin();

/** The seed is RFC 6238's for its hash (by fingerprint) and gives the Appendix B codes (in 8 digits, whatever the token shows). */
export async function expectRfc6238Codes(seed: OathSeed): Promise<void> {
  expect(seed.fingerprint, `${seed.serial}: the RFC 6238 ${seed.algorithm} seed`).toBe(secretFingerprint(VECTOR_SECRETS[seed.algorithm]));
  const secret = new Uint8Array(seed.secret.reveal());
  for (const [time, code] of Object.entries(RFC6238_CODES[seed.algorithm])) {
    expect(await generate({ secret, strategy: 'totp', epoch: Number(time), period: 30, digits: 8, algorithm: seed.algorithm, crypto }), `${seed.serial} at T=${time}`).toBe(code);
  }
}

/** The seed is RFC 4226's (by fingerprint) and gives Appendix D's codes from its counter on, in its digits. */
export async function expectRfc4226Codes(seed: OathSeed): Promise<void> {
  expect(seed.fingerprint, `${seed.serial}: the RFC 4226 seed`).toBe(secretFingerprint(RFC4226_SECRET));
  const secret = new Uint8Array(seed.secret.reveal());
  const from = Number(seed.counter);
  for (let c = from; c < RFC4226_DECIMAL.length; c++) {
    const expected = String(RFC4226_DECIMAL[c]! % 10 ** seed.digits).padStart(seed.digits, '0');
    expect(await generate({ secret, strategy: 'hotp', counter: c, digits: seed.digits, crypto }), `${seed.serial} at counter ${c}`).toBe(expected);
  }
}

/**
 * HOTP straight from RFC 4226 §5.3 with a 64-bit counter (otplib takes a number, exact only to
 * 2^53). Checked against Appendix D by the tests that use it.
 */
export function hotpAt(secret: Buffer, counter: bigint, digits: number, hash: 'sha1' | 'sha256' | 'sha512' = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(counter);
  const mac = createHmac(hash, secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}
