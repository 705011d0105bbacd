import { BlockList, isIP } from 'node:net';

/**
 * Issue 18 A: what counts as a public address for a URL an operator gives us (outbound media). Twilio fetches those
 * URLs, never us, but a URL that names our own network, Twilio's REST API or carries credentials is refused anyway:
 * it is at best a mistake and at worst an attempt to make something fetch a private resource.
 */
const NOT_GLOBAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local (cloud metadata lives here)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved + broadcast
] as const)
  NOT_GLOBAL.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::', 96], // IPv4-compatible (deprecated)
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID, …)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 we would have to trust blindly
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const)
  NOT_GLOBAL.addSubnet(net, prefix, 'ipv6');

/** The IPv4 inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address, else null. */
export function embeddedIpv4(address: string): string | null {
  const match = /^(?:::ffff:(?:0:)?|64:ff9b::)(.+)$/i.exec(address);
  if (!match) return null;
  const tail = match[1]!;
  if (isIP(tail) === 4) return tail;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail);
  if (!hex) return null;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True for an address anyone on the internet could reach: not loopback, private, link-local, ULA, CGNAT, …. */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return false;
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4) return isPublicAddress(v4);
    return !NOT_GLOBAL.check(bare, 'ipv6');
  }
  return !NOT_GLOBAL.check(bare, 'ipv4');
}

/** Twilio's REST hosts (api.twilio.com, messaging.twilio.com, regional api.*.twilio.com, …): never a media URL. */
export function isTwilioApiHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host === 'twilio.com' || host.endsWith('.twilio.com');
}

export type MediaUrlProblem = 'not_a_url' | 'not_https' | 'credentials' | 'twilio_api' | 'private_address';

/**
 * The checks that need no network: https, no userinfo, not a Twilio REST host, not a literal non-public IP.
 * `extraForbiddenOrigins` adds the configured Twilio stand-in (TWILIO_API_BASE_URL). Null when it passes.
 */
export function mediaUrlShapeProblem(raw: string, extraForbiddenOrigins: string[] = []): MediaUrlProblem | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not_a_url';
  }
  if (url.protocol !== 'https:') return 'not_https';
  if (url.username !== '' || url.password !== '') return 'credentials';
  if (isTwilioApiHost(url.hostname) || extraForbiddenOrigins.includes(url.origin)) return 'twilio_api';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !isPublicAddress(host)) return 'private_address';
  if (host === 'localhost' || host.endsWith('.localhost')) return 'private_address';
  return null;
}
