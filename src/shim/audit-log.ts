import { open, type FileHandle } from 'node:fs/promises';

export const auditPathOf = (store: string): string => `${store}.audit.jsonl`;

/** One audit line. Never holds a code or a secret. */
export interface AuditEvent {
  event: 'verify' | 'unlock' | 'start' | 'stop' | 'import';
  user?: string;
  client?: string;
  result?: 'accept' | 'reject';
  reason?: string;
  serial?: string | null;
  detail?: string;
}

const MAX_FIELD = 256;

/**
 * Append-only JSON-lines audit log (0600). Lines written in the same turn of the event loop go out in
 * one write; the log is not fsync'ed per line (the state journal carries the durability guarantee).
 */
export class AuditLog {
  #pending: string[] = [];
  #writing: Promise<void> | null = null;
  #scheduled = false;
  #errorReported = false;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    private readonly onError: (message: string) => void,
    private readonly now: () => number,
  ) {}

  static async open(path: string, onError: (message: string) => void, now: () => number = Date.now): Promise<AuditLog> {
    const file = await open(path, 'a', 0o600);
    return new AuditLog(path, file, onError, now);
  }

  write(event: AuditEvent): void {
    const line: Record<string, unknown> = { time: new Date(this.now()).toISOString(), ...event };
    // User names come from the request: cap them so a client cannot bloat the log.
    if (typeof line.user === 'string' && line.user.length > MAX_FIELD) line.user = `${line.user.slice(0, MAX_FIELD)}…`;
    this.#pending.push(JSON.stringify(line) + '\n');
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        void this.#flush();
      });
    }
  }

  #flush(): Promise<void> {
    if (this.#writing || this.#pending.length === 0) return this.#writing ?? Promise.resolve();
    const text = this.#pending.join('');
    this.#pending = [];
    this.#writing = this.file
      .write(text)
      .then(() => undefined)
      .catch((err: unknown) => {
        if (!this.#errorReported) this.onError(`audit log ${this.path}: write failed: ${(err as Error).message}`);
        this.#errorReported = true;
      })
      .finally(() => {
        this.#writing = null;
        if (this.#pending.length > 0) void this.#flush();
      });
    return this.#writing;
  }

  async close(): Promise<void> {
    while (this.#writing || this.#pending.length > 0) await this.#flush();
    await this.file.sync().catch(() => undefined);
    await this.file.close();
  }
}
