import { createMiddleware } from 'hono/factory';
import { findOperatorByApiKey } from '../db/operators/users';
import { hasRole, type Role } from '../domain/api-keys';
import type { AppDeps, AppEnv } from './context';
import { ApiError } from './errors';

/** `Authorization: Bearer cw_…`: resolves the operator (user, tenant, role) for every /api request. */
export function authenticate(deps: Pick<AppDeps, 'db'>) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const key = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!key) throw new ApiError('unauthorized', 'missing API key (Authorization: Bearer …)');
    const operator = await findOperatorByApiKey(deps.db, key);
    if (!operator) throw new ApiError('unauthorized', 'invalid or revoked API key');
    c.set('operator', operator);
    c.set('log', c.get('log').child({ operator: operator.id }));
    await next();
  });
}

export function requireRole(role: Role) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!hasRole(c.get('operator').role, role)) throw new ApiError('forbidden', `requires role ${role}`);
    await next();
  });
}
