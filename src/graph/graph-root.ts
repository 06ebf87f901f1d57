import { UserError } from '../model/user-error.js';

/**
 * Microsoft Graph's hosts in the public and national clouds (Graph docs, "National cloud
 * deployments"): the only hosts an access token is sent to, besides a loopback emulator, unless
 * the admin names another with --allow-graph-host (a proxy of their own, say).
 */
export const GRAPH_CLOUD_HOSTS: readonly string[] = ['graph.microsoft.com', 'graph.microsoft.us', 'dod-graph.microsoft.us', 'microsoftgraph.chinacloudapi.cn'];

export const DEFAULT_GRAPH_ROOT = 'https://graph.microsoft.com';

/** The public cloud's Microsoft Entra ID sign-in endpoint. */
export const PUBLIC_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/**
 * Where a Graph root's access tokens come from (Graph docs, "National cloud deployments": a token's
 * scope names the cloud's own Graph domain, and the cloud's Microsoft Entra ID endpoint issues it).
 * A root that is not a Graph cloud (a proxy of the admin's) stands for the public cloud. The
 * endpoint is named for the public cloud too: the credential would otherwise take the one
 * AZURE_AUTHORITY_HOST names, from the environment.
 */
export function tokenCloudOf(root: string): { scope: string; authorityHost: string } {
  const host = hostOf(root);
  if (host === 'graph.microsoft.us' || host === 'dod-graph.microsoft.us') return { scope: `https://${host}/.default`, authorityHost: 'https://login.microsoftonline.us' };
  if (host === 'microsoftgraph.chinacloudapi.cn') return { scope: `https://${host}/.default`, authorityHost: 'https://login.chinacloudapi.cn' };
  return { scope: `${DEFAULT_GRAPH_ROOT}/.default`, authorityHost: PUBLIC_AUTHORITY_HOST };
}

/**
 * A `$ref` body names its object by a Graph URL (`@odata.id`), which the calls build on the public
 * cloud's host; in a national cloud it names that cloud's own (the docs' examples there do). A root
 * that is not a Graph cloud (the emulator, a proxy) leaves it as built.
 */
export function bodyForRoot(body: unknown, root: string): unknown {
  if (typeof body !== 'object' || body === null) return body;
  const ref = (body as Record<string, unknown>)['@odata.id'];
  if (typeof ref !== 'string' || !ref.startsWith(`${DEFAULT_GRAPH_ROOT}/`)) return body;
  const host = hostOf(root);
  if (host === undefined || !GRAPH_CLOUD_HOSTS.includes(host) || host === hostOf(DEFAULT_GRAPH_ROOT)) return body;
  return { ...body, '@odata.id': `https://${host}${ref.slice(DEFAULT_GRAPH_ROOT.length)}` };
}

/** A root's host name; undefined for text that is not a URL. */
function hostOf(root: string): string | undefined {
  try {
    return new URL(root).hostname;
  } catch {
    return undefined;
  }
}

/** Loopback Graph roots (the emulator) need no credential. */
export function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    // An IPv4 address in 127/8 (the URL parser normalises 127.1 and the like), not a name that
    // merely starts with "127." such as 127.0.0.1.example.com.
    return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
  } catch {
    return false;
  }
}

/**
 * The Graph root of a --graph-url: scheme and host (and port), without a version or a trailing
 * slash. Refuses what would send a token somewhere unexpected, with a message saying what to give.
 */
export function parseGraphRoot(text: string, allowHosts: readonly string[] = []): string {
  const trimmed = text.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new UserError(`--graph-url ${trimmed}: give a URL with its scheme, e.g. https://graph.microsoft.com or http://127.0.0.1:5580 for the emulator`);
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new UserError(`--graph-url ${trimmed} is not a URL`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  if (/^\/(v1\.0|beta)(\/|$)/i.test(path)) {
    throw new UserError(`--graph-url ${trimmed}: give the Graph root without a version (${url.origin}); the tool chooses v1.0 or beta per request`);
  }
  if (path !== '' || url.search || url.hash) throw new UserError(`--graph-url ${trimmed}: give only the Graph root, e.g. ${url.origin}`);
  const root = url.origin;
  if (isLoopback(root)) return root;
  if (url.protocol !== 'https:') throw new UserError(`--graph-url ${root}: Graph must be reached over https (plain http only to a loopback emulator)`);
  const host = url.hostname.toLowerCase();
  if (!GRAPH_CLOUD_HOSTS.includes(host) && !allowHosts.some((h) => h.toLowerCase() === host)) {
    throw new UserError(`--graph-url ${root}: ${host} is not a Microsoft Graph host (${GRAPH_CLOUD_HOSTS.join(', ')}) nor a loopback emulator, and would receive your access token; if it is yours, add --allow-graph-host ${host}`);
  }
  return root;
}
