import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isPublicAddress, mediaUrlShapeProblem, type MediaUrlProblem } from '../domain/public-address';

/** Every address a host name resolves to (A and AAAA, as getaddrinfo answers: what Twilio's fetcher would see). */
export type HostResolver = (hostname: string) => Promise<string[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

const MESSAGES: Record<MediaUrlProblem | 'unresolvable', string> = {
  not_a_url: 'is not a URL',
  not_https: 'must use https',
  credentials: 'must not carry credentials',
  twilio_api: "must not point at Twilio's API",
  private_address: 'must resolve to public internet addresses only',
  unresolvable: 'names a host that does not resolve',
};

/**
 * Issue 18 A: an operator-supplied media URL is acceptable only if it is public: https, no credentials, not a Twilio
 * REST host, and every address its host resolves to is global (IPv4 and IPv6, IPv4-mapped included). We never fetch
 * it (Twilio does), so DNS rebinding between this check and Twilio's fetch cannot reach our network.
 * Returns null, or a sentence fragment saying what is wrong (never echoing the URL).
 */
export async function publicMediaUrlProblem(
  raw: string,
  options: { resolve?: HostResolver; twilioApiBaseUrl?: string; timeoutMs?: number } = {},
): Promise<string | null> {
  const forbidden = options.twilioApiBaseUrl ? [new URL(options.twilioApiBaseUrl).origin] : [];
  const shape = mediaUrlShapeProblem(raw, forbidden);
  if (shape) return MESSAGES[shape];
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return null; // a literal address: mediaUrlShapeProblem already judged it
  let addresses: string[];
  try {
    addresses = await Promise.race([
      (options.resolve ?? systemResolver)(host),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('dns timeout')), options.timeoutMs ?? 5_000).unref(),
      ),
    ]);
  } catch {
    return MESSAGES.unresolvable;
  }
  if (addresses.length === 0) return MESSAGES.unresolvable;
  return addresses.every(isPublicAddress) ? null : MESSAGES.private_address;
}
