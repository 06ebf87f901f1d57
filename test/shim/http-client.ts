import { request as httpRequest, Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** A small HTTP(S) client for the tests: sends the body as given (string/Buffer) or JSON-encodes objects, as application/json unless headers say otherwise. */
export function call(
  url: string,
  opts: { method?: string; body?: unknown; headers?: Record<string, string>; ca?: Buffer; agent?: Agent; chunks?: Buffer[] } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? opts.body : JSON.stringify(opts.body);
    const headers: Record<string, string> = { ...opts.headers };
    if (body !== undefined || opts.chunks) headers['content-type'] ??= 'application/json';
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: opts.method ?? (body !== undefined || opts.chunks ? 'POST' : 'GET'), headers, ...(opts.ca ? { ca: opts.ca } : {}), ...(opts.agent ? { agent: opts.agent } : {}) },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.chunks) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else {
      req.end(body);
    }
  });
}

export const verify = (base: string, user: unknown, code: unknown, extra: Parameters<typeof call>[1] = {}): Promise<Reply> =>
  call(`${base}/v1/verify`, { ...extra, body: { user, code } });
