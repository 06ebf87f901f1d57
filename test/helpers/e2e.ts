import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../../src/plan/plan-model.js';
import { CONTOSO, CONTOSO_TOKENS } from './migration.js';
import { CLI, ROOT, runCli, type CliResult } from './run-cli.js';

/** The Contoso seed options as an admin types them (as the demo passes them). */
export const CONTOSO_SEED_ARGS = [
  ...CONTOSO_TOKENS.flatMap((t) => ['--tokens', t]),
  '--pskc-key-file', join(CONTOSO, 'tokens', 'psk.hex'),
  '--pskc-password-file', join(CONTOSO, 'tokens', 'pskc-password.txt'),
];

/** A state base of this test process, so that no test touches the real ~/.local/state. */
export const TEST_STATE_HOME = mkdtempSync(join(tmpdir(), 'mfa-state-home-'));

type Runner = (args: string[], opts?: { env?: Record<string, string> }) => Promise<CliResult>;

/** `mfa-migrate plan ... --out FILE --format json --show-phone-numbers` as a process; the plan object it printed (numbers in full, to check the tenant against). */
export async function cliPlanTo(graphUrl: string, out: string, source = CONTOSO, extra: string[] = source === CONTOSO ? CONTOSO_SEED_ARGS : []): Promise<Plan> {
  return planVia(runCli, graphUrl, out, source, extra);
}

/** The same, with a given runner (runMain: in process). */
export async function planVia(run: Runner, graphUrl: string, out: string, source = CONTOSO, extra: string[] = source === CONTOSO ? CONTOSO_SEED_ARGS : []): Promise<Plan> {
  const r = await run(['plan', '--source', source, ...extra, '--graph-url', graphUrl, '--out', out, '--format', 'json', '--show-phone-numbers'], { env: { XDG_STATE_HOME: TEST_STATE_HOME } });
  if (r.code !== 0) throw new Error(`plan exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Plan;
}

/** Starts `mfa-migrate ARGS` as a child process that the test may kill or signal. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; exit: Promise<CliResult & { signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: TEST_STATE_HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : null), signal, stdout, stderr })));
  return { child, exit };
}
