import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCheck, runImportStore } from '../../src/shim/shim-operations.js';
import { ShimDatabase, journalPathOf } from '../../src/shim/shim-database.js';
import { readStoreFile, StoreError, writeStoreFile } from '../../src/shim/store-file.js';
import { loadStoreKey, parseStoreKey, StoreKeyError } from '../../src/shim/store-key.js';
import { StoreBusyError, lockPathOf } from '../../src/shim/store-lock.js';
import { hotpCode } from '../../src/otp/hotp.js';
import { totpCode } from '../../src/otp/totp.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { Verifier } from '../../src/shim/verifier.js';
import { RFC_SEED_SHA1, RFC_SEED_SHA256, TEST_KEY, TEST_KEY_B64, seed, tempDir } from './helpers.js';

const SHORT_SEED = Buffer.from('0123456789'); // Microsoft-style 10 bytes

/** The journal's lines (it is preallocated with zeros; its content ends at the first NUL). */
function journalLines(store: string): string[] {
  const text = readFileSync(journalPathOf(store), 'latin1');
  const end = text.indexOf('\0');
  return (end >= 0 ? text.slice(0, end) : text).trim().split('\n');
}

/** Writes bytes where the next journal line would go, as a write cut short by a crash leaves them. */
function writeAtJournalEnd(store: string, text: string): void {
  const path = journalPathOf(store);
  const end = readFileSync(path).indexOf(0);
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.from(text), 0, Buffer.byteLength(text), end < 0 ? statSync(path).size : end);
  closeSync(fd);
}

function input() {
  return {
    users: [
      { username: 'ivan@contoso.com', enabled: true },
      { username: 'Grace@Contoso.com', enabled: true },
      { username: 'zoe@contoso.com', enabled: true },
    ],
    tokens: [
      { seed: seed({ serial: 'H1', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'ivan@contoso.com' },
      { seed: seed({ serial: 'T1', secret: SHORT_SEED }), user: 'grace@contoso.com' },
    ],
  };
}

let tmp: ReturnType<typeof tempDir>;
let store: string;
beforeEach(async () => {
  tmp = tempDir();
  store = tmp.path('shim.store');
  await runImportStore({ store, key: TEST_KEY, input: input() });
});
afterEach(() => tmp.cleanup());

describe('store file', () => {
  it('is written 0600, atomically (no temporary files left), and holds no seed in the clear', async () => {
    expect(statSync(store).mode & 0o777).toBe(0o600);
    expect(statSync(journalPathOf(store)).mode & 0o777).toBe(0o600);
    expect(readdirSync(tmp.dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const text = readFileSync(store, 'utf8');
    for (const secret of [RFC_SEED_SHA1, SHORT_SEED]) {
      for (const encoding of ['hex', 'base64', 'latin1'] as const) expect(text).not.toContain(secret.toString(encoding));
    }
    expect(text).not.toContain('ivan@contoso.com'); // user names are inside the encrypted payload too
    expect(JSON.parse(text)).toMatchObject({ format: 'mfa-migrate-shim-store', cipher: 'aes-256-gcm' });
  });

  it('refuses another key, naming both key ids but no key', async () => {
    const other = Buffer.alloc(32, 9);
    const err = await readStoreFile(store, other).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/another key \(store key id [0-9a-f]{16}, given key id [0-9a-f]{16}\)/);
    expect((err as Error).message).not.toContain(other.toString('base64'));
  });

  it('detects any change to the ciphertext or header', async () => {
    const envelope = JSON.parse(readFileSync(store, 'utf8')) as Record<string, string>;
    const ct = Buffer.from(envelope.ciphertext!, 'base64');
    ct[10]! ^= 1;
    writeFileSync(store, JSON.stringify({ ...envelope, ciphertext: ct.toString('base64') }));
    await expect(readStoreFile(store, TEST_KEY)).rejects.toThrow(/integrity check/);
    writeFileSync(store, 'not json');
    await expect(readStoreFile(store, TEST_KEY)).rejects.toThrow(/not a shim token store/);
    await expect(readStoreFile(tmp.path('missing.store'), TEST_KEY)).rejects.toThrow(/no such store/);
  });

  it('round-trips seeds and parameters', async () => {
    const doc = await readStoreFile(store, TEST_KEY);
    expect(doc.users.map((u) => u.username).sort()).toEqual(['Grace@Contoso.com', 'ivan@contoso.com', 'zoe@contoso.com']);
    const t1 = doc.tokens.find((t) => t.serial === 'T1')!;
    expect(Buffer.from(t1.secret, 'base64')).toEqual(SHORT_SEED);
    expect(t1).toMatchObject({ type: 'totp', algorithm: 'sha1', digits: 6, period: 30, lastStep: null, drift: 0 });
  });
});

describe('a token that appends a Luhn check digit', () => {
  it('keeps the check digit through import, the store file and a compaction, and verifies the code with it', async () => {
    const s = tmp.path('check.store');
    const summary = await runImportStore({
      store: s,
      key: TEST_KEY,
      input: { users: [{ username: 'ivan@contoso.com', enabled: true }], tokens: [{ seed: seed({ serial: 'L1', secret: RFC_SEED_SHA1, type: 'hotp', checkDigit: true }), user: 'ivan@contoso.com' }] },
    });
    expect(summary.byKind).toEqual({ 'HOTP SHA1 6 digits + check digit': 1 });
    expect(summary.perUser[0]!.tokens[0]).toMatchObject({ serial: 'L1', digits: 6, checkDigit: true, entraCapable: false });
    expect((await readStoreFile(s, TEST_KEY)).tokens[0]).toMatchObject({ serial: 'L1', digits: 6, checkDigit: true });
    const db = await ShimDatabase.open(s, TEST_KEY, { command: 'test' });
    try {
      expect(db.tokens.get('L1')!.checkDigit).toBe(true);
      const v = new Verifier(db, db, DEFAULT_RULES, () => 1_700_000_000_000);
      expect((await v.verify('ivan@contoso.com', '755224')).reason).toBe('wrong_code');
      expect((await v.verify('ivan@contoso.com', '7552243')).reason).toBe('ok');
      await db.compact();
    } finally {
      await db.close();
    }
    expect((await readStoreFile(s, TEST_KEY)).tokens[0]).toMatchObject({ serial: 'L1', checkDigit: true, counter: 1n });
    // A token without one stores no field (stores written before it read the same).
    expect((await readStoreFile(store, TEST_KEY)).tokens.every((t) => !('checkDigit' in t))).toBe(true);
  });
});

describe('store key', () => {
  it('reads base64 (standard or URL-safe) from the environment or a key file', async () => {
    expect(loadStoreKey({ env: { MFA_SHIM_KEY: TEST_KEY_B64 } })).toEqual(TEST_KEY);
    const urlSafe = Buffer.alloc(32, 0xfb).toString('base64url');
    expect(parseStoreKey(urlSafe, 'x')).toEqual(Buffer.alloc(32, 0xfb));
    const file = tmp.path('key');
    writeFileSync(file, `${TEST_KEY_B64}\n`);
    expect(loadStoreKey({ keyFile: file, env: {} })).toEqual(TEST_KEY);
  });

  it('explains a missing, short or non-base64 key', async () => {
    expect(() => loadStoreKey({ env: {} })).toThrow(/set MFA_SHIM_KEY/);
    expect(() => loadStoreKey({ env: { MFA_SHIM_KEY: Buffer.alloc(16).toString('base64') } })).toThrow(/32 bytes, not 16/);
    expect(() => parseStoreKey('not base64!', 'k')).toThrow(StoreKeyError);
    expect(() => loadStoreKey({ keyFile: tmp.path('nope'), env: {} })).toThrow(/cannot read key file/);
  });
});

describe('state journal and database', () => {
  const now = () => 1_700_000_000_000;

  it('persists every state change before the verdict is answered, and replays it after a crash', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    const verifier = new Verifier(db, db, DEFAULT_RULES, now);
    const accepted = await verifier.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 3, 6));
    expect(accepted.result).toBe('accept');
    await verifier.verify('grace@contoso.com', '000000');
    // Crash: the process dies without closing (only the lock file is left behind by a dead process).
    db.releaseLockSync();

    const after = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    try {
      expect(after.tokens.get('H1')!.counter).toBe(4n);
      expect(after.users.get('grace@contoso.com')!.fails).toBe(1);
      const v = new Verifier(after, after, DEFAULT_RULES, now);
      expect((await v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 3, 6))).reason).toBe('replayed');
    } finally {
      await after.close();
    }
  });

  it('one secret under two of a user\'s serials: the second is not imported, so a code is accepted once, not once per token', async () => {
    const s = tmp.path('twice.store');
    const summary = await runImportStore({
      store: s,
      key: TEST_KEY,
      input: {
        users: [{ username: 'ivan@contoso.com', enabled: true }],
        tokens: [
          { seed: seed({ serial: 'H-A', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'ivan@contoso.com' },
          { seed: seed({ serial: 'H-B', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'ivan@contoso.com' },
        ],
      },
    });
    expect(summary.skipped.map((k) => [k.serial, k.reason])).toEqual([['H-B', expect.stringMatching(/the same secret as token H-A/)]]);
    const db = await ShimDatabase.open(s, TEST_KEY, { command: 'test' });
    try {
      const v = new Verifier(db, db, DEFAULT_RULES, now);
      const code = hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6);
      expect((await v.verify('ivan@contoso.com', code)).result).toBe('accept');
      expect(await v.verify('ivan@contoso.com', code)).toMatchObject({ result: 'reject', reason: 'replayed' });
    } finally {
      await db.close();
    }
  });

  it('keeps every change answered while an earlier batch was still on its way to disk, in order, across a crash', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    const verifier = new Verifier(db, db, DEFAULT_RULES, now);
    // Each wave is queued while the previous wave's write may still be in flight (group commit).
    const answers: Promise<{ result: string }>[] = [];
    for (let c = 0; c < 8; c++) {
      answers.push(verifier.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', c, 6)));
      answers.push(verifier.verify('grace@contoso.com', '000000'));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = (await Promise.all(answers)).map((a) => a.result);
    expect(results.filter((r) => r === 'accept')).toHaveLength(8);
    db.releaseLockSync(); // crash: nothing is closed or flushed

    const after = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    try {
      expect(after.tokens.get('H1')!.counter).toBe(8n);
      expect(after.users.get('grace@contoso.com')!.fails).toBe(8);
    } finally {
      await after.close();
    }
  });

  it('drops a cut-off last line (never acknowledged) and continues cleanly after it', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    await new Verifier(db, db, DEFAULT_RULES, now).verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6));
    await db.close();
    writeAtJournalEnd(store, '{"seq":2,"token":"H1","counter":9');
    const notices: string[] = [];
    const again = await ShimDatabase.open(store, TEST_KEY, { command: 'test', onNotice: (m) => notices.push(m) });
    expect(notices.join()).toMatch(/dropped 1 cut-off line/);
    expect(again.tokens.get('H1')!.counter).toBe(1n);
    await new Verifier(again, again, DEFAULT_RULES, now).verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 1, 6));
    await again.close();
    const third = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    expect(third.tokens.get('H1')!.counter).toBe(2n);
    await third.close();
  });

  it('refuses a journal with a modified batch that is followed by good ones', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    const v = new Verifier(db, db, DEFAULT_RULES, now);
    await v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6));
    await v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 1, 6));
    await db.close();
    const original = readFileSync(journalPathOf(store), 'utf8');
    const lines = original.split('\n');
    // header, record 1, commit 1, record 2, commit 2
    expect(lines.slice(0, 5).map((l) => Object.keys(JSON.parse(l) as object)[0])).toEqual(['journal', 'seq', 'commit', 'seq', 'commit']);
    // Roll the counter back in the first batch (as someone trying to reopen a replay window would).
    lines[1] = lines[1]!.replace('"counter":1', '"counter":0');
    writeFileSync(journalPathOf(store), lines.join('\n'));
    await expect(ShimDatabase.open(store, TEST_KEY, { command: 'test' })).rejects.toThrow(/journal: line 2: a batch of state records failed its integrity check/);
    expect(existsSync(lockPathOf(store))).toBe(false);
    // Removing a whole authentic batch from the middle is caught by the numbering.
    const withoutFirst = original.split('\n');
    withoutFirst.splice(1, 2);
    writeFileSync(journalPathOf(store), withoutFirst.join('\n'));
    await expect(ShimDatabase.open(store, TEST_KEY, { command: 'test' })).rejects.toThrow(/line 2: record 2 follows record 0/);
    // A batch without its commit at the end (a cut-off write) is dropped as a whole.
    const cut = original.split('\n');
    cut.splice(4, 1, '');
    writeFileSync(journalPathOf(store), cut.slice(0, 5).join('\n') + '\n');
    const notices: string[] = [];
    const reopened = await ShimDatabase.open(store, TEST_KEY, { command: 'test', onNotice: (m) => notices.push(m) });
    expect(reopened.tokens.get('H1')!.counter).toBe(1n);
    expect(notices.join()).toMatch(/dropped 2 cut-off line/);
    await reopened.close();
  });

  it('issue 17 item 7: refuses a complete batch with a bad MAC even at the end, and a zeroed batch followed by records', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    const v = new Verifier(db, db, DEFAULT_RULES, now);
    await v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6));
    await v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 1, 6));
    db.releaseLockSync();
    const path = journalPathOf(store);
    const original = readFileSync(path);
    const text = original.toString('latin1');
    const lines = text.slice(0, text.indexOf('\0')).split('\n');
    // The last batch, complete, its counter rolled back (used code made usable again): refused, not dropped.
    const tampered = [...lines];
    tampered[3] = tampered[3]!.replace('"counter":2', '"counter":1');
    writeFileSync(path, tampered.join('\n'));
    await expect(ShimDatabase.open(store, TEST_KEY, { command: 'test' })).rejects.toThrow(/line 4: a batch of state records failed its integrity check/);
    // The first batch zeroed in place, the second left: refused (records were wiped).
    const zeroed = Buffer.from(original);
    zeroed.fill(0, lines[0]!.length + 1, lines[0]!.length + 1 + lines[1]!.length + 1 + lines[2]!.length + 1);
    writeFileSync(path, zeroed);
    const from = lines[0]!.length + 1;
    const to = from + lines[1]!.length + 1 + lines[2]!.length + 1 - 1;
    await expect(ShimDatabase.open(store, TEST_KEY, { command: 'test' })).rejects.toThrow(`: bytes ${from}-${to} are zeroed but records follow them`);
    // A byte written far into the preallocated zeros (blocks are compared 64 KiB at a time) is found too.
    const end = text.indexOf('\0');
    expect(original.length).toBeGreaterThan(200_001);
    const stray = Buffer.from(original);
    stray[200_000] = 0x7b;
    writeFileSync(path, stray);
    await expect(ShimDatabase.open(store, TEST_KEY, { command: 'test' })).rejects.toThrow(`: bytes ${end}-199999 are zeroed but records follow them`);
    writeFileSync(path, original);
    const ok = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    expect(ok.tokens.get('H1')!.counter).toBe(2n);
    await ok.close();
  });

  it('issue 17 item 7: refuses to start with a deleted, foreign or older journal, unless --reset-state', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    const v = new Verifier(db, db, DEFAULT_RULES, now);
    await v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6));
    const older = readFileSync(journalPathOf(store)); // this generation's journal, one accept in
    await db.compact();
    await v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 1, 6));
    db.releaseLockSync();
    const current = readFileSync(journalPathOf(store));

    rmSync(journalPathOf(store));
    await expect(ShimDatabase.open(store, TEST_KEY, { command: 'test' })).rejects.toThrow(/state journal is missing: .*--reset-state/);
    writeFileSync(journalPathOf(store), older, { mode: 0o600 });
    await expect(ShimDatabase.open(store, TEST_KEY, { command: 'test' })).rejects.toThrow(/state journal is an older generation's/);
    // Another store's journal (same key).
    const other = tmp.path('other.store');
    await runImportStore({ store: other, key: TEST_KEY, input: input() });
    writeFileSync(journalPathOf(store), readFileSync(journalPathOf(other)));
    await expect(ShimDatabase.open(store, TEST_KEY, { command: 'test' })).rejects.toThrow(/is not the one the store names/);
    expect(existsSync(lockPathOf(store))).toBe(false);

    // The admin decides: continue from the store's own state (the accept since the compaction is lost).
    const notices: string[] = [];
    const reset = await ShimDatabase.open(store, TEST_KEY, { command: 'test', resetState: true, onNotice: (m) => notices.push(m) });
    expect(notices.join('\n')).toMatch(/--reset-state: .* is not the one the store names .*; continuing from the state in/);
    expect(reset.stateReset).toBe(true);
    expect(reset.tokens.get('H1')!.counter).toBe(1n);
    await reset.close();
    // From then on the store names its new journal: a plain start works.
    const plain = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    expect(plain.stateReset).toBe(false);
    await plain.close();
    writeFileSync(journalPathOf(store), current);
    await expect(ShimDatabase.open(store, TEST_KEY, { command: 'test' })).rejects.toThrow(/older generation's/);
  });

  it('issue 17 item 7: a compaction stopped between writing the store and renaming its journal in is finished at the next start', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    await new Verifier(db, db, DEFAULT_RULES, now).verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6));
    db.releaseLockSync();
    const journalBefore = readFileSync(journalPathOf(store));
    const reopened = await ShimDatabase.open(store, TEST_KEY, { command: 'test' }); // its start rotates nothing: the journal is current
    await reopened.compact();
    reopened.releaseLockSync();
    // Put the state back as a crash right before the rename would have left it.
    const { nextJournalPathOf } = await import('../../src/shim/shim-database.js');
    writeFileSync(nextJournalPathOf(store), readFileSync(journalPathOf(store)), { mode: 0o600 });
    writeFileSync(journalPathOf(store), journalBefore);
    const after = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    expect(after.tokens.get('H1')!.counter).toBe(1n);
    expect(existsSync(nextJournalPathOf(store))).toBe(false);
    await after.close();
  });

  it('detects a store replaced by an older copy (journal newer than store)', async () => {
    const old = readFileSync(store);
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    await db.compact();
    await db.close();
    writeFileSync(store, old);
    await expect(ShimDatabase.open(store, TEST_KEY, { command: 'test' })).rejects.toThrow(/replaced by an older copy/);
  });

  it('compacts into a new generation without losing state, also under concurrent changes', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    const v = new Verifier(db, db, DEFAULT_RULES, now);
    const gen = db.generation;
    const before = v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6));
    const compaction = db.compact();
    const during = v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 1, 6));
    expect((await Promise.all([before, during, compaction])).slice(0, 2).map((r) => r!.result)).toEqual(['accept', 'accept']);
    expect(db.generation).toBe(gen + 1);
    expect(journalLines(store)).toHaveLength(3); // header + the change made during compaction + its commit
    db.releaseLockSync(); // crash
    const after = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    expect(after.tokens.get('H1')!.counter).toBe(2n);
    await after.close();
  });

  it('compacts by itself when the journal grows past the threshold', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test', compactAfter: 5 });
    const v = new Verifier(db, db, DEFAULT_RULES, now);
    const gen = db.generation;
    for (let c = 0; c < 12; c++) await v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', c, 6));
    await db.close();
    const doc = await readStoreFile(store, TEST_KEY);
    expect(doc.gen).toBeGreaterThan(gen);
    const after = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    expect(after.tokens.get('H1')!.counter).toBe(12n);
    await after.close();
  });

  it('fails for good when the state can no longer be written (compaction into a vanished directory)', async () => {
    const notices: string[] = [];
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test', onNotice: (l) => notices.push(l) });
    rmSync(tmp.dir, { recursive: true, force: true });
    await expect(db.compact()).rejects.toThrow(/compaction failed/);
    expect(db.failure?.message).toMatch(/^\S+shim\.store: compaction failed: /);
    await expect(new Verifier(db, db, DEFAULT_RULES, now).verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6))).rejects.toThrow(/compaction failed/);
    // Told once, on the operator's stderr, with what follows from it.
    expect(notices).toEqual([`${db.failure!.message}: nothing is verified (503 state_unavailable) until the shim is restarted, once the cause is fixed`]);
    await db.close().catch(() => undefined);
  });

  it('lets one process at a time hold the store, and takes over a lock left by a dead process', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'shim serve' });
    const err = await ShimDatabase.open(store, TEST_KEY, { command: 'shim check' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreBusyError);
    expect((err as Error).message).toMatch(/in use by `mfa-migrate shim serve` \(pid \d+/);
    await db.close();
    writeFileSync(lockPathOf(store), JSON.stringify({ id: 'x', pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), command: 'shim serve', startedAt: 'then' }));
    const taken = await ShimDatabase.open(store, TEST_KEY, { command: 'shim check' });
    await taken.close();
    expect(existsSync(lockPathOf(store))).toBe(false);
  });

  it('preallocates the journal with zeros and writes in place (the file does not grow per record)', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    const size = statSync(journalPathOf(store)).size;
    expect(size).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    const v = new Verifier(db, db, DEFAULT_RULES, now);
    for (let c = 0; c < 20; c++) await v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', c, 6));
    expect(statSync(journalPathOf(store)).size).toBe(size);
    expect(journalLines(store)).toHaveLength(41); // header + 20 batches of one record and a commit
    await db.close();
  });

  it('writes compacted stores with a fresh IV each time', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    const doc = db.snapshot();
    await writeStoreFile(tmp.path('a'), doc, TEST_KEY);
    await writeStoreFile(tmp.path('b'), doc, TEST_KEY);
    await db.close();
    const iv = (f: string) => (JSON.parse(readFileSync(f, 'utf8')) as { iv: string }).iv;
    expect(iv(tmp.path('a'))).not.toBe(iv(tmp.path('b')));
  });
});

describe('re-import', () => {
  it('refuses to import over a lost store whose journal is still there, which would accept used codes again; --reset-state says to (a security review)', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    const v = new Verifier(db, db, DEFAULT_RULES, () => 1_700_000_000_000);
    expect((await v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6))).reason).toBe('ok');
    await db.close();
    const journal = readFileSync(journalPathOf(store));
    rmSync(store);
    await expect(runImportStore({ store, key: TEST_KEY, input: input() })).rejects.toThrow(/shim\.store does not exist, but its state journal .*shim\.store\.journal does: the store was lost, and a new one would accept used codes again\. Restore the store from a backup; or, to start the state again from nothing, import with --reset-state/);
    // Nothing written: the journal is as it was, no store made.
    expect(readFileSync(journalPathOf(store)).equals(journal)).toBe(true);
    expect(existsSync(store)).toBe(false);
    expect((await runImportStore({ store, key: TEST_KEY, input: input(), resetState: true })).added).toBe(2);
  });

  it('keeps the state of unchanged tokens and users, resets changed seeds, drops removed tokens', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    const v = new Verifier(db, db, DEFAULT_RULES, () => 1_700_000_000_000);
    await v.verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 5, 6));
    await v.verify('grace@contoso.com', hotpCode(SHORT_SEED, 'sha1', Math.floor(1_700_000_000 / 30), 6));
    await v.verify('zoe@contoso.com', '123456'); // no token: nothing recorded
    await v.verify('grace@contoso.com', '000000');
    await db.close();

    const next = input();
    next.tokens[1] = { seed: seed({ serial: 'T1', secret: SHORT_SEED }), user: 'grace@contoso.com' }; // unchanged
    next.tokens.push({ seed: seed({ serial: 'T2', secret: RFC_SEED_SHA256, algorithm: 'sha256' }), user: 'zoe@contoso.com' });
    const createdAt = (await readStoreFile(store, TEST_KEY)).createdAt;
    const summary = await runImportStore({ store, key: TEST_KEY, input: next });
    expect(summary).toMatchObject({ kept: 2, added: 1, reset: 0, removed: [] });
    let doc = await readStoreFile(store, TEST_KEY);
    expect(doc.createdAt).toBe(createdAt);
    expect(doc.tokens.find((t) => t.serial === 'H1')!.counter).toBe(6n);
    expect(doc.tokens.find((t) => t.serial === 'T1')!.lastStep).toBe(Math.floor(1_700_000_000 / 30));
    expect(doc.users.find((u) => u.username === 'Grace@Contoso.com')!.fails).toBe(1);

    // A changed seed under the same serial starts afresh; a dropped token disappears.
    const changed = { users: next.users, tokens: [{ seed: seed({ serial: 'H1', secret: RFC_SEED_SHA256, type: 'hotp' }), user: 'ivan@contoso.com' }] };
    const second = await runImportStore({ store, key: TEST_KEY, input: changed });
    expect(second).toMatchObject({ reset: 1, kept: 0, removed: ['T1', 'T2'] });
    doc = await readStoreFile(store, TEST_KEY);
    expect(doc.tokens.map((t) => t.serial)).toEqual(['H1']);
    expect(doc.tokens[0]!.counter).toBe(0n);
  });

  it('never moves a kept HOTP counter backwards, and takes a higher one from the seed file', async () => {
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    await new Verifier(db, db, DEFAULT_RULES, Date.now).verify('ivan@contoso.com', hotpCode(RFC_SEED_SHA1, 'sha1', 7, 6));
    await db.close();
    await runImportStore({ store, key: TEST_KEY, input: input() });
    expect((await readStoreFile(store, TEST_KEY)).tokens.find((t) => t.serial === 'H1')!.counter).toBe(8n);
    const higher = input();
    higher.tokens[0] = { seed: seed({ serial: 'H1', secret: RFC_SEED_SHA1, type: 'hotp', counter: 50 }), user: 'ivan@contoso.com' };
    await runImportStore({ store, key: TEST_KEY, input: higher });
    expect((await readStoreFile(store, TEST_KEY)).tokens.find((t) => t.serial === 'H1')!.counter).toBe(50n);
  });

  it('skips seeds without a user, and tokens of disabled users unless asked; the summary holds no secret', async () => {
    const tmp2 = tempDir();
    try {
      const s = tmp2.path('s.store');
      const summary = await runImportStore({
        store: s,
        key: TEST_KEY,
        input: {
          users: [
            { username: 'ivan@contoso.com', enabled: true },
            { username: 'ravi@contoso.com', enabled: false },
          ],
          tokens: [
            { seed: seed({ serial: 'H1', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'IVAN@contoso.com' },
            { seed: seed({ serial: 'SPARE', secret: RFC_SEED_SHA256 }) },
            { seed: seed({ serial: 'R1', secret: SHORT_SEED }), user: 'ravi@contoso.com' },
            { seed: seed({ serial: 'X10', secret: SHORT_SEED, digits: 10 }), user: 'ivan@contoso.com' },
          ],
        },
      });
      expect(summary.tokens).toBe(1);
      expect(summary.skipped.map((k) => [k.serial, k.reason])).toEqual([
        ['SPARE', 'no user in the export has this token'],
        ['R1', expect.stringMatching(/disabled in MFA Server/)],
        ['X10', expect.stringMatching(/10-digit codes are not supported/)],
      ]);
      expect(summary.perUser).toEqual([{ username: 'ivan@contoso.com', tokens: [expect.objectContaining({ serial: 'H1', type: 'hotp', change: 'added', entraCapable: false })] }]);
      expect(summary.shimOnly).toBe(1);
      const text = JSON.stringify(summary);
      for (const secret of [RFC_SEED_SHA1, SHORT_SEED, RFC_SEED_SHA256]) {
        expect(text).not.toContain(secret.toString('base64'));
        expect(text).not.toContain(secret.toString('hex'));
      }
      const withDisabled = await runImportStore({
        store: s,
        key: TEST_KEY,
        input: { users: [{ username: 'ravi@contoso.com', enabled: false }], tokens: [{ seed: seed({ serial: 'R1', secret: SHORT_SEED }), user: 'ravi@contoso.com' }] },
        importOptions: { includeDisabled: true },
      });
      expect(withDisabled.tokens).toBe(1);
    } finally {
      tmp2.cleanup();
    }
  });
});

describe('a token an import removes and a later one brings back', () => {
  it('carries on from where its state stood (its used codes stay used), with no secret kept for it meanwhile', async () => {
    const H = (c: number) => hotpCode(RFC_SEED_SHA1, 'sha1', c, 6);
    for (const c of [0, 1, 2]) expect((await runCheck({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com', code: H(c) })).reason).toBe('ok');
    const without = input();
    without.tokens = without.tokens.filter((t) => t.user !== 'ivan@contoso.com');
    expect((await runImportStore({ store, key: TEST_KEY, input: without })).removed).toEqual(['H1']);
    const away = await readStoreFile(store, TEST_KEY);
    expect(away.retired).toEqual([{ serial: 'H1', fingerprint: expect.any(String), type: 'hotp', period: null, counter: 3n, lastStep: null, drift: 0 }]);
    expect(JSON.stringify(away.retired, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).not.toContain(RFC_SEED_SHA1.toString('base64'));
    // Kept through a compaction (a server's start and stop write a new generation).
    const db = await ShimDatabase.open(store, TEST_KEY, { command: 'test' });
    await db.compact();
    await db.close();
    expect((await readStoreFile(store, TEST_KEY)).retired).toEqual(away.retired);
    // Back (the seed file still says counter 0): the codes already used are refused, the next one taken.
    await runImportStore({ store, key: TEST_KEY, input: input() });
    expect((await readStoreFile(store, TEST_KEY)).retired).toBeUndefined();
    expect((await runCheck({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com', code: H(1) })).reason).toBe('replayed');
    expect((await runCheck({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com', code: H(3) })).reason).toBe('ok');
  });

  it('a seed two tokens share, a seed that changed type and back, a seed that got further under another serial: no used code comes back', async () => {
    const H = (c: number) => hotpCode(RFC_SEED_SHA1, 'sha1', c, 6);
    const check = async (user: string, c: number) => (await runCheck({ store, key: TEST_KEY, rules: DEFAULT_RULES, user, code: H(c) })).reason;
    const users = input().users;
    const tokens = (...list: [serial: string, user: string, type?: 'hotp' | 'totp'][]) => ({ users, tokens: list.map(([serial, user, type]) => ({ seed: seed({ serial, secret: RFC_SEED_SHA1, type: type ?? 'hotp' }), user })) });
    // ivan and zoe hold one seed (imported with --force in real life); ivan uses three codes.
    await runImportStore({ store, key: TEST_KEY, input: tokens(['H1', 'ivan@contoso.com'], ['Z1', 'zoe@contoso.com']) });
    for (const c of [0, 1, 2]) expect(await check('ivan@contoso.com', c)).toBe('ok');
    // ivan's token renamed: the shared seed's codes he used stay used, for him and for zoe.
    await runImportStore({ store, key: TEST_KEY, input: tokens(['H1-NEW', 'ivan@contoso.com'], ['Z1', 'zoe@contoso.com']) });
    expect(await check('ivan@contoso.com', 1)).toBe('replayed');
    expect(await check('zoe@contoso.com', 2)).toBe('replayed');
    // Made TOTP by mistake, then HOTP again: the HOTP state was kept aside meanwhile.
    await runImportStore({ store, key: TEST_KEY, input: tokens(['H1-NEW', 'ivan@contoso.com', 'totp']) });
    await runImportStore({ store, key: TEST_KEY, input: tokens(['H1-NEW', 'ivan@contoso.com']) });
    expect(await check('ivan@contoso.com', 2)).toBe('replayed');
    // The seed goes on under zoe's token to code 6; ivan's token comes back later: it starts there.
    await runImportStore({ store, key: TEST_KEY, input: tokens(['Z2', 'zoe@contoso.com']) });
    for (const c of [3, 4, 5, 6]) expect(await check('zoe@contoso.com', c)).toBe('ok');
    await runImportStore({ store, key: TEST_KEY, input: tokens(['H1-NEW', 'ivan@contoso.com']) });
    expect(await check('ivan@contoso.com', 5)).toBe('replayed');
    expect(await check('ivan@contoso.com', 7)).toBe('ok');
  });

  it("a TOTP token whose clock runs days behind keeps its last step aside as long as it could be replayed (the step is the token's)", async () => {
    const KEY = Buffer.from('a-totp-seed-20-bytes');
    const T = (ms: number) => totpCode(KEY, 'sha1', 6, 30, ms);
    const drift = -30_000; // steps: the token's clock about 10 days behind the server's
    const users = input().users;
    const withT = (present: boolean) => ({ users, tokens: present ? [{ seed: seed({ serial: 'T9', secret: KEY, timeDrift: drift }), user: 'grace@contoso.com' }] : [] });
    await runImportStore({ store, key: TEST_KEY, input: withT(true) });
    const code = T(Date.now() + drift * 30_000);
    expect((await runCheck({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'grace@contoso.com', code })).reason).toBe('ok');
    await runImportStore({ store, key: TEST_KEY, input: withT(false) });
    expect((await readStoreFile(store, TEST_KEY)).retired).toEqual([expect.objectContaining({ serial: 'T9', type: 'totp', drift })]);
    await runImportStore({ store, key: TEST_KEY, input: withT(true) });
    expect((await runCheck({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'grace@contoso.com', code })).reason).toBe('replayed');
  });

  it('a seed replaced by mistake and then put back, or moved to another serial, carries on too', async () => {
    const H = (c: number) => hotpCode(RFC_SEED_SHA1, 'sha1', c, 6);
    for (const c of [0, 1, 2]) expect((await runCheck({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com', code: H(c) })).reason).toBe('ok');
    const withIvans = (serial: string, secret: Buffer) => {
      const i = input();
      i.tokens[0] = { seed: seed({ serial, secret, type: 'hotp' }), user: 'ivan@contoso.com' };
      return i;
    };
    expect((await runImportStore({ store, key: TEST_KEY, input: withIvans('H1', Buffer.from('a-wrong-seed-of-20-b')) })).reset).toBe(1);
    // Put back: counted as kept (its state carries on), not as a changed seed.
    expect((await runImportStore({ store, key: TEST_KEY, input: withIvans('H1', RFC_SEED_SHA1) })).reset).toBe(0);
    expect((await runCheck({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com', code: H(2) })).reason).toBe('replayed');
    await runImportStore({ store, key: TEST_KEY, input: withIvans('H1-NEW', RFC_SEED_SHA1) });
    expect((await runCheck({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com', code: H(2) })).reason).toBe('replayed');
    expect((await runCheck({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com', code: H(3) })).reason).toBe('ok');
  });
});
