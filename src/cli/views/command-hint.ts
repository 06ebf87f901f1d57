import { cliCommand } from '../../model/command-line.js';
import type { GraphCliOptions } from '../graph-options.js';

/**
 * A command to print as a hint that works as printed: the sign-in and state options the admin gave
 * are carried over (paths only; a secret is never on a command line), the Graph root is not (a run
 * goes back to its own).
 */
export function commandHint(words: string[], opts: Partial<GraphCliOptions> & { stateDir?: string }): string {
  const args = [...words];
  if (opts.stateDir) args.push('--state-dir', opts.stateDir);
  if (opts.auth && opts.auth !== 'default') args.push('--auth', opts.auth);
  if (opts.tenantId) args.push('--tenant-id', opts.tenantId);
  if (opts.clientId) args.push('--client-id', opts.clientId);
  if (opts.clientSecretFile) args.push('--client-secret-file', opts.clientSecretFile);
  if (opts.certificatePath) args.push('--certificate-path', opts.certificatePath);
  for (const h of opts.allowGraphHost ?? []) args.push('--allow-graph-host', h);
  if (opts.consistencyWindow !== undefined) args.push('--consistency-window', String(opts.consistencyWindow));
  return cliCommand(args);
}
