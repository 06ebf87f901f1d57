import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory } from '../io/fsync.js';
import { Secret } from '../model/secret.js';
import { deriveKey } from './store-key.js';
import { readStoreFile, stageStoreFile, STORE_VERSION, StoreError, type RetiredToken, type StoreDocument } from './store-file.js';
import { StoreLock } from './store-lock.js';
import { createJournal, cutJournal, JournalWriter, readJournal, type JournalIdentity, type JournalRecord } from './state-journal.js';
import { userKey, type ShimToken, type ShimUser } from './store-model.js';
import { MemoryState } from './memory-state.js';
import { checkReplaceable } from './private-file.js';

export const journalPathOf = (store: string): string => `${store}.journal`;
/** Where a new generation's journal is made before the store that names it is written (then renamed in). */
export const nextJournalPathOf = (store: string): string => `${store}.journal.next`;

/**
 * Refuses a store, or a journal beside it, that is a symbolic link or not a private regular file of
 * this user (issue 17 item 10): every command that opens or replaces the store (import, serve, check,
 * unlock) calls this before it writes anything, the lock included. `seedsOnly` (the state is in
 * PostgreSQL, --state): the journal files are not used, so only the store is checked.
 */
export function checkStoreFiles(path: string, options: { seedsOnly?: boolean } = {}): void {
  checkReplaceable(path, 'store');
  if (options.seedsOnly) return;
  checkReplaceable(journalPathOf(path), 'state journal');
  checkReplaceable(nextJournalPathOf(path), 'state journal');
}

/**
 * Writes a store generation and the (empty) journal that continues it, so that the store names its
 * journal and a crash at any point leaves a consistent pair: the journal is created beside
 * (`.journal.next`) and durable first, then the store is replaced, then the journal renamed in. A
 * start that finds the store naming the `.next` journal finishes the rename. Returns the document as
 * written and the journal's length.
 */
export async function writeStoreGeneration(path: string, key: Buffer, doc: StoreDocument): Promise<{ doc: StoreDocument; journalBytes: number }> {
  const id = randomBytes(8).toString('hex');
  const written: StoreDocument = { ...doc, version: STORE_VERSION, journal: { id } };
  const next = nextJournalPathOf(path);
  const journalBytes = await createJournal(next, deriveKey(key, 'journal-mac'), doc.storeId, doc.gen, id);
  try {
    // Staged, then renamed in: a store that could not be written (a full disk) leaves the old one in
    // place, naming its own journal, and the `.next` journal made for this one is removed (under the
    // store lock, no other process has it open; a start would remove it too).
    const store = await stageStoreFile(path, written, key);
    await store.commit();
  } catch (err) {
    if (await namesAnotherJournal(path, key, id)) await rm(next, { force: true });
    throw err;
  }
  await rename(next, journalPathOf(path));
  await syncDirectory(dirname(path));
  return { doc: written, journalBytes };
}

/** Whether the store at `path` is missing or names a journal other than `id` (false when it cannot be read: then the `.next` journal is kept). */
async function namesAnotherJournal(path: string, key: Buffer, id: string): Promise<boolean> {
  if (!existsSync(path)) return true;
  return readStoreFile(path, key).then(
    (doc) => doc.journal?.id !== id,
    () => false,
  );
}

export interface OpenOptions {
  /** Shown to other processes that find the store busy, e.g. "shim serve". */
  command: string;
  /** Fold the journal into the store when it holds this many records (default 200 000). */
  compactAfter?: number;
  /** Called with operator-facing notes (e.g. a cut-off journal tail was dropped). */
  onNotice?: (message: string) => void;
  /**
   * Start from the store's own state when its journal is missing or not the one it names (the
   * changes since the last compaction are then lost); without it such a start is refused.
   */
  resetState?: boolean;
  /**
   * The verification state lives elsewhere (PostgreSQL, --state): the store is read for its users
   * and seeds only; no journal is read or written, nothing is compacted. The lock is still taken
   * when `lock` is not false (serve: one process per store file).
   */
  seedsOnly?: boolean;
  /** With seedsOnly: the PostgreSQL URL the state is at, recorded in the lock (a command refused beside the server is told it). */
  stateUrl?: URL;
  lock?: boolean;
}

/** A lock that is not taken (seeds-only readers that run beside a server). */
const NO_LOCK = { release: () => Promise.resolve(), releaseSync: () => undefined } as unknown as StoreLock;

/**
 * The open token store: seeds and state in memory, every state change applied at once and appended
 * to the journal. Holds the store lock until close(). Compaction writes the current state into a new
 * store generation and starts a new journal; `shim serve` compacts at start and clean stop, and the
 * database itself when the journal grows past `compactAfter` records.
 */
export class ShimDatabase extends MemoryState {
  #doc: Omit<StoreDocument, 'users' | 'tokens'>;
  #journal: JournalWriter | undefined;
  #compacting: Promise<void> | null = null;
  #closed = false;

  private constructor(
    readonly path: string,
    private readonly key: Buffer,
    private readonly lock: StoreLock,
    doc: StoreDocument,
    private readonly compactAfter: number,
    private readonly onNotice: (message: string) => void,
  ) {
    super();
    // Removed tokens' last state goes on into every later generation (compactions included).
    this.#doc = { format: doc.format, version: doc.version, storeId: doc.storeId, gen: doc.gen, createdAt: doc.createdAt, updatedAt: doc.updatedAt, ...(doc.retired ? { retired: doc.retired } : {}) };
    loadDocument(doc, this.users, this.tokens, path);
  }

  static async open(path: string, key: Buffer, options: OpenOptions): Promise<ShimDatabase> {
    checkStoreFiles(path, { seedsOnly: options.seedsOnly === true });
    const lock = options.lock === false ? NO_LOCK : await StoreLock.acquire(path, options.command, options.seedsOnly === true, options.stateUrl);
    try {
      const doc = await readStoreFile(path, key);
      if (options.seedsOnly) return new ShimDatabase(path, key, lock, doc, Infinity, options.onNotice ?? (() => undefined));
      const macKey = deriveKey(key, 'journal-mac');
      const journalPath = journalPathOf(path);
      const nextPath = nextJournalPathOf(path);
      const expected: JournalIdentity = { storeId: doc.storeId, gen: doc.gen, ...(doc.journal ? { journalId: doc.journal.id } : {}) };
      let journal = await readJournal(journalPath, macKey, expected);
      if (journal.status !== 'current' && doc.journal) {
        // A compaction or import stopped between writing the store and renaming its journal in.
        const next = await readJournal(nextPath, macKey, expected);
        if (next.status === 'current') {
          await rename(nextPath, journalPath);
          await syncDirectory(dirname(path));
          journal = next;
        }
      }
      await rm(nextPath, { force: true }); // one stopped before its store was written
      const notice = options.onNotice ?? (() => undefined);
      // A version 1 store names no journal: its generation's journal, or an older one (its crash window), continues it.
      const legacyOk = doc.journal === undefined && journal.status === 'stale';
      if (journal.status !== 'current' && !legacyOk) {
        const what = journal.status === 'missing' ? 'is missing' : journal.status === 'stale' ? 'is an older generation\'s' : 'is not the one the store names (another store\'s, or replaced)';
        if (!options.resetState) {
          throw new StoreError(
            `${journalPath}: the state journal ${what}: the state changes since the store was written (used codes, counted failures) cannot be known; restore the journal, or start with --reset-state to continue from the store's own state${journal.status === 'missing' ? ' (a store whose nodes keep their state in PostgreSQL has no journal: give the command --state postgres://... instead)' : ''}`,
          );
        }
        notice(`--reset-state: ${journalPath} ${what}; continuing from the state in ${path} (generation ${doc.gen})`);
      }
      if (journal.droppedTail > 0) {
        notice(`${journalPath}: dropped ${journal.droppedTail} cut-off line(s) at the end (a write interrupted by a crash; never acknowledged)`);
      }
      const db = new ShimDatabase(path, key, lock, doc, options.compactAfter ?? 200_000, notice);
      // Said once, on stderr: from then on every verification is answered 503 state_unavailable.
      const journalFailed = (err: Error) => notice(`${err.message}: nothing is verified (503 state_unavailable) until the shim is restarted, once the cause is fixed`);
      db.stateReset = journal.status !== 'current' && !legacyOk;
      if (journal.status === 'current') {
        db.#apply(journal.records);
        if (journal.droppedTail > 0) await cutJournal(journalPath, journal.intactBytes);
      }
      if (journal.status === 'current' && doc.journal) {
        db.#journal = await JournalWriter.open(journalPath, macKey, doc.storeId, doc.gen, journal.nextSeq, journal.intactBytes, journalFailed, notice);
      } else {
        // Start a journal the store names: a new generation holding the state as it stands.
        const { doc: written, journalBytes } = await writeStoreGeneration(path, key, db.snapshot());
        db.#doc = { ...db.#doc, gen: written.gen, updatedAt: written.updatedAt };
        db.#journal = await JournalWriter.open(journalPath, macKey, written.storeId, written.gen, 1, journalBytes, journalFailed, notice);
      }
      return db;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** The journal was missing or foreign and --reset-state continued from the store's own state. */
  stateReset = false;

  get storeId(): string {
    return this.#doc.storeId;
  }

  get generation(): number {
    return this.#doc.gen;
  }

  get createdAt(): string {
    return this.#doc.createdAt;
  }

  /** Tokens imports removed, with their state then (for an import that brings one back). */
  get retired(): readonly RetiredToken[] {
    return this.#doc.retired ?? [];
  }

  /** Set when the journal could not be written: the state on disk lags behind, so stop answering. */
  get failure(): Error | null {
    return this.#journal?.failed ?? null;
  }

  protected override persist(record: JournalRecord): Promise<void> {
    return this.#append(record);
  }

  #append(record: JournalRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreError(`${this.path}: the store is closed`));
    if (!this.#journal) return Promise.reject(new StoreError(`${this.path}: opened for its seeds only; the state is elsewhere`));
    const done = this.#journal.append(record);
    if (this.#journal.written >= this.compactAfter && !this.#compacting) void this.compact().catch(() => undefined);
    return done;
  }

  /** A made-up name's answer (absent-names.ts) waits for the journal's next commit, as a wrong code's failure record does. */
  protected override nextCommit(): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreError(`${this.path}: the store is closed`));
    if (!this.#journal) return Promise.reject(new StoreError(`${this.path}: opened for its seeds only; the state is elsewhere`));
    return this.#journal.nextCommit();
  }

  #apply(records: JournalRecord[]): void {
    for (const r of records) {
      if ('token' in r) {
        const token = this.tokens.get(r.token);
        if (token) Object.assign(token, { counter: r.counter, lastStep: r.lastStep, drift: r.drift });
      } else {
        const user = this.users.get(r.user);
        if (user) this.setUser(user, { fails: r.fails, lockedAt: r.lockedAt, sources: r.sources ?? {} });
      }
    }
  }

  /** The whole store (seeds and current state) as a document of the next generation. */
  snapshot(): StoreDocument {
    return {
      ...this.#doc,
      gen: this.#doc.gen + 1,
      updatedAt: new Date().toISOString(),
      users: [...this.users.values()].map((u) => ({
        username: u.username,
        ...(u.group !== undefined ? { group: u.group } : {}),
        tokens: u.tokens.map((t) => t.serial),
        fails: u.fails,
        lockedAt: u.lockedAt,
        sources: u.sources,
      })),
      tokens: [...this.tokens.values()].map(storedTokenOf),
    };
  }

  /**
   * Folds the journal into a new store generation. Records queued before the snapshot are durable
   * once the new store is; records appended meanwhile go to the new generation's journal. A crash at
   * any point leaves a store plus a journal of the same generation, or a store whose older journal
   * is ignored because the store already contains it.
   */
  compact(): Promise<void> {
    this.#compacting ??= this.#compact().finally(() => {
      this.#compacting = null;
    });
    return this.#compacting;
  }

  async #compact(): Promise<void> {
    const journal = this.#journal;
    if (!journal) return;
    if (journal.failed) throw journal.failed;
    const before = await journal.detach();
    // The write on its way when compaction began may have failed: then the journal is failed for good.
    if (journal.failed) {
      before.reject(journal.failed);
      throw journal.failed;
    }
    try {
      const { doc, journalBytes } = await writeStoreGeneration(this.path, this.key, this.snapshot());
      before.resolve();
      this.#doc = { ...this.#doc, gen: doc.gen, updatedAt: doc.updatedAt };
      await journal.resume(journalPathOf(this.path), doc.gen, journalBytes);
    } catch (err) {
      const failure = new StoreError(`${this.path}: compaction failed: ${(err as Error).message}`);
      before.reject(failure);
      // Said on stderr by the journal's failure notice.
      journal.fail(failure);
      throw failure;
    }
  }

  /** Writes pending state, optionally compacts, and releases the lock. */
  async close(options: { compact?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    try {
      if (this.#compacting) await this.#compacting.catch(() => undefined);
      if (options.compact && this.#journal && !this.#journal.failed) await this.compact();
    } finally {
      this.#closed = true;
      await this.#journal?.close();
      await this.lock.release();
    }
  }

  /** For exit handlers: drop the lock without waiting (the journal is already durable up to the last answer). */
  releaseLockSync(): void {
    this.lock.releaseSync();
  }
}

export function storedTokenOf(t: ShimToken): StoreDocument['tokens'][number] {
  const stored: StoreDocument['tokens'][number] = {
    serial: t.serial,
    type: t.type,
    algorithm: t.algorithm,
    digits: t.digits,
    ...(t.checkDigit === true ? { checkDigit: true as const } : {}),
    period: t.period,
    secret: t.secret.reveal().toString('base64'),
    fingerprint: t.fingerprint,
    counter: t.counter,
    lastStep: t.lastStep,
    drift: t.drift,
  };
  if (t.manufacturer !== undefined) stored.manufacturer = t.manufacturer;
  if (t.model !== undefined) stored.model = t.model;
  if (t.source !== undefined) stored.source = t.source;
  return stored;
}

/** Builds the in-memory maps from a store document, checking that it is consistent. */
export function loadDocument(doc: StoreDocument, users: Map<string, ShimUser>, tokens: Map<string, ShimToken>, file: string): void {
  for (const t of doc.tokens) {
    if (tokens.has(t.serial)) throw new StoreError(`${file}: token ${t.serial} appears twice`);
    const secret = new Secret(Buffer.from(t.secret, 'base64'));
    const token: ShimToken = {
      serial: t.serial,
      type: t.type,
      algorithm: t.algorithm,
      digits: t.digits,
      ...(t.checkDigit === true ? { checkDigit: true as const } : {}),
      period: t.type === 'totp' ? (t.period ?? 30) : null,
      secret,
      fingerprint: t.fingerprint,
      counter: t.type === 'hotp' ? (t.counter ?? 0n) : null,
      lastStep: t.type === 'totp' ? t.lastStep : null,
      drift: t.type === 'totp' ? t.drift : 0,
    };
    if (t.manufacturer !== undefined) token.manufacturer = t.manufacturer;
    if (t.model !== undefined) token.model = t.model;
    if (t.source !== undefined) token.source = t.source;
    tokens.set(t.serial, token);
  }
  const owner = new Map<string, string>();
  for (const u of doc.users) {
    const key = userKey(u.username);
    if (users.has(key)) throw new StoreError(`${file}: user ${u.username} appears twice`);
    const user: ShimUser = { username: u.username, key, tokens: [], fails: u.fails, lockedAt: u.lockedAt, sources: u.sources ?? {}, version: 0 };
    if (u.group !== undefined) user.group = u.group;
    for (const serial of u.tokens) {
      const token = tokens.get(serial);
      if (!token) throw new StoreError(`${file}: user ${u.username} names token ${serial}, which the store does not hold`);
      const other = owner.get(serial);
      if (other !== undefined) throw new StoreError(`${file}: token ${serial} is assigned to both ${other} and ${u.username}`);
      owner.set(serial, u.username);
      user.tokens.push(token);
    }
    users.set(key, user);
  }
}

