import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEST_PSK, TEST_SECRETS } from '../../../fixtures/make-contoso-seeds.js';
import { bySerial, codes, read, secretForms, seedsFixture, tempDir } from './seed-test-helpers.js';

const psk = { pskcKey: TEST_PSK };

describe('PSKC ValueMAC checking', () => {
  it('valid MACs: both keys read, secrets as written', async () => {
    const { seeds, problems } = await read(seedsFixture('psk-two-keys.pskc'), psk);
    expect(problems).toEqual([]);
    const s = bySerial(seeds);
    expect(s.get('T-1')!.secret.reveal().equals(TEST_SECRETS.a)).toBe(true);
    expect(s.get('T-2')!.secret.reveal().equals(TEST_SECRETS.b)).toBe(true);
  });

  it("pskcMac 'fail' (default): one bad MAC refuses the whole file", async () => {
    const { seeds, problems } = await read(seedsFixture('bad-mac.pskc'), psk);
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-mac', 'error:pskc-mac']);
    expect(problems[0]).toMatchObject({ field: 'ValueMAC', path: 'KeyPackage[2]/Key/Data/Secret/ValueMAC' });
    expect(problems[0]!.message).toMatch(/token T-2/);
    expect(problems[0]!.line).toBeGreaterThan(1);
    expect(problems[1]!.message).toMatch(/whole file is refused/);
  });

  it("pskcMac 'skip': the bad-MAC key is left out with an error, the others are read", async () => {
    const { seeds, problems } = await read(seedsFixture('bad-mac.pskc'), { ...psk, pskcMac: 'skip' });
    expect(seeds.map((s) => s.serial)).toEqual(['T-1']);
    expect(codes(problems)).toEqual(['error:pskc-mac']);
    expect(problems[0]!.message).toMatch(/T-2.*left out/);
  });

  it("pskcMac 'off': MACs are not checked", async () => {
    const { seeds, problems } = await read(seedsFixture('bad-mac.pskc'), { ...psk, pskcMac: 'off' });
    expect(seeds.map((s) => s.serial)).toEqual(['T-1', 'T-2']);
    expect(bySerial(seeds).get('T-2')!.secret.reveal().equals(TEST_SECRETS.b)).toBe(true);
    expect(problems).toEqual([]);
  });

  it('a MAC over the plaintext (older drafts) is accepted', async () => {
    const { seeds, problems } = await read(seedsFixture('mac-over-plaintext.pskc'), psk);
    expect(problems).toEqual([]);
    expect(seeds).toHaveLength(2);
  });

  describe('issue 17 item 6: encrypted values with no MAC at all', () => {
    /** no-mac.pskc with one bit of T-1's IV flipped: AES-CBC decrypts it to a different seed, no error. */
    function flippedIv(): string {
      const xml = readFileSync(seedsFixture('no-mac.pskc'), 'utf8');
      const value = /<xenc:CipherValue>([^<]+)<\/xenc:CipherValue>/.exec(xml)!;
      const bytes = Buffer.from(value[1]!, 'base64');
      bytes[0]! ^= 0x01;
      return xml.replace(value[1]!, bytes.toString('base64'));
    }

    it("are refused under the default 'fail' (and under 'skip'): a flipped IV byte would change a seed unnoticed", async () => {
      for (const opts of [psk, { ...psk, pskcMac: 'skip' as const }]) {
        const { seeds, problems } = await read(seedsFixture('no-mac.pskc'), opts);
        expect(seeds).toEqual([]);
        expect(codes(problems)).toEqual(['error:pskc-mac']);
        expect(problems[0]!.message).toMatch(/^2 encrypted value.*whole file is refused.*--pskc-mac allow-unprotected/);
      }
      const { seeds } = await read(tempDir().file('flipped.pskc', flippedIv()), psk);
      expect(seeds).toEqual([]);
    });

    it("are read with one warning for the file under 'allow-unprotected' (and silently under 'off')", async () => {
      const { seeds, problems } = await read(seedsFixture('no-mac.pskc'), { ...psk, pskcMac: 'allow-unprotected' });
      expect(seeds).toHaveLength(2);
      expect(codes(problems)).toEqual(['warning:pskc-mac']);
      expect(problems[0]!.message).toMatch(/^2 encrypted value/);
      // The lenient reading is what it says: the altered value comes out as another seed.
      const altered = await read(tempDir().file('flipped.pskc', flippedIv()), { ...psk, pskcMac: 'allow-unprotected' });
      expect(bySerial(altered.seeds).get('T-1')!.secret.reveal().equals(TEST_SECRETS.a)).toBe(false);
      const off = await read(seedsFixture('no-mac.pskc'), { ...psk, pskcMac: 'off' });
      expect(off.seeds).toHaveLength(2);
      expect(off.problems).toEqual([]);
    });

    it("a bad ValueMAC still refuses the file under 'allow-unprotected'", async () => {
      const { seeds, problems } = await read(seedsFixture('bad-mac.pskc'), { ...psk, pskcMac: 'allow-unprotected' });
      expect(seeds).toEqual([]);
      expect(codes(problems)).toEqual(['error:pskc-mac', 'error:pskc-mac']);
    });
  });

  it('AES-192-CBC with encrypted Counter and negative TimeDrift', async () => {
    const key = createHash('sha256').update('contoso-fixture-aes192').digest().subarray(0, 24);
    const { seeds, problems } = await read(seedsFixture('aes192-hotp-encrypted-counter.pskc'), { pskcKey: key });
    expect(problems).toEqual([]);
    const s = bySerial(seeds);
    expect(s.get('H-1')).toMatchObject({ type: 'hotp', counter: 1234n, period: null });
    expect(s.get('T-3')).toMatchObject({ type: 'totp', algorithm: 'sha256', timeDrift: -2, period: 30, counter: null });
    expect(s.get('T-3')!.secret.reveal().equals(TEST_SECRETS.c)).toBe(true);
  });

  it('an altered ciphertext after a good value is a MAC failure for that key, not a wrong key', async () => {
    const tmp = tempDir();
    const xml = readFileSync(seedsFixture('psk-two-keys.pskc'), 'utf8');
    // Flip the last byte of T-2's secret ciphertext: its padding and its MAC both break.
    const values = [...xml.matchAll(/<xenc:CipherValue>([^<]+)<\/xenc:CipherValue>/g)];
    const target = values[values.length - 1]!;
    const b = Buffer.from(target[1]!, 'base64');
    b[b.length - 1] = b[b.length - 1]! ^ 0xff;
    const altered = tmp.file('altered.pskc', xml.replace(target[1]!, b.toString('base64')));

    const skip = await read(altered, { ...psk, pskcMac: 'skip' });
    expect(skip.seeds.map((s) => s.serial)).toEqual(['T-1']);
    expect(codes(skip.problems)).toEqual(['error:pskc-mac']);
    expect(skip.problems[0]!.message).toMatch(/T-2.*altered/);

    // Without MAC checking the damage still shows, as a decryption error for that key only.
    const off = await read(altered, { ...psk, pskcMac: 'off' });
    expect(off.seeds.map((s) => s.serial)).toEqual(['T-1']);
    expect(codes(off.problems)).toEqual(['error:pskc-decrypt']);
    expect(off.problems[0]!.message).toMatch(/T-2.*damaged/);
  });

  it('no secret (hex or base64) appears in any MAC or decryption problem', async () => {
    const runs = await Promise.all([
      read(seedsFixture('bad-mac.pskc'), psk),
      read(seedsFixture('bad-mac.pskc'), { ...psk, pskcMac: 'skip' }),
      read(seedsFixture('psk-two-keys.pskc'), { pskcKey: Buffer.alloc(16) }),
    ]);
    const forms = [...secretForms(TEST_SECRETS.a), ...secretForms(TEST_SECRETS.b), ...secretForms(TEST_PSK)];
    for (const run of runs) for (const form of forms) expect(run.text).not.toContain(form);
  });
});
