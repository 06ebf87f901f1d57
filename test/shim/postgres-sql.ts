import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/**
 * SQL as the test server's superuser, answered as `psql -At -c` answers it, from a worker thread of
 * this process instead of a psql process (under runuser, as root) per statement: about 12 ms of CPU
 * and 70 ms of waiting a call less, and the PostgreSQL test files make some 150 calls. Synchronous,
 * as psql through execFileSync was: the caller's event loop waits. Each call is a session of its own
 * (a connection opened and closed), as psql's was: a test that reads pg_stat_activity or sets a
 * database's defaults sees no connection of this helper's kept open.
 *
 * The worker is evaluated from text, not loaded from a file, so that it runs alike under vitest (the
 * sources) and from dist/ (the benches, compiled by tsc, which copies no JavaScript file).
 */
const WORKER = `
const { workerData } = require('node:worker_threads');
const pg = require(workerData.pg);
const { host, port, user, replies, signal } = workerData;
replies.on('message', async ({ text, db }) => {
  let reply;
  const client = new pg.Client({ host, port, user, database: db, ssl: false });
  // A connection the server ends between statements (a test's pg_terminate_backend) is no crash.
  client.on('error', () => undefined);
  try {
    await client.connect();
    // As psql -At prints: each row's columns joined by |, NULL as nothing; a statement without rows, its command tag.
    let out = '';
    let rows = false;
    client.connection.on('rowDescription', () => (rows = true));
    client.connection.on('dataRow', (m) => (out += m.fields.map((f) => f ?? '').join('|') + '\\n'));
    client.connection.on('commandComplete', (m) => {
      if (!rows) out += m.text + '\\n';
      rows = false;
    });
    await client.query(text);
    reply = { out };
  } catch (err) {
    reply = { error: (err.severity ? err.severity + ':  ' : '') + err.message };
  } finally {
    await client.end().catch(() => undefined);
  }
  replies.postMessage(reply);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
`;

/** A statement that has not answered in this long is given up (the worker with it), not waited for forever. */
const ANSWER_MS = 120_000;

export interface SqlClient {
  /** `text` in database `db`: what psql -At would print; throws with the server's error. */
  sql(text: string, db: string): string;
  close(): Promise<void>;
}

/** Connects over the server's Unix socket in `socketDir` (trust authentication, as psql did). */
export function sqlClient(socketDir: string, port: number, user: string): SqlClient {
  const pgPath = createRequire(import.meta.url).resolve('pg');
  let current: { worker: Worker; port: MessagePort; signal: Int32Array } | undefined;
  const open = (): NonNullable<typeof current> => {
    const { port1, port2 } = new MessageChannel();
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(WORKER, { eval: true, workerData: { pg: pgPath, host: socketDir, port, user, replies: port2, signal }, transferList: [port2] });
    // The test process exits whether or not a file stopped its server.
    worker.unref();
    port1.unref();
    return { worker, port: port1, signal };
  };
  return {
    sql(text, db) {
      current ??= open();
      const { worker, port: replies, signal } = current;
      Atomics.store(signal, 0, 0);
      replies.postMessage({ text, db });
      if (Atomics.wait(signal, 0, 0, ANSWER_MS) === 'timed-out') {
        current = undefined;
        void worker.terminate();
        throw new Error(`psql: no answer in ${ANSWER_MS / 1000} s to: ${text}`);
      }
      const reply = receiveMessageOnPort(replies)?.message as { out?: string; error?: string } | undefined;
      if (!reply || reply.error !== undefined) throw new Error(`psql: ${reply?.error ?? 'no reply'}\n(in database ${db}: ${text})`);
      return reply.out!;
    },
    async close() {
      const was = current;
      current = undefined;
      await was?.worker.terminate();
    },
  };
}
