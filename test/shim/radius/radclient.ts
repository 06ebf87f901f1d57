import { execFileSync, spawn } from 'node:child_process';

/**
 * FreeRADIUS's radclient (Debian: freeradius-utils; `.ci/run` installs it): a RADIUS client nobody
 * here wrote. Debian's predates the BlastRADIUS changes, so requests get `Message-Authenticator =
 * 0x00` added, which radclient fills in. It checks the answers' Response Authenticator and
 * Message-Authenticator itself, and drops (reports no reply for) an answer that fails them.
 */
export const radclientMissing: string | undefined = (() => {
  try {
    execFileSync('radclient', ['-h'], { stdio: 'ignore' });
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'radclient is not installed (Debian: apt-get install freeradius-utils; .ci/run does)' : undefined;
  }
})();

export interface RadclientReply {
  /** 'Access-Accept', 'Access-Reject', or undefined when no valid answer came. */
  code?: string;
  attributes: Record<string, string>;
  /** Every attribute received, in order, repeated ones each (`attributes` keeps the last of a name). */
  received: [name: string, value: string][];
  output: string;
}

/**
 * Sends one request: attribute lines as radclient reads them; `messageAuthenticator: false` leaves it
 * out. Asynchronous: the server under test may run in this very process.
 */
export async function radclient(port: number, secret: string, attributes: Record<string, string>, options: { messageAuthenticator?: boolean; type?: 'auth' | 'status'; timeout?: number } = {}): Promise<RadclientReply> {
  const lines = Object.entries(attributes).map(([k, v]) => `${k} = "${v}"`);
  if (options.messageAuthenticator !== false) lines.push('Message-Authenticator = 0x00');
  const child = spawn('radclient', ['-x', '-t', String(options.timeout ?? 2), '-r', '1', `127.0.0.1:${port}`, options.type ?? 'auth', secret], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  child.stdin.end(`${lines.join('\n')}\n`);
  await new Promise<void>((resolve) => child.on('close', () => resolve()));
  const received = /Received (Access-Accept|Access-Reject)[^\n]*\n((?:\t[^\n]*\n?)*)/.exec(output);
  const attrs: Record<string, string> = {};
  const list: [string, string][] = [];
  for (const line of received?.[2]?.split('\n') ?? []) {
    const m = /^\t([\w-]+) = "?(.*?)"?$/.exec(line);
    if (m) {
      attrs[m[1]!] = m[2]!;
      list.push([m[1]!, m[2]!]);
    }
  }
  return { ...(received ? { code: received[1] } : {}), attributes: attrs, received: list, output };
}
