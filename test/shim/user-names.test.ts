import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hotpCode } from '../../src/otp/hotp.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { ShimDatabase } from '../../src/shim/shim-database.js';
import { runImportStore } from '../../src/shim/shim-operations.js';
import { readStoreFile } from '../../src/shim/store-file.js';
import { userKey } from '../../src/shim/store-model.js';
import { Verifier } from '../../src/shim/verifier.js';
import { RFC_SEED_SHA1, RFC_SEED_SHA256, TEST_KEY, seed, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let store: string;
beforeEach(() => {
  tmp = tempDir();
  store = tmp.path('shim.store');
});
afterEach(() => tmp.cleanup());

describe('user names (issue 17 item 19)', () => {
  it('issue 17 item 19: matches ASCII UPNs only: the Kelvin sign and other look-alikes reach nobody', async () => {
    const summary = await runImportStore({
      store,
      key: TEST_KEY,
      input: {
        users: [
          { username: 'Kate@Contoso.com', enabled: true },
          { username: 'ﬁona@contoso.com', enabled: true },
        ],
        tokens: [
          { seed: seed({ serial: 'K1', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'kate@contoso.com' },
          { seed: seed({ serial: 'F1', secret: RFC_SEED_SHA256, type: 'hotp' }), user: 'ﬁona@contoso.com' },
        ],
      },
    });
    // A name that is not printable ASCII is refused at import, its token listed as skipped.
    expect(summary.skipped).toEqual([expect.objectContaining({ serial: 'F1', reason: expect.stringMatching(/not a printable ASCII name/) })]);
    expect((await readStoreFile(store, TEST_KEY)).users.map((u) => u.username)).toEqual(['Kate@Contoso.com']);
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    try {
      const v = new Verifier(db, db, DEFAULT_RULES, () => 1_700_000_000_000);
      for (const lookAlike of ['\u212Aate@contoso.com', 'kate@contoso.com\u200b', 'ｋate@contoso.com', 'fiona@contoso.com', 'ﬁona@contoso.com']) {
        expect((await v.verify(lookAlike, hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6))).reason, lookAlike).toBe('unknown_user');
      }
      expect(db.users.get('kate@contoso.com')!.fails).toBe(0);
      expect((await v.verify(' KATE@contoso.COM\t', hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6))).reason).toBe('ok');
    } finally {
      await db.close();
    }
    expect(userKey('\u212Aate@contoso.com')).not.toBe('kate@contoso.com');
    expect(userKey('İvan@contoso.com')).toBe('İvan@contoso.com');
  });
});

describe('HOTP counters beyond 2^53 (RFC 4226: up to 2^64 - 1)', () => {
  it('keeps them exact in the store, the journal and verification', async () => {
    const big = 2n ** 60n + 7n;
    const token = seed({ serial: 'B1', secret: RFC_SEED_SHA1, type: 'hotp' });
    (token as { counter: unknown }).counter = big;
    await runImportStore({ store, key: TEST_KEY, input: { users: [{ username: 'ivan@contoso.com', enabled: true }], tokens: [{ seed: token, user: 'ivan@contoso.com' }] } });
    expect((await readStoreFile(store, TEST_KEY)).tokens[0]!.counter).toBe(big);
    let db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    const v = new Verifier(db, db, DEFAULT_RULES, Date.now);
    expect((await v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', big + 2n, 6))).reason).toBe('ok');
    expect(db.tokens.get('B1')!.counter).toBe(big + 3n);
    db.releaseLockSync(); // crash: the journal alone holds the new counter
    db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    try {
      expect(db.tokens.get('B1')!.counter).toBe(big + 3n);
      const again = new Verifier(db, db, DEFAULT_RULES, Date.now);
      expect((await again.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', big + 2n, 6))).reason).toBe('replayed');
    } finally {
      await db.close({ compact: true });
    }
    expect((await readStoreFile(store, TEST_KEY)).tokens[0]!.counter).toBe(big + 3n);
  });
});
