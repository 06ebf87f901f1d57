import { execFile } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleSeedArgs } from '../../src/cli/demo-command.js';
import { compileCacheBase } from '../../src/io/compile-cache.js';
import { CONTOSO, tempDir } from '../helpers/migration.js';
import { CLI, ROOT } from '../helpers/run-cli.js';

const execute = promisify(execFile);
const tmp = tempDir('compile-cache');
afterAll(() => tmp.cleanup());

/** The bundled CLI (the cache is the entry's) with this environment: the test's own, less any compile cache setting of its. */
async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: join(tmp.dir, 'state') };
  delete base.NODE_COMPILE_CACHE;
  delete base.NODE_DISABLE_COMPILE_CACHE;
  return execute(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...base, ...env } });
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const VERSION = /^\d+\.\d+\.\d+\S*\n$/;

describe('the compile cache of the CLI (Node 22.8+)', () => {
  it("is kept in the user's own cache folder, private; the seed worker's code too; none of what the command read", async () => {
    const home = join(tmp.dir, 'xdg');
    const tokens = join(CONTOSO, 'tokens');
    const { stderr } = await cli(
      ['validate', '--source', CONTOSO, ...sampleSeedArgs(CONTOSO), '--format', 'json'],
      { XDG_CACHE_HOME: home, MFA_MIGRATE_SEED_WORKER: 'always', NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
    );
    const dir = join(home, 'mfa-migrate', 'compile-cache');
    expect(compileCacheBase({ XDG_CACHE_HOME: home })).toBe(dir);
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
    const files = filesUnder(dir);
    expect(files.length).toBeGreaterThan(5);
    // The worker thread is given the folder: its entry is cached there as well.
    expect(stderr).toMatch(new RegExp(`compile cache\\].*${dir.replaceAll('/', '\\/')}.*seed-worker\\.js`));
    // Compiled code of the bundle only: no password, key or seed the command read.
    const secrets = [
      readFileSync(join(tokens, 'pskc-password.txt'), 'utf8').trim(),
      readFileSync(join(tokens, 'psk.hex'), 'utf8').trim(),
      ...[join(tokens, 'generic-seeds.csv'), join(tokens, 'entra-upload.csv')].flatMap((f) =>
        readFileSync(f, 'utf8').split('\n').slice(1).flatMap((line) => line.split(',').filter((v) => /^[A-Za-z0-9]{16,}$/.test(v) && !/^\d+$/.test(v))),
      ),
    ];
    expect(secrets.length).toBeGreaterThan(5);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const secret of secrets) {
        expect(bytes.includes(secret, 0, 'latin1') || bytes.includes(secret, 0, 'utf16le'), `${secret} in ${file}`).toBe(false);
      }
    }
  });

  it('NODE_COMPILE_CACHE names another folder; NODE_DISABLE_COMPILE_CACHE, set, turns it off', async () => {
    const other = join(tmp.dir, 'other');
    expect((await cli(['--version'], { XDG_CACHE_HOME: join(tmp.dir, 'xdg-env'), NODE_COMPILE_CACHE: other })).stdout).toMatch(VERSION);
    expect(filesUnder(other).length).toBeGreaterThan(0);
    expect(existsSync(join(tmp.dir, 'xdg-env', 'mfa-migrate'))).toBe(false);
    expect((await cli(['--version'], { XDG_CACHE_HOME: join(tmp.dir, 'xdg-off'), NODE_DISABLE_COMPILE_CACHE: '' })).stdout).toMatch(VERSION);
    expect(existsSync(join(tmp.dir, 'xdg-off'))).toBe(false);
  });

  it('a folder others can write, a symbolic link, or one that cannot be made is not used, and the command runs as ever', async () => {
    // Whoever can write it could plant compiled code for the CLI to run.
    const open = join(tmp.dir, 'xdg-open', 'mfa-migrate', 'compile-cache');
    mkdirSync(open, { recursive: true });
    chmodSync(open, 0o777);
    const linked = join(tmp.dir, 'xdg-link', 'mfa-migrate');
    mkdirSync(linked, { recursive: true });
    mkdirSync(join(tmp.dir, 'elsewhere'));
    symlinkSync(join(tmp.dir, 'elsewhere'), join(linked, 'compile-cache'));
    writeFileSync(join(tmp.dir, 'a-file'), '');
    for (const home of [join(tmp.dir, 'xdg-open'), join(tmp.dir, 'xdg-link'), join(tmp.dir, 'a-file')]) {
      const r = await cli(['--version'], { XDG_CACHE_HOME: home });
      expect(r.stdout, home).toMatch(VERSION);
      expect(r.stderr, home).toBe('');
    }
    expect(filesUnder(open)).toEqual([]);
    expect(filesUnder(join(tmp.dir, 'elsewhere'))).toEqual([]);
  });
});
