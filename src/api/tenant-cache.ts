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
  const cache = new Map<string, { value: V; expires: number; loadedAt: number }>();
  async function get(fresh: boolean, key: K): Promise<V | null> {
    const id = JSON.stringify(key);
    const hit = cache.get(id);
    if (hit && hit.expires > now() && !(fresh && now() - hit.loadedAt >= MIN_RELOAD_INTERVAL_MS)) return hit.value;
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
      cache.set(id, { value, expires: now() + options.ttlMs, loadedAt: now() });
    } else {
      cache.delete(id);
    }
    return value;
  }
  const lookup = (...key: K) => get(false, key);
  /**
   * The value as the database has it now (at most one reload per key a second): a webhook whose signature fails
   * against a cached token re-checks against the current one, so a rotated token works at once, not after the TTL.
   */
  lookup.reload = (...key: K) => get(true, key);
  return lookup;
}

const MIN_RELOAD_INTERVAL_MS = 1000;

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
