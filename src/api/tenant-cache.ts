import type { Channel } from '../contract/types';
import type { Database } from '../db/client';
import { isDatabaseUnavailable } from '../db/errors';
import { findAccountCredentials, findInboundTarget, type InboundTarget } from '../db/tenant-lookup';

export type { InboundTarget };

export interface CacheOptions {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

/**
 * A small TTL cache over a database lookup, stale-if-error: while the database is unavailable, the last value
 * found for a key is served past its TTL, so a verified webhook can still be taken during a database outage.
 * Security trade-off: during an outage a token rotated shortly before it stays valid (and the new one unknown)
 * until the database answers again; outside an outage a rotation takes effect within the TTL, as before.
 * Only found values are cached: an unknown key is looked up every time, and is an error while the database is down.
 * A data error (not unavailability) is never masked by a stale value.
 */
export function createStaleIfErrorCache<K extends unknown[], V>(
  load: (...key: K) => Promise<V | null>,
  options: CacheOptions,
) {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { value: V; expires: number }>();
  // Reloads in flight, per key: concurrent re-checks (a burst of webhooks right after a rotation, or forged ones)
  // share one query. Not throttled by time: a webhook refused here is lost (Twilio does not retry a 403), so a
  // re-check is never skipped because another happened a moment earlier.
  const reloading = new Map<string, Promise<V | null>>();
  async function get(fresh: boolean, key: K): Promise<V | null> {
    const id = JSON.stringify(key);
    const hit = cache.get(id);
    if (hit && hit.expires > now() && !fresh) return hit.value;
    if (fresh) {
      const inFlight = reloading.get(id);
      if (inFlight) return inFlight;
      const pending = loadAndStore(id, hit, key).finally(() => reloading.delete(id));
      reloading.set(id, pending);
      return pending;
    }
    return loadAndStore(id, hit, key);
  }
  async function loadAndStore(id: string, hit: { value: V } | undefined, key: K): Promise<V | null> {
    let value: V | null;
    try {
      value = await load(...key);
    } catch (error) {
      if (hit && isDatabaseUnavailable(error)) return hit.value;
      throw error;
    }
    if (value) {
      // Re-inserting moves the key to the end: eviction drops the least recently refreshed entry.
      cache.delete(id);
      if (cache.size >= options.maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(id, { value, expires: now() + options.ttlMs });
    } else {
      cache.delete(id);
    }
    return value;
  }
  const lookup = (...key: K) => get(false, key);
  /**
   * The value as the database has it now (concurrent reloads of a key share one query): a webhook whose signature fails
   * against a cached token re-checks against the current one, so a rotated token works at once, not after the TTL.
   */
  lookup.reload = (...key: K) => get(true, key);
  return lookup;
}

/**
 * Resolves (AccountSid, channel, To) for the webhook in one query, cached for a few seconds: the webhook's hot
 * path then costs no SQL round trip per message. A changed auth token or number takes effect within `ttlMs`.
 */
export function createTenantResolver(db: Database, options: CacheOptions) {
  return createStaleIfErrorCache(
    (accountSid: string, channel: Channel, phone: string) => findInboundTarget(db, accountSid, channel, phone),
    options,
  );
}

/** The account (owning tenant and auth token) by AccountSid, for status callbacks; same cache semantics. */
export function createAccountResolver(db: Database, options: CacheOptions) {
  return createStaleIfErrorCache((accountSid: string) => findAccountCredentials(db, accountSid), options);
}
