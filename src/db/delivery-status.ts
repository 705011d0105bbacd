import { and, eq, sql } from 'drizzle-orm';
import { recordEvents } from './events';
import { canAdvanceStatus } from '../domain/message-status';
import { newSpanId } from '../domain/trace';
import type { Database } from './client';
import { messages } from './schema';

export interface StatusCallback {
  tenantId: string;
  messageSid: string;
  status: string;
  errorCode: string | null;
}

export type StatusOutcome = 'updated' | 'ignored' | 'unknown_message';

/**
 * Applies a delivery status callback monotonically (I11): compare-and-set on the status read, so duplicate and
 * out-of-order callbacks change nothing, and two concurrent callbacks cannot move the status backwards.
 */
export async function applyDeliveryStatus(db: Database, cb: StatusCallback): Promise<StatusOutcome> {
  return db.transaction(async (tx) => {
    const [message] = await tx.select({ id: messages.id, status: messages.status, traceId: messages.traceId, spanId: messages.spanId, contactId: messages.contactId, conversationId: messages.conversationId })
      .from(messages).where(and(eq(messages.tenantId, cb.tenantId), eq(messages.providerSid, cb.messageSid))).for('update');
    if (!message) return 'unknown_message';
    if (!canAdvanceStatus(message.status, cb.status)) return 'ignored';
    await tx.update(messages)
      .set({ status: cb.status, statusUpdatedAt: sql`now()`, ...(cb.errorCode ? { errorCode: cb.errorCode } : {}) })
      .where(eq(messages.id, message.id));
    if (message.traceId) {
      await recordEvents(tx, [{
        trace: { traceId: message.traceId, spanId: newSpanId(), parentId: message.spanId },
        type: 'message.status', tenantId: cb.tenantId, contactId: message.contactId, conversationId: message.conversationId, messageId: message.id,
        payload: { from: message.status, to: cb.status, errorCode: cb.errorCode },
      }]);
    }
    return 'updated';
  });
}
