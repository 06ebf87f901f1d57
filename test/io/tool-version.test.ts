import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script of the build (scripts/ is not typed)
import { buildMetadata } from '../../scripts/build-id.mjs';
import { packageRoot } from '../../src/io/package-root.js';
import { toolVersion } from '../../src/io/tool-version.js';
import { runCli } from '../helpers/run-cli.js';
import { testDir } from '../helpers/migration.js';

const metadata = buildMetadata as (root: string) => string | undefined;
const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' }).trim();
/** `repo` made a git checkout with its files committed once; that commit, as the build names it. */
function firstCommit(repo: string): string {
  git(repo, 'init', '-q');
  git(repo, 'add', 'package.json');
  git(repo, 'commit', '-q', '-m', 'first');
  return git(repo, 'rev-parse', '--short=7', 'HEAD');
}
const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Every build said `mfa-migrate 0.1.0` (an upgrade black-box round): a plan or run refused as a later
 * build's named nothing the admin could tell apart. A build says its commit as semver build metadata.
 */
describe("the build's identity", () => {
  it('is the package version and the commit it is built from, from the sources as from the bundle', async () => {
    const commit = git(packageRoot(), 'rev-parse', '--short=7', 'HEAD');
    expect(toolVersion()).toMatch(new RegExp(`^${version.replaceAll('.', '\\.')}\\+${commit}(\\.dirty)?$`));
    const cli = await runCli(['--version']);
    expect(cli.code).toBe(0);
    // The bundle may be of an earlier commit (it is rebuilt when a source changes, not at each commit).
    expect(cli.stdout.trim()).toMatch(new RegExp(`^${version.replaceAll('.', '\\.')}\\+[0-9a-f]{7}(\\.dirty)?$`));
  });

  it('names the commit of a git checkout, dirty when a tracked file differs from it; nothing for a folder that is not the root of one', () => {
    const { dir } = testDir('build-id');
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    writeFileSync(join(repo, 'package.json'), '{}\n');
    // Not a checkout (a source tarball unpacked): the version alone.
    expect(metadata(repo)).toBeUndefined();
    const commit = firstCommit(repo);
    expect(metadata(repo)).toBe(commit);
    // A file no commit holds is not the build's business; a tracked one changed is.
    writeFileSync(join(repo, 'notes.txt'), 'x');
    expect(metadata(repo)).toBe(commit);
    writeFileSync(join(repo, 'package.json'), '{ }\n');
    expect(metadata(repo)).toBe(`${commit}.dirty`);
    // A tarball unpacked inside another checkout: that checkout's commit is not its own.
    const inner = join(repo, 'unpacked');
    mkdirSync(inner);
    writeFileSync(join(inner, 'package.json'), '{}\n');
    expect(metadata(inner)).toBeUndefined();
  });

  // Git refuses a checkout another user owns ("dubious ownership"), as in CI containers and Docker builds.
  it.runIf(process.getuid?.() === 0)('names the commit of a checkout another user owns', () => {
    const { dir } = testDir('build-id-owner');
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    writeFileSync(join(repo, 'package.json'), '{}\n');
    const commit = firstCommit(repo);
    execFileSync('chown', ['-R', '12345:12345', repo]);
    expect(metadata(repo)).toBe(commit);
  });
});
