import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsAuthorized } from './metrics-auth';
import { addSdkMetricsGauge, METRICS_CONTENT_TYPE, renderMetrics, type Metrics } from './metrics';

export interface MetricsServer {
  /** `http://host:port` the listener is bound to. */
  url: string;
  close(): Promise<void>;
}

/**
 * The worker's /metrics: a bare HTTP listener (a worker has no API server). `sdkMetricsUrl` is core's Prometheus
 * exporter on loopback (src/temporal/runtime.ts), appended to every answer. A listen error (port taken) rejects.
 */
export async function startMetricsServer(options: {
  port: number;
  host?: string;
  metrics: Metrics;
  sdkMetricsUrl?: string;
  /** Issue 18 D: METRICS_TOKEN; set, a scrape needs `Authorization: Bearer <token>`. */
  token?: string;
}): Promise<MetricsServer> {
  const sdk = options.sdkMetricsUrl
    ? { url: options.sdkMetricsUrl, up: addSdkMetricsGauge(options.metrics) }
    : undefined;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    // The worker's port is its own (not published by compose): without a token it stays open, in production too.
    if (metricsAuthorized({ METRICS_TOKEN: options.token }, req.headers.authorization) === 'denied') {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' }).end();
      return;
    }
    renderMetrics(options.metrics, sdk).then(
      (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
      (error: unknown) =>
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`metrics unavailable: ${error instanceof Error ? error.name : 'error'}\n`),
    );
  });
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
