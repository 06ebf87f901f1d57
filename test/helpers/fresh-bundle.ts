import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/io/package-root.js';

/** The CLI as shipped: bundled from the sources by scripts/bundle.mjs. */
export const CLI = join(packageRoot(), 'dist', 'bin', 'cli', 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Rebuilds the bundle when any source (or package.json, or the bundler script) is newer than it, so
 * that a plain `vitest` after an edit never tests a stale CLI. About half a second when it builds.
 */
export function ensureFreshBundle(): void {
  const root = packageRoot();
  const built = existsSync(CLI) ? statSync(CLI).mtimeMs : 0;
  const inputs = Math.max(newestSource(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs, statSync(join(root, 'scripts', 'bundle.mjs')).mtimeMs, statSync(join(root, 'scripts', 'build-id.mjs')).mtimeMs);
  if (built >= inputs) return;
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle.mjs')], { cwd: root, stdio: 'inherit' });
}
