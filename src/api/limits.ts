import { createHash } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getConnInfo } from '@hono/node-server/conninfo';
import { isPublicAddress } from '../domain/public-address';
import type { AppEnv, RateLimits } from './context';
import { ApiError } from './errors';

/**
 * Issue 18 D: bounded input on every route. Bodies are limited before any handler reads them (hono's bodyLimit:
 * a declared Content-Length over the limit is refused unread; a chunked body is counted as it streams and
 * refused at the limit), so a huge POST costs at most its route's limit in memory. Each limit fits its route.
 */
const KiB = 1024;
export const BODY_LIMITS: { pattern: RegExp; bytes: number; what: string }[] = [
  { pattern: /^\/webhooks\/twilio\//, bytes: 64 * KiB, what: "Twilio's webhooks are a few KB" },
  {
    pattern: /^\/(console\/sign-in|codec\/session|codec\/sign-out|console\/sign-out)$/,
    bytes: 4 * KiB,
    what: 'an API key',
  },
  // The Web UI decodes a page of history events at once; the endpoint caps payloads at 10,000.
  { pattern: /^\/codec\/(decode|encode)$/, bytes: 8 * 1024 * KiB, what: 'a page of Temporal payloads' },
  { pattern: /^\/console\//, bytes: 256 * KiB, what: 'console forms (prompts are the longest)' },
  { pattern: /^\/api\//, bytes: 256 * KiB, what: 'JSON API requests' },
];
const DEFAULT_BODY_LIMIT = 16 * KiB;
/** The request target (path and query): proxies and browsers stop near 8 KiB too. */
export const MAX_URL_BYTES = 8 * KiB;

/**
 * hono's bodyLimit, deciding from Content-Length without touching the body when it can. hono's own first step
 * (`c.req.raw.body`) makes @hono/node-server build a whole web Request with a web stream over the socket for every
 * POST, and the route then reads the body through that stream: about a third of the webhook's CPU beyond a bare
 * route (issue 25 A). For a request with a body (not GET, HEAD, TRACE), a Content-Length and no Transfer-Encoding,
 * hono makes the same comparison; a chunked body, or anything else, still goes through hono's counting reader.
 */
export function bodyLimitByLength(options: { maxSize: number; onError: (c: Context) => never }): MiddlewareHandler {
  const counted = bodyLimit(options);
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'TRACE') return counted(c, next);
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return counted(c, next);
    if (parseInt(length || '0', 10) > options.maxSize) options.onError(c);
    await next();
  };
}

export function bodyLimitFor(path: string): number {
  return BODY_LIMITS.find((l) => l.pattern.test(path))?.bytes ?? DEFAULT_BODY_LIMIT;
}

/** 414 for an oversized request target, then the route's body limit (413). Headers: Node's 16 KiB cap answers 431. */
export function boundedInput(): MiddlewareHandler<AppEnv> {
  const limiters = new Map<number, MiddlewareHandler>();
  const limiterFor = (bytes: number) => {
    let limiter = limiters.get(bytes);
    if (!limiter) {
      limiter = bodyLimitByLength({
        maxSize: bytes,
        onError: () => {
          throw new ApiError('payload_too_large', `request body over ${bytes} bytes`);
        },
      });
      limiters.set(bytes, limiter);
    }
    return limiter;
  };
  return async (c, next) => {
    const url = c.req.url;
    const target = url.length - new URL(url).origin.length;
    if (target > MAX_URL_BYTES) throw new ApiError('uri_too_long', `request target over ${MAX_URL_BYTES} bytes`);
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    return limiterFor(bodyLimitFor(new URL(url).pathname))(c, next);
  };
}

/** A token bucket per key, in this process's memory (N API replicas allow N times the rate; see docs/security.md). */
export function createRateLimiter(options: {
  capacity: number;
  refillPerSecond: number;
  maxKeys?: number;
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 50_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    /** Takes a token for `key`: null when allowed, else the seconds until one is back. */
    take(key: string): number | null {
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: options.capacity, at: t };
      bucket.tokens = Math.min(options.capacity, bucket.tokens + ((t - bucket.at) / 1000) * options.refillPerSecond);
      bucket.at = t;
      // Re-inserted so the Map's order is least recently used first; the oldest key goes when full.
      buckets.delete(key);
      if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value!);
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return null;
      }
      return Math.ceil((1 - bucket.tokens) / options.refillPerSecond);
    },
  };
}

/** The socket's peer address ('unknown' without a socket: app.request() in tests). */
function peerAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The client's address: the socket's peer. Only when that peer is itself a private or loopback address (a reverse
 * proxy in front of the API) is the last X-Forwarded-For entry taken, the one that proxy appended. A client that
 * reaches the API directly from a private network could choose that header, so the sign-in limit also keeps a
 * (wider) bucket per peer: rotating X-Forwarded-For does not lift it.
 */
export function clientAddress(c: Context): string {
  const peer = peerAddress(c);
  if (peer === 'unknown' || !isPublicAddress(peer)) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  return peer;
}

export type { RateLimits } from './context';
export const DEFAULT_RATE_LIMITS: RateLimits = {
  signIn: { capacity: 20, refillPerSecond: 20 / 60 },
  api: { capacity: 600, refillPerSecond: 10 },
};

function limited(limiter: ReturnType<typeof createRateLimiter>, keyOf: (c: Context<AppEnv>) => string) {
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const retryAfter = limiter.take(keyOf(c));
    if (retryAfter !== null) {
      c.header('Retry-After', String(retryAfter));
      throw new ApiError('too_many_requests', `too many requests; retry in ${retryAfter} s`);
    }
    await next();
  };
  return middleware;
}

/** Sign-in attempts per client address, and ten times as many per socket peer (a proxy carries many clients). */
export function signInRateLimit(limits: RateLimits['signIn']) {
  const perClient = limited(createRateLimiter(limits), (c) => `ip:${clientAddress(c)}`);
  const perPeer = limited(
    createRateLimiter({ capacity: limits.capacity * 10, refillPerSecond: limits.refillPerSecond * 10 }),
    (c) => `peer:${peerAddress(c)}`,
  );
  const middleware: MiddlewareHandler<AppEnv> = (c, next) =>
    perPeer(c, async () => {
      await perClient(c, next);
    });
  return middleware;
}

/** API requests per key (hashed: the key never sits in memory as a map key), else per address. */
export function apiRateLimit(limits: RateLimits['api']) {
  return limited(createRateLimiter(limits), (c) => {
    const authorization = c.req.header('authorization');
    return authorization
      ? `key:${createHash('sha256').update(authorization).digest('base64url')}`
      : `ip:${clientAddress(c)}`;
  });
}

/** Applies `middleware` to POST requests only (a sign-in page's GET is not an attempt). */
export function onPost(middleware: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return async (c, next) => (c.req.method === 'POST' ? middleware(c, next) : next());
}
