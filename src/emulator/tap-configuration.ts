import { tapLifetimeProblem } from '../model/tap-lifetime.js';
import { configurationTypeName, type MethodConfiguration } from './default-policy.js';

/**
 * Problems with a Temporary Access Pass configuration as a PATCH (or the tenant file) leaves it, as
 * `property: why`: its lifetimes must hold together (the default between the minimum and the maximum),
 * which no check of the body alone can see. `changed`: the properties the PATCH set.
 */
export function tapConfigurationProblems(config: MethodConfiguration, changed?: ReadonlySet<string>): string[] {
  if (configurationTypeName(config).toLowerCase() !== 'temporaryaccesspassauthenticationmethodconfiguration') return [];
  const problem = tapLifetimeProblem(config, changed);
  return problem ? [`${problem.property}: ${problem.message}`] : [];
}
