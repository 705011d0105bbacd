import type { Channel } from '../contract/types';
import type { Database } from '../db/core/client';
import { isDatabaseUnavailable } from '../db/core/errors';
import { findAccountCredentials, findInboundTarget, type InboundTarget } from '../db/tenants/lookup';

export type { InboundTarget };

export interface CacheOptions {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
  /**
   * Issue 18 D: at most one re-read of a key per this interval (default 1 s). A signature that fails against the
   * cached token re-reads the current one; without a bound, every forged webhook with a valid AccountSid/To cost a
   * query. Within the interval the last re-read's answer is used again.
   */
  minReloadIntervalMs?: number;
  /** How long "no such key" is remembered (default: ttlMs, at most 10 s): unknown AccountSids cost one query each per interval. */
  negativeTtlMs?: number;
}

/**
 * A small TTL cache over a database lookup, stale-if-error: while the database is unavailable, the last value
 * found for a key is served past its TTL, so a verified webhook can still be taken during a database outage.
 * Security trade-off: during an outage a token rotated shortly before it stays valid (and the new one unknown)
 * until the database answers again; outside an outage a rotation takes effect within the TTL, as before.
 * A key found missing is remembered for `negativeTtlMs` (a flood naming one unknown account costs one query per
 * interval); a missing key is an error while the database is down. A data error is never masked by a stale value.
 */
export function createStaleIfErrorCache<K extends unknown[], V>(
  load: (...key: K) => Promise<V | null>,
  options: CacheOptions,
) {
  const now = options.now ?? Date.now;
  const minReloadMs = options.minReloadIntervalMs ?? 1_000;
  const negativeTtlMs = options.negativeTtlMs ?? Math.min(options.ttlMs, 10_000);
  const cache = new Map<string, { value: V; expires: number }>();
  const missing = new Map<string, number>();
  // Reloads in flight, per key: concurrent re-checks (a burst of webhooks right after a rotation, or forged ones)
  // share one query; a re-check within minReloadMs of the last one reuses its answer (bounded re-read rate).
  const reloading = new Map<string, Promise<V | null>>();
  const reloaded = new Map<string, { at: number; value: V | null }>();
  async function get(fresh: boolean, key: K): Promise<V | null> {
    const id = JSON.stringify(key);
    const hit = cache.get(id);
    if (!fresh) {
      if (hit && hit.expires > now()) return hit.value;
      const gone = missing.get(id);
      if (!hit && gone !== undefined && gone > now()) return null;
    }
    if (fresh) {
      const inFlight = reloading.get(id);
      if (inFlight) return inFlight;
      const last = reloaded.get(id);
      if (last && now() - last.at < minReloadMs) return last.value;
      const pending = loadAndStore(id, hit, key)
        .then((value) => {
          bounded(reloaded, id, { at: now(), value });
          return value;
        })
        .finally(() => reloading.delete(id));
      reloading.set(id, pending);
      return pending;
    }
    return loadAndStore(id, hit, key);
  }
  /** Insert at the end (most recent); the oldest entry goes when the map is full. */
  function bounded<T>(map: Map<string, T>, id: string, value: T) {
    map.delete(id);
    if (map.size >= options.maxEntries) map.delete(map.keys().next().value!);
    map.set(id, value);
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
      bounded(cache, id, { value, expires: now() + options.ttlMs });
      missing.delete(id);
    } else {
      cache.delete(id);
      bounded(missing, id, now() + negativeTtlMs);
    }
    return value;
  }
  const lookup = (...key: K) => get(false, key);
  /**
   * The value as the database has it now (concurrent reloads of a key share one query, and a key is re-read at
   * most once per minReloadIntervalMs): a webhook whose signature fails against a cached token re-checks against
   * the current one, so a rotated token works at once, not after the TTL.
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
