import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret, secretFingerprint } from '../../src/model/secret.js';

describe('Secret', () => {
  const bytes = Buffer.from('12345678901234567890', 'ascii');

  it('copies what it is given, and never prints it', () => {
    const given = Buffer.from(bytes);
    const secret = new Secret(given);
    given.fill(0);
    expect(secret.reveal().equals(bytes)).toBe(true);
    expect(secret.length).toBe(20);
    for (const shown of [String(secret), JSON.stringify({ secret }), inspect(secret), `${secret}`]) {
      expect(shown).not.toContain('1234567890');
      expect(shown).toContain('redacted');
    }
  });

  it('adopts a slice of a larger buffer in place: same bytes, length, fingerprint and equality, and wiping it wipes that slice only', () => {
    const store = new Uint8Array(4 + bytes.length + 4).fill(9);
    store.set(bytes, 4);
    const adopted = Secret.adopt(store, 4, 4 + bytes.length);
    expect(adopted.length).toBe(bytes.length);
    expect(adopted.fingerprint()).toBe(secretFingerprint(bytes));
    expect(adopted.equals(new Secret(bytes))).toBe(true);
    expect(adopted.reveal().equals(bytes)).toBe(true);
    expect(inspect(adopted)).not.toContain('1234567890');
    adopted.reveal().fill(0);
    expect([...store.subarray(4, 4 + bytes.length)].every((b) => b === 0)).toBe(true);
    expect([store[3], store[4 + bytes.length]]).toEqual([9, 9]);
  });
});
