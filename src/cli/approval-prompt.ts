import { createInterface } from 'node:readline';

/** How the admin answered: `yes`, anything else, the end of input (Ctrl-D), or a signal (Ctrl-C). */
export type Answer = 'yes' | 'other' | 'ended' | 'SIGINT' | 'SIGTERM';

export interface PromptStreams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Line editing with raw keys (Ctrl-C and Ctrl-D as keys); default: the output is a terminal, as readline has it. */
  terminal?: boolean;
}

/**
 * Asks `question` and resolves with the answer; never rejects. readline/promises rejected a Ctrl-C
 * or Ctrl-D at the prompt with an AbortError, printed as an unexpected error with a stack trace (a
 * black-box test), and left the command hanging on an end of input outside raw mode. Ctrl-C is a
 * key on a terminal in raw mode, a SIGINT otherwise (stderr redirected): both are answered alike.
 */
export function askApproval(question: string, io: PromptStreams = { input: process.stdin, output: process.stderr }): Promise<Answer> {
  const rl = createInterface({ input: io.input, output: io.output, ...(io.terminal !== undefined ? { terminal: io.terminal } : {}) });
  return new Promise((resolve) => {
    let settled = false;
    const onInt = () => done('SIGINT');
    const onTerm = () => done('SIGTERM');
    function done(answer: Answer): void {
      if (settled) return;
      settled = true;
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      // The error that follows starts its own line, not after the question.
      if (answer !== 'yes' && answer !== 'other') io.output.write('\n');
      rl.close();
      resolve(answer);
    }
    rl.on('SIGINT', onInt);
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    rl.on('close', () => done('ended'));
    rl.question(question, (line) => done(line.trim().toLowerCase() === 'yes' ? 'yes' : 'other'));
  });
}
