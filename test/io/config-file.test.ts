import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { readGuardedConfigText } from '../../src/io/config-file.js';
import { UnsafeFileError, UnsafeModeError } from '../../src/io/secret-file.js';
import { tempDir } from '../shim/helpers.js';

const tmp = tempDir('config-file-');
afterAll(() => tmp.cleanup());
let n = 0;
const configFile = (mode: number, text: string | Buffer = 'user:ivan@contoso.com Class=staff\n'): string => {
  const path = tmp.path(`config-${n++}`);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
};

describe('configuration that grants something (the RADIUS attributes file)', () => {
  it('reads one anyone may read but only its owner write, through a symbolic link too, its UTF-8 byte-order mark dropped', () => {
    expect(readGuardedConfigText(configFile(0o644), 'attributes')).toBe('user:ivan@contoso.com Class=staff\n');
    expect(readGuardedConfigText(configFile(0o400), 'attributes')).toBe('user:ivan@contoso.com Class=staff\n');
    const link = tmp.path('link');
    symlinkSync(configFile(0o644), link);
    expect(readGuardedConfigText(link, 'attributes')).toBe('user:ivan@contoso.com Class=staff\n');
    expect(readGuardedConfigText(configFile(0o600, Buffer.from('\uFEFFgroup:x Class=y\n')), 'attributes')).toBe('group:x Class=y\n');
  });

  it('refuses one group or others can write, naming the file, its mode and the chmod', () => {
    for (const mode of [0o664, 0o646, 0o666, 0o620]) {
      const path = configFile(mode);
      const attempt = () => readGuardedConfigText(path, 'RADIUS attributes file');
      expect(attempt).toThrow(UnsafeModeError);
      expect(attempt).toThrow(`RADIUS attributes file ${path} has mode 0${mode.toString(8)}: group or others can write it; chmod go-w ${path}`);
    }
  });

  it('refuses a pipe at once, naming it, with no writer to wait for (a review: a FIFO at the path froze the whole server on a reload)', () => {
    const fifo = tmp.path('fifo');
    execFileSync('mkfifo', ['-m', '644', fifo]);
    expect(() => readGuardedConfigText(fifo, 'RADIUS attributes file')).toThrow(new UnsafeModeError(`RADIUS attributes file ${fifo} is not a regular file (a pipe): give a regular file`));
  });

  it('refuses a directory, and one that cannot be read, by name', () => {
    const dir = tmp.path('dir');
    mkdirSync(dir);
    expect(() => readGuardedConfigText(dir, 'attributes')).toThrow(`attributes ${dir} is not a regular file`);
    expect(() => readGuardedConfigText(tmp.path('missing'), 'attributes')).toThrow(UnsafeFileError);
    expect(() => readGuardedConfigText(tmp.path('missing'), 'attributes')).toThrow(/cannot read attributes .*missing \(ENOENT\)/);
  });
});
