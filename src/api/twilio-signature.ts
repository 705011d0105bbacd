import twilio from 'twilio';

/**
 * X-Twilio-Signature check. Twilio signs the URL it was configured with, so the URL is rebuilt from
 * PUBLIC_BASE_URL plus the request's path and query, never from the Host header a proxy may have rewritten.
 */
export function isValidTwilioSignature(options: {
  authToken: string;
  signature: string | undefined;
  publicBaseUrl: string;
  requestUrl: string;
  params: Record<string, string>;
}): boolean {
  if (!options.signature) return false;
  const url = new URL(options.requestUrl);
  const signedUrl = `${options.publicBaseUrl.replace(/\/+$/, '')}${url.pathname}${url.search}`;
  return twilio.validateRequest(options.authToken, options.signature, signedUrl, options.params);
}
