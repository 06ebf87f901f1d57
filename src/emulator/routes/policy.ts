import { isHardwareOathEnabled, noteHardwareOathChange } from '../activation-gate.js';
import { configurationTypeName, defaultConfiguration, type MethodConfiguration } from '../default-policy.js';
import { errors } from '../graph-error.js';
import { campaignProblems, configurationProblems } from '../policy-targets.js';
import { mergePatch, validateConfigurationPatch, validatePolicyPatch } from '../policy-rules.js';
import type { HandlerContext, HandlerResult, Router } from '../router.js';
import { tapConfigurationProblems } from '../tap-configuration.js';
import { collection, entity, NO_CONTENT } from './common.js';

const POLICY = 'policies/authenticationMethodsPolicy';

/** The tenant's authentication methods policy and its per-method configurations. */
export function registerPolicyRoutes(router: Router): void {
  router.add({ pattern: POLICY, handlers: { GET: getPolicy, PATCH: patchPolicy } });
  router.add({ pattern: `${POLICY}/authenticationMethodConfigurations`, handlers: { GET: listConfigurations } });
  router.add({
    pattern: `${POLICY}/authenticationMethodConfigurations/{config}`,
    handlers: { GET: getConfiguration, PATCH: patchConfiguration, DELETE: resetConfiguration },
  });
}

/** A target that names no group or user of the tenant (or no passkey profile) is refused, the first named. */
function refuseProblems(problems: string[]): void {
  if (problems.length > 0) throw errors.badRequest(`Invalid value for property '${problems[0]!.split(':')[0]}': ${problems[0]!.split(': ').slice(1).join(': ')}.`);
}

/** Properties of the policy only the beta schema has (the v1.0 CSDL's authenticationMethodsPolicy lacks them). */
const BETA_ONLY = ['microsoftAuthenticatorPlatformSettings', 'reportSuspiciousActivitySettings', 'systemCredentialPreferences'];

/** The policy as the version shows it. */
function policyJson(ctx: HandlerContext): Record<string, unknown> {
  const policy = structuredClone(ctx.state.policy) as unknown as Record<string, unknown>;
  if (ctx.req.version === 'v1.0') for (const p of BETA_ONLY) delete policy[p];
  for (const c of (policy['authenticationMethodConfigurations'] as MethodConfiguration[] | undefined) ?? []) shownAsRead(ctx, c);
  return policy;
}

/** Properties Authenticator targets are read with but may not be written with (behaviour.authenticatorTargetLegacyProperties). */
const LEGACY_AUTHENTICATOR_TARGET = { outlookMobileAllowedState: 'default', displayAppInformationRequiredState: 'default', numberMatchingRequiredState: 'default' };

/** A copy of a configuration made to be answered: as Graph reads it. */
function shownAsRead(ctx: HandlerContext, config: MethodConfiguration): MethodConfiguration {
  if (ctx.state.behaviour.authenticatorTargetLegacyProperties && config.id?.toLowerCase() === 'microsoftauthenticator') {
    const targets = (config as { includeTargets?: Record<string, unknown>[] }).includeTargets;
    if (Array.isArray(targets)) for (const t of targets) Object.assign(t, { ...LEGACY_AUTHENTICATOR_TARGET, ...t });
  }
  return config;
}

function getPolicy(ctx: HandlerContext): HandlerResult {
  // authenticationMethodConfigurations is expanded automatically, as Graph documents.
  return entity(ctx, 'authenticationMethodsPolicy', policyJson(ctx));
}

function patchPolicy(ctx: HandlerContext): HandlerResult {
  const values = validatePolicyPatch(ctx.req.version, ctx.req.body);
  const next = structuredClone(ctx.state.policy);
  mergePatch(next as unknown as Record<string, unknown>, values);
  refuseProblems(campaignProblems(ctx.state, next));
  mergePatch(ctx.state.policy as unknown as Record<string, unknown>, values);
  ctx.state.policy.lastModifiedDateTime = new Date().toISOString();
  return entity(ctx, 'authenticationMethodsPolicy', policyJson(ctx));
}

function listConfigurations(ctx: HandlerContext): HandlerResult {
  return collection(ctx, `${POLICY}/authenticationMethodConfigurations`, structuredClone(ctx.state.policy.authenticationMethodConfigurations).map((c) => shownAsRead(ctx, c)));
}

/** Configuration ids compare case-insensitively (Graph's own docs use 'voice' and 'Voice'). */
function requireConfiguration(ctx: HandlerContext): MethodConfiguration {
  const key = ctx.params['config']!;
  const config = ctx.state.policy.authenticationMethodConfigurations.find((c) => c.id?.toLowerCase() === key.toLowerCase());
  if (!config) throw errors.resourceNotFound(key);
  return config;
}

function getConfiguration(ctx: HandlerContext): HandlerResult {
  return entity(ctx, `${POLICY}/authenticationMethodConfigurations/$entity`, shownAsRead(ctx, structuredClone(requireConfiguration(ctx))));
}

function patchConfiguration(ctx: HandlerContext): HandlerResult {
  const config = requireConfiguration(ctx);
  const values = validateConfigurationPatch(configurationTypeName(config), ctx.req.body);
  delete values['@odata.type'];
  delete values['id'];
  const next = structuredClone(config);
  mergePatch(next, values);
  refuseProblems([...configurationProblems(ctx.state, next), ...tapConfigurationProblems(next, new Set(Object.keys(values)))]);
  const wasEnabled = isHardwareOathEnabled(ctx.state);
  mergePatch(config, values);
  noteHardwareOathChange(ctx.state, wasEnabled);
  ctx.state.policy.lastModifiedDateTime = new Date().toISOString();
  return NO_CONTENT;
}

/** DELETE reverts a configuration to its default, as Graph documents. */
function resetConfiguration(ctx: HandlerContext): HandlerResult {
  const config = requireConfiguration(ctx);
  const fresh = defaultConfiguration(config.id!)!;
  for (const key of Object.keys(config)) delete config[key];
  Object.assign(config, fresh);
  ctx.state.policy.lastModifiedDateTime = new Date().toISOString();
  return NO_CONTENT;
}
