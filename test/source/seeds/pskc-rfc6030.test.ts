import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { codes, read, seedsFixture, tempDir } from './seed-test-helpers.js';

const RFC_PSK = Buffer.from('12345678901234567890123456789012', 'hex');
const RFC_SECRET = Buffer.from('12345678901234567890', 'ascii');

describe('RFC 6030 example files', () => {
  const temp = tempDir();

  it('Figure 2: plain secret "1234", HOTP, Key Id as serial when DeviceInfo has none', async () => {
    const { seeds, problems } = await read(seedsFixture('rfc6030-figure2.pskc'));
    expect(seeds).toHaveLength(1);
    const [seed] = seeds;
    expect(seed!.serial).toBe('12345678');
    expect(seed!.type).toBe('hotp');
    expect(seed!.algorithm).toBe('sha1');
    expect(seed!.digits).toBe(6);
    expect(seed!.counter).toBe(0n);
    expect(seed!.period).toBeNull();
    expect(seed!.secret.reveal().toString('ascii')).toBe('1234');
    expect(seed!.line).toBe(4);
    // 4 bytes is below RFC 4226's 128 bits; the Counter is missing.
    expect(codes(problems).sort()).toEqual(['warning:secret-short', 'warning:value-invalid']);
  });

  it('Figure 6: AES-128-CBC with the pre-shared key decrypts to the RFC 4226 secret, MAC verified', async () => {
    const { seeds, problems } = await read(seedsFixture('rfc6030-figure6.pskc'), { pskcKey: RFC_PSK });
    expect(problems).toEqual([]);
    expect(seeds).toHaveLength(1);
    const seed = seeds[0]!;
    expect(seed.secret.reveal().equals(RFC_SECRET)).toBe(true);
    expect(seed).toMatchObject({ serial: '987654321', type: 'hotp', digits: 8, counter: 0n, manufacturer: 'Manufacturer', line: 25 });
    expect(seed.fingerprint).toBe(seed.secret.fingerprint());
  });

  it('Figure 6 seed gives the RFC 4226 Appendix D HOTP values (755224 at counter 0)', async () => {
    const { seeds } = await read(seedsFixture('rfc6030-figure6.pskc'), { pskcKey: RFC_PSK });
    const secret = new Uint8Array(seeds[0]!.secret.reveal());
    const crypto = new NodeCryptoPlugin();
    const codesAt = await Promise.all([0, 1, 9].map((counter) => generate({ secret, strategy: 'hotp', counter, digits: 6, crypto })));
    expect(codesAt).toEqual(['755224', '287082', '520489']);
  });

  it('Figure 7: PBKDF2 from password "qwerty" decrypts to the same secret, MAC verified', async () => {
    const { seeds, problems } = await read(seedsFixture('rfc6030-figure7.pskc'), { pskcPassword: 'qwerty' });
    expect(seeds).toHaveLength(1);
    expect(seeds[0]!.secret.reveal().equals(RFC_SECRET)).toBe(true);
    expect(seeds[0]).toMatchObject({ serial: '987654321', manufacturer: 'TokenVendorAcme', digits: 8, type: 'hotp' });
    // Only the missing HOTP Counter is remarked on.
    expect(codes(problems)).toEqual(['warning:value-invalid']);
    expect(problems[0]!.field).toBe('Counter');
  });

  it('wrong pre-shared key -> one pskc-decrypt error, nothing read', async () => {
    const { seeds, problems } = await read(seedsFixture('rfc6030-figure6.pskc'), { pskcKey: Buffer.alloc(16, 7) });
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-decrypt']);
    expect(problems[0]!.message).toMatch(/wrong key/);
  });

  it('wrong password -> one pskc-decrypt error, nothing read', async () => {
    const { seeds, problems } = await read(seedsFixture('rfc6030-figure7.pskc'), { pskcPassword: 'qwertz' });
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-decrypt']);
    expect(problems[0]!.message).toMatch(/wrong password/);
  });

  it.each(['constructor', 'toString', '__proto__'])('an encryption algorithm named #%s is an unsupported cipher, not a crash', async (name) => {
    const text = readFileSync(seedsFixture('rfc6030-figure6.pskc'), 'utf8').replaceAll('xmlenc#aes128-cbc', `xmlenc#${name}`);
    const { seeds, problems } = await read(temp.file(`cipher-${name}.pskc`, text), { pskcKey: RFC_PSK });
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-decrypt']);
    expect(problems[0]!.message).toMatch(/is not supported/);
  });

  it('a pre-shared key of the wrong length is refused clearly', async () => {
    const { seeds, problems } = await read(seedsFixture('rfc6030-figure6.pskc'), { pskcKey: Buffer.alloc(32, 1) });
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-decrypt']);
    expect(problems[0]!.message).toMatch(/32 bytes.*16-byte key/);
  });

  it('encrypted file without the option it needs names that option', async () => {
    const psk = await read(seedsFixture('rfc6030-figure6.pskc'), { pskcPassword: 'qwerty' });
    expect(psk.seeds).toEqual([]);
    expect(codes(psk.problems)).toEqual(['error:pskc-decrypt']);
    expect(psk.problems[0]!.message).toMatch(/--pskc-key-file/);
    expect(psk.problems[0]!.message).toMatch(/Pre-shared-key/);

    const pbkdf2 = await read(seedsFixture('rfc6030-figure7.pskc'), { pskcKey: RFC_PSK });
    expect(pbkdf2.seeds).toEqual([]);
    expect(codes(pbkdf2.problems)).toEqual(['error:pskc-decrypt']);
    expect(pbkdf2.problems[0]!.message).toMatch(/--pskc-password-file/);
  });
});
