/**
 * Issue 23 C: downloads one inbound media file from Twilio with the tenant's own credentials. Only URLs recorded
 * with the inbound message at receipt reach here, only Twilio's API origin (or the configured stand-in) is asked,
 * and the body is cut off past `maxBytes` (WhatsApp allows 16 MB): a misbehaving upstream cannot exhaust memory.
 */
export class MediaFetchError extends Error {
  override readonly name = 'MediaFetchError';
}

export async function fetchTwilioMedia(
  url: string,
  credentials: { accountSid: string; authToken: string },
  options: { allowedOrigins: string[]; maxBytes: number; timeoutMs: number },
): Promise<{ data: Buffer; contentType: string | null }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MediaFetchError('not a URL');
  }
  if (!options.allowedOrigins.includes(parsed.origin)) throw new MediaFetchError('not a Twilio media URL');
  if (!parsed.pathname.startsWith(`/2010-04-01/Accounts/${credentials.accountSid}/`))
    throw new MediaFetchError("not this account's media");
  const response = await fetch(parsed, {
    headers: {
      authorization: `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`,
    },
    // Twilio answers with a redirect to short-lived storage; fetch drops the credentials on the cross-origin hop.
    redirect: 'follow',
    signal: AbortSignal.timeout(options.timeoutMs),
  }).catch((error: unknown) => {
    throw new MediaFetchError(`media unreachable (${(error as Error).name})`);
  });
  if (!response.ok || !response.body) throw new MediaFetchError(`Twilio answered ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > options.maxBytes) throw new MediaFetchError(`media larger than ${options.maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > options.maxBytes) throw new MediaFetchError(`media larger than ${options.maxBytes} bytes`);
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
