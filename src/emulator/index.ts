import { Emulator } from './emulator.js';
import { resolveOptions, type EmulatorOptions } from './options.js';
import type { RequestLogEntry } from './request-log.js';
import { EmulatorServer } from './server.js';
import { snapshotState } from './snapshot.js';
import type { EmulatorState } from './state.js';

export type { EmulatorOptions, ThrottleMode } from './options.js';
export { EmulatorOptionError, defaultTenantFile } from './options.js';
export { TenantFileError } from './tenant-file.js';
export type { RequestLogEntry } from './request-log.js';
export { RECORD_ENV, type RecordedRequest } from './request-recorder.js';
export type { EmulatorState } from './state.js';
export { createInProcessEmulator, IN_PROCESS_URL, type InProcessEmulator } from './in-process.js';
export type { ThrottleLimits } from './throttle.js';

export interface RunningEmulator {
  /** Base URL without a version, e.g. http://127.0.0.1:41234 (Graph paths are `${url}/v1.0/...`). */
  url: string;
  port: number;
  /** The live state (replaced on reset). */
  readonly state: EmulatorState;
  /** The state in the tenant file's shape, secrets as fingerprints (same as GET /_emulator/state). */
  snapshot(): Record<string, unknown>;
  /** The request log (same as GET /_emulator/requests). */
  requests(): RequestLogEntry[];
  clearRequests(): void;
  /** Reloads the tenant file (or loads `tenant`) and restarts ids, budgets, faults and the log (POST /_emulator/reset). */
  reset(tenant?: Record<string, unknown>): void;
  stop(): Promise<void>;
}

/** Starts a Graph emulator on `options.host:options.port` (port 0: any free port). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const resolved = resolveOptions(options);
  const emulator = new Emulator(resolved);
  const server = new EmulatorServer(emulator);
  const { url, port } = await server.listen(resolved.host, resolved.port);
  return {
    url,
    port,
    get state() {
      return emulator.state;
    },
    snapshot: () => snapshotState(emulator.state),
    requests: () => emulator.log.entries(),
    clearRequests: () => emulator.log.clear(),
    reset: (tenant) => emulator.reset(tenant),
    stop: () => server.close(),
  };
}
