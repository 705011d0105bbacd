import { Hono, type Context } from 'hono';
import { contactJourney, CursorError, RECONSTRUCTION_PAGE, transactionTrace } from '../../db/events/reconstruction';
import { parseAddress } from '../../domain/address';
import { authenticate } from '../auth';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';

/** `?cursor=` (the previous answer's nextCursor) and `?limit=` (1–500, default 500). */
function pageOf(c: Context<AppEnv>) {
  const raw = c.req.query('limit');
  const limit = raw === undefined ? RECONSTRUCTION_PAGE : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > RECONSTRUCTION_PAGE)
    throw new ApiError('bad_request', `limit: 1–${RECONSTRUCTION_PAGE}`);
  return { viewer: c.get('operator'), after: c.req.query('cursor') ?? null, limit };
}

const cursorError = (error: unknown): never => {
  if (error instanceof CursorError) throw new ApiError('bad_request', error.message);
  throw error;
};

/**
 * T5 reconstruction: a transaction trace and a contact journey, scoped to the operator's tenant and, for an AGENT,
 * to the conversations visible to them (404 otherwise, as for what does not exist). Paged: at most 500 events an
 * answer, `nextCursor` (null on the last page) continues.
 */
export function traceRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use('/traces/*', authenticate(deps))
    .use('/contacts/*', authenticate(deps))
    .get('/traces/:id', async (c) => {
      const id = c.req.param('id');
      if (!/^[0-9a-f]{32}$/.test(id)) throw new ApiError('bad_request', 'a trace id is 32 hex characters');
      const trace = await transactionTrace(deps.db, c.get('operator').tenantId, id, pageOf(c)).catch(cursorError);
      if (!trace || trace.events.length === 0) throw new ApiError('not_found', 'no events for this trace');
      return c.json(trace);
    })
    .get('/contacts/:phone/journey', async (c) => {
      const address = parseAddress(decodeURIComponent(c.req.param('phone')));
      if (!address) throw new ApiError('bad_request', 'phone must be E.164 (+5511…)');
      const journey = await contactJourney(deps.db, c.get('operator').tenantId, address.phone, pageOf(c)).catch(
        cursorError,
      );
      if (!journey) throw new ApiError('not_found', 'no such contact');
      return c.json(journey);
    });
}
