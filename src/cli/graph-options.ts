import { Option, type Command } from 'commander';
import { AUTH_MODES, checkClientId, checkTenantId, type AuthMode } from '../graph/auth.js';
import { connectGraph } from '../graph/connect.js';
import type { GraphClient } from '../graph/graph-client.js';
import { DEFAULT_GRAPH_ROOT } from '../graph/graph-root.js';
import { DEFAULT_CAP_MS } from '../graph/retry-policy.js';
import { UserError } from '../model/user-error.js';
import { addStrictPermissionsOption, secretFilesFrom } from './strict-permissions.js';
import { collect } from './seed-options.js';

/** The emulator's shared secret, when it was started with --token (the emulator reads the same variable). */
export const EMULATOR_TOKEN_ENV = 'MFA_MIGRATE_EMULATOR_TOKEN';

/**
 * Each request in flight is a $batch of up to 20 Graph calls, and Graph throttles an app per tenant:
 * past a few dozen, more in flight only turns into 429s (and a typo of 400 into a burst of 8,000 calls).
 */
const MAX_CONCURRENCY = 32;

/** Options shared by every command that talks to Graph. */
export function addGraphOptions(cmd: Command, rootHelp = `Microsoft Graph root (default ${DEFAULT_GRAPH_ROOT}); a loopback URL such as the emulator's needs no credential`): Command {
  cmd
    .option('--graph-url <url>', rootHelp)
    .option('--allow-graph-host <host>', 'also send the access token to this host (a proxy of yours); repeatable', collect, [] as string[])
    .addOption(new Option('--auth <mode>', 'how to sign in to Graph').choices([...AUTH_MODES]).default('default'))
    .option('--tenant-id <id>', 'Entra tenant id (a GUID) or one of its domain names (default: AZURE_TENANT_ID)', (v) => checkTenantId(v, '--tenant-id'))
    .option('--client-id <id>', 'app (client) id, a GUID (default: AZURE_CLIENT_ID)', (v) => checkClientId(v, '--client-id'))
    .option('--client-secret-file <file>', 'file holding the client secret (default: AZURE_CLIENT_SECRET); never pass a secret on the command line; implies --auth client-secret')
    .option('--certificate-path <file>', 'PEM certificate with private key; implies --auth certificate')
    .option('--concurrency <n>', `Graph $batch requests in flight, at most ${MAX_CONCURRENCY}`, (v) => {
      const n = positiveInt(v, '--concurrency');
      if (n > MAX_CONCURRENCY) throw new UserError(`--concurrency is at most ${MAX_CONCURRENCY} (each $batch carries up to 20 requests; more in flight only draws throttling from Graph), got ${n}`);
      return n;
    }, 4);
  return addStrictPermissionsOption(cmd, ['the client secret file', 'the certificate']);
}

export interface GraphCliOptions {
  graphUrl?: string;
  allowGraphHost: string[];
  auth: AuthMode;
  tenantId?: string;
  clientId?: string;
  clientSecretFile?: string;
  certificatePath?: string;
  concurrency: number;
  /** --strict-permissions: refuse a client secret file or certificate group or others can access. */
  strictPermissions: boolean;
  /** --consistency-window (commands that write): seconds Graph may not find what the run just created. */
  consistencyWindow?: number;
}

/**
 * For the commands that write: how long an object the run has just created may answer 404 (Entra is
 * eventually consistent; docs/apply.md). A tenant that replicates slower than the default can be
 * given longer: what depends on a new object then waits longer before it fails, and a token create
 * whose answer was lost is read back longer before it is sent again.
 */
const MAX_CONSISTENCY_WINDOW_S = 600;

export function addConsistencyWindowOption(cmd: Command): Command {
  return cmd.option('--consistency-window <seconds>', `how long Graph may not find an object the run has just created (default ${DEFAULT_CAP_MS / 1000}, at most ${MAX_CONSISTENCY_WINDOW_S})`, (v) => {
    const n = positiveInt(v, '--consistency-window');
    // A 404 that is not Graph's lag (the user deleted meanwhile) is tried again for that long.
    if (n > MAX_CONSISTENCY_WINDOW_S) throw new UserError(`--consistency-window is at most ${MAX_CONSISTENCY_WINDOW_S} seconds, got ${n}`);
    return n;
  });
}

/** The Graph options alone (a job carries them to the thread that connects). */
export function graphCliOptions(opts: GraphCliOptions): GraphCliOptions {
  return {
    ...(opts.graphUrl !== undefined ? { graphUrl: opts.graphUrl } : {}),
    allowGraphHost: [...opts.allowGraphHost],
    auth: opts.auth,
    ...(opts.tenantId !== undefined ? { tenantId: opts.tenantId } : {}),
    ...(opts.clientId !== undefined ? { clientId: opts.clientId } : {}),
    ...(opts.clientSecretFile !== undefined ? { clientSecretFile: opts.clientSecretFile } : {}),
    ...(opts.certificatePath !== undefined ? { certificatePath: opts.certificatePath } : {}),
    concurrency: opts.concurrency,
    strictPermissions: opts.strictPermissions,
    ...(opts.consistencyWindow !== undefined ? { consistencyWindow: opts.consistencyWindow } : {}),
  };
}

/**
 * Connects to Graph: the --graph-url given, else `fallbackRoot` (a plan's or a run's own Graph),
 * else Microsoft Graph.
 */
export function connectFromOptions(opts: GraphCliOptions, readOnly: boolean, fallbackRoot?: string, log?: (line: string) => void): GraphClient {
  const emulatorToken = process.env[EMULATOR_TOKEN_ENV];
  return connectGraph({
    graphUrl: opts.graphUrl ?? fallbackRoot ?? DEFAULT_GRAPH_ROOT,
    allowGraphHosts: opts.allowGraphHost,
    auth: opts.auth,
    ...(opts.tenantId ? { tenantId: opts.tenantId } : {}),
    ...(opts.clientId ? { clientId: opts.clientId } : {}),
    ...(opts.clientSecretFile ? { clientSecretFile: opts.clientSecretFile } : {}),
    ...(opts.certificatePath ? { certificatePath: opts.certificatePath } : {}),
    // In a job's worker, through the job's notices (relayed in order, shown printable), not its own stderr.
    secretFiles: log ? secretFilesFrom(opts, log) : secretFilesFrom(opts),
    ...(log ? { log } : {}),
    readOnly,
    concurrency: opts.concurrency,
    ...(emulatorToken ? { emulatorToken } : {}),
    ...(opts.consistencyWindow !== undefined ? { retry: { consistencyMs: opts.consistencyWindow * 1000 } } : {}),
  });
}

/** A bad count is a usage error: pointed at --help as commander's own are (a bad --auth choice was, a bad --concurrency not). */
const HELP_HINT = '\n(run with --help for usage and examples)';

/** Decimal digits alone, and a number JavaScript holds exactly: `Number()` took `0x10`, `1e3`, `""` and 10^21 (a black-box test). */
function wholeNumber(v: string): number | undefined {
  if (!/^\d+$/.test(v.trim())) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function positiveInt(v: string, name: string): number {
  const n = wholeNumber(v);
  if (n === undefined || n < 1) throw new UserError(`${name} must be a positive integer, got "${v}"${HELP_HINT}`);
  return n;
}

export function nonNegativeInt(v: string, name: string): number {
  const n = wholeNumber(v);
  if (n === undefined) throw new UserError(`${name} must be a whole number, 0 or more, got "${v}"${HELP_HINT}`);
  return n;
}

