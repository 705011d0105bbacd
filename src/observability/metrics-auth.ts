import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Issue 18 D: who may scrape /metrics. With METRICS_TOKEN set, only `Authorization: Bearer <token>` (API and
 * workers alike); without it, anyone outside production ('open'), and nobody on the API in production
 * ('unconfigured'): the series name no tenant's data, but each scrape of the API runs database queries.
 */
export function metricsAuthorized(
  env: { METRICS_TOKEN?: string; NODE_ENV?: string },
  authorization: string | undefined,
): 'open' | 'allowed' | 'denied' | 'unconfigured' {
  if (!env.METRICS_TOKEN) return env.NODE_ENV === 'production' ? 'unconfigured' : 'open';
  const given = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1] ?? '';
  // Compared as hashes: equal length, constant time, whatever was sent.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(env.METRICS_TOKEN)) ? 'allowed' : 'denied';
}
