import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/io/atomic-file.js';

describe('writeFileAtomic', () => {
  it("removes what a killed writer of the same file left beside it, never a running writer's (a security review: a plan copy stayed hidden after kill -9)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    try {
      // A pid no process has now: a child's that has exited.
      const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
      const left = `.k.plan.${gone}.0123456789ab.tmp`;
      const running = `.k.plan.${process.pid}.ba9876543210.tmp`;
      const other = `.other.plan.${gone}.0123456789ab.tmp`;
      for (const f of [left, running, other]) writeFileSync(join(dir, f), 'secret plan', { mode: 0o600 });
      await writeFileAtomic(join(dir, 'k.plan'), 'new');
      expect(readFileSync(join(dir, 'k.plan'), 'utf8')).toBe('new');
      expect(readdirSync(dir).sort()).toEqual([other, running, 'k.plan'].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes text made a chunk at a time, and keeps the old file whole when making it fails part way', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    try {
      const path = join(dir, 'report.html');
      await writeFileAtomic(path, (function* () {
        yield 'one → ';
        yield 'two';
      })());
      expect(readFileSync(path, 'utf8')).toBe('one → two');
      function* failing(): Generator<string> {
        yield 'x'.repeat(1 << 20);
        throw new Error('render failed');
      }
      await expect(writeFileAtomic(path, failing())).rejects.toThrow('render failed');
      expect(readFileSync(path, 'utf8')).toBe('one → two');
      expect(readdirSync(dir)).toEqual(['report.html']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
