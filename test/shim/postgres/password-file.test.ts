import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { passwordFileOf, passwordFileProblem } from '../../../src/shim/postgres/password-file.js';
import { tempDir } from '../helpers.js';

/** Why the password file is not read, said before pgpass ignores it with its own WARNING line (a black-box test). */
describe('passwordFileProblem', () => {
  const tmp = tempDir('pgpass-');
  afterAll(() => tmp.cleanup());

  it('names a password file group or others can access, with its mode, as ignored', () => {
    const file = tmp.path('group.pgpass');
    writeFileSync(file, '*:*:*:shim:secret-password\n');
    chmodSync(file, 0o640);
    const problem = passwordFileProblem({ PGPASSFILE: file });
    expect(problem).toBe(`PGPASSFILE ${file} has mode 0640: group or others can access it, so it was ignored (as psql ignores it); chmod 600 it`);
    // ~/.pgpass, by HOME, as pgpass reads it; never its content.
    const home = tmp.path('home');
    mkdirSync(home);
    writeFileSync(`${home}/.pgpass`, '*:*:*:shim:secret-password\n', { mode: 0o604 });
    chmodSync(`${home}/.pgpass`, 0o604);
    expect(passwordFileOf({ HOME: home })).toBe(`${home}/.pgpass`);
    expect(passwordFileProblem({ HOME: home })).toMatch(/^the password file .*\/home\/\.pgpass has mode 0604: .* so it was ignored/);
    expect(passwordFileProblem({ HOME: home })).not.toContain('secret-password');
  });

  it('a private file, or no ~/.pgpass, is no problem; a PGPASSFILE that is missing or not a file is named', () => {
    const file = tmp.path('private.pgpass');
    writeFileSync(file, '', { mode: 0o600 });
    expect(passwordFileProblem({ PGPASSFILE: file })).toBeUndefined();
    expect(passwordFileProblem({ HOME: tmp.path('nobody') })).toBeUndefined();
    expect(passwordFileProblem({ PGPASSFILE: tmp.path('missing') })).toBe(`PGPASSFILE ${tmp.path('missing')} cannot be read (ENOENT)`);
    expect(passwordFileProblem({ PGPASSFILE: tmp.dir })).toBe(`PGPASSFILE ${tmp.dir} is not a regular file, so it was ignored (as psql ignores it)`);
  });
});
