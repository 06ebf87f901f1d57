import { createGuardrails, generateSync } from 'otplib';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { encodeBase32 } from '../../src/emulator/oath-secret.js';
import { contosoSeed } from './contoso-tenant.js';

/** Test helpers for hardware OATH tokens: paths, bodies and codes. */
export const DEVICES = '/beta/directory/authenticationMethodDevices/hardwareOathDevices';
export const methods = (upn: string) => `/beta/users/${upn}/authentication/hardwareOathMethods`;
const crypto = new NodeCryptoPlugin();
const guardrails = createGuardrails({ MIN_SECRET_BYTES: 1 });

/** The HardwareOath method's configuration: Graph activates no token while it is disabled. */
export const HARDWARE_OATH_CONFIG = '/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/HardwareOath';

/** Enables the HardwareOath method (the how-to's first step), as a test's set-up. */
export async function enableHardwareOath(graph: { patch(path: string, body: unknown): Promise<{ status: number }> }): Promise<void> {
  const r = await graph.patch(HARDWARE_OATH_CONFIG, { '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethodConfiguration', state: 'enabled' });
  if (r.status !== 204) throw new Error(`enabling HardwareOath answered ${r.status}`);
}

/** A tenant file's policy with the HardwareOath method enabled (since before the emulator started). */
export const HARDWARE_OATH_ENABLED = { authenticationMethodsPolicy: { authenticationMethodConfigurations: [{ id: 'HardwareOath', state: 'enabled' }] } };

/** The TOTP code of `secret` now, or `offsetSteps` time steps away. */
export function totp(secret: Uint8Array, offsetSteps = 0, period = 30, algorithm: 'sha1' | 'sha256' = 'sha1'): string {
  return generateSync({ secret, period, algorithm, digits: 6, crypto, guardrails, epoch: Math.floor(Date.now() / 1000) + offsetSteps * period });
}

/** Waits out the last seconds of a time step, so codes made for step offsets keep their offset until checked. */
export async function awayFromStepBoundary(period: number): Promise<void> {
  const into = (Date.now() / 1000) % period;
  if (into > period - 3) await new Promise((r) => setTimeout(r, (period - into + 0.2) * 1000));
}

/** A create body for a 30-second SHA-1 token with the Contoso demo seed of `serial`. */
export function newToken(serial: string, extra: Record<string, unknown> = {}) {
  return {
    serialNumber: serial,
    manufacturer: 'Contoso',
    model: 'TOTP-6-30',
    secretKey: encodeBase32(contosoSeed(serial)),
    timeIntervalInSeconds: 30,
    hashFunction: 'hmacsha1',
    ...extra,
  };
}
