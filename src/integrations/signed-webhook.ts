import { randomBytes } from 'node:crypto';
import twilio from 'twilio';

/** A new Twilio-shaped MessageSid (SM + 32 hex). */
export const newMessageSid = () => `SM${randomBytes(16).toString('hex')}`;

/** What Twilio signs of a callback URL after the base: the path and the query (`?m=…`), never the fragment. */
export const pathAndQuery = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

/**
 * Builds a webhook request exactly as Twilio would: form-encoded params and X-Twilio-Signature over the public
 * URL. Used by `causeway simulate`, the tests and the benchmarks.
 */
export function signedWebhook(options: {
  publicBaseUrl: string;
  path: string;
  authToken: string;
  params: Record<string, string>;
}) {
  const url = `${options.publicBaseUrl.replace(/\/+$/, '')}${options.path}`;
  const signature = twilio.getExpectedTwilioSignature(options.authToken, url, options.params);
  return {
    body: new URLSearchParams(options.params).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
  };
}
