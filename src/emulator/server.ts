import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Emulator } from './emulator.js';
import { JSON_CONTENT_TYPE } from './graph-request.js';
import { HttpExchange, MAX_BODY_BYTES } from './http-exchange.js';

/** Puts an Emulator on node:http; everything else about a request is HttpExchange's. */
export class EmulatorServer {
  readonly #server: Server;
  readonly #exchange: HttpExchange;

  constructor(readonly emulator: Emulator) {
    this.#exchange = new HttpExchange(emulator);
    this.#server = createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
      const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
      (hasBody ? readBody(req) : Promise.resolve(undefined))
        .then((body) => this.#exchange.handle({ method: req.method ?? 'GET', url: req.url ?? '/', headers: headersOf(req), body }))
        .then((out) => {
          res.writeHead(out.status, { ...out.headers, 'Content-Length': out.body !== undefined ? Buffer.byteLength(out.body) : 0 });
          res.end(out.body);
        })
        .catch((err: unknown) => {
          process.stderr.write(`graph emulator: ${(err as Error).stack ?? String(err)}\n`);
          if (!res.headersSent) res.writeHead(500, { 'Content-Type': JSON_CONTENT_TYPE });
          res.end();
        });
    });
  }

  async listen(host: string, port: number): Promise<{ url: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    const url = `http://${shownHost}:${address.port}`;
    this.emulator.baseUrl = url;
    return { url, port: address.port };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

/** Node lower-cases header names; only set-cookie (never sent to Graph) arrives as an array. */
function headersOf(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k] = Array.isArray(v) ? v[0] : v;
  return out;
}

/** The body, or null when it is over the size limit. */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
