import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../src/io/package-root.js';
import { betaTypesFile, readBetaSchema } from './beta-types.js';
import type { SchemaModel } from './schema-model.js';

/**
 * The beta schema as readBetaSchema reads it, kept in this checkout's node_modules/.cache (as tsc,
 * ESLint and the tests' compile cache keep theirs): parsing the package's 4 MB of declarations with
 * the compiler costs about 0.8 s of CPU, and three test files load the contract; the kept JSON reads
 * in about 35 ms. The file is named by a hash of the declarations and of the reader's own source, so
 * another package version or a changed reader reads afresh. A cache that cannot be written is skipped.
 */
export function readBetaSchemaCached(dtsPath = betaTypesFile(), dir = join(packageRoot(), 'node_modules', '.cache', 'graph-contract')): SchemaModel {
  // The reader beside this module: beta-types.ts under vitest, beta-types.js compiled.
  const reader = fileURLToPath(new URL(`./beta-types${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
  const hash = createHash('sha256').update(readFileSync(dtsPath)).update(readFileSync(reader)).digest('hex');
  const file = join(dir, `beta-schema-${hash.slice(0, 32)}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SchemaModel;
  } catch {
    // not kept yet (or torn): read it
  }
  const schema = readBetaSchema(dtsPath);
  try {
    mkdirSync(dir, { recursive: true });
    // Written aside and renamed: test files in other workers may read it meanwhile.
    const aside = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(aside, JSON.stringify(schema));
    renameSync(aside, file);
  } catch {
    // a read-only checkout: read afresh next time
  }
  return schema;
}
