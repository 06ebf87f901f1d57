// Bundles the CLI from the TypeScript sources into dist/bin/cli: the entry, the seed worker, the job
// worker (apply, resume and rollback run there: src/cli/run-job.ts), and one
// chunk per lazily loaded command. Node loads one file much faster than the ~200 small ES modules of
// the phone-number and schema libraries (about 0.15 s off the start of every command).
// Sources import each other as './x.js' (NodeNext), which resolves to './x.ts' here. Paths found at
// run time (package.json, the sample fixtures) are found by walking up (src/io/package-root.ts).
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';
import { buildMetadata } from './build-id.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/bin/cli');
rmSync(out, { recursive: true, force: true });
await build({
  cwd: root,
  input: { main: join(root, 'src/cli/main.ts'), 'seed-worker': join(root, 'src/source/seed-worker.ts'), 'job-worker': join(root, 'src/cli/job-worker.ts') },
  platform: 'node',
  resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
  // Required at run time, only when a real tenant is reached (see src/graph/auth.ts).
  // pg's optional native binding (pg-native) is never used: pg falls back to its JavaScript client.
  external: ['@azure/identity', 'pg-native'],
  // The build's commit, said after the version (src/io/tool-version.ts): '' when not built from git.
  transform: { define: { __MFA_MIGRATE_BUILD__: JSON.stringify(buildMetadata(root) ?? '') } },
  logLevel: 'warn',
  output: { dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
});
