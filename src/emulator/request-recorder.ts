import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiVersion, GraphRequest } from './graph-request.js';
import { redactBody } from './request-log.js';

/**
 * Every Graph operation a client sent (a direct request or a $batch item, whether it ran or got 424), for
 * contract tests: the request as sent, body redacted as in the request log. Given to an in-process hook
 * (EmulatorOptions.onRequest) and/or appended as JSON lines to a file in a directory
 * (EmulatorOptions.recordDir, default the MFA_MIGRATE_EMULATOR_RECORD environment variable), so end-to-end tests
 * that start the emulator in another process can collect them too.
 */
export interface RecordedRequest {
  method: string;
  version: ApiVersion;
  /** The path after the version as sent, without the query, e.g. `users('%24x%40y.com')/authentication/methods`. */
  path: string;
  /** The query string as sent, without '?'. */
  query: string;
  /** The body (secrets redacted, phone numbers masked), or null. */
  body: unknown;
  status: number;
}

export const RECORD_ENV = 'MFA_MIGRATE_EMULATOR_RECORD';

export class RequestRecorder {
  readonly #file: string | undefined;

  constructor(
    readonly hook: ((request: RecordedRequest) => void) | undefined,
    dir: string | undefined,
  ) {
    if (dir) {
      // Bodies are redacted, but user names and ids are there: the tool's own files' modes (a black-box test ran under umask 000).
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.#file = join(dir, `requests-${process.pid}.jsonl`);
    }
  }

  get active(): boolean {
    return this.hook !== undefined || this.#file !== undefined;
  }

  record(req: GraphRequest, status: number): void {
    if (!this.active) return;
    const entry: RecordedRequest = {
      method: req.method,
      version: req.version,
      path: req.rawPath,
      query: req.query.toString(),
      body: req.body === undefined ? null : redactBody(req.body),
      status,
    };
    this.hook?.(entry);
    if (this.#file) appendFileSync(this.#file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }
}
