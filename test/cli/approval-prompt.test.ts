import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { askApproval, type Answer } from '../../src/cli/approval-prompt.js';

/** Runs the prompt on fake streams, `feed` typing once it is asked; the answer and what was shown. */
async function ask(feed: (input: PassThrough) => void, terminal: boolean): Promise<{ answer: Answer; shown: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d: Buffer) => (shown += d.toString()));
  const answer = askApproval('Apply? Only "yes" is accepted: ', { input, output, terminal });
  feed(input);
  return { answer: await answer, shown };
}

describe("apply's approval prompt", () => {
  it('takes "yes" (any case, spaces around) and nothing else as yes', async () => {
    expect((await ask((i) => i.write(' YES \n'), false)).answer).toBe('yes');
    expect((await ask((i) => i.write('y\n'), false)).answer).toBe('other');
    expect((await ask((i) => i.write('no\n'), true)).answer).toBe('other');
  });

  it('answers Ctrl-C on a terminal as SIGINT and Ctrl-D as the end of input, never rejecting (readline/promises rejected both with an AbortError)', async () => {
    const c = await ask((i) => i.write('\x03'), true);
    expect(c.answer).toBe('SIGINT');
    // The error that follows starts its own line.
    expect(c.shown.endsWith('\n')).toBe(true);
    expect((await ask((i) => i.write('\x04'), true)).answer).toBe('ended');
    // Typed, then Ctrl-C: still no approval.
    expect((await ask((i) => i.write('ye\x03'), true)).answer).toBe('SIGINT');
  });

  it('answers the end of input outside raw mode (stderr redirected: Ctrl-D) as ended, where readline/promises never settled', async () => {
    expect((await ask((i) => i.end(), false)).answer).toBe('ended');
  });

  it('answers a SIGINT or SIGTERM the process receives at the prompt (Ctrl-C without raw mode), and stops listening after', async () => {
    const before = { int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM') };
    expect((await ask(() => process.emit('SIGINT'), false)).answer).toBe('SIGINT');
    expect((await ask(() => process.emit('SIGTERM'), false)).answer).toBe('SIGTERM');
    expect({ int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM') }).toEqual(before);
  });
});
