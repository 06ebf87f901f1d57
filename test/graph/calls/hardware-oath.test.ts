import { describe, expect, it } from 'vitest';
import { bulkCreateDevices, deactivateToken } from '../../../src/graph/calls/hardware-oath.js';
import { decodeBase32 } from '../../../src/otp/base32.js';

describe('hardware OATH calls', () => {
  it("bulk-creates inventory tokens in the docs' delta shape: an @contentId on every item, the secret in Base32", () => {
    const device = (serialNumber: string, secret: string) => ({ serialNumber, manufacturer: 'Contoso', model: 'C1', secret: Buffer.from(secret), timeIntervalInSeconds: 30 as const, hashFunction: 'hmacsha1' as const });
    const call = bulkCreateDevices([device('A1', '12345678901234567890'), device('A2', 'abcdefghijabcdefghij')]);
    expect([call.method, call.version, call.path]).toEqual(['PATCH', 'beta', '/directory/authenticationMethodDevices/hardwareOathDevices']);
    const body = call.body as { '@context': string; value: Record<string, unknown>[] };
    expect(body['@context']).toBe('#$delta');
    expect(body.value.map((v) => [v['@contentId'], v.serialNumber])).toEqual([
      ['1', 'A1'],
      ['2', 'A2'],
    ]);
    expect(decodeBase32(String(body.value[1]!.secretKey))?.toString()).toBe('abcdefghijabcdefghij');
  });

  it('deactivates with no body of its own (the batch gives a write an empty one)', () => {
    expect(deactivateToken('u1', 'd/1')).toEqual({ method: 'POST', version: 'beta', path: '/users/u1/authentication/hardwareOathMethods/d%2F1/deactivate' });
  });
});
