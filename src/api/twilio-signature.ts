import twilio from 'twilio';

/**
 * X-Twilio-Signature check. Twilio signs the URL it was configured with, so the URL is rebuilt from
 * PUBLIC_BASE_URL plus the request's path and query, never from the Host header a proxy may have rewritten.
 *
 * Connection overrides (`#ct=…&rc=…`) are a URL fragment, and a fragment never reaches the server in the HTTP
 * request. Twilio's documentation does not say whether the signed URL includes it, so both are accepted: the URL
 * as requested, and that URL plus `#<connectionOverrides>` as configured (twilio-node's validator, given the
 * configured URL, signs it with the fragment). Both are HMACs under the same auth token: accepting either admits
 * nobody who does not hold the token.
 */
export function isValidTwilioSignature(options: {
  authToken: string;
  signature: string | undefined;
  publicBaseUrl: string;
  requestUrl: string;
  params: Record<string, string>;
  /** The fragment configured on the webhook URL in Twilio, without `#` ('' or absent: none). */
  connectionOverrides?: string;
}): boolean {
  if (!options.signature) return false;
  const url = new URL(options.requestUrl);
  const signedUrl = `${options.publicBaseUrl.replace(/\/+$/, '')}${url.pathname}${url.search}`;
  const candidates = options.connectionOverrides
    ? [signedUrl, `${signedUrl}#${options.connectionOverrides}`]
    : [signedUrl];
  return candidates.some((candidate) =>
    twilio.validateRequest(options.authToken, options.signature!, candidate, options.params),
  );
}
