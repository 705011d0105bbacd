import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { describeDatabaseError } from '../db/errors';
import { newRootTrace } from '../domain/trace';
import { addDatabaseGauges, createMetrics, METRICS_CONTENT_TYPE, renderMetrics } from '../observability/metrics';
import { runWithTrace } from '../tracing/context';
import { ApiError, errorResponse } from './errors';
import type { AppDeps, AppEnv } from './context';
import { adminRoutes } from './routes/admin';
import { kbRoutes } from './routes/kb';
import { campaignRoutes } from './routes/campaigns';
import { codecRoutes } from './routes/codec';
import { consoleRoutes } from './console';
import { contactRoutes } from './routes/contacts';
import { conversationRoutes } from './routes/conversations';
import { draftRoutes } from './routes/drafts';
import { healthRoutes } from './routes/health';
import { pageRoutes } from './routes/pages';
import { traceRoutes } from './routes/traces';
import { twilioWebhookRoutes } from './routes/twilio-webhooks';

export function createApp(appDeps: AppDeps) {
  const app = new Hono<AppEnv>();
  let metrics = appDeps.metrics;
  if (!metrics) {
    metrics = createMetrics('api');
    const log = appDeps.log.child({ component: 'metrics' });
    addDatabaseGauges(metrics, appDeps.db, (error) =>
      log.warn({ err: describeDatabaseError(error) }, 'database gauges not read'),
    );
  }
  const deps: AppDeps = { ...appDeps, metrics };

  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.set('log', deps.log.child({ requestId }));
    c.header('X-Request-ID', requestId);
    const started = performance.now();
    // T1: each API request is an entry point; a 32-hex X-Request-ID is taken as the trace id to continue.
    const trace = /^[0-9a-f]{32}$/.test(requestId) ? { ...newRootTrace(), traceId: requestId } : newRootTrace();
    c.header('X-Trace-ID', trace.traceId);
    await runWithTrace(trace, next);
    // One summary line per request; no bodies, no phone numbers.
    deps.log.info(
      {
        requestId,
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  });

  app.route('/', healthRoutes(deps));
  // Prometheus scrape target; labels are enums and counts, never numbers, bodies or tenants' secrets.
  app.get('/metrics', async (c) => c.body(await renderMetrics(metrics), 200, { 'Content-Type': METRICS_CONTENT_TYPE }));
  app.route('/webhooks/twilio', twilioWebhookRoutes(deps));
  app.route('/api/conversations', conversationRoutes(deps));
  app.route('/api/admin/kb', kbRoutes(deps));
  app.route('/api/admin', adminRoutes(deps));
  app.route('/api/conversations', draftRoutes(deps));
  app.route('/api', traceRoutes(deps));
  app.route('/api', campaignRoutes(deps));
  app.route('/api', contactRoutes(deps));
  app.route('/', pageRoutes());
  app.route('/codec', codecRoutes(deps));
  app.route('/console', consoleRoutes(deps));

  app.notFound((c) =>
    errorResponse(c, new ApiError('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)),
  );
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    c.get('log').error({ err: error }, 'unhandled error');
    return errorResponse(c, new ApiError('internal', 'internal error'));
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
