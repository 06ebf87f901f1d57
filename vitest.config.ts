import { defineConfig } from 'vitest/config';

/**
 * Test folders whose tests share no process-wide state (no environment, no signals, no child
 * processes, no file locks): their files reuse workers (`isolate: false`), which saves a worker's
 * start (about 170 ms) per file on the 2-core machine. Everything else runs isolated.
 */
const SHARED_WORKERS = ['mapping', 'model', 'source', 'plan', 'report', 'otp', 'emulator', 'graph'].map((d) => `test/${d}/**/*.test.ts`);

export default defineConfig({
  test: {
    exclude: ['dist/**', 'node_modules/**'],
    // Tests run the TypeScript sources; the bundled CLI, which a few tests spawn, is rebuilt first if stale.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    // Most of the suite waits (on time-scaled throttling, emulated latency, child processes), so more
    // test files than cores run at once: on the 2-core machine 4 workers finish well before 2.
    maxWorkers: 4,
    // The JSON results let CI print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: 'dist/test-results.json' },
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'shared', include: SHARED_WORKERS, isolate: false } },
      { extends: true, test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: ['dist/**', 'node_modules/**', ...SHARED_WORKERS] } },
    ],
  },
});
