import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/io/package-root.js';

import { CLI } from '../helpers/fresh-bundle.js';

// The CLI is exercised as users run it (the bundle, rebuilt by the test setup when stale).

function run(args: string[]): { child: ReturnType<typeof spawn>; firstLine: Promise<string>; exit: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const firstLine = new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, firstLine, exit };
}

describe('mfa-migrate emulator', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
  });

  it('prints the URL first, serves Graph, and stops cleanly on SIGTERM', async () => {
    const { child, firstLine, exit } = run(['emulator', '--port', '0', '--throttle', 'off', '--token', 'cli-token']);
    const line = await firstLine;
    const m = /^Graph emulator listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
    expect(m).not.toBeNull();
    const r = await fetch(`${m![1]}/v1.0/users/alice@contoso.com`, { headers: { Authorization: 'Bearer cli-token' } });
    expect(r.status).toBe(200);
    expect((await fetch(`${m![1]}/v1.0/users`, { headers: { Authorization: 'Bearer other' } })).status).toBe(401);
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);
  });

  it('--masked-phones serves phone numbers as an Authentication Administrator sees them, and says so', async () => {
    const { child, firstLine, exit } = run(['emulator', '--port', '0', '--throttle', 'off', '--masked-phones']);
    const url = /(http:\/\/\S+)$/.exec(await firstLine)![1];
    const r = await fetch(`${url}/v1.0/users/alice@contoso.com/authentication/phoneMethods`, { headers: { Authorization: 'Bearer x' } });
    expect(((await r.json()) as { value: { phoneNumber: string }[] }).value.map((p) => p.phoneNumber)).toEqual(['+1 XXXXXXXX01']);
    child.kill('SIGTERM');
    const done = await exit;
    expect(done.code).toBe(0);
    expect(done.stderr).toContain("phone numbers shown masked (an Authentication Administrator's view)");
  });

  it('fails with the JSON path of a bad tenant file, and on bad options', async () => {
    const bad = run(['emulator', '--port', '0', '--tenant', join(packageRoot(), 'package.json')]);
    const result = await bad.exit;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('package.json');
    expect(result.stderr).toMatch(/\$\.tenant: /);
    const option = await run(['emulator', '--fault-rate', '2']).exit;
    expect(option.code).not.toBe(0);
    expect(option.stderr).toContain('--fault-rate');
  });

  it('has help with examples', async () => {
    const { exit, child } = run(['emulator', '--help']);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    expect((await exit).code).toBe(0);
    expect(out).toContain('Examples:');
    expect(out).toContain('--time-scale');
  });
});
