import { Hono } from 'hono';
import { contactJourney, transactionTrace } from '../../db/reconstruction';
import { parseAddress } from '../../domain/address';
import { authenticate } from '../auth';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';

/** T5 reconstruction: a transaction trace and a contact journey, scoped to the operator's tenant. */
export function traceRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use('/traces/*', authenticate(deps))
    .use('/contacts/*', authenticate(deps))
    .get('/traces/:id', async (c) => {
      const id = c.req.param('id');
      if (!/^[0-9a-f]{32}$/.test(id)) throw new ApiError('bad_request', 'a trace id is 32 hex characters');
      const trace = await transactionTrace(deps.db, c.get('operator').tenantId, id);
      if (!trace || trace.events.length === 0) throw new ApiError('not_found', 'no events for this trace');
      return c.json(trace);
    })
    .get('/contacts/:phone/journey', async (c) => {
      const address = parseAddress(decodeURIComponent(c.req.param('phone')));
      if (!address) throw new ApiError('bad_request', 'phone must be E.164 (+5511…)');
      const journey = await contactJourney(deps.db, c.get('operator').tenantId, address.phone);
      if (!journey) throw new ApiError('not_found', 'no such contact');
      return c.json(journey);
    });
}
