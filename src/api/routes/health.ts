import { Hono } from 'hono';
import { pingDatabase } from '../../db/core/health';
import type { AppDeps, AppEnv } from '../context';

async function check(fn: () => Promise<unknown>): Promise<'ok' | 'unavailable'> {
  try {
    await fn();
    return 'ok';
  } catch {
    return 'unavailable';
  }
}

export function healthRoutes(deps: AppDeps) {
  return (
    new Hono<AppEnv>()
      // Liveness: the process answers. Readiness: it can take a webhook (Postgres and Temporal reachable).
      .get('/healthz', (c) => c.json({ status: 'ok' }))
      .get('/readyz', async (c) => {
        const [database, temporal] = await Promise.all([
          check(() => pingDatabase(deps.db)),
          check(() =>
            deps.temporal.withDeadline(Date.now() + 2000, () => deps.temporal.workflowService.getSystemInfo({})),
          ),
        ]);
        const ready = database === 'ok' && temporal === 'ok';
        return c.json({ status: ready ? 'ready' : 'unavailable', checks: { database, temporal } }, ready ? 200 : 503);
      })
  );
}
