import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';

/** A seed file named more than once: the first name it was given by, and every name it was given by. */
export interface RepeatedSeedFile {
  first: string;
  names: string[];
}

/**
 * The seed files (--tokens) each once, in the order first given: the same file named twice, by one
 * path or by two that lead to it (`./seeds.pskc` and `seeds.pskc`, a symbolic link), is read once.
 * Read twice, each of its seeds was a seed-duplicate warning pointing at itself (a black-box test).
 */
export function distinctSeedFiles(paths: readonly string[]): { files: string[]; repeated: RepeatedSeedFile[] } {
  const byFile = new Map<string, string[]>();
  for (const path of paths) {
    const key = fileKey(path);
    const names = byFile.get(key);
    if (names) names.push(path);
    else byFile.set(key, [path]);
  }
  const groups = [...byFile.values()];
  return { files: groups.map((names) => names[0]!), repeated: groups.filter((names) => names.length > 1).map((names) => ({ first: names[0]!, names })) };
}

/** The file a path leads to: its real path, or (missing, unreadable) its absolute path, left for the reader to report. */
function fileKey(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
