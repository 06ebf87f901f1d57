import { createDecipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ProblemList } from '../../../src/model/problem.js';
import { readSeedFiles, type SeedReadOptions } from '../../../src/source/seeds/read-seed-files.js';
import { derived, writePskc, type PskcEncryption, type PskcKey } from '../../../fixtures/pskc-writer.js';
import { codes, read, tempDir } from './seed-test-helpers.js';

// A black-box test: one --pskc-key-file per run blocked a migration of several shipments (one
// transport key each). Each encrypted file is decrypted with the key its MAC verifies.
const tmp = tempDir();
const KEY_A = derived('choice-a', 16);
const KEY_B = derived('choice-b', 16);
const SECRET_A = derived('choice-secret-a', 20);
const SECRET_B = derived('choice-secret-b', 20);
const totp = (serial: string, secret: Buffer): PskcKey => ({ serial, type: 'totp', secret });
const mac = (label: string): PskcEncryption['mac'] => ({ hash: 'sha256', key: derived(label, 20) });

const shipmentA = tmp.file('a.pskc', writePskc({ keys: [totp('A-1', SECRET_A)], encryption: { cipher: 'aes128-cbc', key: KEY_A, mac: mac('mac-a') } }));
const shipmentB = tmp.file('b.pskc', writePskc({ keys: [totp('B-1', SECRET_B)], encryption: { cipher: 'aes128-cbc', key: KEY_B, mac: mac('mac-b') } }));
const both: SeedReadOptions = { pskcKeys: [{ key: KEY_A, file: 'a.hex' }, { key: KEY_B, file: 'b.hex' }] };

async function readAll(paths: string[], opts: SeedReadOptions) {
  const problems = new ProblemList();
  const seeds = await readSeedFiles(paths, opts, problems);
  return { seeds, problems: problems.items };
}

/** A 16-byte key, not `right`, that decrypts `file`'s first CipherValue (AES-128-CBC) with valid padding. */
function paddingImpostor(xml: string, right: Buffer): Buffer {
  const data = Buffer.from(/<xenc:CipherValue>([^<]+)</.exec(xml)![1]!, 'base64');
  for (;;) {
    const key = randomBytes(16);
    if (key.equals(right)) continue;
    try {
      const d = createDecipheriv('aes-128-cbc', key, data.subarray(0, 16));
      Buffer.concat([d.update(data.subarray(16)), d.final()]);
      return key;
    } catch {
      // bad padding: try another
    }
  }
}

describe('several PSKC keys: each file is decrypted with its own', () => {
  it('two shipments, each with its own key and ValueMACs, are read in one run, whatever the order of the keys', async () => {
    for (const opts of [both, { pskcKeys: [...both.pskcKeys!].reverse() }]) {
      const { seeds, problems } = await readAll([shipmentA, shipmentB], opts);
      expect(problems).toEqual([]);
      expect(seeds.map((s) => s.serial)).toEqual(['A-1', 'B-1']);
      expect(seeds[0]!.secret.reveal().equals(SECRET_A)).toBe(true);
      expect(seeds[1]!.secret.reveal().equals(SECRET_B)).toBe(true);
    }
  });

  it('a key wrap without ValueMACs: the key that unwraps it (its own integrity check)', async () => {
    const file = tmp.file('kw.pskc', writePskc({ keys: [totp('W-1', SECRET_A)], encryption: { cipher: 'kw-aes128', key: KEY_B, mac: null } }));
    const { seeds, problems } = await read(file, both);
    expect(problems).toEqual([]);
    expect(seeds[0]!.secret.reveal().equals(SECRET_A)).toBe(true);
  });

  it('several passwords (PBKDF2): the one whose derived key the MACs verify', async () => {
    const salt = derived('choice-salt', 16);
    const key = pbkdf2Sync('second shipment', salt, 1000, 16, 'sha1');
    const file = tmp.file('pw.pskc', writePskc({ keys: [totp('P-1', SECRET_B)], encryption: { cipher: 'aes128-cbc', key, pbkdf2: { salt, iterations: 1000, keyLength: 16 }, mac: mac('mac-p') } }));
    const { seeds, problems } = await read(file, { pskcPasswords: [{ password: 'first shipment', file: 'a.txt' }, { password: 'second shipment', file: 'b.txt' }] });
    expect(problems).toEqual([]);
    expect(seeds[0]!.secret.reveal().equals(SECRET_B)).toBe(true);
  });

  it('keys of the wrong length for the cipher are not tried; the same key given twice is one key', async () => {
    const opts = { pskcKeys: [{ key: derived('choice-24', 24), file: 'c.hex' }, { key: KEY_A, file: 'a.hex' }, { key: Buffer.from(KEY_A), file: 'a-copy.hex' }] };
    const { seeds, problems } = await read(shipmentA, opts);
    expect(problems).toEqual([]);
    expect(seeds).toHaveLength(1);
    const none = await read(shipmentA, { pskcKeys: [{ key: derived('choice-24', 24), file: 'c.hex' }, { key: derived('choice-32', 32), file: 'd.hex' }] });
    expect(codes(none.problems)).toEqual(['error:pskc-decrypt']);
    expect(none.problems[0]!.message).toBe('none of the 2 pre-shared keys (--pskc-key-file c.hex, d.hex) is 16 bytes, as the file\'s cipher (AES-128-CBC) needs');
  });

  it('a file none of the keys decrypts is refused, naming the key files', async () => {
    const { seeds, problems } = await read(shipmentB, { pskcKeys: [{ key: KEY_A, file: 'a.hex' }, { key: derived('choice-c', 16), file: 'c.hex' }] });
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-decrypt']);
    expect(problems[0]!.message).toBe('cannot decrypt the file with any of the 2 pre-shared keys (--pskc-key-file a.hex, c.hex): is its own among them? Nothing was read from the file');
  });

  describe('values no MAC protects (read only under --pskc-mac allow-unprotected or off)', () => {
    const xml = writePskc({ keys: [totp('U-1', SECRET_A), totp('U-2', SECRET_B)], encryption: { cipher: 'aes128-cbc', key: KEY_A, mac: null } });
    const file = tmp.file('unprotected.pskc', xml);

    it('the one key that decrypts them is used, as a single key would be', async () => {
      const { seeds, problems } = await read(file, { ...both, pskcMac: 'allow-unprotected' });
      expect(seeds.map((s) => s.serial)).toEqual(['U-1', 'U-2']);
      expect(seeds[0]!.secret.reveal().equals(SECRET_A)).toBe(true);
      expect(codes(problems)).toEqual(['warning:pskc-mac']);
    });

    it('two keys that decrypt the first value with valid padding: refused, not guessed', async () => {
      const impostor = paddingImpostor(xml, KEY_A);
      const { seeds, problems, text } = await read(file, { pskcKeys: [{ key: impostor, file: 'old.hex' }, { key: KEY_A, file: 'a.hex' }], pskcMac: 'allow-unprotected' });
      expect(seeds).toEqual([]);
      expect(codes(problems)).toEqual(['error:pskc-decrypt']);
      expect(problems[0]!.message).toBe(
        'each of the 2 pre-shared keys (--pskc-key-file old.hex, a.hex) decrypts the file, and its values carry no ValueMAC, while a wrong key decrypts a value with valid padding about once in 256 times: which is its own is not guessed, and nothing was read from the file. Read it in a run with its own key alone',
      );
      expect(text).not.toContain(KEY_A.toString('hex'));
    });

    it('under the default (fail) the file is refused for its unprotected values, as with one key', async () => {
      const { seeds, problems } = await read(file, both);
      expect(seeds).toEqual([]);
      expect(codes(problems)).toEqual(['error:pskc-mac']);
    });
  });

  it('a MAC-protected file with a key that passes padding too: its MAC picks the right one', async () => {
    const xml = writePskc({ keys: [totp('M-1', SECRET_A)], encryption: { cipher: 'aes128-cbc', key: KEY_A, mac: mac('mac-m') } });
    const impostor = paddingImpostor(xml, KEY_A);
    const { seeds, problems } = await read(tmp.file('mac-and-impostor.pskc', xml), { pskcKeys: [{ key: impostor, file: 'old.hex' }, { key: KEY_A, file: 'a.hex' }] });
    expect(problems).toEqual([]);
    expect(seeds[0]!.secret.reveal().equals(SECRET_A)).toBe(true);
  });
});
