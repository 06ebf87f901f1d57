import { errors } from '../graph-error.js';
import { parseSelect } from '../odata-query.js';
import type { HandlerContext, HandlerResult, Router } from '../router.js';
import type { DomainRecord } from '../state.js';
import { AUTHENTICATION_PROTOCOLS, FEDERATED_IDP_MFA_BEHAVIORS, PROMPT_LOGIN_BEHAVIORS } from '../tenant-schema.js';
import { collection, entity, NO_CONTENT, objectBody, rejectQueryOptions } from './common.js';

const FEDERATION_TYPE = 'internalDomainFederation';

/** The tenant's domains and, for federated ones, their federation configuration (federatedIdpMfaBehavior). */
export function registerDomainRoutes(router: Router): void {
  router.add({ pattern: 'domains', handlers: { GET: listDomains } });
  router.add({ pattern: 'domains/{domain}', handlers: { GET: getDomain } });
  router.add({ pattern: 'domains/{domain}/federationConfiguration', handlers: { GET: listFederation } });
  router.add({ pattern: 'domains/{domain}/federationConfiguration/{federation}', handlers: { GET: getFederation, PATCH: updateFederation } });
}

const DOMAIN_PROPERTIES = [
  'id',
  'authenticationType',
  'availabilityStatus',
  'isAdminManaged',
  'isDefault',
  'isInitial',
  'isRoot',
  'isVerified',
  'passwordNotificationWindowInDays',
  'passwordValidityPeriodInDays',
  'supportedServices',
  'state',
];

function domainJson(d: DomainRecord, select: string[] | undefined): Record<string, unknown> {
  const full: Record<string, unknown> = {
    id: d.id,
    authenticationType: d.federation ? 'Federated' : 'Managed',
    availabilityStatus: null,
    isAdminManaged: true,
    isDefault: d.isDefault,
    isInitial: d.isInitial,
    isRoot: true,
    isVerified: d.isVerified,
    passwordNotificationWindowInDays: null,
    passwordValidityPeriodInDays: null,
    supportedServices: [...d.supportedServices],
    state: null,
  };
  return select ? Object.fromEntries(['id', ...select].map((k) => [k, full[k]])) : full;
}

const FEDERATION_PROPERTIES = [
  'displayName',
  'issuerUri',
  'metadataExchangeUri',
  'passiveSignInUri',
  'preferredAuthenticationProtocol',
  'signingCertificate',
  'activeSignInUri',
  'federatedIdpMfaBehavior',
  'isSignedAuthenticationRequestRequired',
  'nextSigningCertificate',
  'passwordResetUri',
  'promptLoginBehavior',
  'signOutUri',
];

function federationJson(federation: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { '@odata.type': `#microsoft.graph.${FEDERATION_TYPE}`, id: federation['id'] };
  for (const name of FEDERATION_PROPERTIES) out[name] = federation[name] ?? null;
  out['signingCertificateUpdateStatus'] = null;
  return out;
}

function requireDomain(ctx: HandlerContext): DomainRecord {
  const key = ctx.params['domain']!;
  const domain = ctx.state.domains.find((d) => d.id === key.toLowerCase());
  if (!domain) throw errors.resourceNotFound(key);
  return domain;
}

function listDomains(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select']);
  const select = parseSelect(ctx.req.query, DOMAIN_PROPERTIES, 'domain');
  return collection(ctx, 'domains', ctx.state.domains.map((d) => domainJson(d, select)));
}

function getDomain(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select']);
  const select = parseSelect(ctx.req.query, DOMAIN_PROPERTIES, 'domain');
  return entity(ctx, 'domains/$entity', domainJson(requireDomain(ctx), select));
}

function listFederation(ctx: HandlerContext): HandlerResult {
  const { federation, id } = requireDomain(ctx);
  return collection(ctx, `domains('${id}')/federationConfiguration`, federation ? [federationJson(federation)] : []);
}

function requireFederation(ctx: HandlerContext): Record<string, unknown> {
  const domain = requireDomain(ctx);
  const key = ctx.params['federation']!;
  if (!domain.federation || String(domain.federation['id']) !== key.toLowerCase()) throw errors.resourceNotFound(key);
  return domain.federation;
}

function getFederation(ctx: HandlerContext): HandlerResult {
  return entity(ctx, `domains('${requireDomain(ctx).id}')/federationConfiguration/$entity`, federationJson(requireFederation(ctx)));
}

const ENUMS: Record<string, readonly string[]> = {
  federatedIdpMfaBehavior: FEDERATED_IDP_MFA_BEHAVIORS,
  promptLoginBehavior: PROMPT_LOGIN_BEHAVIORS,
  preferredAuthenticationProtocol: AUTHENTICATION_PROTOCOLS,
};

/** PATCH of the federation (federatedIdpMfaBehavior above all): the properties the type has, enums checked. */
function updateFederation(ctx: HandlerContext): HandlerResult {
  const federation = requireFederation(ctx);
  const body = objectBody(ctx, FEDERATION_PROPERTIES, FEDERATION_TYPE);
  const type = body['@odata.type'];
  if (type !== undefined && String(type).replace(/^#?microsoft\.graph\./, '') !== FEDERATION_TYPE) {
    throw errors.badRequest(`The '@odata.type' '${String(type)}' does not match '#microsoft.graph.${FEDERATION_TYPE}'.`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    if (name.startsWith('@')) continue;
    const allowed = ENUMS[name];
    if (allowed && !(value !== null && allowed.includes(value as string))) {
      throw errors.badRequest(`Invalid value for property '${name}': must be one of ${allowed.join(', ')}.`);
    }
    if (name === 'isSignedAuthenticationRequestRequired' && value !== null && typeof value !== 'boolean') {
      throw errors.badRequest(`Invalid value for property '${name}': expected a boolean.`);
    }
    if (!allowed && name !== 'isSignedAuthenticationRequestRequired' && value !== null && typeof value !== 'string') {
      throw errors.badRequest(`Invalid value for property '${name}': expected a string.`);
    }
    if ((name === 'displayName' || name === 'issuerUri' || name === 'passiveSignInUri') && !value) throw errors.badRequest(`${name} cannot be empty.`);
    values[name] = value;
  }
  Object.assign(federation, values);
  return NO_CONTENT;
}
