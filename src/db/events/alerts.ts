import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import { alerts } from '../schema';

/** Every alert kind the service raises; supervisors filter by these. */
export type AlertType =
  | 'urgent'
  | 'negative_sentiment'
  | 'handoff'
  | 'ai_failure'
  | 'inbound_failed'
  | 'window_closed'
  | 'delivery_failed'
  /** Reconciliation found inbound messages whose webhook never reached us, or could not list the whole window. */
  | 'reconciliation'
  /** Hybrid mode: an AI draft waited longer than HYBRID_DRAFT_TIMEOUT for an agent. */
  | 'draft_unattended'
  /** Issue 18 E: a conversation (or its tenant) used up its AI budget and went to a human. */
  | 'ai_budget_exceeded'
  /** Desk (issue 20 C): a customer waited past the first- or next-response SLA with no agent's answer. */
  | 'sla_breached'
  /** Issue 22: Twilio refused a WhatsApp template (63028, 21656…) or our check refused its variables before the call. */
  | 'template_invalid'
  | 'template_variables'
  /** A Twilio error code that needs an operator (sender, account, carrier filtering), or one not in the table. */
  | 'twilio_error'
  | 'twilio_unknown_error'
  /** Issue 21 D: an inbound message reached no outcome within INBOUND_OUTCOME_SLA (one per message; src/db/watchdog.ts). */
  | 'inbound_stuck';

export interface RaiseAlert {
  tenantId: string;
  conversationId?: string | null;
  type: AlertType;
  severity: 'low' | 'medium' | 'high' | 'critical';
  /** Human-readable, without phone numbers or message text (alerts are shown to every supervisor). */
  message: string;
  payload?: Record<string, unknown>;
}

/** The one place alerts are written; pass the transaction of the change that caused the alert. */
export async function raiseAlerts(db: DbOrTx, list: RaiseAlert[]): Promise<void> {
  if (list.length === 0) return;
  await db.insert(alerts).values(
    list.map((a) => ({
      tenantId: a.tenantId,
      conversationId: a.conversationId ?? null,
      type: a.type,
      severity: a.severity,
      message: a.message,
      payload: a.payload ?? {},
    })),
  );
}

/**
 * One alert per cause: raised unless an unresolved alert of the same type exists for the same conversation (or,
 * with `tenantWide`, for the tenant, conversation or not) from the last day. Returns whether it was raised.
 */
export async function raiseAlertOnce(db: DbOrTx, alert: RaiseAlert, tenantWide = false): Promise<boolean> {
  const rows = await db.execute<{ id: string }>(sql`
    insert into ${alerts} (tenant_id, conversation_id, type, severity, message, payload)
    select ${alert.tenantId}, ${alert.conversationId ?? null}, ${alert.type}, ${alert.severity}, ${alert.message},
      ${JSON.stringify(alert.payload ?? {})}::jsonb
    where not exists (
      select 1 from ${alerts} a
      where a.tenant_id = ${alert.tenantId} and a.type = ${alert.type} and a.resolved_at is null
        and a.created_at > now() - interval '1 day'
        and (${tenantWide} or a.conversation_id = ${alert.conversationId ?? null}))
    returning id`);
  return rows.length > 0;
}
