import { and, eq } from 'drizzle-orm';
import { alerts } from '../../src/db/schema';
import { eventually, type Harness } from './harness';

/** The tenant's alerts of one type. */
export function tenantAlerts(h: Harness, tenantId: string, type: string) {
  return h.db
    .select()
    .from(alerts)
    .where(and(eq(alerts.tenantId, tenantId), eq(alerts.type, type)));
}

/** The tenant's first alert of one type, once it is raised (`eventually`'s timeout and message, unless given). */
export function raisedAlert(h: Harness, tenantId: string, type: string, timeoutMs?: number, what?: string) {
  return eventually(async () => (await tenantAlerts(h, tenantId, type)).at(0), timeoutMs, what);
}
