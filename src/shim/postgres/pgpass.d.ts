declare module 'pgpass' {
  /** The password for these connection parameters from PGPASSFILE (or ~/.pgpass), if the file is private and has one. */
  function pgpass(connInfo: { host?: string; port?: number | string; database?: string; user?: string }, cb: (password: string | undefined) => void): void;
  export default pgpass;
}
