import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The suite with each test file's CPU recorded (test/helpers/cpu-probe.ts; docs/benchmarks.md, the
 * test suite, session 20): `npx vitest run -c vitest.cpu.config.ts --maxWorkers=2`, then sort
 * /tmp/vitest-cpu.jsonl by self + kids.
 */
export default mergeConfig(base, defineConfig({ test: { setupFiles: ['test/helpers/cpu-probe.ts'] } }));
