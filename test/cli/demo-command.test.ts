import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerDemo } from '../../src/cli/demo-command.js';
import { tempDir } from '../helpers/migration.js';

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
});
