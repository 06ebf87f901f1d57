import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { distinctSeedFiles } from '../../../src/source/seeds/distinct-seed-files.js';

const dir = mkdtempSync(join(tmpdir(), 'distinct-seed-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('distinctSeedFiles', () => {
  it('keeps each file once, by the first name given, in order: the same path, another path to it, a symbolic link', () => {
    const a = join(dir, 'a.pskc');
    const b = join(dir, 'b.csv');
    writeFileSync(a, 'x');
    writeFileSync(b, 'x');
    symlinkSync(a, join(dir, 'link.pskc'));
    const viaDot = join(dir, '.', 'a.pskc');
    const paths = [a, b, relative(process.cwd(), a), join(dir, 'link.pskc'), viaDot, b];
    expect(distinctSeedFiles(paths)).toEqual({
      files: [a, b],
      repeated: [
        { first: a, names: [a, relative(process.cwd(), a), join(dir, 'link.pskc'), viaDot] },
        { first: b, names: [b, b] },
      ],
    });
  });

  it('a file with the same content is another file; a missing one named twice is one (its reader says it is missing)', () => {
    const a = join(dir, 'a2.pskc');
    const c = join(dir, 'c.pskc');
    writeFileSync(a, 'x');
    writeFileSync(c, 'x');
    const missing = join(dir, 'missing.pskc');
    expect(distinctSeedFiles([a, c, missing, missing])).toEqual({ files: [a, c, missing], repeated: [{ first: missing, names: [missing, missing] }] });
    expect(distinctSeedFiles([])).toEqual({ files: [], repeated: [] });
  });
});
