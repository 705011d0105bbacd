import { describe, expect, it } from 'vitest';
import { isValidTwilioSignature } from '../../src/api/twilio-signature';
import { signedWebhook } from '../../src/integrations/signed-webhook';

// Twilio's published examples (docs, "Validating requests"): auth token 12345 and this URL and params.
const URL_WITH_QUERY = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const vectors = [
  { caller: '+14158675310', signature: 'GvWf1cFY/Q7PnoempGyD5oXAezc=' },
  { caller: '+14158675309', signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=' },
];
const paramsFor = (caller: string) => ({
  CallSid: 'CA1234567890ABCDE',
  Caller: caller,
  Digits: '1234',
  From: caller,
  To: '+18005551212',
});

describe('X-Twilio-Signature', () => {
  it.each(vectors)('accepts Twilio’s published vector ($signature)', ({ caller, signature }) => {
    expect(
      isValidTwilioSignature({
        authToken: '12345',
        signature,
        publicBaseUrl: 'https://mycompany.com',
        requestUrl: 'http://10.0.0.7:3000/myapp.php?foo=1&bar=2',
        params: paramsFor(caller),
      }),
    ).toBe(true);
  });

  it('rejects a changed parameter, token, URL or a missing signature', () => {
    const { caller, signature } = vectors[0]!;
    const base = {
      authToken: '12345',
      signature,
      publicBaseUrl: 'https://mycompany.com',
      requestUrl: URL_WITH_QUERY,
      params: paramsFor(caller),
    };
    expect(isValidTwilioSignature(base)).toBe(true);
    expect(isValidTwilioSignature({ ...base, params: { ...base.params, Digits: '1235' } })).toBe(false);
    expect(isValidTwilioSignature({ ...base, authToken: '12346' })).toBe(false);
    expect(isValidTwilioSignature({ ...base, publicBaseUrl: 'http://mycompany.com' })).toBe(false);
    expect(isValidTwilioSignature({ ...base, requestUrl: 'https://mycompany.com/myapp.php?foo=1' })).toBe(false);
    expect(isValidTwilioSignature({ ...base, signature: undefined })).toBe(false);
  });

  it('signs simulated webhooks the way it verifies them', () => {
    const params = { MessageSid: `SM${'a'.repeat(32)}`, Body: 'Olá ✓', From: 'whatsapp:+5511999990000' };
    const req = signedWebhook({
      publicBaseUrl: 'https://x.example/',
      path: '/webhooks/twilio/messages',
      authToken: 'tok',
      params,
    });
    expect(
      isValidTwilioSignature({
        authToken: 'tok',
        signature: req.headers['x-twilio-signature'],
        publicBaseUrl: 'https://x.example',
        requestUrl: 'http://localhost:3000/webhooks/twilio/messages',
        params: Object.fromEntries(new URLSearchParams(req.body)),
      }),
    ).toBe(true);
  });
});
