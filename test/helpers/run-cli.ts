import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/io/package-root.js';
import { CLI } from './fresh-bundle.js';

export { CLI };
export const ROOT = packageRoot();

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `mfa-migrate ARGS` as a separate process, as an admin would. */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      // A state base of the test's own: no test touches the real ~/.local/state.
      env: { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: process.env.MFA_TEST_STATE_HOME ?? join(tmpdir(), 'mfa-migrate-test-state'), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}
