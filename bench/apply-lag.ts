/**
 * Apply on a Graph that shows what the run just wrote only after a lag, as a black-box test at
 * 20,000 users ran it: the synthetic export with 2% token users (seed 7), the emulator in its own
 * process at throttle L, time scale 10, 5% faults, 20 ms latency, its tenant file's behaviour with
 * `replicationLagSeconds` 20 and `hardwareOathPropagationSeconds` 600 (both time-scaled), the plan
 * made first (not timed), the emulator reset, then `mfa-migrate apply PLANFILE` end to end.
 *
 *   npm run build && node dist/bench/apply-lag.js [--users 3000] [--lag 20] [--propagation 600]
 *        [--time-scale 10] [--fault-rate 0.05] [--latency 20] [--activation-rate 200]
 *        [--cli OTHER/dist/bin/cli/main.js]
 *
 * --activation-rate is apply's (200 activations per 5 minutes, the admin center's pace, by default):
 * the client keeps it in real time, not the emulator's, so at time scale 10 a run with more than 200
 * tokens waits for it as a run ten times longer would not; 2000 is that pace time-scaled.
 *
 * --cli runs another build's CLI for the apply (the code before a change: build it in a worktree of
 * its own); the emulator, export and plan are this build's. Printed: operations per second (write
 * phase, end to end), how often each default method (signInPreferences PATCH) was sent and refused,
 * `$batch` requests of one write, and each wave's length.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateExport } from '../fixtures/generate-export.js';
import { arg, auditWrites, fmt, load, readJournal, runCli, startEmulatorProcess } from './apply-bench-kit.js';

interface LogEntry {
  time: string;
  method: string;
  path: string;
  status: number;
  body: unknown;
  items?: LogEntry[];
}

function cliArg(): string | undefined {
  const i = process.argv.indexOf('--cli');
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The run's waves' lengths in seconds, from the journal's wave lines. */
function waveSeconds(stateDir: string): number[] {
  const run = readdirSync(join(stateDir, 'runs'))[0]!;
  const lines = readFileSync(join(stateDir, 'runs', run, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"t":"wave"'))
    .map((l) => JSON.parse(l) as { wave: number; state: string; at: string });
  const started = new Map(lines.filter((l) => l.state === 'started').map((l) => [l.wave, Date.parse(l.at)]));
  return lines.filter((l) => l.state === 'done').map((l) => (Date.parse(l.at) - started.get(l.wave)!) / 1000);
}

async function main(): Promise<void> {
  const users = arg('users', 3000);
  const lag = arg('lag', 20, true);
  const propagation = arg('propagation', 600, true);
  const k = arg('time-scale', 10);
  const faultRate = arg('fault-rate', 0.05, true);
  const latency = arg('latency', 20, true);
  const activationRate = arg('activation-rate', 200);
  const cli = cliArg();
  const dir = mkdtempSync(join(tmpdir(), 'bench-apply-lag-'));
  const loadBefore = load();
  try {
    await generateExport({ out: dir, users, tokenShare: 0.02, deviceShare: 0.1, backupShare: 0.3, tenantMethodShare: 0.2, seed: 7, tenant: true });
    const tenant = JSON.parse(readFileSync(join(dir, 'tenant.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'tenant-lag.json'), JSON.stringify({ ...tenant, behaviour: { replicationLagSeconds: lag, hardwareOathPropagationSeconds: propagation } }));
    const emu = await startEmulatorProcess(['--tenant', join(dir, 'tenant-lag.json'), '--throttle', 'L', '--time-scale', String(k), '--fault-rate', String(faultRate), '--latency', String(latency), '--log-limit', String(users * 12)]);
    try {
      const planFile = join(dir, 'bench.plan');
      const plan = await runCli(['plan', '--source', dir, '--tokens', join(dir, 'tokens', 'seeds.pskc'), '--graph-url', emu.url, '--out', planFile, '--format', 'json', '--concurrency', '8']);
      if (plan.code !== 0) throw new Error(`plan failed: ${plan.stderr}`);
      await emu.reset();

      const stateDir = join(dir, 'state');
      const applied = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--activation-rate', String(activationRate)], cli ? { cli } : {});
      if (applied.code !== 0) throw new Error(`apply exited ${applied.code}: ${applied.stderr.slice(-2000)}`);
      const journal = readJournal(stateDir);
      const log = await emu.get<LogEntry[]>('requests');
      const audit = auditWrites(log);
      const done = journal.counts.done ?? 0;
      const writePhaseS = (journal.endAt - journal.firstWriteAt) / 1000;
      const defaults = new Map<string, number>();
      let writeBatches = 0;
      let oneWrite = 0;
      for (const e of log) {
        const writes = (e.items ?? []).filter((i) => i.method !== 'GET');
        if (e.items && writes.length > 0) {
          writeBatches++;
          if (e.items.length === 1) oneWrite++;
        }
        for (const i of e.items ?? [e]) if (i.method === 'PATCH' && /signInPreferences$/.test(i.path)) defaults.set(String(i.status), (defaults.get(String(i.status)) ?? 0) + 1);
      }
      const defaultsDone = defaults.get('204') ?? 0;
      const defaultSends = [...defaults.values()].reduce((a, b) => a + b, 0);
      const waves = waveSeconds(stateDir);
      process.stdout.write(`apply on a lagging Graph: ${fmt(users)} users, lag ${lag} s, policy propagation ${propagation} s (time scale ${k}), faults ${faultRate}, latency ${latency} ms, activations ${activationRate} per 5 min${cli ? `, CLI ${cli}` : ''}\n`);
      process.stdout.write(`load average before: ${loadBefore}; after: ${load()}\n`);
      process.stdout.write(`operations: ${fmt(done)} done, ${journal.counts.failed ?? 0} failed, ${journal.counts.skipped ?? 0} skipped; ${fmt(done / writePhaseS, 1)} ops/s in the write phase (${writePhaseS.toFixed(1)} s), ${fmt(done / (applied.ms / 1000), 1)} end to end (${(applied.ms / 1000).toFixed(1)} s)\n`);
      process.stdout.write(`writes sent: ${fmt(audit.ok + audit.throttled + audit.dependencyThrottled + audit.failed)} (${fmt(audit.ok)} succeeded, ${fmt(audit.throttled)} answered 429, ${fmt(audit.failed)} failed otherwise), ${audit.duplicateCreates} created twice\n`);
      process.stdout.write(`default methods: ${fmt(defaultSends)} sends for ${fmt(defaultsDone)} set (${(defaultSends / Math.max(1, defaultsDone)).toFixed(2)} a default), ${fmt(defaults.get('400') ?? 0)} refused 400\n`);
      process.stdout.write(`$batch requests with writes: ${fmt(writeBatches)}, of one operation: ${fmt(oneWrite)}\n`);
      process.stdout.write(`waves (s): ${waves.map((w) => w.toFixed(1)).join(' ')}\n`);
    } finally {
      await emu.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
