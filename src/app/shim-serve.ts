import { createSecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import { UserError } from '../model/user-error.js';
import { readSecretFile, readSecretText } from '../io/secret-file.js';
import type { ShimRules } from '../shim/rules.js';
import { startShimService, type ShimService, type ShimServiceOptions } from '../shim/shim-service.js';
import { checkShimFiles, storeKeyOf, withFileErrors, type ShimStoreRequest } from './shim-store.js';
import { parseStateUrl } from '../shim/postgres/state-url.js';
import { readClientsFile } from '../shim/radius/clients-file.js';
import { asField } from '../shim/radius/config-fields.js';
import { NO_REPLY_ATTRIBUTES, readReplyAttributes } from '../shim/radius/reply-attributes.js';

export interface ShimServeRequest extends ShimStoreRequest {
  host: string;
  port: number;
  rules: ShimRules;
  rateLimit: { perSecond: number; burst: number };
  sourceMaxFails?: number;
  apiKeyFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecure: boolean;
  maxBodyBytes: number;
  /** RADIUS: the UDP port (on --host), the clients file (0600), the optional reply attributes file. */
  radiusPort?: number;
  radiusClients?: string;
  radiusAttributes?: string;
}

/** `shim serve`: reads the key files the request names and starts the service; the caller stops it. */
export async function startShimServe(req: ShimServeRequest): Promise<ShimService> {
  if ((req.tlsCert === undefined) !== (req.tlsKey === undefined)) throw new UserError('--tls-cert and --tls-key go together');
  const notice = req.onNotice ?? (() => undefined);
  const secretOptions = { strict: req.strictPermissions === true, onNotice: notice };
  await checkShimFiles(req, [req.apiKeyFile, req.tlsCert, req.tlsKey, req.radiusClients, req.radiusAttributes]);
  const key = storeKeyOf(req);
  const options: ShimServiceOptions = {
    store: req.store,
    key,
    host: req.host,
    port: req.port,
    rules: req.rules,
    rateLimit: req.rateLimit,
    insecure: req.insecure,
    maxBodyBytes: req.maxBodyBytes,
    resetState: req.resetState === true,
    onNotice: notice,
  };
  if (req.sourceMaxFails !== undefined) options.sourceMaxFails = req.sourceMaxFails;
  if (req.apiKeyFile !== undefined) options.apiKey = readApiKey(req.apiKeyFile, secretOptions);
  if (req.tlsCert !== undefined && req.tlsKey !== undefined) {
    options.tls = { cert: readCertificate(req.tlsCert), key: readSecretFile(req.tlsKey, 'TLS key', secretOptions) };
    checkTlsPair(options.tls, req.tlsCert, req.tlsKey);
  }
  if (req.auditLog !== undefined) options.auditLog = req.auditLog;
  if (req.state !== undefined) options.state = parseStateUrl(req.state);
  if ((req.radiusPort === undefined) !== (req.radiusClients === undefined)) throw new UserError('--radius-port and --radius-clients go together');
  if (req.radiusAttributes !== undefined && req.radiusPort === undefined) throw new UserError('--radius-attributes needs --radius-port and --radius-clients');
  const clients = req.radiusClients !== undefined ? readClientsFile(req.radiusClients) : [];
  if (req.radiusPort !== undefined && req.radiusClients !== undefined) {
    options.radius = {
      port: req.radiusPort,
      clients,
      ...(req.radiusAttributes !== undefined ? { replyAttributes: readReplyAttributes(req.radiusAttributes) } : {}),
    };
  }
  if (req.now) options.now = req.now;
  const service = await withFileErrors(() => startShimService(options), req.store);
  if (req.insecure && service.url.startsWith('http:')) notice('warning: --insecure: serving without TLS');
  // Each client as read, in the file's order: a secret cut at a space shows its rest as the name.
  for (const c of [...clients].sort((a, b) => a.line - b.line)) {
    // How the line was read, where it is not what was written: a host address given a prefix (10.20.0.5/24) is its whole network.
    notice(`radius client ${c.network}${c.readAs ? ` (read as ${c.readAs})` : ''} ${c.name === c.network ? '(no name)' : asField(c.name)} (${req.radiusClients} line ${c.line})`);
  }
  return service;
}

function readApiKey(file: string, options: Parameters<typeof readSecretFile>[2]): string {
  const key = readSecretText(file, 'API key file', options).trim();
  if (key.length < 16 || /\s/.test(key)) throw new UserError(`API key file ${file}: the key must be at least 16 characters without white space`);
  return key;
}

/**
 * The certificate and key tried together before anything starts: OpenSSL's refusal (a file not PEM,
 * a key of another certificate, an encrypted key) named by file, not an unexpected error with a stack
 * trace (a black-box test). OpenSSL's own words name no key material.
 */
function checkTlsPair(tls: { cert: Buffer; key: Buffer }, certFile: string, keyFile: string): void {
  try {
    createSecureContext({ cert: tls.cert, key: tls.key });
  } catch (err) {
    const text = String((err as Error).message ?? err);
    const why = /no start line/i.test(text)
      ? 'one of them is not PEM (-----BEGIN ...-----), or the key was given as the certificate'
      : /key values mismatch/i.test(text)
        ? 'the key is not the certificate\'s'
        : /bad decrypt|bad password|passphrase/i.test(text)
          ? 'the key is encrypted: give it unencrypted (openssl pkey -in KEY -out KEY.plain), in a file only you can read'
          : text;
    throw new UserError(`the TLS certificate ${certFile} and key ${keyFile} cannot be used: ${why}`);
  }
}

function readCertificate(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UserError(`cannot read TLS certificate ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * SIGHUP: the RADIUS clients file (and attributes file) read again and put in use, as FreeRADIUS
 * reloads its clients. A file that no longer reads is refused whole, and the ones in use stay.
 * Returns what to tell the operator.
 */
export function reloadRadiusFiles(service: ShimService, req: Pick<ShimServeRequest, 'radiusClients' | 'radiusAttributes'>): string {
  if (!service.reloadRadius || req.radiusClients === undefined) return 'SIGHUP: no RADIUS files to reload (RADIUS is off); still serving';
  try {
    const clients = readClientsFile(req.radiusClients);
    const attributes = req.radiusAttributes !== undefined ? readReplyAttributes(req.radiusAttributes) : NO_REPLY_ATTRIBUTES;
    service.reloadRadius(clients, attributes);
    return `SIGHUP: reloaded ${clients.length} RADIUS client(s) from ${req.radiusClients}${req.radiusAttributes !== undefined ? ` and the reply attributes from ${req.radiusAttributes}` : ''}`;
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    service.reloadRefused?.(err.message);
    return `SIGHUP: reload refused, the files as last read stay in use: ${err.message}`;
  }
}

/** What serve's SIGHUP does: the audit log reopened at its path first (so the reload's line lands in the new file), then the RADIUS files. */
export function onHangUp(service: ShimService, req: Pick<ShimServeRequest, 'radiusClients' | 'radiusAttributes'>): string[] {
  return [service.reopenAuditLog(), reloadRadiusFiles(service, req)];
}
