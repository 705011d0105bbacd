import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env';
import { createMetrics } from '../../src/observability/metrics';
import { metricsAuthorized } from '../../src/observability/metrics-auth';
import { startMetricsServer } from '../../src/observability/metrics-server';

const TOKEN = 'scrape-me-0123456789abcdef';

describe('issue 18 D: /metrics behind METRICS_TOKEN', () => {
  it('decides who may scrape: token holders, anyone outside production without a token, nobody on the API in production', () => {
    expect(metricsAuthorized({ METRICS_TOKEN: TOKEN }, `Bearer ${TOKEN}`)).toBe('allowed');
    expect(metricsAuthorized({ METRICS_TOKEN: TOKEN }, 'Bearer wrong')).toBe('denied');
    expect(metricsAuthorized({ METRICS_TOKEN: TOKEN }, undefined)).toBe('denied');
    expect(metricsAuthorized({ NODE_ENV: 'test' }, undefined)).toBe('open');
    expect(metricsAuthorized({ NODE_ENV: 'production' }, undefined)).toBe('unconfigured');
    expect(() => loadEnv({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(loadEnv({ METRICS_TOKEN: '' }).METRICS_TOKEN).toBeUndefined();
  });

  it("a worker's metrics listener with a token refuses a scrape without it", async () => {
    const server = await startMetricsServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics('worker'),
      token: TOKEN,
    });
    try {
      const anonymous = await fetch(`${server.url}/metrics`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
      const scraped = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('# TYPE');
    } finally {
      await server.close();
    }
  });
});
