import { close as closeFile, constants, writeSync } from 'node:fs';
import { syncDescriptor } from '../io/fsync.js';
import { printable } from '../model/printable.js';
import { openPrivateOutput } from './private-file.js';

export const auditPathOf = (store: string): string => `${store}.audit.jsonl`;

/** One audit line. Never holds a code or a secret. */
export interface AuditEvent {
  event: 'verify' | 'unlock' | 'start' | 'stop' | 'import';
  user?: string;
  client?: string;
  /** The end user's address the request was counted under (client_ip, Calling-Station-Id), when not the client itself. */
  source?: string;
  result?: 'accept' | 'reject';
  reason?: string;
  serial?: string | null;
  detail?: string;
}

const MAX_FIELD = 256;

/**
 * Append-only JSON-lines audit log (0600). Lines written in the same turn of the event loop go out in
 * one write at the end of that turn; the log is not fsync'ed per line (the state journal carries the
 * durability guarantee). The write is a plain synchronous append to the page cache (no disk wait):
 * through the thread pool it cost the shim about a tenth of its throughput (a pool round trip per
 * turn), measured with bench/shim-throughput.ts.
 */
export class AuditLog {
  #pending: string[] = [];
  #scheduled = false;
  #errorReported = false;
  #fd: number | null;

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

  write(event: AuditEvent): void {
    this.#pending.push(auditLine(new Date(this.now()).toISOString(), event));
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
  }

  #flush(): void {
    if (this.#pending.length === 0 || this.#fd === null) return;
    const bytes = Buffer.from(this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join(''));
    this.#pending = [];
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(this.#fd, bytes, off, bytes.length - off);
    } catch (err) {
      if (!this.#errorReported) this.onError(`audit log ${this.path}: write failed: ${(err as Error).message}`);
      this.#errorReported = true;
    }
  }

  async close(): Promise<void> {
    this.#flush();
    const fd = this.#fd;
    if (fd === null) return;
    this.#fd = null;
    await syncDescriptor(fd).catch(() => undefined);
    await new Promise<void>((resolve) => closeFile(fd, () => resolve()));
  }
}

/**
 * One JSON line, fields in a fixed order. Built by hand because it runs for every request; strings
 * from the request go through JSON.stringify, so the line is always valid JSON.
 */
function auditLine(time: string, e: AuditEvent): string {
  let line = `{"time":"${time}","event":"${e.event}"`;
  // User names come from the request: cap them so a client cannot bloat the log.
  // Control characters and bidi overrides from the request are written as visible escapes (printable).
  if (e.user !== undefined) line += `,"user":${JSON.stringify(printable(e.user.length > MAX_FIELD ? `${e.user.slice(0, MAX_FIELD)}…` : e.user))}`;
  if (e.client !== undefined) line += `,"client":${JSON.stringify(printable(e.client))}`;
  if (e.source !== undefined && e.source !== e.client) line += `,"source":${JSON.stringify(printable(e.source))}`;
  if (e.result !== undefined) line += `,"result":"${e.result}"`;
  if (e.reason !== undefined) line += `,"reason":${JSON.stringify(e.reason)}`;
  if (e.serial !== undefined) line += `,"serial":${JSON.stringify(e.serial)}`;
  if (e.detail !== undefined) line += `,"detail":${JSON.stringify(e.detail)}`;
  return `${line}}\n`;
}
