/**
 * Writes per migrated user when every user brings a hardware OATH token: the same plan applied twice
 * to the same emulator (reset between), once by the per-token path (`--token-path single`: a POST of
 * each token to the inventory, then an assign-and-activate) as the baseline, once by the bulk path
 * (`--token-path bulk`: one `#$delta` PATCH of the inventory per 200 new tokens, then one
 * assign-and-activate by serial number each). Graph's write quota counts requests, so fewer writes a
 * user is a shorter migration at the quota: the time at the ceiling is shown for each.
 *
 *   npm run build && node dist/bench/apply-tokens.js [--users 4000] [--time-scale 50] [--latency 10]
 *
 * Then the bundled sample (fixtures/contoso) the same way, both paths, for its writes per migrated user.
 *
 * Target: the bulk path at most 1.1 token writes per token user (one assign-and-activate and a
 * two-hundredth of a bulk create, where the per-token path needs two), every token active and
 * assigned once, nothing failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateExport } from '../fixtures/generate-export.js';
import { arg, auditWrites, fmt, load, readJournal, ROOT, runCli, startEmulatorProcess } from './apply-bench-kit.js';

const WRITE_QUOTA = 3000;
const WRITE_WINDOW_S = 150;
/** Writes to hardware tokens a token user may cost on the bulk path: one assign-and-activate, plus its share of a bulk create. */
const TOKEN_WRITES_TARGET = 1.1;

interface Snapshot {
  hardwareOathDevices: { serialNumber: string; status: string; assignedTo: { id: string } | null }[];
}

interface PathRun {
  path: 'single' | 'bulk';
  writes: number;
  operations: number;
  seconds: number;
  throttled: number;
  failed: number;
  activeAssigned: number;
  serialsTwice: number;
  tokenWrites: number;
}

async function main(): Promise<void> {
  const users = arg('users', 4000);
  const k = arg('time-scale', 50);
  const latency = arg('latency', 10, true);
  const dir = mkdtempSync(join(tmpdir(), 'bench-apply-tokens-'));
  const loadBefore = load();
  try {
    // Every user has a token (the default method) and a mobile phone; nothing in the tenant yet.
    const made = await generateExport({ out: dir, users, tokenShare: 1, deviceShare: 0, backupShare: 0, tenantMethodShare: 0, seed: 3, tenant: true });
    const emu = await startEmulatorProcess(['--tenant', join(dir, 'tenant.json'), '--throttle', 'L', '--time-scale', String(k), '--latency', String(latency), '--log-limit', String(users * 6)]);
    try {
      const planFile = join(dir, 'bench.plan');
      const plan = await runCli(['plan', '--source', dir, '--tokens', join(dir, 'tokens', 'seeds.pskc'), '--graph-url', emu.url, '--out', planFile, '--format', 'json', '--concurrency', '8']);
      if (plan.code !== 0) throw new Error(`plan failed: ${plan.stderr}`);
      const migrated = (JSON.parse(plan.stdout) as { users: { status: string }[] }).users.filter((u) => u.status === 'changes').length;

      const runs: PathRun[] = [];
      for (const path of ['single', 'bulk'] as const) {
        await emu.reset();
        const stateDir = join(dir, `state-${path}`);
        // Activations unpaced: the admin center's pace is wall-clock and the emulator's clock is scaled.
        const applied = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--token-path', path, '--activation-rate', String(users * 10)]);
        if (applied.code !== 0) throw new Error(`apply --token-path ${path} exited ${applied.code}: ${applied.stderr.slice(-2000)}`);
        const journal = readJournal(stateDir);
        const log = await emu.get<Parameters<typeof auditWrites>[0]>('requests');
        const audit = auditWrites(log);
        const state = await emu.get<Snapshot>('state');
        const serials = new Map<string, number>();
        for (const d of state.hardwareOathDevices) serials.set(d.serialNumber, (serials.get(d.serialNumber) ?? 0) + 1);
        runs.push({
          path,
          writes: audit.ok,
          operations: journal.counts.done ?? 0,
          seconds: applied.ms / 1000,
          throttled: audit.throttled,
          failed: audit.failed + (journal.counts.failed ?? 0),
          activeAssigned: state.hardwareOathDevices.filter((d) => d.status === 'activated' && d.assignedTo).length,
          serialsTwice: [...serials.values()].filter((n) => n > 1).length,
          tokenWrites: tokenWritesIn(log),
        });
      }

      process.stdout.write(`apply, hardware tokens: ${fmt(users)} users, ${fmt(made.seeds)} tokens, ${fmt(migrated)} users migrated; emulator throttle L, time scale ${k}, latency ${latency} ms a request\n`);
      process.stdout.write(`load average before: ${loadBefore}; after: ${load()}\n\n`);
      process.stdout.write('| token path | writes | writes per migrated user | token writes per token | time at the quota (K = 1) | end to end here |\n|---|---:|---:|---:|---:|---:|\n');
      for (const r of runs) {
        // Graph's quota over a long run: 3,000 writes each 150 s.
        const atQuota = (r.writes / WRITE_QUOTA) * WRITE_WINDOW_S;
        process.stdout.write(
          `| ${r.path === 'single' ? 'single (baseline: create, then activate, each)' : 'bulk (#$delta per 200, then assign-and-activate by serial)'} | ${fmt(r.writes)} | ${fmt(r.writes / migrated, 2)} | ${fmt(r.tokenWrites / migrated, 2)} | ${fmt(atQuota / 60, 1)} min | ${r.seconds.toFixed(1)} s |\n`,
        );
      }
      process.stdout.write('\n');
      for (const r of runs) {
        process.stdout.write(`${r.path}: ${fmt(r.operations)} operations done, ${r.failed} failed, ${fmt(r.throttled)} answered 429, ${fmt(r.activeAssigned)} tokens active and assigned, ${r.serialsTwice} serials in the inventory twice\n`);
      }
      const [single, bulk] = runs as [PathRun, PathRun];
      const perUser = bulk.writes / migrated;
      const whole = (r: PathRun) => r.failed === 0 && r.serialsTwice === 0 && r.activeAssigned === migrated;
      const ok = whole(single) && whole(bulk) && bulk.tokenWrites / migrated <= TOKEN_WRITES_TARGET && bulk.writes < single.writes;
      const sample = await sampleWrites();
      process.stdout.write(`\nThe bundled sample (fixtures/contoso: ${sample.migrated} users migrated, ${sample.tokenUsers} with hardware tokens), the emulator's defaults:\n\n`);
      process.stdout.write('| token path | writes | writes per migrated user | token writes |\n|---|---:|---:|---:|\n');
      for (const r of sample.runs) process.stdout.write(`| ${r.path} | ${r.writes} | ${fmt(r.writes / sample.migrated, 2)} | ${r.tokenWrites} |\n`);
      process.stdout.write(`\nTarget: bulk at most ${TOKEN_WRITES_TARGET} token writes per token, fewer writes than single, every token active and assigned once, nothing failed: ${ok ? 'met' : 'NOT met'} (${fmt(perUser, 2)} writes per user against ${fmt(single.writes / migrated, 2)})\n`);
    } finally {
      await emu.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes of apply on the bundled sample, each token path, on a fresh emulator each. */
async function sampleWrites(): Promise<{ migrated: number; tokenUsers: number; runs: { path: string; writes: number; tokenWrites: number }[] }> {
  const contoso = join(ROOT, 'fixtures', 'contoso');
  const tokens = join(contoso, 'tokens');
  const seeds = [...['seeds.pskc', 'seeds-psk.pskc', 'seeds-password.pskc', 'entra-upload.csv', 'generic-seeds.csv'].flatMap((f) => ['--tokens', join(tokens, f)]), '--pskc-key-file', join(tokens, 'psk.hex'), '--pskc-password-file', join(tokens, 'pskc-password.txt')];
  const dir = mkdtempSync(join(tmpdir(), 'bench-apply-sample-'));
  const emu = await startEmulatorProcess([]);
  try {
    const planFile = join(dir, 'sample.plan');
    const plan = await runCli(['plan', '--source', contoso, ...seeds, '--graph-url', emu.url, '--out', planFile, '--format', 'json']);
    if (plan.code !== 0) throw new Error(`sample plan failed: ${plan.stderr}`);
    const p = JSON.parse(plan.stdout) as { users: { user: string; status: string }[]; user_changes: { user: string; resource: string; action: string }[] };
    const migrated = p.users.filter((u) => u.status === 'changes').length;
    const tokenUsers = new Set(p.user_changes.filter((c) => c.resource.startsWith('hardwareOathMethods/') && c.action !== 'no-op').map((c) => c.user)).size;
    const runs: { path: string; writes: number; tokenWrites: number }[] = [];
    for (const path of ['single', 'bulk'] as const) {
      await emu.reset();
      const applied = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', join(dir, `state-${path}`), '--token-path', path]);
      if (applied.code !== 0) throw new Error(`sample apply --token-path ${path} exited ${applied.code}: ${applied.stderr.slice(-2000)}`);
      const log = await emu.get<Parameters<typeof auditWrites>[0]>('requests');
      runs.push({ path, writes: auditWrites(log).ok, tokenWrites: tokenWritesIn(log) });
    }
    return { migrated, tokenUsers, runs };
  } finally {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface LogItem {
  method: string;
  path: string;
  status: number;
  items?: LogItem[];
}

/** Successful writes to the inventory or a user's hardware OATH methods. */
function tokenWritesIn(log: LogItem[]): number {
  let n = 0;
  for (const e of log) for (const w of e.items ?? [e]) if (w.method !== 'GET' && w.status >= 200 && w.status < 300 && /hardwareOath/i.test(w.path)) n++;
  return n;
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
