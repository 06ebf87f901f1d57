import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutputFile } from '../../src/cli/output-file.js';

describe('checkOutputFile', () => {
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
});
