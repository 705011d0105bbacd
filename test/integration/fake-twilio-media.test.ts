import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioGateway, TwilioSendError } from '../../src/integrations/twilio-gateway';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio';
import { randomPhone } from '../support/harness';

// D: the fake's create-time checks of Body and MediaUrl, through the real twilio SDK (the gateway), as Twilio documents them.
let twilio: FakeTwilio;
let gateway: ReturnType<typeof createTwilioGateway>;
const credentials = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') };
beforeAll(async () => {
  twilio = await startFakeTwilio();
  twilio.addAccount(credentials.accountSid, credentials.authToken);
  gateway = createTwilioGateway({ apiBaseUrl: twilio.url, timeoutMs: 5000 });
});
afterAll(async () => {
  await twilio?.close();
});

const refusal = async (params: Parameters<typeof gateway.send>[1]) => {
  const error = await gateway.send(credentials, params).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TwilioSendError);
  return (error as TwilioSendError).code;
};

describe('fake Twilio: MediaUrl', () => {
  it('takes media without a body, keeps every URL on SMS/MMS and only the first on WhatsApp', async () => {
    const sms = await gateway.send(credentials, {
      from: randomPhone(),
      to: randomPhone(),
      mediaUrl: ['https://cdn.example.com/a.jpg', 'https://cdn.example.com/b.jpg'],
    });
    expect(twilio.sent.find((m) => m.sid === sms.sid)).toMatchObject({
      body: '',
      mediaUrl: ['https://cdn.example.com/a.jpg', 'https://cdn.example.com/b.jpg'],
    });
    const wa = await gateway.send(credentials, {
      from: `whatsapp:${randomPhone()}`,
      to: `whatsapp:${randomPhone()}`,
      body: 'two files',
      mediaUrl: ['https://cdn.example.com/a.pdf', 'https://cdn.example.com/b.pdf'],
    });
    expect(twilio.sent.find((m) => m.sid === wa.sid)!.mediaUrl).toEqual(['https://cdn.example.com/a.pdf']);
  });

  it('refuses what Twilio refuses: no body nor media (21602), a URL without http(s) (21620), more than 10 (21623)', async () => {
    const base = { from: randomPhone(), to: randomPhone() };
    const before = twilio.sent.length;
    expect(await refusal({ ...base, body: '' })).toBe(21602);
    expect(await refusal({ ...base, mediaUrl: ['cdn.example.com/a.jpg'] })).toBe(21620);
    expect(await refusal({ ...base, mediaUrl: ['ftp://cdn.example.com/a.jpg'] })).toBe(21620);
    expect(
      await refusal({ ...base, mediaUrl: Array.from({ length: 11 }, (_, i) => `https://cdn.example.com/${i}.jpg`) }),
    ).toBe(21623);
    expect(twilio.sent.length).toBe(before);
  });
});
