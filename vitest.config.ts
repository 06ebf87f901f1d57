import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { buildMetadata } from './scripts/build-id.mjs';

/**
 * Test files reuse workers (`isolate: false`): a fresh worker per file cost about 0.75 s of CPU (a
 * process, and the CLI's modules imported again), half the suite's CPU on the 2-core machine. Tests
 * restore what they change of the process (runMain restores the environment, streams and exit code;
 * commands remove their signal handlers; a file that fakes Date restores it in afterAll; a file
 * that changes a module's export spies on it with vi.spyOn and restores it in afterAll, rather than
 * vi.mock, which would need a fresh worker). The file below mocks node:fs (the journal's zero-filling
 * writes held or failed), which a spy cannot reach, and keeps a worker of its own.
 */
const ISOLATED = ['test/shim/journal-writer.test.ts'];

export default defineConfig({
  // The sources say the build they are as the bundle does (src/io/tool-version.ts): this checkout's commit.
  define: { __MFA_MIGRATE_BUILD__: JSON.stringify(buildMetadata(import.meta.dirname) ?? '') },
  test: {
    exclude: ['dist/**', 'node_modules/**'],
    // Tests run the TypeScript sources; the bundled CLI, which a few tests spawn, is rebuilt first if stale.
    globalSetup: ['test/global-setup.ts'],
    // The processes the tests spawn (the CLI, about 200 of them) keep Node's compile cache in this
    // checkout's node_modules/.cache, as tsc and ESLint do: about 20 ms of CPU off each start. The CLI
    // itself keeps none (docs/cli.md): a cache folder another user can reach is code they can plant.
    env: { NODE_COMPILE_CACHE: join(import.meta.dirname, 'node_modules', '.cache', 'node-compile-cache') },
    testTimeout: 30_000,
    // Most of the suite waits (on time-scaled throttling, emulated latency, child processes), so more
    // test files than cores run at once: on the 2-core machine 4 workers finish well before 2, and 6
    // before 4 (the files that wait out propagation, consistency and lock-out windows for 10-17 s hold
    // a worker each while they wait; 8 workers cost more CPU than their waits give back).
    maxWorkers: 6,
    // The JSON results let CI print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: 'dist/test-results.json' },
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: ['dist/**', 'node_modules/**', ...ISOLATED], isolate: false } },
      { extends: true, test: { name: 'isolated', include: ISOLATED } },
    ],
  },
});
