import { Option, type Command } from 'commander';
import { AUTH_MODES, AuthConfigError, type AuthMode } from '../graph/auth.js';
import { GraphConnection } from '../graph/graph-connection.js';
import { CliError } from './cli-error.js';

/** Options shared by every command that talks to Graph. */
export function addGraphOptions(cmd: Command): Command {
  return cmd
    .option('--graph-url <url>', 'Microsoft Graph root (a loopback URL such as the emulator needs no credential)', 'https://graph.microsoft.com')
    .addOption(new Option('--auth <mode>', 'how to sign in to Graph').choices([...AUTH_MODES]).default('default'))
    .option('--tenant-id <id>', 'Entra tenant id (default: AZURE_TENANT_ID)')
    .option('--client-id <id>', 'app (client) id (default: AZURE_CLIENT_ID)')
    .option('--client-secret-file <file>', 'file holding the client secret (default: AZURE_CLIENT_SECRET); never pass a secret on the command line')
    .option('--certificate-path <file>', 'PEM certificate with private key, for --auth certificate')
    .option('--concurrency <n>', 'Graph $batch requests in flight', (v) => positiveInt(v, '--concurrency'), 4);
}

export interface GraphCliOptions {
  graphUrl: string;
  auth: AuthMode;
  tenantId?: string;
  clientId?: string;
  clientSecretFile?: string;
  certificatePath?: string;
  concurrency: number;
}

export function connect(opts: GraphCliOptions, readOnly: boolean): GraphConnection {
  try {
    return new GraphConnection({ ...opts, readOnly });
  } catch (err) {
    if (err instanceof AuthConfigError || err instanceof Error) throw new CliError(err.message);
    throw err;
  }
}

export function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${name} must be a positive integer, got "${v}"`);
  return n;
}
