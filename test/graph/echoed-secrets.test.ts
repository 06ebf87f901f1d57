import { describe, expect, it } from 'vitest';
import { secretsOf, withoutEchoedSecrets } from '../../src/graph/echoed-secrets.js';

describe('withoutEchoedSecrets', () => {
  it('takes the secrets out of text values only: a number holding a code\'s digits stays a number, and nothing throws (a review)', () => {
    const res = { status: 400, headers: {}, body: { error: { message: 'code 353572 refused', retryAfterMs: 13535721 } } };
    expect(withoutEchoedSecrets(res, [{ verificationCode: '353572' }]).body).toEqual({ error: { message: 'code [redacted] refused', retryAfterMs: 13535721 } });
  });

  it("takes out every given body's secrets, a bulk create's included, in any letter case; leaves a success and an answer quoting none as they are", () => {
    const bodies = [{ secretKey: 'RIKJXIKBJCPDGCVP', verificationCode: '918273' }, { value: [{ serialNumber: 'S2', secretKey: 'QWERTYUIOPASDFGH' }] }];
    expect(secretsOf(bodies[1])).toEqual(['QWERTYUIOPASDFGH']);
    const res = { status: 400, headers: {}, body: { error: { message: 'rikjxikbjcpdgcvp 918273 qwertyuiopasdfgh' } } };
    expect(withoutEchoedSecrets(res, bodies).body).toEqual({ error: { message: '[redacted] [redacted] [redacted]' } });
    const ok = { status: 201, headers: {}, body: { secretKey: 'RIKJXIKBJCPDGCVP' } };
    expect(withoutEchoedSecrets(ok, bodies)).toBe(ok);
    const other = { status: 404, headers: {}, body: { error: { message: 'not found' } } };
    expect(withoutEchoedSecrets(other, bodies)).toBe(other);
  });
});
