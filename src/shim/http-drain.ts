import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How long answers in flight get to go out once the shim stops, before every connection is cut. */
export const STOP_GRACE_MS = 3_000;

/**
 * The requests an HTTP server is answering, and its stop. `server.close()` alone only closes the
 * connections idle at that moment: a keep-alive client sending back to back kept its connection,
 * and the process, alive until it quit (a black-box test: 37 s, once 10 minutes, SIGKILL under
 * systemd). Stopping here: no new connections; the answers in flight go out with `Connection:
 * close`; a request arriving on a kept connection is refused (503 stopping, nothing decided);
 * connections idle between requests are closed at once, the rest after the grace (one that never
 * sent a request, or never finished its TLS handshake, included). The stop resolves only once every
 * handler has settled, so their audit lines are written before the log closes.
 */
export class HttpDrain {
  readonly #inFlight = new Map<ServerResponse, Promise<void>>();
  /** Every TCP connection the server took, as it took it: one whose TLS handshake never ended is in no list of the HTTP layer's. */
  readonly #sockets = new Set<Socket>();
  #stopping = false;

  /** Follows the server's connections, so that stop() can cut even those HTTP never saw (a TLS handshake not finished). */
  watch(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** True once stop() began: a new request is refused. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** A request's handling, in flight until it settles (it must not reject). */
  track(res: ServerResponse, handling: Promise<void>): void {
    this.#inFlight.set(res, handling.finally(() => this.#inFlight.delete(res)));
  }

  async stop(server: Server, graceMs = STOP_GRACE_MS): Promise<void> {
    this.#stopping = true;
    // Answers not yet started say Connection: close, and the socket closes once they are out.
    for (const res of this.#inFlight.keys()) if (!res.headersSent) res.shouldKeepAlive = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    // A client that still holds a connection (a slow reader, an answer not done) is cut now, and
    // so is one HTTP never saw: over HTTPS, a connection whose handshake never ended held the stop
    // (a review: over 200 s).
    server.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    // A handler whose connection was cut still finishes its verification and audit line.
    await Promise.all(this.#inFlight.values());
  }
}
