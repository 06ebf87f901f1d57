import { describe, expect, it } from 'vitest';
import { errorText } from '../../src/graph/graph-call.js';
import { encodeBase32 } from '../../src/otp/base32.js';

/** Graph's error text goes into journals and reports, which are kept (and hash-chained: nothing is scrubbed later). */
describe('errorText', () => {
  it("is Graph's status, code and message", () => {
    expect(errorText({ status: 404, headers: {}, body: { error: { code: 'Request_ResourceNotFound', message: "Resource 'x' does not exist." } } })).toBe("404 Request_ResourceNotFound: Resource 'x' does not exist.");
    expect(errorText({ status: 502, headers: {}, body: null })).toBe('502');
  });

  it('takes out a seed and an activation code a message quotes from the request (a black-box test put a body-echoing proxy in front of Graph)', () => {
    const seed = encodeBase32(Buffer.from('12345678901234567890'));
    const echoed = `invalid request body: {"serialNumber":"20010001","secretKey":"${seed}","timeIntervalInSeconds":30} and {"verificationCode":"123456"}; seed=${seed}`;
    const text = errorText({ status: 400, headers: {}, body: { error: { code: 'BadRequest', message: echoed } } });
    expect(text).toBe('400 BadRequest: invalid request body: {"serialNumber":"20010001","secretKey":"[redacted]","timeIntervalInSeconds":30} and {"verificationCode":"[redacted]"}; seed=[redacted]');
    expect(text).not.toContain(seed);
  });

  it('leaves what is no seed (an upper-case account, a serial, ids) and takes a code quoted twice over (a review)', () => {
    const plain = "Insufficient privileges for 'SVCMFAMIGRATIONADMIN@CONTOSO.COM' on serial ABCDEFGHIJKLMNOPQR (request 0d9f3a52-6a1b-4c7e-9f00-1b2c3d4e5f60)";
    expect(errorText({ status: 403, headers: {}, body: { error: { code: 'Authorization_RequestDenied', message: plain } } })).toBe(`403 Authorization_RequestDenied: ${plain}`);
    const twice = 'body was "{\\"verificationCode\\":\\"123456\\"}"';
    expect(errorText({ status: 400, headers: {}, body: { error: { message: twice } } })).toBe('400: body was "{\\"verificationCode\\":\\"[redacted]\\"}"');
  });

  it('takes out a seed quoted in lower case and an access token quoted whole (a security review)', () => {
    const lower = encodeBase32(Buffer.from('abcdefghij0123456789')).toLowerCase();
    const jwt = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.c2lnbmF0dXJl';
    expect(errorText({ status: 400, headers: {}, body: { error: { message: `secret key ${lower} not accepted; token ${jwt} expired` } } })).toBe('400: secret key [redacted] not accepted; token [redacted] expired');
  });
});
