/**
 * A writer of a large file run as its own process by test/io/atomic-file-signal.test.ts (bundled there
 * with rolldown): writeFileAtomic of text made a chunk at a time, slowly, with "writing" printed once
 * the first chunk is handed on, then killed by the test mid-write.
 *
 *   <path> plain      nothing else listens to signals (plan --report)
 *   <path> handles    a listener, as apply's: the first signal ends the text, so the write completes
 *   <path> exits      a listener that exits at once with status 130, as apply's second Ctrl-C does
 *   <path> once       a listener that removes itself as it runs (shim serve's stop): the write completes
 */
import { writeFileAtomic } from '../../src/io/atomic-file.js';

const [path, mode] = process.argv.slice(2) as [string, 'plain' | 'handles' | 'exits' | 'once'];
let stop = false;
if (mode === 'handles') process.on('SIGINT', () => (stop = true));
if (mode === 'exits') process.on('SIGINT', () => process.exit(130));
if (mode === 'once') process.once('SIGINT', () => (stop = true));

function* slowText(): Generator<string> {
  // At most 30 s of 1 KB chunks, a few ms apart: the test's signal comes long before.
  const end = Date.now() + 30_000;
  for (let i = 0; !stop && Date.now() < end; i++) {
    const until = Date.now() + 5;
    while (Date.now() < until) {
      // Making a chunk takes time, as a user's entry of a report does.
    }
    if (i === 1) process.stdout.write('writing\n');
    yield `${'x'.repeat(1023)}\n`;
  }
  yield 'end\n';
}

await writeFileAtomic(path, slowText());
process.stdout.write('written\n');
