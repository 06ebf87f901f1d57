/**
 * Pieces shared by the apply benchmarks: a synthetic export, the emulator in its own process (its
 * CPU is not the client's), the CLI run as an admin runs it, and the checks that nothing failed or
 * was sent twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist', 'bin', 'cli', 'main.js'); // the bundled CLI, as installed
export const RSS_REPORTER = join(ROOT, 'dist', 'bench', 'report-rss.js');

export function arg(name: string, fallback: number, zeroAllowed = false): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0 || (v === 0 && !zeroAllowed)) throw new Error(`--${name} must be a positive number`);
  return v;
}

export function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

export interface EmulatorProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
  /** GET /_emulator/... */
  get<T>(path: string): Promise<T>;
  reset(): Promise<void>;
}

/** `mfa-migrate emulator --port 0 ARGS` in a child process; resolves once it prints its URL. */
export async function startEmulatorProcess(args: string[]): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, ['--max-old-space-size=4096', CLI, 'emulator', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the emulator exited (${code}) before listening`)));
  });
  const url = /listening on (\S+)/.exec(line)?.[1];
  if (!url) throw new Error(`unexpected emulator output: ${line}`);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    child,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
    get: async <T>(path: string) => (await (await fetch(`${url}/_emulator/${path}`)).json()) as T,
    reset: async () => {
      const r = await fetch(`${url}/_emulator/reset`, { method: 'POST' });
      if (r.status !== 204) throw new Error(`reset: ${r.status}`);
    },
  };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak resident set size of the CLI process (all threads), from report-rss.js. */
  maxRssKb?: number;
}

/** Runs the compiled CLI (or `cli`, another build's); with `measureRss` its peak RSS is reported. */
export function runCli(args: string[], opts: { measureRss?: boolean; cli?: string } = {}): Promise<CliRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...(opts.measureRss ? ['--import', RSS_REPORTER] : []), opts.cli ?? CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const rss = /BENCH_MAX_RSS_KB=(\d+)/.exec(stderr)?.[1];
      resolve({ code, stdout, stderr, ms: performance.now() - t0, ...(rss ? { maxRssKb: Number(rss) } : {}) });
    }),
  );
}

export interface JournalSummary {
  totalOps: number;
  counts: Record<string, number>;
  /** Time of the first operation journaled started, and of the run's end. */
  firstWriteAt: number;
  endAt: number;
}

export function readJournal(stateDir: string): JournalSummary {
  const runs = readdirSync(join(stateDir, 'runs'));
  if (runs.length !== 1) throw new Error(`expected one run in ${stateDir}, found ${runs.length}`);
  const lines = readFileSync(join(stateDir, 'runs', runs[0]!, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean);
  const header = JSON.parse(lines[0]!) as { totalOps: number };
  let firstWriteAt = NaN;
  let end: { at: string; counts: Record<string, number> } | undefined;
  for (const l of lines) {
    if (Number.isNaN(firstWriteAt) && l.includes('"state":"started"')) firstWriteAt = Date.parse((JSON.parse(l) as { at: string }).at);
    if (l.startsWith('{"t":"end"')) end = JSON.parse(l) as { at: string; counts: Record<string, number> };
  }
  if (!end) throw new Error('the run did not end');
  return { totalOps: header.totalOps, counts: end.counts, firstWriteAt, endAt: Date.parse(end.at) };
}

interface LogEntry {
  method: string;
  path: string;
  status: number;
  body: unknown;
  items?: LogEntry[];
}

/** Write items in the emulator's request log: successes, throttled, other failures, and creates sent again. */
export function auditWrites(log: LogEntry[]): { ok: number; throttled: number; dependencyThrottled: number; failed: number; duplicateCreates: number } {
  let ok = 0;
  let throttled = 0;
  let dependencyThrottled = 0;
  let failed = 0;
  const created = new Map<string, number>();
  for (const e of log) {
    for (const w of e.items ?? [e]) {
      if (w.method === 'GET') continue;
      if (w.status >= 200 && w.status < 300) ok++;
      else if (w.status === 429) throttled++;
      // Not run because the write it depends on in the same $batch was throttled.
      else if (w.status === 424) dependencyThrottled++;
      else failed++;
      if (w.method === 'POST' && (w.status === 201 || w.status === 400 || w.status === 409)) {
        const key = /phoneMethods$/.test(w.path) ? `${w.path}#${(w.body as { phoneType?: string }).phoneType}` : /hardwareOathDevices$/.test(w.path) ? `serial#${(w.body as { serialNumber?: string }).serialNumber}` : undefined;
        if (key) created.set(key, (created.get(key) ?? 0) + 1);
      }
    }
  }
  return { ok, throttled, dependencyThrottled, failed, duplicateCreates: [...created.values()].filter((n) => n > 1).length };
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
