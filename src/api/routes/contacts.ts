import { Hono } from 'hono';
import { z } from 'zod';
import { ErasureRequestError, requestErasure } from '../../temporal/start-erasure';
import { noteAudit } from '../audit';
import { authenticate, requireRole } from '../auth';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';
import { readJson } from '../body';

const eraseBody = z.object({ reason: z.string().trim().min(1).max(500) });

/**
 * E: `DELETE /api/contacts/:phone` (ADMIN only) erases a contact of the operator's tenant: 202 with the erasure
 * workflow's id (its result and the `erasures` audit row tell the outcome; the CLI waits for it).
 * The phone is in the path (URL-encoded `+`); the request log records the route pattern, never the path.
 */
export function contactRoutes(deps: AppDeps) {
  const { db, temporal } = deps;
  return (
    new Hono<AppEnv>()
      // Authenticated on this route only: /contacts/:phone/journey (traceRoutes) authenticates itself.
      .delete('/contacts/:phone', authenticate(deps), requireRole('ADMIN'), async (c) => {
        const { reason } = await readJson(c, eraseBody);
        const operator = c.get('operator');
        try {
          const started = await requestErasure(db, temporal, deps.env.TEMPORAL_TASK_QUEUE, {
            tenant: { id: operator.tenantId },
            phone: decodeURIComponent(c.req.param('phone')),
            reason,
            requestedBy: `operator:${operator.id}`,
          });
          noteAudit(c, { action: 'contact.erase', details: { workflowId: started.workflowId, runId: started.runId } });
          return c.json({ erasure: { workflowId: started.workflowId, runId: started.runId, status: 'running' } }, 202);
        } catch (error) {
          if (error instanceof ErasureRequestError) throw new ApiError('bad_request', error.message);
          throw new ApiError('temporal_unavailable', 'could not start the erasure, retry later', { cause: error });
        }
      })
  );
}
