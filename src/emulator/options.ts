import { join } from 'node:path';
import { packageRoot } from '../io/package-root.js';
import type { Behaviour } from './behaviour.js';
import { RECORD_ENV, type RecordedRequest } from './request-recorder.js';
import type { ThrottleLimits } from './throttle.js';
import type { TenantSize } from './state.js';
import { UserError } from '../model/user-error.js';

export type ThrottleMode = 'off' | 'tenant' | TenantSize;

export interface EmulatorOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; 0 (the default in-process) picks a free one. */
  port?: number;
  /** Tenant file path, or a tenant document; default the bundled fixtures/contoso/tenant.json. */
  tenant?: string | Record<string, unknown>;
  /** 'tenant' (default) uses the tenant file's size; 'off' disables throttling. */
  throttle?: ThrottleMode;
  /** Divides every throttling window and Retry-After by this factor; default 1. */
  timeScale?: number;
  /** Delay added to every HTTP request (a $batch counts once), in ms; default 0. */
  latencyMs?: number;
  /** Share (0..1) of operations answered with a 500/502/503/504; default 0. */
  faultRate?: number;
  /** Seeds generated ids, faults and batch response order; default 1. */
  seed?: number;
  /** When set, only `Authorization: Bearer <token>` with this token is accepted. */
  token?: string;
  /** Entries the request log keeps (oldest dropped first); default 10,000; 0 disables it. */
  requestLogLimit?: number;
  /** Overrides of the documented limits, for experiments and tests that cannot afford thousands of requests. */
  throttleLimits?: Partial<ThrottleLimits>;
  /** Overrides the tenant file's `behaviour` switches (inventory shape, beta availability, propagation delay, activation pace). */
  behaviour?: Partial<Behaviour>;
  /** Told of every Graph operation a client sends (contract tests). */
  onRequest?: (request: RecordedRequest) => void;
  /** A directory to append every Graph operation to as JSON lines; default the MFA_MIGRATE_EMULATOR_RECORD environment variable. */
  recordDir?: string;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  tenant: string | Record<string, unknown>;
  throttle: ThrottleMode;
  timeScale: number;
  latencyMs: number;
  faultRate: number;
  seed: number;
  token: string | undefined;
  requestLogLimit: number;
  throttleLimits: Partial<ThrottleLimits>;
  behaviour: Partial<Behaviour>;
  onRequest: ((request: RecordedRequest) => void) | undefined;
  recordDir: string | undefined;
}

export class EmulatorOptionError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'EmulatorOptionError';
  }
}

export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new EmulatorOptionError(`port must be an integer from 0 to 65535, got ${port}`);
  const timeScale = options.timeScale ?? 1;
  if (!Number.isFinite(timeScale) || timeScale <= 0) throw new EmulatorOptionError(`time scale must be a positive number, got ${timeScale}`);
  const latencyMs = options.latencyMs ?? 0;
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new EmulatorOptionError(`latency must be a non-negative number of ms, got ${latencyMs}`);
  const faultRate = options.faultRate ?? 0;
  if (!Number.isFinite(faultRate) || faultRate < 0 || faultRate > 1) throw new EmulatorOptionError(`fault rate must be from 0 to 1, got ${faultRate}`);
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new EmulatorOptionError(`seed must be an integer, got ${seed}`);
  const throttle = options.throttle ?? 'tenant';
  if (!['off', 'tenant', 'S', 'M', 'L'].includes(throttle)) throw new EmulatorOptionError(`throttle must be off, S, M or L, got ${throttle}`);
  const requestLogLimit = options.requestLogLimit ?? 10_000;
  if (!Number.isInteger(requestLogLimit) || requestLogLimit < 0) throw new EmulatorOptionError(`request log limit must be a non-negative integer`);
  for (const [name, value] of Object.entries(options.throttleLimits ?? {})) {
    if (!Number.isInteger(value) || value < 1) throw new EmulatorOptionError(`throttle limit ${name} must be a positive integer`);
  }
  if (options.token !== undefined && options.token.length === 0) throw new EmulatorOptionError('token must not be empty');
  const host = options.host ?? '127.0.0.1';
  // Anyone who can reach a non-loopback address could read phone numbers and reset the tenant.
  if (!isLoopbackHost(host) && options.token === undefined) {
    throw new EmulatorOptionError(`--host ${host} is not a loopback address: give --token (or MFA_MIGRATE_EMULATOR_TOKEN) so that only callers who know it are served`);
  }
  return {
    host,
    port,
    tenant: options.tenant ?? defaultTenantFile(),
    throttle,
    timeScale,
    latencyMs,
    faultRate,
    seed,
    token: options.token,
    requestLogLimit,
    throttleLimits: options.throttleLimits ?? {},
    behaviour: options.behaviour ?? {},
    onRequest: options.onRequest,
    recordDir: options.recordDir ?? (process.env[RECORD_ENV] || undefined),
  };
}

/** localhost, ::1 and 127.0.0.0/8: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

export function defaultTenantFile(): string {
  return join(packageRoot(), 'fixtures', 'contoso', 'tenant.json');
}
