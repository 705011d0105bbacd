import type { DbOrTx } from './client';
import { alerts } from './schema';

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
  /** Issue 22: Twilio refused a WhatsApp template (63028, 21656…) or our check refused its variables before the call. */
  | 'template_invalid'
  | 'template_variables'
  /** A Twilio error code that needs an operator (sender, account, carrier filtering), or one not in the table. */
  | 'twilio_error'
  | 'twilio_unknown_error';

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
