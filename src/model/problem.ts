import { printable } from './printable.js';
import { UserError } from './user-error.js';
/** A finding about the export: where it is, what is wrong, and how bad it is. */
export type Severity = 'error' | 'warning';

export type ProblemCode =
  | 'file-missing'
  | 'file-unreadable'
  | 'file-unsafe'
  | 'csv-malformed'
  | 'column-missing'
  | 'column-unknown'
  | 'column-duplicate'
  | 'duplicate-user'
  | 'export-empty'
  | 'username-invalid'
  | 'phone-invalid'
  | 'email-invalid'
  | 'value-invalid'
  | 'settings-invalid'
  | 'seed-format-unknown'
  | 'seed-missing'
  | 'seed-unassigned'
  | 'seed-duplicate'
  | 'seed-file-repeated'
  | 'secret-duplicate'
  | 'secret-invalid'
  | 'secret-short'
  | 'secret-suspect'
  | 'pskc-invalid'
  | 'pskc-unsafe'
  | 'pskc-decrypt'
  | 'pskc-mac'
  | 'pskc-policy'
  | 'pskc-credentials'
  | 'pskc-signature'
  | 'pskc-plain-value'
  | 'token-unsupported'
  | 'token-user-mismatch'
  | 'token-shared'
  | 'device-limit'
  | 'device-unknown-user'
  | 'extension-invalid';

export interface Problem {
  severity: Severity;
  code: ProblemCode;
  /** The file as the admin named it (relative to the source folder when inside it). */
  file: string;
  /** 1-based physical line in a CSV/XML file, when known. */
  line?: number;
  /** JSON path (settings.json) or XML element path (PSKC), when that locates it better. */
  path?: string;
  /** Column or property name. */
  field?: string;
  /**
   * Set only on a seed file's problem that made its reader leave a token's record out (a PSKC key, a
   * CSV row or line): that token's serial, so that a user given the serial is told where it was and
   * why it has no seed. Never set on a record kept with a warning, nor when the serial itself looks
   * like a secret.
   */
  serial?: string;
  message: string;
}

/** Collects problems in the order they are found. Readers push to it and carry on where they can. */
export class ProblemList {
  readonly items: Problem[] = [];

  error(code: ProblemCode, where: Where, message: string): void {
    this.items.push({ severity: 'error', code, ...where, message });
  }

  warning(code: ProblemCode, where: Where, message: string): void {
    this.items.push({ severity: 'warning', code, ...where, message });
  }

  get errors(): Problem[] {
    return this.items.filter((p) => p.severity === 'error');
  }

  get warnings(): Problem[] {
    return this.items.filter((p) => p.severity === 'warning');
  }

  hasErrors(): boolean {
    return this.items.some((p) => p.severity === 'error');
  }
}

export interface Where {
  file: string;
  line?: number;
  path?: string;
  field?: string;
  serial?: string;
}

/** Thrown when a file cannot be read at all; carries the problem to report. */
export class SourceError extends UserError {
  constructor(readonly problem: Problem) {
    super(formatProblem(problem));
    this.name = 'SourceError';
  }
}

export function formatProblem(p: Problem): string {
  // An empty name (`--source ""`) is said, not left as a blank before the colon.
  const file = p.file === '' ? '"" (an empty file name)' : p.file;
  const at = [file, p.line !== undefined ? `line ${p.line}` : undefined, p.path, p.field ? `field ${p.field}` : undefined]
    .filter(Boolean)
    .join(', ');
  // Messages quote cells and seed-file values as they are: printed, they must not drive the terminal.
  return printable(`${at ? `${at}: ` : ''}${p.message} [${p.code}]`);
}
