/**
 * What a failure of the database means to the shim: the connection's (the server gone, restarting,
 * refusing logins: a new connection is the test of its return), or a statement the server refused on
 * a working connection (a privilege revoked, a column renamed, a full disk, a read-only database:
 * only a statement that writes is the test of its return).
 */

/** The SQLSTATE of a server's error (five characters), or undefined for the client's own (a socket, a timeout). */
export function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; severity?: unknown } | null;
  return typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string' ? e.code : undefined;
}

/**
 * Whether the failure is the connection's: no SQLSTATE (the socket, a client timeout, a connection
 * that could not be had), a connection exception (08), the server shutting down or not yet taking
 * connections (57P01-57P05), a login refused (28: a password changed), the database gone (3D000),
 * or no connection slot left (53300).
 */
export function isConnectionLoss(err: unknown): boolean {
  const code = sqlState(err);
  if (code === undefined) return true;
  return code.startsWith('08') || code.startsWith('28') || /^57P0[1-5]$/.test(code) || code === '3D000' || code === '53300';
}

/** What the admin can act on, for a few refusals whose own words do not say it. */
const HINTS: Record<string, string> = {
  '57014': 'the database did not answer in time (a long import, or a lock, holds its tables)',
  '55P03': "the shim's tables are locked by another session (an import?)",
  '25006': 'the database takes no writes (a standby not yet promoted, or set read-only)',
  '42501': "the shim's role lacks a privilege on its tables (it needs SELECT, INSERT, UPDATE, DELETE)",
  '53100': "the database's disk is full",
};

/**
 * The failure in one line: the server's refusal with its SQLSTATE (and what it means, where its own
 * words do not say), or the connection's failure as the client said it.
 */
export function describePgError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = sqlState(err);
  if (code === undefined || isConnectionLoss(err)) return message;
  const hint = HINTS[code];
  return `PostgreSQL refused a statement (SQLSTATE ${code}: ${message})${hint ? `: ${hint}` : ''}`;
}
