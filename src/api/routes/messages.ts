import { Hono } from 'hono';
import { whyMessage } from '../../services/messages';
import { authenticate } from '../auth';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';

/** Issue 21 C: why an outbound message went out (or was held or refused); scope and 404 in `whyMessage`. */
export function messageRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().use('*', authenticate(deps)).get('/:id/why', async (c) => {
    const ref = c.req.param('id');
    if (!/^([0-9a-f-]{36}|SM[0-9a-fA-F]{32}|MM[0-9a-fA-F]{32})$/.test(ref))
      throw new ApiError('bad_request', 'a message id (uuid) or Twilio MessageSid');
    return c.json((await whyMessage(deps.db, c.get('operator'), ref)).view);
  });
}
