import { createHmac, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, write, writeSync } from 'node:fs';
import { readFile, truncate } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic-file.js';
import { fsReason } from '../io/fs-reason.js';
import { datasyncDescriptor, openForSyncedWrites, writeAtSyncedAsync } from '../io/fsync.js';
import { MAX_EXACT_COUNTER } from '../otp/hotp.js';
import { StoreError, storedCounter } from './store-file.js';
import type { SourceFailures } from './store-model.js';

/**
 * The state journal: an append-only file of JSON lines beside the store that records every change of
 * verification state (token counters, last steps, drift; user fail counts and lock-outs) as the new
 * absolute value, so replaying it over the store's snapshot gives the current state.
 *
 * Records are written in batches (group commit), each closed by a commit line carrying an
 * HMAC-SHA256 (key derived from the store key) over the store id, the generation and the batch's
 * lines; records are numbered across batches. A batch counts only with its commit, as a whole: a
 * forged, edited, reordered or transplanted record is refused, and a batch cut off by a crash is
 * dropped. What was dropped was never acknowledged, because verdicts are answered only after the
 * batch holding their change is on disk.
 *
 * Speed (measured, docs/benchmarks.md): the file is preallocated with zeros (the journal ends at the
 * first NUL byte) and written in place with O_DSYNC, so a batch is one write system call that returns
 * when the data is on disk, with no file-size change and hence no file-system journal commit. The
 * write runs in the thread pool, one at a time: what is appended meanwhile gathers into the next
 * batch, written as soon as the one before is on disk (group commit), and the event loop verifies on
 * while the disk syncs. Append + fdatasync through the thread pool (two round trips) waited about
 * 3.5 ms per batch under load, the in-place O_DSYNC write 0.2-0.4 ms; written on the event loop (as
 * up to session 4) it held the server for a third of its busy time under the RADIUS benchmark.
 */
export type JournalRecord =
  | { token: string; counter: bigint | null; lastStep: number | null; drift: number }
  | { user: string; fails: number; lockedAt: number | null; sources?: SourceFailures };

export const JOURNAL_FORMAT = 'mfa-migrate-shim-journal';

const MAC_FIELD = ',"mac":"';

function macOf(macKey: Buffer, storeId: string, gen: number, body: string): string {
  return createHmac('sha256', macKey).update(`${storeId}\n${gen}\n`).update(body).digest('hex');
}

/** One line: the JSON body with the MAC appended as its last property. */
function sealLine(macKey: Buffer, storeId: string, gen: number, fields: object): string {
  const body = JSON.stringify(fields);
  return `${body.slice(0, -1)}${MAC_FIELD}${macOf(macKey, storeId, gen, body)}"}\n`;
}

/** The body a line's MAC covers, and the MAC it carries; undefined if the line is not shaped so. */
function unsealLine(line: string): { body: string; mac: string } | undefined {
  const at = line.lastIndexOf(MAC_FIELD);
  if (at < 0 || !line.endsWith('"}')) return undefined;
  return { body: `${line.slice(0, at)}}`, mac: line.slice(at + MAC_FIELD.length, -2) };
}

function macMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(given, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface JournalContents {
  /**
   * 'current': the journal the store names (or, for a version 1 store, one of its generation);
   * 'missing': no journal; 'stale': an older generation of this store (a version 1 store's crash
   * window); 'foreign': another store's, or not the one this store names.
   */
  status: 'current' | 'missing' | 'stale' | 'foreign';
  records: JournalRecord[];
  /** The next sequence number to write. */
  nextSeq: number;
  /** Byte length of the intact part (a torn tail beyond it must be cut before appending). */
  intactBytes: number;
  /** Lines dropped from the end because they were cut off (a write interrupted by a crash). */
  droppedTail: number;
}

/** Which journal a store expects: its id and generation, and the id its header must carry (absent for version 1 stores). */
export interface JournalIdentity {
  storeId: string;
  gen: number;
  journalId?: string;
}

const NO_RECORDS = { records: [], nextSeq: 1, intactBytes: 0, droppedTail: 0 };

const ZERO_BLOCK = Buffer.alloc(64 * 1024);

/**
 * Where the first byte that is not zero lies at or after `from`, or -1. Compared a block at a time:
 * the preallocated zeros run to megabytes, and a callback per byte took tens of milliseconds a read.
 */
function firstNonZero(buf: Buffer, from: number): number {
  for (let at = from; at < buf.length; at += ZERO_BLOCK.length) {
    const block = buf.subarray(at, Math.min(at + ZERO_BLOCK.length, buf.length));
    if (block.equals(ZERO_BLOCK.subarray(0, block.length))) continue;
    for (let i = 0; i < block.length; i++) if (block[i] !== 0) return at + i;
  }
  return -1;
}

export async function readJournal(file: string, macKey: Buffer, expected: JournalIdentity): Promise<JournalContents> {
  const { storeId, gen } = expected;
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing', ...NO_RECORDS };
    throw new StoreError(`${file}: cannot read the state journal (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  // The preallocated, never-written part is zeros: the journal ends before it. Anything after a
  // zeroed stretch was written there once: records were wiped (issue 17 item 7), not a crash.
  const zero = buf.indexOf(0);
  if (zero >= 0) {
    const after = firstNonZero(buf, zero);
    if (after >= 0) throw new StoreError(`${file}: bytes ${zero}-${after - 1} are zeroed but records follow them (records were wiped); restore the journal, or start with --reset-state`);
    buf = buf.subarray(0, zero);
  }
  const lines: { text: string; end: number }[] = [];
  let start = 0;
  for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
    lines.push({ text: buf.toString('utf8', start, nl), end: nl + 1 });
    start = nl + 1;
  }
  const tornTail = start < buf.length ? 1 : 0;

  const header = lines[0] ? parseHeader(lines[0].text) : undefined;
  if (!header) {
    // Journals are created whole (temporary file and rename): an unreadable header is not a crash artefact.
    if (buf.length === 0) return { status: 'missing', ...NO_RECORDS };
    return { status: 'foreign', ...NO_RECORDS };
  }
  if (header.storeId !== storeId) return { status: 'foreign', ...NO_RECORDS };
  if (!macMatches(macOf(macKey, storeId, header.gen, header.body), header.mac)) {
    throw new StoreError(`${file}: line 1: the journal header failed its integrity check (modified, or written with another key)`);
  }
  if (header.gen > gen) {
    throw new StoreError(
      `${file}: the journal is newer (generation ${header.gen}) than the store (generation ${gen}): the store file was replaced by an older copy; restore the current store or import again`,
    );
  }
  if (header.gen < gen) return { status: 'stale', ...NO_RECORDS };
  if (expected.journalId !== undefined && header.journalId !== expected.journalId) return { status: 'foreign', ...NO_RECORDS };

  const records: JournalRecord[] = [];
  let seq = 0;
  let intactBytes = lines[0]!.end;
  let intactLine = 0;
  let pending: { seq: number; record: JournalRecord }[] = [];
  let pendingText = '';
  let pendingFrom = -1;
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i]!.text;
    const commit = parseCommit(text);
    if (!commit) {
      const record = parseRecord(text);
      if (pendingFrom < 0) pendingFrom = i;
      pending.push(record ?? { seq: -1, record: { user: '', fails: 0, lockedAt: null } }); // unreadable: its batch cannot verify
      pendingText += `${text}\n`;
      continue;
    }
    const batchStart = pendingFrom < 0 ? i : pendingFrom;
    // A complete batch (its commit line written out) must verify, wherever it is: a crash cuts a
    // write short, it does not complete it with a wrong MAC.
    const authentic = pending.length > 0 && pending.every((r) => r.seq >= 0) && macMatches(macOf(macKey, storeId, gen, pendingText + commit.body), commit.mac);
    if (!authentic) throw new StoreError(`${file}: line ${batchStart + 1}: a batch of state records failed its integrity check (modified or corrupted)`);
    for (const [k, r] of pending.entries()) {
      if (r.seq !== seq + 1 || (k === pending.length - 1 && r.seq !== commit.last)) {
        throw new StoreError(`${file}: line ${batchStart + k + 1}: record ${r.seq} follows record ${seq} (records were removed or reordered)`);
      }
      seq = r.seq;
      records.push(r.record);
    }
    pending = [];
    pendingText = '';
    pendingFrom = -1;
    intactBytes = lines[i]!.end;
    intactLine = i;
  }
  const droppedTail = lines.length - 1 - intactLine + tornTail;
  return { status: 'current', records, nextSeq: seq + 1, intactBytes, droppedTail };
}

function parseHeader(line: string): { storeId: string; gen: number; journalId?: string; body: string; mac: string } | undefined {
  const sealed = unsealLine(line);
  if (!sealed) return undefined;
  try {
    const h = JSON.parse(sealed.body) as { journal?: unknown; version?: unknown; storeId?: unknown; gen?: unknown; journalId?: unknown };
    if (h.journal !== JOURNAL_FORMAT || typeof h.storeId !== 'string' || !Number.isInteger(h.gen)) return undefined;
    if (h.version === 1) return { storeId: h.storeId, gen: h.gen as number, body: sealed.body, mac: sealed.mac };
    if (h.version !== 2 || typeof h.journalId !== 'string') return undefined;
    return { storeId: h.storeId, gen: h.gen as number, journalId: h.journalId, body: sealed.body, mac: sealed.mac };
  } catch {
    return undefined;
  }
}

/** A record line (authenticated by its batch's commit) with its sequence number; undefined if not one. */
function parseRecord(line: string): { seq: number; record: JournalRecord } | undefined {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof r !== 'object' || r === null || !Number.isSafeInteger(r.seq)) return undefined;
  const seq = r.seq as number;
  const intOrNull = (v: unknown): v is number | null => v === null || Number.isSafeInteger(v);
  if (typeof r.token === 'string' && intOrNull(r.lastStep) && Number.isSafeInteger(r.drift)) {
    const counter = r.counter === null ? null : storedCounter.safeParse(r.counter);
    if (counter === null || counter.success) return { seq, record: { token: r.token, counter: counter?.data ?? null, lastStep: r.lastStep, drift: r.drift as number } };
  }
  if (typeof r.user === 'string' && Number.isSafeInteger(r.fails) && intOrNull(r.lockedAt)) {
    const record: JournalRecord = { user: r.user, fails: r.fails as number, lockedAt: r.lockedAt };
    if (isSources(r.sources)) record.sources = r.sources;
    else if (r.sources !== undefined) return undefined;
    return { seq, record };
  }
  return undefined;
}

function isSources(v: unknown): v is SourceFailures {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return Object.values(v).every((s: unknown) => {
    const o = s as { fails?: unknown; at?: unknown };
    return typeof s === 'object' && s !== null && Number.isSafeInteger(o.fails) && Number.isSafeInteger(o.at);
  });
}

/** A commit line `{"commit":<last seq>,"mac":"…"}`: the number, the body its MAC covers, the MAC. */
function parseCommit(line: string): { last: number; body: string; mac: string } | undefined {
  if (!line.startsWith('{"commit":')) return undefined;
  const sealed = unsealLine(line);
  if (!sealed) return undefined;
  try {
    const c = JSON.parse(sealed.body) as { commit?: unknown };
    return Number.isSafeInteger(c.commit) ? { last: c.commit as number, body: sealed.body, mac: sealed.mac } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A record's line: what `JSON.stringify({ seq, ...record }, counterJson)` gives for a record made
 * as the state makes them (fields in the order of JournalRecord), written out by hand. The replacer
 * and the spread cost about 1.9 µs a record against 0.2 µs (measured; every accept writes one).
 */
export function recordLine(seq: number, r: JournalRecord): string {
  if ('token' in r) {
    const c = r.counter;
    // counterJson: a number while exact, a decimal string beyond.
    const counter = c === null ? 'null' : c <= MAX_EXACT_COUNTER ? c.toString() : `"${c.toString()}"`;
    return `{"seq":${seq},"token":${JSON.stringify(r.token)},"counter":${counter},"lastStep":${JSON.stringify(r.lastStep)},"drift":${JSON.stringify(r.drift)}}`;
  }
  const sources = r.sources !== undefined ? `,"sources":${JSON.stringify(r.sources)}` : '';
  return `{"seq":${seq},"user":${JSON.stringify(r.user)},"fails":${JSON.stringify(r.fails)},"lockedAt":${JSON.stringify(r.lockedAt)}${sources}}`;
}

/** A batch: its record lines and the commit line that seals them (one MAC per batch). */
function sealBatch(macKey: Buffer, storeId: string, gen: number, records: JournalRecord[], firstSeq: number): string {
  let text = '';
  let seq = firstSeq;
  for (const record of records) text += `${recordLine(seq++, record)}\n`;
  const body = `{"commit":${seq - 1}}`;
  return `${text}${body.slice(0, -1)}${MAC_FIELD}${macOf(macKey, storeId, gen, text + body)}"}\n`;
}

/** Cuts a torn tail (and the preallocated zeros) off, so that new lines start on a line boundary. */
export async function cutJournal(file: string, intactBytes: number): Promise<void> {
  await truncate(file, intactBytes);
}

/** Creates (or replaces) the journal with just a header for this store generation and journal id; returns its length. */
export async function createJournal(file: string, macKey: Buffer, storeId: string, gen: number, journalId: string): Promise<number> {
  const header = Buffer.from(sealLine(macKey, storeId, gen, { journal: JOURNAL_FORMAT, version: 2, storeId, gen, journalId }));
  await writeFileAtomic(file, header, 0o600);
  return header.length;
}

/** Zeros written ahead of the journal's end at a time, and the reserve below which more are added. */
const PREALLOCATE_BYTES = 4 * 1024 * 1024;
const PREALLOCATE_RESERVE = 1024 * 1024;
/** How long after room could not be made ahead it is tried again. */
const ROOM_RETRY_MS = 10_000;
/**
 * A batch with no record that something waits for is this many zeros written over the zeros past the
 * journal's end: the same synced write as a small batch's (a failure record and its commit line are
 * about 200 bytes), and nothing a reader sees (the journal ends at its first zero byte).
 */
const EMPTY_BATCH = Buffer.alloc(200);

/** Records waiting for the same durable write, and the promise their verdicts wait on. */
export class JournalBatch {
  readonly records: JournalRecord[] = [];
  /** Something waits for this batch without a record of its own (JournalWriter.nextCommit): it is written even if empty. */
  joined = false;
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (err: Error) => void;

  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // A failed batch is reported through every verdict waiting on it; never as an unhandled rejection.
    this.done.catch(() => undefined);
  }
}

/**
 * Appends records with group commit: the records appended while no write is on its way go out in one
 * durable write at the end of the turn; those appended while one is on its way, in the next write. After
 * a write error the journal is failed for good: every pending and later append rejects (the server
 * then answers 503 and reports unhealthy), and nothing more is written to the file.
 */
export class JournalWriter {
  #fd: number;
  /** Where the next line goes (the journal's logical end). */
  #offset: number;
  /** Bytes in the file, zeros beyond #offset included. */
  #size: number;
  #seq: number;
  #gen: number;
  #batch = new JournalBatch();
  #scheduled = false;
  #paused = false;
  #extending: Promise<void> | null = null;
  /** The batch write on its way to disk (one at a time: the next batch gathers meanwhile). */
  #writing: Promise<void> | null = null;
  #failed: Error | null = null;
  #file = '';
  #onFailure: ((err: Error) => void) | undefined;
  #onNotice: ((message: string) => void) | undefined;
  /** When the room ahead could not be made (a full disk): not before this is it tried again. */
  #roomRetryAt = 0;
  #roomShort = false;
  /** Records written in this generation (drives compaction). */
  written = 0;

  private constructor(
    fd: number,
    offset: number,
    private readonly macKey: Buffer,
    private readonly storeId: string,
    gen: number,
    nextSeq: number,
  ) {
    this.#fd = fd;
    this.#size = fstatSync(fd).size;
    this.#offset = offset;
    this.#gen = gen;
    this.#seq = nextSeq;
    this.written = nextSeq - 1;
  }

  /**
   * Continues the journal `file` of generation `gen` after its last intact line (ending at byte `end`).
   * `onFailure` hears once when a write fails and the journal is failed for good (for the operator).
   */
  static async open(file: string, macKey: Buffer, storeId: string, gen: number, nextSeq: number, end: number, onFailure?: (err: Error) => void, onNotice?: (message: string) => void): Promise<JournalWriter> {
    const writer = new JournalWriter(openForSyncedWrites(file), end, macKey, storeId, gen, nextSeq);
    writer.#file = file;
    writer.#onFailure = onFailure;
    writer.#onNotice = onNotice;
    await writer.#extendOrClose(file);
    return writer;
  }

  get failed(): Error | null {
    return this.#failed;
  }

  /** Queues a record; the promise settles when it is on disk. */
  append(record: JournalRecord): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    const batch = this.#batch;
    batch.records.push(record);
    this.#schedule();
    return batch.done;
  }

  /**
   * Resolves once the batch gathering now is on disk, adding no record: a made-up name's answer over
   * RADIUS waits as long as a real user's wrong code, whose failure record is in that batch
   * (docs/shim.md "Who learns which users exist"). Under load it joins a batch that is written anyway;
   * on an idle server the batch holds nothing, and is written as zeros where the next one will go
   * (EMPTY_BATCH): a synced write, so that it waits for the disk as a record does, without a name in
   * the journal nor a line added to it.
   */
  nextCommit(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    const batch = this.#batch;
    batch.joined = true;
    this.#schedule();
    return batch.done;
  }

  #schedule(): void {
    if (this.#scheduled || this.#paused) return;
    this.#scheduled = true;
    // setImmediate: runs after the poll phase, so every request read in this turn joins the batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  /**
   * Writes the batch gathered so far, unless a write is on its way: then the batch keeps gathering
   * and goes when that write is on disk (group commit). The event loop is not held while the disk
   * syncs, so requests go on being verified (against the state in memory, which already holds
   * every queued record) while earlier answers wait for their records.
   */
  #flush(): void {
    // A failed journal writes nothing more: a later batch past the failed write's gap would make the
    // file unreadable at the next start, where now it ends at the last batch on disk.
    if (this.#failed || this.#paused || this.#writing || (this.#batch.records.length === 0 && !this.#batch.joined)) return;
    const batch = this.#batch;
    this.#batch = new JournalBatch();
    const empty = batch.records.length === 0;
    const bytes = empty ? EMPTY_BATCH : Buffer.from(sealBatch(this.macKey, this.storeId, this.#gen, batch.records, this.#seq));
    this.#seq += batch.records.length;
    const at = this.#offset;
    // Zeros where the next batch goes: the journal's end stays where it is.
    if (!empty) this.#offset += bytes.length;
    const write = async (): Promise<void> => {
      if (empty) {
        // Only over the zeros there are: an empty batch that had to make room (a full disk) failed the
        // journal for good for a made-up name, where a real wrong code's smaller batch still fitted (a review).
        if (this.#failed) throw this.#failed;
        const room = Math.min(bytes.length, this.#size - at);
        if (room > 0) await writeAtSyncedAsync(this.#fd, bytes.subarray(0, room), at);
        return;
      }
      // A batch past the zeroed room: an unfinished background extension still has zeros to write
      // there, which would land on the batch; wait for it, then extend here if still short.
      if (at + bytes.length > this.#size && this.#extending) await this.#extending;
      if (this.#failed) throw this.#failed;
      if (at + bytes.length > this.#size) this.#extendSync(at + bytes.length);
      // O_DSYNC: the write completes once the bytes are on disk.
      await writeAtSyncedAsync(this.#fd, bytes, at);
    };
    this.#writing = write().then(
      () => {
        this.written += batch.records.length;
        this.#writing = null;
        batch.resolve();
        this.#afterWrite();
      },
      (err: unknown) => {
        this.#writing = null;
        this.#fail(err instanceof Error ? err : new Error(String(err)));
        batch.reject(this.#failed!);
      },
    );
  }

  #afterWrite(): void {
    // Keep zeroed room ahead, in the background (positional writes beyond the end do not disturb the batches).
    // Room not made ahead (a full disk) fails nothing: the records go on into the room left, and it is
    // tried again; only a batch with no room left fails the journal (a black-box test saw the shim stop
    // with 1 MB of its journal unused).
    if (this.#size - this.#offset < PREALLOCATE_RESERVE && !this.#extending && performance.now() >= this.#roomRetryAt) {
      this.#extending = this.#extend()
        .then(() => {
          if (this.#roomShort) this.#onNotice?.(`${this.#file}: room made for the state journal again`);
          this.#roomShort = false;
        })
        .catch((err: unknown) => {
          this.#roomRetryAt = performance.now() + ROOM_RETRY_MS;
          if (!this.#roomShort) this.#onNotice?.(`${this.#file}: cannot make room ahead for the state journal (${fsReason(err)}): verifying goes on in the ${this.#size - this.#offset} bytes left; tried again at a write ${ROOM_RETRY_MS / 1000} s or more from now`);
          this.#roomShort = true;
        })
        .finally(() => {
          this.#extending = null;
        });
    }
    // What gathered while the disk was busy goes now, in the same turn.
    if (this.#batch.records.length > 0 || this.#batch.joined) this.#flush();
  }

  /** Zero-fills up to PREALLOCATE_BYTES beyond the end and makes the new size durable. */
  async #extend(): Promise<void> {
    const target = this.#offset + PREALLOCATE_BYTES;
    const zeros = Buffer.alloc(1024 * 1024);
    let size = this.#size;
    while (size < target) {
      const n = Math.min(zeros.length, target - size);
      await new Promise<void>((resolve, reject) => write(this.#fd, zeros, 0, n, size, (err) => (err ? reject(err) : resolve())));
      size += n;
    }
    // Durable zeros and size first, so that the record writes landing there change no metadata.
    await datasyncDescriptor(this.#fd);
    this.#size = Math.max(this.#size, size);
  }

  /** The first room of a journal file; a failure (a full disk) names the file and closes it. */
  async #extendOrClose(file: string): Promise<void> {
    try {
      await this.#extend();
    } catch (err) {
      closeSync(this.#fd);
      throw new StoreError(`${file}: cannot make room for the state journal (${PREALLOCATE_BYTES / 1024 / 1024} MB): ${fsReason(err)}`, undefined, { cause: err });
    }
  }

  /** A batch ending past the room left (at `end`): extend now (rare; only with huge batches or a slow disk). */
  #extendSync(end: number): void {
    const target = end + PREALLOCATE_BYTES;
    const zeros = Buffer.alloc(Math.min(1024 * 1024, target - this.#size));
    while (this.#size < target) this.#size += writeSync(this.#fd, zeros, 0, Math.min(zeros.length, target - this.#size), this.#size);
  }

  #fail(err: Error, wrap = true): void {
    const first = this.#failed === null;
    this.#failed ??= wrap ? new Error(`${this.#file}: state journal write failed: ${err.message}`) : err;
    this.#batch.reject(this.#failed);
    if (first) this.#onFailure?.(this.#failed);
  }

  /**
   * Stops writing (for compaction) and hands back the batch of records not yet written; new appends
   * collect in a fresh batch until resume().
   */
  async detach(): Promise<JournalBatch> {
    this.#paused = true;
    // The write on its way finishes in this generation's file before the caller moves on.
    if (this.#writing) await this.#writing;
    const batch = this.#batch;
    this.#batch = new JournalBatch();
    return batch;
  }

  /** Continues in a new journal file for the next generation (created by the caller, `end` bytes long). */
  async resume(file: string, gen: number, end: number): Promise<void> {
    if (this.#extending) await this.#extending;
    const old = this.#fd;
    this.#fd = openForSyncedWrites(file);
    this.#size = fstatSync(this.#fd).size;
    this.#offset = end;
    this.#gen = gen;
    this.#seq = 1;
    this.written = 0;
    closeSync(old);
    // A failure here fails the journal (the caller's compaction error names the store).
    await this.#extend();
    this.#paused = false;
    this.#schedule();
  }

  /** Marks the journal failed (e.g. compaction could not write the store). */
  fail(err: Error): void {
    this.#fail(err, false);
  }

  /** Writes what is queued and closes the file. */
  async close(): Promise<void> {
    this.#paused = false;
    // A write on its way writes what gathered meanwhile when it ends (#afterWrite): wait for the chain.
    this.#flush();
    while (this.#writing) await this.#writing;
    if (this.#extending) await this.#extending;
    try {
      closeSync(this.#fd);
    } catch {
      // already closed
    }
  }
}
