import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerDemo } from '../../src/cli/demo-command.js';
import { tempDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

describe('demo', () => {
  it('hands --no-color on to the plan it runs', async () => {
    const tmp = tempDir('demo');
    try {
      for (const [extra, colourless] of [[['--no-color'], true], [[], false]] as const) {
        const runs: string[][] = [];
        const program = new Command().exitOverride();
        registerDemo(program, async (argv) => void runs.push(argv));
        program.commands[0]!.option('--no-color', 'as main.ts adds to every command');
        await program.parseAsync(['demo', '--report', join(tmp.dir, 'r.html'), ...extra], { from: 'user' });
        expect(runs).toHaveLength(1);
        expect(runs[0]!.includes('--no-color')).toBe(colourless);
        expect(runs[0]![0]).toBe('plan');
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('refuses a report name plan would refuse before it starts anything (a black-box test saw the emulator start first)', async () => {
    const runs: string[][] = [];
    const program = new Command().exitOverride();
    registerDemo(program, async (argv) => void runs.push(argv));
    const said: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (said.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      await expect(program.parseAsync(['demo', '--report', join(tmpdir(), 'x.txt')], { from: 'user' })).rejects.toThrow(/--report/);
    } finally {
      process.stderr.write = write;
    }
    expect(runs).toEqual([]);
    expect(said.join('')).not.toMatch(/emulator/i);
  });

  it('--help says the report is HTML or Markdown, as its name says (it said HTML, and demo --report d.md wrote Markdown)', async () => {
    const r = await runMain(['demo', '--help']);
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--report <file> where to write the mapping report: HTML for a .html name, Markdown for .md');
    expect(help).toContain('mfa-migrate demo --report ./demo-report.md');
  });

  it('without --report, writes it in a new private folder of its own, not at a fixed name in the shared temp folder (a new admin noticed)', async () => {
    const reports: string[] = [];
    for (let i = 0; i < 2; i++) {
      const program = new Command().exitOverride();
      registerDemo(program, async (argv) => void reports.push(argv[argv.indexOf('--report') + 1]!));
      await program.parseAsync(['demo'], { from: 'user' });
    }
    expect(reports[0]).not.toBe(reports[1]);
    for (const r of reports) {
      expect(r.startsWith(tmpdir())).toBe(true);
      expect(statSync(dirname(r)).mode & 0o777).toBe(0o700);
      rmSync(dirname(r), { recursive: true, force: true });
    }
  });
});
