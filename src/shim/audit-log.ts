import { close as closeFile, constants, writeSync } from 'node:fs';
import { syncDescriptor } from '../io/fsync.js';
import { printable, printableAscii } from '../model/printable.js';
import { UserError } from '../model/user-error.js';
import { openPrivateOutput } from './private-file.js';

export const auditPathOf = (store: string): string => `${store}.audit.jsonl`;

/** One audit line. Never holds a code or a secret. */
export interface AuditEvent {
  event: 'verify' | 'unlock' | 'start' | 'stop' | 'import' | 'audit_gap' | 'reload' | 'state';
  user?: string;
  /** The user name as the client sent it, where another was looked up (a RADIUS client's strip-realm=, default-domain=). */
  userSent?: string;
  client?: string;
  /** The end user's address the request was counted under (client_ip, Calling-Station-Id), when not the client itself. */
  source?: string;
  result?: 'accept' | 'reject';
  reason?: string;
  serial?: string | null;
  detail?: string;
}

const MAX_FIELD = 256;

/** The reason audited for an accept answered as a refusal because its line could not be written. */
const AUDIT_UNAVAILABLE = 'audit_unavailable';

/** What the log keeps in place of an accept's line that could not be written: the refusal answered instead. */
function refusedAccept(accept: AuditEvent): AuditEvent {
  return { ...accept, result: 'reject', reason: AUDIT_UNAVAILABLE, detail: 'the code was accepted and is used up, but answered as unavailable: its audit line could not be written' };
}

/** Bytes kept while the log cannot be written (a full disk); past that, events are counted and dropped. */
const MAX_BACKLOG_BYTES = 1 << 20;
const RETRY_MS = 1000;

/** A line waiting for the end of the turn; `settle` when its writer waits to know it is in the file. */
interface PendingLine {
  line: string;
  /** The accept a writer waits for: when its line cannot be written, the log keeps refusedAccept(it) instead (built only then). */
  accept?: { event: AuditEvent; time: string };
  settle?: (written: boolean) => void;
}

/**
 * Append-only JSON-lines audit log (0600). Lines written in the same turn of the event loop go out in
 * one write at the end of that turn (sooner when an accept waits for one: writeAccept); the log
 * is not fsync'ed per line (the state journal carries the durability guarantee). The write is a
 * plain synchronous append to the page cache (no disk wait): through the thread pool it cost the
 * shim about a tenth of its throughput (a pool round trip per turn), measured with
 * bench/shim-throughput.ts.
 *
 * An accept is answered only once its line is written (writeAccept): held in memory, it would be
 * lost with the process. A write that fails (a full disk) makes the log `down`: the shim then
 * answers no verification and reports unhealthy. What was not written is kept, a line cut by a
 * partial write included, and written, whole and in order, once a retry (every second) succeeds;
 * beyond MAX_BACKLOG_BYTES events are dropped, and an `audit_gap` line says how many.
 */
export class AuditLog {
  #pending: PendingLine[] = [];
  /** A flush is due at the end of the turn (setImmediate). */
  #scheduled = false;
  /** A flush is due once the current callback has run (process.nextTick), for a writer waiting. */
  #ticked = false;
  #fd: number | null;
  /** What a failed write left unwritten, oldest first (the first may be the rest of a cut line). */
  #backlog: Buffer[] = [];
  #backlogBytes = 0;
  #dropped = 0;
  #retry: NodeJS.Timeout | null = null;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly onError: (message: string) => void,
    private readonly now: () => number,
  ) {
    this.#fd = fd;
  }

  /** Opens (or creates) the log: never through a symbolic link, only a regular 0600 file of this user. */
  static async open(path: string, onError: (message: string) => void, now: () => number = Date.now): Promise<AuditLog> {
    const fd = openPrivateOutput(path, 'audit log', constants.O_APPEND);
    return new AuditLog(path, fd, onError, now);
  }

  /** False while the log cannot be written: verification stops, and /healthz says so. */
  get up(): boolean {
    return this.#backlog.length === 0 && this.#dropped === 0;
  }

  /** The last line's time, and its millisecond: lines of one millisecond (a dozen under load) share the text. */
  #timeText = '';
  #timeMs = NaN;

  /** Now, as the log writes it (ISO 8601, UTC). */
  #time(): string {
    const ms = this.now();
    if (ms !== this.#timeMs) {
      this.#timeMs = ms;
      this.#timeText = new Date(ms).toISOString();
    }
    return this.#timeText;
  }

  write(event: AuditEvent): void {
    this.#queue({ line: auditLine(this.#time(), event) });
  }

  /**
   * Writes an accept's line and resolves true once it is in the file, or false once it could not
   * be written (or the log is down): the accept must then not be answered, and the log keeps, where
   * its line would have been, the refusal answered instead (refusedAccept), never dropped.
   */
  writeAccept(accept: AuditEvent): Promise<boolean> {
    const time = this.#time();
    return new Promise((settle) => this.#queue({ line: auditLine(time, accept), accept: { event: accept, time }, settle }));
  }

  #queue(pending: PendingLine): void {
    this.#pending.push(pending);
    // A writer waiting (an accept's answer) is not kept to the end of the loop's turn: its line goes
    // out once the callback that decided it has run (process.nextTick), with every line queued by then,
    // so the accepts one journal batch resolves share one write. Waiting for setImmediate instead
    // cost the RADIUS benchmark about a fifth of its CPU per request (72-73 against 51-59 µs in
    // runs side by side with the code before, on the 2-core machine).
    if (pending.settle && !this.#ticked) {
      this.#ticked = true;
      process.nextTick(() => {
        this.#ticked = false;
        this.#flush();
      });
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
  }

  #flush(): void {
    const batch = this.#pending;
    this.#pending = [];
    if (this.#fd === null) {
      // Closed: nothing more is written; a writer waiting is told so, and what is lost is said.
      for (const p of batch) p.settle?.(false);
      if (batch.length > 0) this.onError(`audit log ${this.path}: ${batch.length} event(s) came after it was closed and could not be written: lost`);
      return;
    }
    if (batch.length > 0) {
      if (this.#backlog.length === 0) {
        // The usual case: nothing held back, one write.
        const bytes = Buffer.from(batch.length === 1 ? batch[0]!.line : batch.map((p) => p.line).join(''));
        const left = this.#writeAll(bytes);
        if (left === undefined) {
          for (const p of batch) p.settle?.(true);
          return;
        }
        this.#keepUnwritten(batch, bytes.length - left.length, left);
        return;
      }
      this.#keep(batch.map((p) => (p.settle?.(false), insteadOf(p))));
    }
    this.#drain();
  }

  /** After a write that stopped `written` bytes into the batch: who waits is told, and what is not in the file is held back. */
  #keepUnwritten(batch: PendingLine[], written: number, left: Buffer): void {
    const held: string[] = [];
    let end = 0;
    for (const p of batch) {
      const start = end;
      end += Buffer.byteLength(p.line);
      if (end <= written) {
        p.settle?.(true);
        continue;
      }
      // The rest of a line the write cut is kept whatever its size (else that line stays broken in
      // the file); an accept's is then followed by the refusal that was answered instead.
      if (start < written) this.#hold(left.subarray(0, end - written));
      if (start >= written || p.accept !== undefined) held.push(insteadOf(p));
      p.settle?.(false);
    }
    this.#keep(held);
  }

  /**
   * Holds whole lines back while the log cannot be written, up to MAX_BACKLOG_BYTES. Past it, and
   * then until the backlog is out (the gap line must follow what it counts), lines are dropped and
   * counted, but never an accept nor the refusal answered in an accept's place (a code used up):
   * the requests in flight when the log went down bound how many there are.
   */
  #keep(lines: string[]): void {
    const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
    const keep = this.#dropped > 0 || this.#backlogBytes + bytes > MAX_BACKLOG_BYTES ? lines.filter((l) => l.includes('"result":"accept"') || l.includes(`"reason":"${AUDIT_UNAVAILABLE}"`)) : lines;
    this.#dropped += lines.length - keep.length;
    if (keep.length > 0) this.#hold(Buffer.from(keep.join('')));
    this.#retryLater();
  }

  /** Writes what was held back, in order, then the gap line if events were dropped; once all is out, the log is up again. */
  #drain(): void {
    if (this.up) return;
    for (;;) {
      while (this.#backlog.length > 0) {
        const first = this.#backlog[0]!;
        const left = this.#writeAll(first);
        if (left !== undefined) {
          this.#backlog[0] = left;
          this.#backlogBytes -= first.length - left.length;
          this.#retryLater();
          return;
        }
        this.#backlog.shift();
        this.#backlogBytes -= first.length;
      }
      if (this.#dropped === 0) break;
      this.#hold(Buffer.from(auditLine(this.#time(), { event: 'audit_gap', detail: `${this.#dropped} event(s) dropped while the log could not be written` })));
      this.#dropped = 0;
    }
    this.onError(`audit log ${this.path}: written again`);
  }

  /** Writes every byte, or returns what is left when a write fails (said once an outage: while the log is up). */
  #writeAll(bytes: Buffer): Buffer | undefined {
    let off = 0;
    try {
      while (off < bytes.length) off += writeSync(this.#fd!, bytes, off, bytes.length - off);
      return undefined;
    } catch (err) {
      if (this.up) this.onError(`audit log ${this.path}: write failed: ${(err as Error).message}; lines are held back and written once it can be`);
      return bytes.subarray(off);
    }
  }

  #hold(bytes: Buffer): void {
    this.#backlog.push(bytes);
    this.#backlogBytes += bytes.length;
  }

  /** While the log is down: tried again every second. */
  #retryLater(): void {
    if (this.#retry || this.#fd === null) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#flush();
    }, RETRY_MS);
    this.#retry.unref();
  }

  /**
   * Opens the log again at its path and writes `first` there (serve's SIGHUP, after logrotate moved
   * the file away): everything queued before goes whole to the file open until now, everything after
   * to the new one, since writes are synchronous and the switch happens between two of them. Throws
   * a UserError, the open file staying in use, when the path cannot be opened safely, or while the
   * log is down: what is held back (perhaps the rest of a cut line) belongs to the file open now.
   */
  reopen(first: AuditEvent): void {
    const old = this.#fd;
    if (old === null) throw new UserError(`audit log ${this.path} is closed`);
    this.#flush();
    if (!this.up) throw new UserError(`audit log ${this.path} cannot be written now; lines held back go to the file open now: send SIGHUP again once it is written again`);
    this.#fd = openPrivateOutput(this.path, 'audit log', constants.O_APPEND);
    // The old file is complete: synced and closed off the event loop, as close() does.
    void syncDescriptor(old)
      .catch(() => undefined)
      .finally(() => closeFile(old, () => undefined));
    this.write(first);
  }

  async close(): Promise<void> {
    this.#flush();
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    // Still not writable at the end: what is lost is said, not dropped silently.
    if (this.#backlogBytes > 0 || this.#dropped > 0) {
      this.onError(`audit log ${this.path}: ${this.#backlogBytes} byte(s) held back${this.#dropped > 0 ? ` and ${this.#dropped} dropped event(s)` : ''} could not be written before closing: lost`);
    }
    const fd = this.#fd;
    if (fd === null) return;
    this.#fd = null;
    await syncDescriptor(fd).catch(() => undefined);
    await new Promise<void>((resolve) => closeFile(fd, () => resolve()));
  }
}

/** The line the log keeps for a line it could not write: an accept's refusal, else the line itself. */
function insteadOf(p: PendingLine): string {
  return p.accept ? auditLine(p.accept.time, refusedAccept(p.accept.event)) : p.line;
}

/**
 * Printable ASCII but `"` and `\`: text that printable(), printableAscii() and JSON.stringify leave
 * as it is (but for the quotes). Nearly every field of every line is so; tested first, it spares
 * the replacements and JSON.stringify calls that cost about 2 µs a line (docs/benchmarks.md, session 20).
 */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** `text` as a JSON string: quoted as it is when plain, else as `slow` writes it. */
const quoted = (text: string, slow: (text: string) => string): string => (PLAIN.test(text) ? `"${text}"` : slow(text));

const userSlow = (user: string): string => JSON.stringify(user.length > MAX_FIELD ? `${printableAscii(user.slice(0, MAX_FIELD))}…` : printableAscii(user));
const printableSlow = (text: string): string => JSON.stringify(printable(text));

/** A user name as the log writes it: capped, anything outside printable ASCII escaped. */
const userField = (user: string): string => (user.length > MAX_FIELD ? userSlow(user) : quoted(user, userSlow));

/**
 * One JSON line, fields in a fixed order. Built by hand because it runs for every request; strings
 * from the request go through JSON.stringify, so the line is always valid JSON.
 */
function auditLine(time: string, e: AuditEvent): string {
  let line = `{"time":"${time}","event":"${e.event}"`;
  // User names come from the request: cap them so a client cannot bloat the log.
  // The shim matches ASCII user names only, so anything else in one (control characters, bidi
  // overrides, look-alikes such as the Kelvin sign) is written as a visible escape.
  if (e.user !== undefined) line += `,"user":${userField(e.user)}`;
  if (e.userSent !== undefined) line += `,"user_sent":${userField(e.userSent)}`;
  if (e.client !== undefined) line += `,"client":${quoted(e.client, printableSlow)}`;
  if (e.source !== undefined && e.source !== e.client) line += `,"source":${quoted(e.source, printableSlow)}`;
  if (e.result !== undefined) line += `,"result":"${e.result}"`;
  if (e.reason !== undefined) line += `,"reason":${quoted(e.reason, JSON.stringify)}`;
  if (e.serial !== undefined) line += `,"serial":${e.serial === null ? 'null' : quoted(e.serial, JSON.stringify)}`;
  if (e.detail !== undefined) line += `,"detail":${JSON.stringify(e.detail)}`;
  return `${line}}\n`;
}
