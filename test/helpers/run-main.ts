import { main } from '../../src/cli/main.js';
import type { CliResult } from './run-cli.js';

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `mfa-migrate ARGS` in this process, from the sources (no node start-up, no build): stdout and
 * stderr captured, process.exitCode and the environment restored afterwards. Calls are serialised
 * (they share the process's streams). For what only a separate process shows (signals, kill -9,
 * the shipped bundle), use runCli.
 */
export function runMain(args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<CliResult> {
  const run = queue.then(() => runNow(args, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function runNow(args: string[], opts: { env?: Record<string, string | undefined> }): Promise<CliResult> {
  const saved = { exitCode: process.exitCode, env: { ...process.env } };
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  for (const [k, v] of Object.entries({ NO_COLOR: '1', ...opts.env })) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'mfa-migrate', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = saved.exitCode;
    for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
    Object.assign(process.env, saved.env);
  }
}
