// The build's identity beside the package version: the commit it was built from, as semver build
// metadata (`0.1.0+2bdeef8`), `.dirty` added when tracked files differ from that commit. Every build
// of a version said `mfa-migrate 0.1.0`, so a plan or run refused as a later one's named nothing an
// admin could act on. Used by the bundler (scripts/bundle.mjs) and by the tests run from the sources
// (vitest.config.ts). Undefined when the folder is not the root of a git work tree (a source
// tarball, perhaps unpacked inside another repository) or git is not there: the version alone then.
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';

// safe.directory: git refuses a checkout another user owns ("dubious ownership"), as in CI containers
// and Docker builds; this only reads the commit, so the build trusts its own folder for that.
function git(root, args) {
  return execFileSync('git', ['-c', `safe.directory=${root}`, '-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

/** `2bdeef8` or `2bdeef8.dirty` for a build from `root`'s git checkout; undefined for any other. */
export function buildMetadata(root) {
  try {
    // Another repository's commit is not this package's (an unpacked tarball inside a checkout).
    if (realpathSync(git(root, ['rev-parse', '--show-toplevel'])) !== realpathSync(root)) return undefined;
    const commit = git(root, ['rev-parse', '--short=7', 'HEAD']);
    if (!/^[0-9a-f]{7,40}$/.test(commit)) return undefined;
    const dirty = git(root, ['status', '--porcelain', '--untracked-files=no']) !== '';
    return dirty ? `${commit}.dirty` : commit;
  } catch {
    return undefined;
  }
}
