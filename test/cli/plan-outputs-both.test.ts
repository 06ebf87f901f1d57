import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import * as fsync from '../../src/io/fsync.js';
import { CONTOSO, runPlan } from '../plan/helpers.js';

/** Names whose synced write fails as a full disk fails it: part written, then ENOSPC. */
const full = new Set<string>();
/** Folders whose sync fails (EIO), once a file is renamed into them. */
const unsyncable = new Set<string>();
// Spied on, not mocked: the file shares a worker with others (vitest.config.ts), so the spies go at its end.
const orig = { writeFileSynced: fsync.writeFileSynced, syncDirectory: fsync.syncDirectory };
beforeAll(() => {
  vi.spyOn(fsync, 'writeFileSynced').mockImplementation(async (path, data, options) => {
    // A temporary file beside the target: `.NAME.PID.HEX.tmp`.
    const target = /^\.(.*)\.\d+\.[0-9a-f]{12}\.tmp$/.exec(basename(path))?.[1];
    if (target !== undefined && full.has(target)) {
      writeFileSync(path, 'part of it', { flag: 'wx', mode: 0o600 });
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' });
    }
    return orig.writeFileSynced(path, data, options);
  });
  vi.spyOn(fsync, 'syncDirectory').mockImplementation(async (dir: string) => {
    if (unsyncable.has(dir)) throw Object.assign(new Error(`EIO: i/o error, fsync`), { code: 'EIO' });
    return orig.syncDirectory(dir);
  });
});
afterAll(() => {
  vi.mocked(fsync.writeFileSynced).mockRestore();
  vi.mocked(fsync.syncDirectory).mockRestore();
});

/**
 * A black-box round: `plan --out F --report R` with room for F but not R exited 1 naming R, and left a
 * whole F (show read it, apply would apply it) without "Saved the plan". Now both or neither.
 */
describe('plan --out with --report: both or neither', () => {
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  let dir: string;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    dir = mkdtempSync(join(tmpdir(), 'plan-both-'));
  });
  afterAll(async () => {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const left = (prefix: string) => readdirSync(dir).filter((n) => n.startsWith(prefix) || n.startsWith(`.${prefix}`));

  it('no room for the report: no plan is saved either, an older one stays as it was, and no temporary file is left', async () => {
    const out = join(dir, 'a.plan');
    const report = join(dir, 'a.html');
    writeFileSync(out, 'the plan saved before\n', { mode: 0o600 });
    full.add(basename(report));
    try {
      const r = await runPlan(emu.url, [...CONTOSO, '--out', out, '--report', report]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`--report ${report}: cannot write it (ENOSPC): neither was written (--out ${out} and --report ${report} are saved both or neither); make room and run plan again`);
      expect(r.stderr).not.toContain('Saved the plan');
      expect(r.stderr).not.toContain('Mapping report written');
      expect(readFileSync(out, 'utf8')).toBe('the plan saved before\n');
      expect(existsSync(report)).toBe(false);
      expect(left('a.')).toEqual(['a.plan']);
    } finally {
      full.delete(basename(report));
    }
  });

  it('no room for the plan: neither is written', async () => {
    const out = join(dir, 'b.plan');
    const report = join(dir, 'b.md');
    full.add(basename(out));
    try {
      const r = await runPlan(emu.url, [...CONTOSO, '--out', out, '--report', report]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`--out ${out}: cannot write it (ENOSPC): neither was written (--out ${out} and --report ${report} are saved both or neither); make room and run plan again`);
      expect(left('b.')).toEqual([]);
    } finally {
      full.delete(basename(out));
    }
  });

  // A review: the plan's folder sync failing after its rename was said as "neither was written", the plan in place.
  it("the plan's folder cannot be synced once it is in place: the report goes in too, and the error says both are there", async () => {
    const plans = mkdtempSync(join(dir, 'plans-'));
    const out = join(plans, 'e.plan');
    const report = join(dir, 'e.html');
    unsyncable.add(plans);
    try {
      const r = await runPlan(emu.url, [...CONTOSO, '--out', out, '--report', report]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`--out ${out}: cannot sync its folder (EIO): the plan was saved to ${out} and its report to ${report}, but a crash now could lose them; check the disk, then make the plan again`);
      expect(r.stderr).not.toContain('neither was written');
      expect(readFileSync(out, 'utf8').startsWith('{')).toBe(true);
      expect(readFileSync(report, 'utf8')).toContain('<html');
      expect(readdirSync(plans)).toEqual(['e.plan']);
    } finally {
      unsyncable.delete(plans);
    }
  });

  it('room for both: both written, said, and the report carries the saved plan\'s hash', async () => {
    const out = join(dir, 'c.plan');
    const report = join(dir, 'c.md');
    const r = await runPlan(emu.url, [...CONTOSO, '--out', out, '--report', report]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Mapping report written to ${report}`);
    expect(r.stderr).toContain(`Saved the plan to ${out}`);
    const { createHash } = await import('node:crypto');
    expect(readFileSync(report, 'utf8')).toContain(createHash('sha256').update(readFileSync(out)).digest('hex'));
    expect(left('c.').sort()).toEqual(['c.md', 'c.plan']);
  });
});
