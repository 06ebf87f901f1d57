/**
 * A fetch function may also answer without a Response: the in-process emulator's does. A WHATWG
 * Response built for every answer and its body read back as a stream were a good part of each
 * in-process request's CPU. The transport asks for the plain answer when the fetch function it was
 * given carries one, and reads it as it reads a Response: the status, the headers, the text.
 */
export const PLAIN_ANSWER = Symbol.for('mfa-migrate.plain-answer');

/** What a Response would have given: its status, its headers and its body as text ('' for none). */
export class PlainAnswer {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly text: string,
  ) {}
}

export type PlainAnswering = (input: string | URL | Request, init?: RequestInit) => Promise<PlainAnswer>;

/** The plain answering of a fetch function, if it has one. */
export function plainAnsweringOf(fetchImpl: typeof fetch): PlainAnswering | undefined {
  return (fetchImpl as typeof fetch & { [PLAIN_ANSWER]?: PlainAnswering })[PLAIN_ANSWER];
}
