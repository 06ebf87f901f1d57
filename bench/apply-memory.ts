/**
 * Peak memory of `mfa-migrate apply PLANFILE` for 100,000 synthetic users (phone-only: about 2 writes
 * each), the emulator in its own process with throttling off so the run is quick. Printed beside two
 * baselines measured in the same run: the CLI doing nothing (`mfa-migrate runs`: Node, the Graph SDK
 * and the rest loaded) and a process that only parses the same plan file, every line (what holding the
 * whole plan would cost before any work).
 *
 *   npm run build && node dist/bench/apply-memory.js [--users 100000] [--runs 2]
 *
 * Target: peak RSS under 300 MB for 100,000 users.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateExport } from '../fixtures/generate-export.js';
import { RSS_REPORTER, arg, auditWrites, fmt, load, readJournal, runCli, startEmulatorProcess } from './apply-bench-kit.js';

const TARGET_MB = 300;

async function main(): Promise<void> {
  const users = arg('users', 100_000);
  const runs = arg('runs', 2);
  const dir = mkdtempSync(join(tmpdir(), 'bench-apply-mem-'));
  const loadBefore = load();
  try {
    await generateExport({ out: dir, users, tokenShare: 0, deviceShare: 0, backupShare: 0, tenantMethodShare: 0, seed: 1, tenant: true });
    const emu = await startEmulatorProcess(['--tenant', join(dir, 'tenant.json'), '--throttle', 'off', '--log-limit', String(users * 2)]);
    try {
      const planFile = join(dir, 'bench.plan');
      const plan = await runCli(['plan', '--source', dir, '--graph-url', emu.url, '--out', planFile, '--format', 'json', '--concurrency', '8']);
      if (plan.code !== 0) throw new Error(`plan failed: ${plan.stderr}`);
      const idle = await runCli(['runs', '--state-dir', join(dir, 'none')], { measureRss: true });
      const parsed = await parseOnly(planFile);
      const peaks: number[] = [];
      let last: { writes: number; seconds: number; failed: number; duplicates: number; audited: number; stateDir: string } | undefined;
      for (let r = 0; r < runs; r++) {
        await emu.reset();
        const stateDir = join(dir, `state-${r}`);
        const applied = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir], { measureRss: true });
        if (applied.code !== 0) throw new Error(`apply exited ${applied.code}: ${applied.stderr.slice(-2000)}`);
        peaks.push((applied.maxRssKb ?? 0) / 1024);
        const journal = readJournal(stateDir);
        const audit = auditWrites(await emu.get('requests'));
        last = { writes: journal.counts.done ?? 0, seconds: applied.ms / 1000, failed: journal.counts.failed ?? 0, duplicates: audit.duplicateCreates, audited: audit.ok, stateDir };
      }
      // The last run undone: a rollback reads every user again to compare (changed since?) before it writes.
      const runId = readdirSync(join(last!.stateDir, 'runs'))[0]!;
      const rolledBack = await runCli(['rollback', runId, '--state-dir', last!.stateDir], { measureRss: true });
      if (rolledBack.code !== 0) throw new Error(`rollback exited ${rolledBack.code}: ${rolledBack.stderr.slice(-2000)}`);
      const worst = Math.max(...peaks);
      process.stdout.write(`apply memory: ${fmt(users)} users, plan file ${fmt(statSync(planFile).size / 1024 / 1024)} MB, ${fmt(last!.writes)} writes per run (${last!.seconds.toFixed(1)} s, throttling off)\n`);
      process.stdout.write(`load average before: ${loadBefore}; after: ${load()}\n\n`);
      process.stdout.write(`| process | peak RSS (MB) |\n|---|---:|\n`);
      process.stdout.write(`| baseline: the CLI doing nothing (mfa-migrate runs) | ${fmt((idle.maxRssKb ?? 0) / 1024)} |\n`);
      process.stdout.write(`| baseline: parsing the plan file's lines alone | ${fmt(parsed)} |\n`);
      peaks.forEach((p, i) => process.stdout.write(`| mfa-migrate apply, run ${i + 1} | ${fmt(p)} |\n`));
      process.stdout.write(`| mfa-migrate rollback of the last run (${(rolledBack.ms / 1000).toFixed(1)} s) | ${fmt((rolledBack.maxRssKb ?? 0) / 1024)} |\n`);
      process.stdout.write(`\nlast run: ${last!.failed} failed, ${last!.duplicates} created twice, ${fmt(last!.audited)} writes succeeded in the request log\n`);
      process.stdout.write(`Target < ${TARGET_MB} MB peak RSS: ${worst < TARGET_MB ? 'met' : 'NOT met'} (worst run ${fmt(worst)} MB)\n`);
    } finally {
      await emu.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Peak RSS of a process that reads the whole saved plan (JSON Lines) and parses every line, holding them all. */
function parseOnly(planFile: string): Promise<number> {
  const code = `globalThis.plan = require('node:fs').readFileSync(${JSON.stringify(planFile)}, 'utf8').split('\\n').filter(Boolean).map((l) => JSON.parse(l));`;
  const child = spawn(process.execPath, ['--import', RSS_REPORTER, '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) =>
    child.on('close', (c) => {
      const kb = /BENCH_MAX_RSS_KB=(\d+)/.exec(stderr)?.[1];
      if (c !== 0 || !kb) reject(new Error(`parse-only baseline failed: ${stderr}`));
      else resolve(Number(kb) / 1024);
    }),
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
