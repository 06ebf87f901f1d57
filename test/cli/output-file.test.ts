import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { checkOutputFile, inputFiles, writeOutputFile } from '../../src/cli/output-file.js';
import { writeFileAtomic } from '../../src/io/atomic-file.js';
import { mountTmpfs, unmount } from '../helpers/tmpfs.js';

describe('checkOutputFile', () => {
  it('refuses a folder on a disk that is full, where a file can still be made but not written (a black-box test: an apply was sent, its --results lost at the end)', async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'outfile-full-'));
    const cannot = mountTmpfs(dir, '4k');
    if (cannot) ctx.skip(`cannot mount a tmpfs (${cannot})`);
    try {
      // Every block used; inodes are left, so an empty file is still made.
      writeFileSync(join(dir, 'filler'), Buffer.alloc(4096));
      await expect(checkOutputFile('--results', join(dir, 'r.csv'))).rejects.toThrow(`--results ${join(dir, 'r.csv')}: cannot write in ${dir} (ENOSPC)`);
      expect(readdirSync(dir)).toEqual(['filler']);
    } finally {
      unmount(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('refuses an empty name, a folder, a name ending in /, and a folder it cannot create a file in; leaves nothing behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outfile-'));
    try {
      await expect(checkOutputFile('--out', '')).rejects.toThrow('--out: the file name is empty');
      await expect(checkOutputFile('--out', dir)).rejects.toThrow(`--out ${dir}: is a folder; name a file`);
      await expect(checkOutputFile('--report', `${dir}/plans/`)).rejects.toThrow(`--report ${dir}/plans/: ends with / (a folder); name a file`);
      await expect(checkOutputFile('--results', join(dir, 'missing', 'r.csv'))).rejects.toThrow(/--results .*r\.csv: cannot write in .*missing \(ENOENT\)/);
      await checkOutputFile('--out', join(dir, 'ok.plan'));
      await checkOutputFile('--out', undefined);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('refuses a device, a pipe or a symbolic link, which the write would replace with a file, and the file the command reads (a security review: --out /dev/null as root made /dev/null a plan)', async () => {
    await expect(checkOutputFile('--out', '/dev/null')).rejects.toThrow('--out /dev/null: is a device; an output file is replaced whole, not written through: name a regular file (or a new one)');
    await expect(checkOutputFile('--out', '/dev/stdout')).rejects.toThrow('--out /dev/stdout: is a symbolic link;');
    const dir = mkdtempSync(join(tmpdir(), 'outfile-'));
    try {
      execFileSync('mkfifo', [join(dir, 'pipe')]);
      await expect(checkOutputFile('--report', join(dir, 'pipe'))).rejects.toThrow(/: is a pipe;/);
      writeFileSync(join(dir, 'wave.plan'), 'plan');
      await expect(checkOutputFile('--results', join(dir, '.', 'wave.plan'), [join(dir, 'wave.plan')])).rejects.toThrow(/: is the same file as .*wave\.plan, which this command reads or writes; name another file/);
      // Checked again when written, and by the atomic writer itself (what is there may change meanwhile).
      symlinkSync(join(dir, 'wave.plan'), join(dir, 'link'));
      await expect(writeOutputFile('--results', join(dir, 'link'), 'x')).rejects.toThrow(/is a symbolic link/);
      await expect(writeFileAtomic(join(dir, 'pipe'), 'x')).rejects.toMatchObject({ code: 'ENOTREG' });
      expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
      expect(lstatSync(join(dir, 'pipe')).isFIFO()).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('refuses a file in the state folder named or in the state base, through .. and symbolic links, made yet or not; a file beside it is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outfile-state-'));
    vi.stubEnv('XDG_STATE_HOME', join(dir, 'xdg'));
    try {
      const state = join(dir, 'state');
      mkdirSync(join(state, 'runs', 'R'), { recursive: true });
      writeFileSync(join(state, 'runs', 'R', 'journal.jsonl'), '{}\n');
      symlinkSync(state, join(dir, 'link'));
      const said = (path: string, folder: string) => `--results ${path}: is in the state folder ${folder}, which holds the lock and the runs' journals and plan copies (a file written there can destroy a run's record); choose a path outside it`;
      for (const path of [join(state, 'runs', 'R', 'journal.jsonl'), join(state, 'lock'), join(dir, 'link', 'runs', 'R', 'journal.jsonl'), `${state}/runs/../runs/R/new.csv`]) {
        await expect(checkOutputFile('--results', path, [], state)).rejects.toThrow(said(path, state));
      }
      // `lnk/..` is the folder above where lnk points, as the system takes it, not `.` as text: with
      // an empty folder R beside lnk the path read as text named a file outside (a review replaced a journal so).
      mkdirSync(join(dir, 'w', 'R'), { recursive: true });
      symlinkSync(join(state, 'runs', 'R'), join(dir, 'w', 'lnk'));
      for (const path of [`${dir}/w/lnk/../R/journal.jsonl`, `${dir}/w/lnk/../R/new.csv`]) {
        await expect(checkOutputFile('--results', path, [], state)).rejects.toThrow(said(path, state));
      }
      // Named by the state folder's other name: the same folder.
      await expect(checkOutputFile('--results', join(state, 'r.csv'), [], join(dir, 'link'))).rejects.toThrow(said(join(state, 'r.csv'), join(dir, 'link')));
      // The state base (every tenant's folder) whatever --state-dir is, not there yet or there.
      const base = join(dir, 'xdg', 'mfa-migrate');
      await expect(checkOutputFile('--out', join(base, 'tenant', 'runs', 'R', 'plan.jsonl'), [], state)).rejects.toThrow(`--out ${join(base, 'tenant', 'runs', 'R', 'plan.jsonl')}: is in the state folder ${base}`);
      mkdirSync(base, { recursive: true });
      await expect(checkOutputFile('--report', join(base, 'r.html'))).rejects.toThrow(`--report ${join(base, 'r.html')}: is in the state folder ${base}`);
      await checkOutputFile('--results', join(dir, 'state.csv'), [], state);
      await checkOutputFile('--results', join(dir, 'xdg', 'r.csv'), [], state);
    } finally {
      vi.unstubAllEnvs();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("refuses a file the command reads by its device and inode, whatever path names it, and the export's and seed files (a review: --results over a seed file, --out over users.csv)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outfile-'));
    try {
      writeFileSync(join(dir, 'users.csv'), 'username\n');
      writeFileSync(join(dir, 'seeds.csv'), 'serial,secret\n');
      writeFileSync(join(dir, 'w.plan'), 'plan');
      symlinkSync(dir, join(dir, 'link'));
      const reads = [join(dir, 'w.plan'), ...inputFiles({ dir, tokens: [join(dir, 'seeds.csv')] })];
      await expect(checkOutputFile('--results', join(dir, 'link', 'w.plan'), reads)).rejects.toThrow(/is the same file as .*w\.plan/);
      await expect(checkOutputFile('--results', join(dir, 'seeds.csv'), reads)).rejects.toThrow(/is the same file as .*seeds\.csv/);
      await expect(checkOutputFile('--out', join(dir, 'link', 'users.csv'), reads)).rejects.toThrow(/is the same file as .*users\.csv/);
      // Not there yet, under a linked folder: the same place all the same.
      await expect(checkOutputFile('--out', join(dir, 'link', 'devices.csv'), reads)).rejects.toThrow(/is the same file as .*devices\.csv/);
      // A plan kept in the export folder may be written again.
      writeFileSync(join(dir, 'wave1.plan'), 'old plan');
      await checkOutputFile('--out', join(dir, 'wave1.plan'), inputFiles({ dir }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
