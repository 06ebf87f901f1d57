import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSecretFile, readSecretFile, UnsafeFileError, UnsafeModeError } from '../../src/io/secret-file.js';
import { UserError } from '../../src/model/user-error.js';
import { tempDir } from '../shim/helpers.js';

const tmp = tempDir('secret-file-');
afterAll(() => tmp.cleanup());
const SECRET = 'correct-horse-battery-staple';
let n = 0;
const secretFile = (mode: number): string => {
  const path = tmp.path(`secret-${n++}`);
  writeFileSync(path, `${SECRET}\n`);
  chmodSync(path, mode);
  return path;
};

/** Runs `read` and returns the notices it gave and the error it threw (if any). */
function outcome(read: (onNotice: (m: string) => void) => unknown): { notices: string[]; error?: Error } {
  const notices: string[] = [];
  try {
    read((m) => notices.push(m));
    return { notices };
  } catch (error) {
    return { notices, error: error as Error };
  }
}

describe('secret files (issue 17 item 17)', () => {
  it.each([
    ['readSecretFile', (path: string, o: Parameters<typeof readSecretFile>[2]) => readSecretFile(path, 'PSKC key file', o)],
    ['checkSecretFile', (path: string, o: Parameters<typeof checkSecretFile>[2]) => checkSecretFile(path, 'PSKC key file', o)],
  ])('%s: a file group or others can access is warned about, refused when strict, never echoed; 0600 is silent', (_name, read) => {
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o601]) {
      const path = secretFile(mode);
      const shown = mode.toString(8).padStart(4, '0');
      const warned = outcome((onNotice) => read(path, { onNotice }));
      expect(warned.error).toBeUndefined();
      expect(warned.notices).toEqual([`warning: PSKC key file ${path} has mode ${shown}: group or others can access it; chmod 600 it (--strict-permissions refuses such files)`]);
      for (const options of [{ strict: true }, { alwaysStrict: true }, { strict: false, alwaysStrict: true }]) {
        const refused = outcome((onNotice) => read(path, { ...options, onNotice }));
        expect(refused.error).toBeInstanceOf(UnsafeFileError);
        expect(refused.error).toBeInstanceOf(UserError);
        expect(refused.error!.message).toBe(`PSKC key file ${path} has mode ${shown}: group or others can access it; chmod 600 it`);
        expect(refused.notices).toEqual([]);
      }
      expect(JSON.stringify(warned)).not.toContain(SECRET);
    }
    for (const mode of [0o600, 0o400]) {
      const quiet = outcome((onNotice) => read(secretFile(mode), { strict: true, onNotice }));
      expect(quiet).toEqual({ notices: [] });
    }
  });

  it('reads the content of an accepted file, following a symbolic link (secrets are often mounted so) and checking its target', () => {
    const target = secretFile(0o600);
    const link = tmp.path('link');
    symlinkSync(target, link);
    expect(readSecretFile(link, 'key file', { strict: true }).toString()).toBe(`${SECRET}\n`);
    chmodSync(target, 0o644);
    expect(() => readSecretFile(link, 'key file', { strict: true })).toThrow(/key file .*link has mode 0644/);
  });

  it('names a missing file and a directory, with no stack-trace error', () => {
    for (const check of [readSecretFile, checkSecretFile]) {
      expect(() => check(tmp.path('missing'), 'client secret file')).toThrow(new UnsafeFileError(`cannot read client secret file ${tmp.path('missing')} (ENOENT)`));
      const dir = tmp.path(`dir-${n++}`);
      mkdirSync(dir, { mode: 0o700 });
      expect(() => check(dir, 'certificate')).toThrow(new UnsafeModeError(`certificate ${dir} is not a regular file`));
    }
  });

  it('reads a pipe, as process substitution hands one over (--pskc-password-file <(pass show x))', async () => {
    const fifo = tmp.path('fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    // The writer is another process: opening a FIFO for reading waits for it.
    const writer = spawn('sh', ['-c', `printf '%s' "${SECRET}" > "${fifo}"`]);
    const closed = new Promise((resolve) => writer.on('close', resolve));
    expect(readSecretFile(fifo, 'PSKC password file', { strict: true }).toString()).toBe(SECRET);
    await closed;
  });

  it('with regularOnly (a file a server reads again: the RADIUS clients file), refuses a pipe at once, naming it, with no writer to wait for (a review: the open froze the whole server)', () => {
    const fifo = tmp.path('fifo-no-writer');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect(() => readSecretFile(fifo, 'RADIUS clients file', { alwaysStrict: true, regularOnly: true })).toThrow(
      new UnsafeModeError(`RADIUS clients file ${fifo} is not a regular file (a pipe): give a regular file`),
    );
    expect(() => readSecretFile(tmp.path(''), 'RADIUS clients file', { regularOnly: true })).toThrow(/is not a regular file \(a directory\)/);
    expect(readSecretFile(secretFile(0o600), 'RADIUS clients file', { alwaysStrict: true, regularOnly: true }).toString()).toBe(`${SECRET}\n`);
  });
});
