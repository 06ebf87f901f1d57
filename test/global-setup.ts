import { ensureFreshBundle } from './helpers/fresh-bundle.js';

/** Once per test run: the few tests that spawn the CLI run the bundle, rebuilt here if a source changed. */
export default function setup(): void {
  ensureFreshBundle();
}
