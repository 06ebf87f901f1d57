// Bundles the compiled CLI (dist/src) into dist/bin/cli: the entry, the seed worker, and one chunk
// per lazily loaded command. Node loads one file much faster than the ~200 small ES modules of the
// phone-number and schema libraries (about 0.15 s off the start of every command).
// dist/bin/cli sits as deep as dist/src/cli, so paths found from import.meta.url (package.json, the
// demo's fixtures) stay right; the seed worker is an entry of its own next to the chunk that starts it.
import { rmSync } from 'node:fs';
import { build } from 'rolldown';

const out = 'dist/bin/cli';
rmSync(out, { recursive: true, force: true });
await build({
  input: { main: 'dist/src/cli/main.js', 'seed-worker': 'dist/src/source/seed-worker.js' },
  platform: 'node',
  // Required at run time, only when a real tenant is reached (see src/graph/auth.ts).
  external: ['@azure/identity'],
  logLevel: 'warn',
  output: { dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
});
