#!/usr/bin/env node
// The CLI's entry (bundled as dist/bin/cli/main.js, what `mfa-migrate` runs). The compile cache is
// enabled before the CLI is imported: a module imported statically is compiled before any code of
// the importer runs, so the CLI's own modules come after, by a dynamic import, to be cached too.
import { enableCompileCache } from '../io/compile-cache.js';

enableCompileCache();
const { runCommandLine } = await import('./main.js');
runCommandLine();
