import { packageVersion } from './package-root.js';

/**
 * Set by the bundler (scripts/bundle.mjs, from scripts/build-id.mjs) and by the test config for the
 * sources: the commit the build is of (`2bdeef8`, `2bdeef8.dirty`), or '' when not built from git.
 * Not defined at all in the tsc-compiled tree (bench, fixtures scripts).
 */
declare const __MFA_MIGRATE_BUILD__: string | undefined;

const BUILD = typeof __MFA_MIGRATE_BUILD__ === 'string' && __MFA_MIGRATE_BUILD__ !== '' ? __MFA_MIGRATE_BUILD__ : undefined;

/**
 * This build's identity: the package version and, when built from git, its commit as semver build
 * metadata (`0.1.0+2bdeef8`). Builds of one version differ (in the plan format they write, above
 * all): the version alone named nothing an admin could tell apart. Recorded in plans, journals and
 * reports; only said, never compared (what decides is the plan format, PLAN_FILE_VERSION).
 */
export function toolVersion(): string {
  return BUILD ? `${packageVersion()}+${BUILD}` : packageVersion();
}
