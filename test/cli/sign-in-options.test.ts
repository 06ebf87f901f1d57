import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_STATE_HOME } from '../helpers/e2e.js';
import { testDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

/** No Azure sign-in settings from the environment the tests run in. */
const CLEAN = { XDG_STATE_HOME: TEST_STATE_HOME, AZURE_TENANT_ID: undefined, AZURE_CLIENT_ID: undefined, AZURE_CLIENT_SECRET: undefined, AZURE_AUTHORITY_HOST: undefined };
const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = '66666666-7777-8888-9999-000000000000';

/**
 * A review: sign-in options a mode would ignore, a tenant that is no tenant and an empty client
 * secret file each end the command with one line naming the option, before any sign-in (every
 * case here fails before reaching a network: nothing is tried).
 */
describe('sign-in options refused with one line naming them', () => {
  const refused = async (args: string[], env: Record<string, string | undefined>, message: string) => {
    const r = await runMain(['doctor', ...args], { env: { ...CLEAN, ...env } });
    expect(r.stderr).toBe(`mfa-migrate: ${message}\n`);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  };

  it('a --client-id or AZURE_CLIENT_ID that is not a GUID (a review: it went to the sign-in service)', async () => {
    await refused(['--auth', 'device-code', '--client-id', 'my-app'], {}, '--client-id "my-app" is not an application (client) id: give the app registration\'s id, a GUID (its Overview page in the Entra admin center)');
    await refused(['--auth', 'device-code'], { AZURE_CLIENT_ID: 'my-app' }, 'AZURE_CLIENT_ID "my-app" is not an application (client) id: give the app registration\'s id, a GUID (its Overview page in the Entra admin center)');
  });

  it('a --tenant-id that is neither a GUID nor a domain name, in any mode (was: unexpected error and a stack trace)', async () => {
    for (const auth of ['device-code', 'default', 'client-secret']) {
      await refused(['--auth', auth, '--tenant-id', 'contoso com'], {}, '--tenant-id "contoso com" is not a tenant: give the tenant id (a GUID) or one of its domain names, such as contoso.onmicrosoft.com');
    }
    await refused(['--auth', 'device-code'], { AZURE_TENANT_ID: 'contoso com' }, 'AZURE_TENANT_ID "contoso com" is not a tenant: give the tenant id (a GUID) or one of its domain names, such as contoso.onmicrosoft.com');
  });

  it('--tenant-id with --auth managed-identity, --client-id with --auth azure-cli (were ignored)', async () => {
    await refused(['--auth', 'managed-identity', '--tenant-id', TENANT], {}, '--tenant-id is not read by --auth managed-identity: a managed identity signs in to its own tenant (leave --tenant-id out)');
    await refused(['--auth', 'azure-cli', '--client-id', CLIENT], {}, '--client-id is not read by --auth azure-cli: the Azure CLI signs in as its own app (leave --client-id out, or sign in with your app by --auth device-code)');
  });

  it('--auth default with a --tenant-id or --client-id its AZURE_* variable contradicts (the variable won, unsaid)', async () => {
    const env = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_SECRET: 'hunter2' };
    await refused(
      ['--tenant-id', 'fabrikam.onmicrosoft.com'],
      env,
      `--tenant-id fabrikam.onmicrosoft.com and AZURE_TENANT_ID ${TENANT} differ: with --auth default the credential signs in with the variable where it reads it (DefaultAzureCredential's environment credential); unset AZURE_TENANT_ID or make them agree, or choose the sign-in with --auth`,
    );
    const r = await runMain(['doctor', '--client-id', '99999999-8888-7777-6666-555555555555'], { env: { ...CLEAN, ...env } });
    expect(r.stderr).toMatch(/^mfa-migrate: --client-id 9{8}-.* and AZURE_CLIENT_ID 6{8}-.* differ: [^\n]*\n$/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('an empty --client-secret-file is named, not reported missing (was: "needs --client-secret-file or AZURE_CLIENT_SECRET")', async () => {
    const { dir } = testDir('sign-in-options');
    const empty = join(dir, 'secret.txt');
    writeFileSync(empty, '', { mode: 0o600 });
    await refused(['--tenant-id', TENANT, '--client-id', CLIENT, '--client-secret-file', empty], {}, `--client-secret-file ${empty} is empty: put the client secret on its first line`);
  });
});
