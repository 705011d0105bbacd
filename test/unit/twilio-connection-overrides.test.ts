import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { isValidTwilioSignature } from '../../src/api/twilio-signature';
import { loadEnv } from '../../src/config/env';
import { connectionOverrideProblems, RECOMMENDED_CONNECTION_OVERRIDES } from '../../src/domain/twilio-overrides';

const token = '0123456789abcdef0123456789abcdef';
const base = 'https://causeway.example.test';
const overrides = RECOMMENDED_CONNECTION_OVERRIDES;
const params = {
  MessageSid: `SM${'1'.repeat(32)}`,
  AccountSid: `AC${'2'.repeat(32)}`,
  From: 'whatsapp:+5511999990000',
  To: 'whatsapp:+14155550100',
  Body: 'Olá & até já',
  NumMedia: '0',
};
// What reaches the server: never the fragment (RFC 3986: it is not sent in the request), from a local address.
const requested = (path: string) => `http://10.0.0.7:3000${path}`;

/** isValidTwilioSignature on the messages path with the recommended overrides configured, unless `over` says otherwise. */
const verifies = (signature: string, over: Partial<Parameters<typeof isValidTwilioSignature>[0]> = {}) =>
  isValidTwilioSignature({
    authToken: token,
    signature,
    publicBaseUrl: base,
    requestUrl: requested('/webhooks/twilio/messages'),
    params,
    connectionOverrides: overrides,
    ...over,
  });

describe('Twilio connection overrides and the signature', () => {
  it('a signature over the URL without the fragment verifies (twilio-node agrees), with or without overrides configured', () => {
    const configured = `${base}/webhooks/twilio/messages#${overrides}`;
    const signature = twilio.getExpectedTwilioSignature(token, configured.split('#')[0]!, params);
    expect(twilio.validateRequest(token, signature, `${base}/webhooks/twilio/messages`, params)).toBe(true);
    // twilio-node given the configured URL signs the fragment too: that signature differs.
    expect(twilio.validateRequest(token, signature, configured, params)).toBe(false);
    for (const connectionOverrides of [overrides, '']) {
      expect(verifies(signature, { connectionOverrides })).toBe(true);
    }
  });

  it('a signature over the configured URL with its fragment verifies when that fragment is configured, not otherwise', () => {
    const configured = `${base}/webhooks/twilio/messages#${overrides}`;
    const signature = twilio.getExpectedTwilioSignature(token, configured, params);
    expect(twilio.validateRequest(token, signature, configured, params)).toBe(true);
    const check = (connectionOverrides: string) => verifies(signature, { connectionOverrides });
    expect(check(overrides)).toBe(true);
    expect(check('')).toBe(false);
    expect(check('ct=2000&rc=5')).toBe(false);
    // Still bound to the token and the parameters.
    expect(verifies(signature, { authToken: 'f'.repeat(32) })).toBe(false);
    expect(verifies(signature, { params: { ...params, Body: 'x' } })).toBe(false);
  });

  it('the Fallback URL request (ErrorCode and ErrorUrl added, signed for the fallback path) verifies on that path only', () => {
    const fallbackParams = { ...params, ErrorCode: '11200', ErrorUrl: `${base}/webhooks/twilio/messages` };
    const signature = twilio.getExpectedTwilioSignature(
      token,
      `${base}/webhooks/twilio/messages/fallback`,
      fallbackParams,
    );
    expect(twilio.validateRequest(token, signature, `${base}/webhooks/twilio/messages/fallback`, fallbackParams)).toBe(
      true,
    );
    expect(
      verifies(signature, { requestUrl: requested('/webhooks/twilio/messages/fallback'), params: fallbackParams }),
    ).toBe(true);
    expect(verifies(signature, { params: fallbackParams })).toBe(false);
    expect(verifies(signature, { requestUrl: requested('/webhooks/twilio/messages/fallback') })).toBe(false);
  });

  it('checks override values against the ranges Twilio documents', () => {
    expect(connectionOverrideProblems(RECOMMENDED_CONNECTION_OVERRIDES)).toEqual([]);
    expect(connectionOverrideProblems('')).toEqual([]);
    expect(connectionOverrideProblems('ct=100&rt=15000&tt=15000&rc=0&rp=all&e=dublin&sni=unique')).toEqual([]);
    expect(connectionOverrideProblems('ct=50')).toEqual(['ct must be an integer from 100 to 10000']);
    expect(connectionOverrideProblems('rc=6&rp=5xx,3xx')).toEqual([
      'rc must be an integer from 0 to 5',
      'rp accepts 4xx, 5xx, ct, rt, all (got 3xx)',
    ]);
    expect(connectionOverrideProblems('rc=1&rc=2&x=1&tt')).toEqual([
      'rc appears twice',
      'unknown override x',
      '"tt" is not key=value',
    ]);
    expect(loadEnv({ TWILIO_CONNECTION_OVERRIDES: '#rc=3' }).TWILIO_CONNECTION_OVERRIDES).toBe('rc=3');
    expect(loadEnv({}).TWILIO_CONNECTION_OVERRIDES).toBe(RECOMMENDED_CONNECTION_OVERRIDES);
    expect(() => loadEnv({ TWILIO_CONNECTION_OVERRIDES: 'rt=20000' })).toThrow(
      /rt must be an integer from 100 to 15000/,
    );
  });
});
