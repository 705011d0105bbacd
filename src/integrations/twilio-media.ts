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

/**
 * Issue 23 C: downloads one inbound media file from Twilio with the tenant's own credentials. Only URLs recorded
 * with the inbound message at receipt reach here, only Twilio's API origin (or the configured stand-in) is asked,
 * and the body is cut off past `maxBytes` (WhatsApp allows 16 MB): a misbehaving upstream cannot exhaust memory.
 */
export async function downloadTwilioMedia(
  url: string,
  credentials: { accountSid: string; authToken: string },
  options: { allowedOrigins: string[]; maxBytes: number; timeoutMs: number },
): Promise<{ data: Buffer; contentType: string | null }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MediaFetchError('not a URL', 502);
  }
  if (!options.allowedOrigins.includes(parsed.origin)) throw new MediaFetchError('not a Twilio media URL', 502);
  if (!parsed.pathname.startsWith(`/2010-04-01/Accounts/${credentials.accountSid}/`))
    throw new MediaFetchError("not this account's media", 404);
  // The credentials go to this one URL; Twilio's redirect to short-lived storage is followed without them.
  const response = await fetchTwilioMedia(parsed.toString(), credentials, {
    trustedOrigins: options.allowedOrigins,
    timeoutMs: options.timeoutMs,
  }).catch((error: unknown) => {
    if (error instanceof MediaFetchError) throw error;
    throw new MediaFetchError(`media unreachable (${(error as Error).name})`, 502);
  });
  if (!response.ok || !response.body) throw new MediaFetchError(`Twilio answered ${response.status}`, 502);
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > options.maxBytes) throw new MediaFetchError(`media larger than ${options.maxBytes} bytes`, 502);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > options.maxBytes) throw new MediaFetchError(`media larger than ${options.maxBytes} bytes`, 502);
    chunks.push(Buffer.from(chunk));
  }
  return { data: Buffer.concat(chunks), contentType: response.headers.get('content-type') };
}

/**
 * The length of an Ogg stream (WhatsApp voice notes are Ogg/Opus) from its last page's granule position, which
 * Opus counts at 48 kHz; null when the data is not Ogg/Opus. Lets a long recording be skipped before any upload.
 */
export function oggOpusDurationSec(data: Buffer): number | null {
  if (data.subarray(0, 4).toString('latin1') !== 'OggS' || !data.includes('OpusHead')) return null;
  const last = data.lastIndexOf('OggS');
  if (last < 0 || last + 14 > data.length) return null;
  const granule = data.readBigInt64LE(last + 6);
  if (granule < 0n) return null;
  return Number(granule) / 48_000;
}
