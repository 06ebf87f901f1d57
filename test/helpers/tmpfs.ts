import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

/**
 * Mounts a small tmpfs on DIR, to make a disk that is full or fills, or one that is read-only (`ro`
 * in `options`; the tests run as root). Returns why it could not, where mounting is not allowed, so
 * the caller skips saying so; undefined when mounted.
 */
export function mountTmpfs(dir: string, size: string, options = ''): string | undefined {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `${options ? `${options},` : ''}size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
  }
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    // not mounted: the mount failed, and the test was skipped
  }
}
