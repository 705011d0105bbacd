import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { describeDatabaseError } from '../db/core/errors';
import { newRootTrace } from '../domain/trace';
import { addDatabaseGauges, createMetrics, METRICS_CONTENT_TYPE, renderMetrics } from '../observability/metrics';
import { runWithTrace } from '../tracing/context';
import { lazyChild } from '../logger';
import { ApiError, asApiError, errorResponse } from './errors';
import { auditTrail } from './audit';
import { apiRateLimit, boundedInput, DEFAULT_RATE_LIMITS, onPost, signInRateLimit } from './limits';
import { metricsAuthorized } from '../observability/metrics-auth';
import type { AppDeps, AppEnv } from './context';
import { adminRoutes } from './routes/admin';
import { kbRoutes } from './routes/kb';
import { campaignRoutes } from './routes/campaigns';
import { codecRoutes } from './routes/codec';
import { consoleRoutes } from './console';
import { messageRoutes } from './routes/messages';
import { contactRoutes } from './routes/contacts';
import { conversationRoutes } from './routes/conversations';
import { deskRoutes } from './routes/desk';
import { deskToolRoutes } from './routes/desk-tools';
import { draftRoutes } from './routes/drafts';
import { healthRoutes } from './routes/health';
import { pageRoutes } from './routes/pages';
import { reportRoutes } from './routes/reports';
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
    c.set('log', lazyChild(deps.log, { requestId }));
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

  // Issue 18 D: request target and body limits before any route reads anything; then the rate limits.
  app.use('*', boundedInput());
  const limits = { ...DEFAULT_RATE_LIMITS, ...deps.rateLimits };
  const signIn = signInRateLimit(limits.signIn);
  for (const path of ['/console/sign-in', '/codec/session']) app.use(path, onPost(signIn));
  app.use('/api/*', apiRateLimit(limits.api));

  // Issue 18 G: every request of an identified operator leaves one audit_log record (src/api/audit.ts).
  for (const prefix of ['/api/*', '/console/*', '/codec/*']) app.use(prefix, auditTrail(deps));

  app.route('/', healthRoutes(deps));
  // Prometheus scrape target; labels are enums and counts, never numbers, bodies or tenants' secrets. Issue 18 D:
  // behind METRICS_TOKEN when set; without one, not served in production (each scrape runs database queries).
  app.get('/metrics', async (c) => {
    const access = metricsAuthorized(deps.env, c.req.header('authorization'));
    if (access === 'unconfigured')
      throw new ApiError(
        'not_found',
        'GET /metrics needs METRICS_TOKEN in production (then Authorization: Bearer <token>)',
      );
    if (access === 'denied') {
      c.header('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new ApiError('unauthorized', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
    }
    return c.body(await renderMetrics(metrics), 200, { 'Content-Type': METRICS_CONTENT_TYPE });
  });
  app.route('/webhooks/twilio', twilioWebhookRoutes(deps));
  app.route('/api/conversations', conversationRoutes(deps));
  app.route('/api/admin/kb', kbRoutes(deps));
  app.route('/api/admin', adminRoutes(deps));
  app.route('/api/conversations', draftRoutes(deps));
  app.route('/api', deskRoutes(deps));
  app.route('/api', traceRoutes(deps));
  app.route('/api', campaignRoutes(deps));
  app.route('/api', contactRoutes(deps));
  app.route('/api/messages', messageRoutes(deps));
  app.route('/api', deskToolRoutes(deps));
  app.route('/api/reports', reportRoutes(deps));
  app.route('/', pageRoutes());
  app.route('/codec', codecRoutes(deps));
  app.route('/console', consoleRoutes(deps));

  app.notFound((c) =>
    errorResponse(c, new ApiError('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)),
  );
  app.onError((error, c) => {
    const known = asApiError(error);
    if (known) return errorResponse(c, known);
    c.get('log').error({ err: error }, 'unhandled error');
    return errorResponse(c, new ApiError('internal', 'internal error'));
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
