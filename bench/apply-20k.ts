/**
 * Apply throughput against Graph's documented write quota, time-scaled: 20,000 synthetic users with a
 * phone each (about 2 writes a user: the phone, then the default method), the emulator in its own
 * process with throttling for a large tenant at time scale K, `mfa-migrate apply PLANFILE` run end
 * to end as an admin runs it. Printed beside the quota's ceiling and beside a baseline measured in the
 * same run against the same emulator settings: a loop sending one write at a time.
 *
 *   npm run build && node dist/bench/apply-20k.js [--users 20000] [--time-scale 50] [--latency 10] [--baseline-seconds 10]
 *
 * --latency MS is added by the emulator to every HTTP request (a $batch counts once), as a network
 * would: without it a one-at-a-time client on loopback is as fast as the quota allows, which says
 * nothing about a real network. It is not time-scaled.
 *
 * Target: at least 0.9 of the ceiling (3,000 writes per 150 s per application and tenant, i.e.
 * 3,000 / (150 / K) writes/s), with no failed and no duplicated operation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateExport } from '../fixtures/generate-export.js';
import { createPhoneMethod } from '../src/graph/calls/user-methods.js';
import { connectGraph } from '../src/graph/connect.js';
import { arg, auditWrites, fmt, load, readJournal, runCli, startEmulatorProcess } from './apply-bench-kit.js';

const WRITE_QUOTA = 3000;
const WRITE_WINDOW_S = 150;
const TARGET = 0.9;

async function main(): Promise<void> {
  const users = arg('users', 20_000);
  const k = arg('time-scale', 50);
  const baselineSeconds = arg('baseline-seconds', 10);
  const latency = arg('latency', 10, true);
  const ceiling = WRITE_QUOTA / (WRITE_WINDOW_S / k);
  const dir = mkdtempSync(join(tmpdir(), 'bench-apply-'));
  const loadBefore = load();
  try {
    // Phone-only users: a mobile (an office phone for the tenth with an extension) and the default method.
    await generateExport({ out: dir, users, tokenShare: 0, deviceShare: 0, backupShare: 0, tenantMethodShare: 0, seed: 1, tenant: true });
    const emu = await startEmulatorProcess(['--tenant', join(dir, 'tenant.json'), '--throttle', 'L', '--time-scale', String(k), '--latency', String(latency), '--log-limit', String(users * 2)]);
    try {
      const planFile = join(dir, 'bench.plan');
      const plan = await runCli(['plan', '--source', dir, '--graph-url', emu.url, '--out', planFile, '--format', 'json', '--concurrency', '8']);
      if (plan.code !== 0) throw new Error(`plan failed: ${plan.stderr}`);
      // Fresh budgets and an empty log: what follows is the apply alone.
      await emu.reset();

      const stateDir = join(dir, 'state');
      const applied = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir], { measureRss: true });
      if (applied.code !== 0) throw new Error(`apply exited ${applied.code}: ${applied.stderr.slice(-2000)}`);
      const journal = readJournal(stateDir);
      const audit = auditWrites(await emu.get('requests'));
      const writes = journal.counts.done ?? 0;
      const writePhaseS = (journal.endAt - journal.firstWriteAt) / 1000;
      const endToEndS = applied.ms / 1000;
      const floorS = (Math.ceil(writes / WRITE_QUOTA) - 1) * (WRITE_WINDOW_S / k);

      // Baseline: the same emulator settings, fresh state and budgets; one POST at a time, waiting out
      // each 429's Retry-After, through the same Graph connection code, for a bounded time.
      await emu.reset();
      const baseline = await oneAtATime(emu.url, users, baselineSeconds);

      const rows: [string, number, string][] = [
        [`quota ceiling (${WRITE_QUOTA} writes / ${WRITE_WINDOW_S} s, K = ${k})`, ceiling, '1.00'],
        ['apply, end to end (process start to exit)', writes / endToEndS, (writes / endToEndS / ceiling).toFixed(2)],
        ['apply, write phase (first write journaled to end)', writes / writePhaseS, (writes / writePhaseS / ceiling).toFixed(2)],
        ['baseline: one POST at a time', baseline.rate, (baseline.rate / ceiling).toFixed(2)],
      ];
      process.stdout.write(`apply benchmark: ${fmt(users)} users, ${fmt(writes)} writes (${fmt(journal.totalOps)} operations planned), emulator throttle L, time scale ${k}, latency ${latency} ms a request\n`);
      process.stdout.write(`load average before: ${loadBefore}; after: ${load()}\n\n`);
      process.stdout.write(`| | writes/s | share of ceiling |\n|---|---:|---:|\n`);
      for (const [name, rate, share] of rows) process.stdout.write(`| ${name} | ${fmt(rate)} | ${share} |\n`);
      process.stdout.write(
        `\napply: ${endToEndS.toFixed(1)} s end to end, write phase ${writePhaseS.toFixed(1)} s (floor for ${fmt(writes)} writes: ${floorS.toFixed(1)} s), ` +
          `${fmt((applied.ms - (journal.endAt - journal.firstWriteAt)) / 1000, 1)} s outside it (start-up, plan read, pre-flight re-read of every user, exit)\n`,
      );
      process.stdout.write(`operations: ${fmt(journal.counts.done ?? 0)} done, ${journal.counts.failed ?? 0} failed, ${journal.counts.skipped ?? 0} skipped, ${journal.counts.pending ?? 0} pending\n`);
      process.stdout.write(`request log: ${fmt(audit.ok)} writes succeeded, ${fmt(audit.throttled)} answered 429 (and ${audit.dependencyThrottled} 424: their dependency in the batch was throttled), ${audit.failed} failed otherwise, ${audit.duplicateCreates} created twice\n`);
      process.stdout.write(`apply peak RSS: ${fmt((applied.maxRssKb ?? 0) / 1024)} MB; baseline: ${fmt(baseline.writes)} writes in ${baseline.seconds.toFixed(1)} s\n`);
      const share = writes / endToEndS / ceiling;
      const ok = share >= TARGET && journal.counts.failed === 0 && audit.failed === 0 && audit.duplicateCreates === 0 && audit.ok === writes;
      process.stdout.write(`\nTarget >= ${TARGET} of the ceiling end to end, no failed or duplicated operation: ${ok ? 'met' : 'NOT met'} (${share.toFixed(2)})\n`);
    } finally {
      await emu.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sends the users' mobile phones one POST at a time for `seconds`, honouring Retry-After. */
async function oneAtATime(url: string, users: number, seconds: number): Promise<{ rate: number; writes: number; seconds: number }> {
  // The client's retry policy waits out each 429's Retry-After and sends again (a write Graph did not take).
  const client = connectGraph({ graphUrl: url, readOnly: false, concurrency: 1, retry: { maxAttempts: 1000 } });
  const t0 = performance.now();
  let writes = 0;
  for (let i = 0; i < users && performance.now() - t0 < seconds * 1000; i++) {
    const upn = `user${String(i).padStart(6, '0')}@bench.contoso.com`;
    const res = await client.request(createPhoneMethod(upn, { phoneNumber: `+1 42555${String(i).padStart(5, '0')}`, phoneType: 'mobile' }));
    if (res.status !== 201) throw new Error(`baseline POST for ${upn}: ${res.status} ${JSON.stringify(res.body)}`);
    writes++;
  }
  const s = (performance.now() - t0) / 1000;
  return { rate: writes / s, writes, seconds: s };
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
