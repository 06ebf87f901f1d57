import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/io/package-root.js';
import { tempDir } from '../helpers/migration.js';
import { CLI } from '../helpers/fresh-bundle.js';

const ROOT = packageRoot();

/** A TCP port free on the loopback now (the system picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The README's walkthrough blocks, in order, as written. */
export function walkthroughBlocks(readme: string): string[] {
  const start = readme.indexOf('\n## Walkthrough');
  const end = readme.indexOf('\n## ', start + 5);
  return [...readme.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/**
 * One bash script of the blocks, with only what a reader does by eye made explicit: a server started
 * with `&` is waited for until it listens (and stopped at the end), `<run-id>` is the newest run's id
 * (`mfa-migrate runs --format json`), and a command whose comment says `# exit N` may exit N. The
 * ports line (`PORT=... SHIM_PORT=...`, which the README says to change if taken) gets `ports`, so
 * that the test never meets a port another process holds.
 */
export function walkthroughScript(blocks: string[], ports?: { graph: number; shim: number }): string {
  const lines = [
    'set -euo pipefail',
    "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
    'wait_for_port() { node -e \'const net=require("net");let n=0;(function t(){const s=net.connect(+process.argv[1],"127.0.0.1",()=>{s.end();process.exit(0)});s.on("error",()=>{if(++n>200)process.exit(1);setTimeout(t,50)})})()\' "$1"; }',
    'latest_run() { mfa-migrate runs --format json | node -e \'process.stdout.write(JSON.parse(require("fs").readFileSync(0,"utf8"))[0].id)\'; }',
  ];
  for (const block of blocks) {
    for (const raw of block.split('\n')) {
      let line = raw.replaceAll('<run-id>', '"$(latest_run)"');
      if (ports && /^PORT=\d+ SHIM_PORT=\d+$/.test(line)) line = `PORT=${ports.graph} SHIM_PORT=${ports.shim}`;
      const exit = /^(.*\S)\s+#\s*exit (\d+)\b.*$/.exec(line);
      if (exit) line = `${exit[1]} || test $? -eq ${exit[2]}`;
      lines.push(line);
      if (/\s&\s*$/.test(raw)) {
        const port = /--port (\d+|\$\w+)/.exec(raw)?.[1] ?? (/shim serve/.test(raw) ? '8085' : undefined);
        if (port) lines.push(`wait_for_port ${port.startsWith('$') ? `"${port}"` : port}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

describe('the README', () => {
  let tmp: ReturnType<typeof tempDir>;
  let ports: { graph: number; shim: number };
  beforeAll(async () => {
    tmp = tempDir('readme');
    ports = { graph: await freePort(), shim: await freePort() };
  });
  afterAll(() => tmp.cleanup());

  it('walkthrough runs as written on the bundled sample, against the emulator, in a scratch folder', () => {
    const blocks = walkthroughBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    // `mfa-migrate` on PATH (as the set-up puts it), the sample where the walkthrough says, runs kept aside.
    const bin = join(tmp.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'mfa-migrate'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(bin, 'mfa-migrate'), 0o755);
    const work = join(tmp.dir, 'work');
    mkdirSync(work);
    symlinkSync(join(ROOT, 'fixtures'), join(work, 'fixtures'));
    const script = walkthroughScript(blocks, ports);
    // On ports free now, not the README's own (another process may hold them).
    expect(script).toContain(`PORT=${ports.graph} SHIM_PORT=${ports.shim}\n`);
    writeFileSync(join(tmp.dir, 'walkthrough.sh'), script);
    const r = spawnSync('bash', [join(tmp.dir, 'walkthrough.sh')], {
      cwd: work,
      env: { ...process.env, PATH: `${bin}:${join(process.execPath, '..')}:${process.env.PATH}`, XDG_STATE_HOME: join(tmp.dir, 'state'), NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, `${script}\n---\n${out}`).toBe(0);
    expect(out).toMatch(/Valid with \d+ warning/);
    expect(out).toMatch(/Saved the plan to wave1\.plan/);
    expect(out).toMatch(/Run \S+: stopped after wave 1 of \d+\./);
    expect(out).toMatch(/Run \S+: completed\./);
    expect(out).toMatch(/Rollback \S+ of run \S+: completed\./);
    // The cutover: the final step refused while judy and zoe are left behind, then forced and applied.
    expect(out).toMatch(/the cutover cannot be planned as asked:\n.*judy@contoso\.com, zoe@contoso\.com/);
    // Forced, the federation moved them to Entra MFA with no method: said so, not "left on MFA Server" (a black-box review).
    expect(out).toMatch(/federation of contoso\.com: done: .*\n {2}2 user\(s\) moved to Entra MFA by the federation of contoso\.com \(--force-federation\) with no cloud MFA method .*: judy@contoso\.com, zoe@contoso\.com\./);
    const status = JSON.parse(readFileSync(join(work, 'status.json'), 'utf8'));
    expect(status.federation).toEqual([{ domain: 'contoso.com', federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' }]);
    expect(status.rollout_policy.groups).toEqual([expect.objectContaining({ displayName: 'MFA Staged Rollout', members: 35 })]);
    expect(out).toMatch(/"result":"reject"/);
    expect(readFileSync(join(work, 'report.html'), 'utf8')).toContain('<!doctype html>');
    expect(readFileSync(join(work, 'wave1.csv'), 'utf8')).toMatch(/^user,outcome,done,failed,skipped,first_error,run_id,plan_hash,final_hash,stale_reason\n/);
  }, 150_000);

  it('set-up puts mfa-migrate on PATH: the packed package installed into a prefix runs', () => {
    const npm = (args: string[]) => execFileSync('npm', args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } });
    const packed = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tmp.dir])) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/bin/cli/main.js');
    expect(files).toContain('fixtures/contoso/users.csv');
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
    const prefix = join(tmp.dir, 'prefix');
    npm(['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(tmp.dir, packed[0]!.filename)]);
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    const env = { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` };
    expect(execFileSync(join(prefix, 'bin', 'mfa-migrate'), ['--version'], { encoding: 'utf8', env }).trim()).toMatch(new RegExp(`^${version.replaceAll('.', '\\.')}(\\+[0-9a-f]{7,40}(\\.dirty)?)?$`));
    // The installed package holds what its commands need (the sample, the emulator's tenant).
    const demo = spawnSync(join(prefix, 'bin', 'mfa-migrate'), ['demo', '--report', join(tmp.dir, 'demo.html')], { encoding: 'utf8', env });
    expect(demo.status, demo.stderr).toBe(0);
    expect(readFileSync(join(tmp.dir, 'demo.html'), 'utf8')).toContain('<!doctype html>');
  }, 180_000);
});
