import { describe, expect, it } from 'vitest';
import { aesKeyWrap, wrap3217 } from '../../../fixtures/pskc-writer-crypto.js';
import { decryptValue, valueCipher } from '../../../src/source/seeds/pskc-crypto.js';

/**
 * The key wraps against their RFCs' own examples: the reader (OpenSSL's ciphers) unwraps them, and
 * the fixture writer (written out from the RFCs) wraps to them, so the fixtures are right too.
 */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const XENC = 'http://www.w3.org/2001/04/xmlenc#';

describe('AES key wrap: RFC 3394 §4 and RFC 5649 §6 test vectors', () => {
  const vectors: [string, string, string, string][] = [
    ['4.1', '000102030405060708090A0B0C0D0E0F', '00112233445566778899AABBCCDDEEFF', '1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5'],
    ['4.2', '000102030405060708090A0B0C0D0E0F1011121314151617', '00112233445566778899AABBCCDDEEFF', '96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D'],
    ['4.3', '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', '00112233445566778899AABBCCDDEEFF', '64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7'],
    ['4.4', '000102030405060708090A0B0C0D0E0F1011121314151617', '00112233445566778899AABBCCDDEEFF0001020304050607', '031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2'],
    ['4.5', '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', '00112233445566778899AABBCCDDEEFF0001020304050607', 'A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1'],
    ['4.6', '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', '00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F', '28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21'],
    ['5649 §6, 20 octets', '5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8', 'c37b7e6492584340bed12207808941155068f738', '138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a'],
    ['5649 §6, 7 octets', '5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8', '466f7250617369', 'afbeb0f07dfbf5419200f2ccb50bb24f'],
  ];
  it.each(vectors)('%s: unwrapped by the reader, wrapped by the fixture writer', (_name, kek, plain, wrapped) => {
    const key = hex(kek);
    const cipher = valueCipher(`${XENC}kw-aes${key.length * 8}`)!;
    expect(decryptValue(cipher, key, hex(wrapped))).toEqual({ ok: true, plain: hex(plain) });
    expect(aesKeyWrap(key, hex(plain)).toString('hex')).toBe(wrapped.toLowerCase());
  });

  it('a changed byte or a wrong key fails the integrity check', () => {
    const [, kek, , wrapped] = vectors[0]!;
    const cipher = valueCipher(`${XENC}kw-aes128`)!;
    const altered = hex(wrapped);
    altered[3]! ^= 0x10;
    expect(decryptValue(cipher, hex(kek), altered)).toEqual({ ok: false, reason: 'padding' });
    expect(decryptValue(cipher, Buffer.alloc(16, 9), hex(wrapped))).toEqual({ ok: false, reason: 'padding' });
  });
});

describe('Triple-DES key wrap: RFC 3217 §3.2 example', () => {
  const key = hex('255e 0d1c 07b6 46df b313 4cc8 43ba 8aa7 1f02 5b7c 0838 251f');
  const plain = hex('2923 bf85 e06d d6ae 5291 49f1 f1ba e9ea b3a7 da3d 860d 3e98');
  const wrapped = hex('6901 0761 8ef0 92b3 b48c a179 6b23 4ae9 fa33 ebb4 1596 0403 7db5 d6a8 4eb3 aac2 768c 6327 75a4 67d4');
  it('unwrapped by the reader, wrapped by the fixture writer with the example IV', () => {
    expect(decryptValue(valueCipher(`${XENC}kw-tripledes`)!, key, wrapped)).toEqual({ ok: true, plain });
    expect(wrap3217(key, plain, hex('5dd4 cbfc 96f5 453b')).equals(wrapped)).toBe(true);
  });
  it('an altered byte fails the CMS checksum', () => {
    const altered = Buffer.from(wrapped);
    altered[20]! ^= 0x01;
    expect(decryptValue(valueCipher(`${XENC}kw-tripledes`)!, key, altered).ok).toBe(false);
  });
});

describe('cipher names', () => {
  it('RFC 6030 §6.1 URIs and the older names drafts and python-pskc use', () => {
    for (const [uri, label] of [
      [`${XENC}tripledes-cbc`, 'Triple-DES-CBC'],
      ['PBE-3DES112-CBC', 'Triple-DES-CBC'],
      ['http://www.w3.org/2001/04/xmlenc#kw-aes256', 'AES-256 key wrap'],
      ['kw-3des', 'Triple-DES key wrap'],
      ['pbe-aes128-cbc', 'AES-128-CBC'],
    ]) {
      expect(valueCipher(uri!)?.label, uri).toBe(label);
    }
    for (const uri of [`${XENC}rsa-1_5`, 'http://www.w3.org/2001/04/xmldsig-more#camellia128-cbc', 'toString', '__proto__']) expect(valueCipher(uri), uri).toBeUndefined();
  });
});
