import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests run the TypeScript sources; the bundled CLI, which a few tests spawn, is rebuilt first if stale.
    globalSetup: ['test/global-setup.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 30_000,
    // Most of the suite waits (on time-scaled throttling, emulated latency, child processes), so more
    // test files than cores run at once: on the 2-core machine 4 workers finish well before 2.
    maxWorkers: 4,
    // The JSON results let CI print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: 'dist/test-results.json' },
    hookTimeout: 30_000,
  },
});
