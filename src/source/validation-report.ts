import type { Problem } from '../model/problem.js';
import type { ExportBundle } from './export-bundle.js';

/** `mfa-migrate validate --format json`: other tools depend on this shape (more fields are fine). */
export interface ValidationReport {
  source: string;
  users: number;
  enabled_users: number;
  devices: number;
  settings: boolean;
  seed_files: string[];
  tokens: ValidationToken[];
  errors: ReportedProblem[];
  warnings: ReportedProblem[];
}

export interface ValidationToken {
  serial: string;
  user: string | null;
  type: 'totp' | 'hotp';
  algorithm: string;
  digits: number;
  /** The device appends a Luhn check digit to each code (shows digits + 1). */
  check_digit: boolean;
  period: number | null;
  /** A number up to 2^53 - 1 (Number.MAX_SAFE_INTEGER); above, the exact value as a decimal string. */
  counter: number | string | null;
  fingerprint: string;
  source: string;
  manufacturer: string | null;
  model: string | null;
  /** The PSKC key's ExpiryDate, passed, when it was read under --pskc-expired take (a pskc-policy warning says so too); null otherwise. */
  expired_on: string | null;
}

export interface ReportedProblem {
  file: string;
  line: number | null;
  path?: string;
  field: string | null;
  code: string;
  message: string;
}

export function buildValidationReport(bundle: ExportBundle): ValidationReport {
  return {
    source: bundle.sourceDir,
    users: bundle.users.length,
    enabled_users: bundle.users.filter((u) => u.enabled).length,
    devices: bundle.devices.length,
    settings: bundle.settings !== undefined,
    seed_files: bundle.files.seeds,
    tokens: bundle.tokens.map(({ seed, user }) => ({
      serial: seed.serial,
      user: user ?? null,
      type: seed.type,
      algorithm: seed.algorithm,
      digits: seed.digits,
      check_digit: seed.checkDigit === true,
      period: seed.period,
      counter: counterJson(seed.counter),
      fingerprint: seed.fingerprint,
      source: seed.source,
      manufacturer: seed.manufacturer ?? null,
      model: seed.model ?? null,
      expired_on: seed.expiredOn ?? null,
    })),
    errors: bundle.problems.errors.map(reported),
    warnings: bundle.problems.warnings.map(reported),
  };
}

function reported(p: Problem): ReportedProblem {
  return {
    file: p.file,
    line: p.line ?? null,
    ...(p.path !== undefined ? { path: p.path } : {}),
    field: p.field ?? null,
    code: p.code,
    message: p.message,
  };
}

/**
 * A HOTP counter for JSON: runs to 2^64 - 1, and JSON readers (JavaScript's among them) read numbers
 * as doubles, exact only up to 2^53 - 1; above that the exact value is written as a decimal string.
 */
export function counterJson(counter: bigint | null): number | string | null {
  if (counter === null) return null;
  return counter <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(counter) : counter.toString();
}
