/** Twilio's REST origin; media URLs in webhooks live on it. */
export const TWILIO_API_ORIGIN = 'https://api.twilio.com';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_HOPS = 3;

export class MediaFetchError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 502,
  ) {
    super(message);
    this.name = 'MediaFetchError';
  }
}

/**
 * Issue 18 A: fetches an inbound media item from Twilio. The account's credentials go to that one URL only (the
 * caller matched it exactly); redirects are never followed automatically. Twilio answers a media GET with a
 * redirect to a short-lived signed URL on its CDN: that hop (and at most two more) is followed WITHOUT the
 * Authorization header, and only to https (or back to `trustedOrigins`, the configured stand-in in tests).
 */
export async function fetchTwilioMedia(
  url: string,
  credentials: { accountSid: string; authToken: string },
  options: { trustedOrigins: readonly string[]; timeoutMs?: number },
): Promise<Response> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? 15_000);
  const basic = Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64');
  let response = await fetch(url, { headers: { authorization: `Basic ${basic}` }, redirect: 'manual', signal });
  let current = new URL(url);
  for (let hop = 0; REDIRECTS.has(response.status); hop++) {
    const location = response.headers.get('location');
    await response.body?.cancel();
    if (!location || hop >= MAX_HOPS) throw new MediaFetchError('media redirect refused', 502);
    const next = new URL(location, current);
    if (next.username || next.password) throw new MediaFetchError('media redirect refused', 502);
    if (next.protocol !== 'https:' && !options.trustedOrigins.includes(next.origin))
      throw new MediaFetchError('media redirect refused', 502);
    current = next;
    response = await fetch(next, { redirect: 'manual', signal });
  }
  return response;
}
