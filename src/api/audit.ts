import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { outcomeOfStatus, recordAudit } from '../db/operators/audit';
import { describeDatabaseError } from '../db/core/errors';
import { tenantHashKey } from '../db/ingress/inbound';
import { parseAddress } from '../domain/address';
import { contactHash } from '../domain/contact-hash';
import type { AppDeps, AppEnv, AuditNote } from './context';
import { ApiError, errorResponse } from './errors';

/** What a handler can add to its request's audit record when the route alone does not say it. */
export type { AuditNote } from './context';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any env whose variables include AppEnv's
export function noteAudit(c: Context<any>, note: AuditNote) {
  const ctx = c as Context<AppEnv>;
  const prior = ctx.get('audit');
  ctx.set('audit', { ...prior, ...note, details: { ...prior?.details, ...note.details } });
}

const PHONE_LIKE = /^(?:whatsapp:|sms:)?\+\d/;

/**
 * Issue 18 G: one record per request of an identified operator, whatever the route, so routes added later are
 * covered without a line of their own. It runs around every /api, /console and /codec request; the operator is
 * whoever the route's own authentication set (API key, console session, codec session or key). Action = method and
 * route pattern, target = the route's first parameter (the path segment before it names the type), outcome = the
 * answer's status. Never recorded: bodies, query strings (search terms, phones), and phone numbers in the path,
 * which become the contact's keyed hash. Requests without an operator (bad key, no session) are not operator
 * actions; the request log has them.
 *
 * A read that cannot be recorded is not answered (503): a trail with holes in the reads is no trail. A write that
 * already happened keeps its answer and the failure is logged at error level.
 */
export function auditTrail(deps: Pick<AppDeps, 'db'>) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const operator = c.get('operator');
    if (!operator) return;
    const status = c.res.status;
    // The console's live fragments poll every 2 s; a 204 ("nothing changed") shows nothing, so it is no read.
    if (status === 204 && c.req.method === 'GET' && c.req.path.startsWith('/console/live/')) return;
    const note = c.get('audit') ?? {};
    try {
      const route = endpointOf(c);
      const params = await safeParams(deps.db, operator.tenantId, route.params);
      const first = Object.keys(params)[0];
      const via = c.req.path.startsWith('/console') ? 'console' : c.req.path.startsWith('/codec') ? 'codec' : 'api';
      await recordAudit(deps.db, {
        tenantId: operator.tenantId,
        actorType: 'user',
        actorUserId: operator.id,
        actorKeyId: operator.keyId,
        role: operator.role,
        via,
        action: note.action ?? `${c.req.method} ${route.path}`,
        targetType: note.targetType ?? (first ? targetTypeOf(route.path, first) : null),
        targetId: note.targetId ?? (first ? params[first]! : null),
        requestId: c.get('requestId'),
        outcome: note.outcome ?? outcomeOfStatus(status),
        status,
        details: {
          ...(Object.keys(params).length > 1 ? { params } : {}),
          ...(c.req.query() && Object.keys(c.req.query()).length > 0 ? { query: Object.keys(c.req.query()) } : {}),
          ...note.details,
        },
      });
    } catch (error) {
      c.get('log').error({ err: describeDatabaseError(error) }, 'audit record not written');
      if (c.req.method === 'GET' || c.req.method === 'HEAD')
        c.res = errorResponse(c, new ApiError('database_unavailable', 'the audit log is unavailable, retry later'));
    }
  });
}

/**
 * The route that answered (the last matched route registered for a method, not a middleware or a catch-all) and
 * its parameters: after `next()` the request's route index points at whichever handler ran last, which is the
 * authentication middleware when it refused.
 */
function endpointOf(c: Context<AppEnv>): { path: string; params: Record<string, string> } {
  const routes = matchedRoutes(c);
  let index = -1;
  for (let i = routes.length - 1; i >= 0; i--)
    if (routes[i]!.method !== 'ALL') {
      index = i;
      break;
    }
  if (index < 0) return { path: new URL(c.req.url).pathname.replace(/\/[^/]*$/, '/*'), params: {} };
  const saved = c.req.routeIndex;
  c.req.routeIndex = index;
  try {
    return { path: routes[index]!.path, params: c.req.param() };
  } finally {
    c.req.routeIndex = saved;
  }
}

/** `/api/conversations/:id/takeover` + `id` → `conversations`; `/console/media/:messageId/:n` → `media`. */
function targetTypeOf(path: string, param: string): string {
  const parts = path.split('/');
  const at = parts.indexOf(`:${param}`);
  return (at > 0 ? parts[at - 1] : '') || param;
}

/** Route parameters with any phone number replaced by the contact's keyed hash (`contact:<hash>`); values capped. */
async function safeParams(db: AppDeps['db'], tenantId: string, params: Record<string, string>) {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (name === 'phone' || PHONE_LIKE.test(value)) {
      const address = parseAddress(value);
      const key = address ? await tenantHashKey(db, tenantId) : null;
      out[name] = address && key ? `contact:${contactHash(key, address.phone)}` : 'contact:unparsed';
    } else out[name] = value.slice(0, 200);
  }
  return out;
}
