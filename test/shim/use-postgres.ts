import { afterAll, beforeAll } from 'vitest';
import { startPostgres, usePassfile, type TestPostgres } from './postgres-server.js';

/**
 * The PostgreSQL test files' server, in the describe block that calls it: started before its tests,
 * PGPASSFILE pointed at the password file meanwhile (as the shim's docs tell admins to give the
 * password), put back and the server stopped after. The object returned stands for the server once
 * started. `passfile` prepares the file to point at (default: the server's own), for a file that
 * adds roles of its own.
 */
export function usePostgres(options: { passfile?: (pg: TestPostgres) => string } = {}): TestPostgres {
  let server: TestPostgres | undefined;
  let restorePassfile: (() => void) | undefined;
  beforeAll(async () => {
    server = await startPostgres();
    restorePassfile = usePassfile(options.passfile?.(server) ?? server.env.PGPASSFILE!);
  }, 60_000);
  afterAll(async () => {
    restorePassfile?.();
    await server?.stop();
  }, 60_000);
  const started = (): TestPostgres => {
    if (!server) throw new Error('the test PostgreSQL is not started (usePostgres: used outside its describe block, or before its beforeAll)');
    return server;
  };
  return {
    get url() {
      return started().url;
    },
    get env() {
      return started().env;
    },
    kill: () => started().kill(),
    freeze: () => started().freeze(),
    thaw: () => started().thaw(),
    start: () => started().start(),
    stop: () => started().stop(),
    sql: (text, db) => started().sql(text, db),
  };
}
