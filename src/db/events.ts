import type { TraceContext } from '../contract/types';
import type { DbOrTx } from './client';
import { events } from './schema';

export interface EventInput {
  trace: TraceContext;
  type: string;
  level?: 'info' | 'warn' | 'error';
  tenantId?: string | null;
  contactId?: string | null;
  conversationId?: string | null;
  messageId?: string | null;
  /** Ids, counts and codes only: no message bodies or phone numbers. */
  payload?: Record<string, unknown>;
  occurredAt?: Date;
}

/** Appends to the `events` table, the source for trace and journey reconstruction (seed 001). */
export async function recordEvents(db: DbOrTx, inputs: EventInput[]): Promise<void> {
  if (inputs.length === 0) return;
  await db.insert(events).values(inputs.map((e) => ({
    traceId: e.trace.traceId,
    spanId: e.trace.spanId,
    parentId: e.trace.parentId ?? null,
    causalTraceId: e.trace.causalTraceId ?? null,
    type: e.type,
    level: e.level ?? 'info',
    tenantId: e.tenantId ?? null,
    contactId: e.contactId ?? null,
    conversationId: e.conversationId ?? null,
    messageId: e.messageId ?? null,
    payload: e.payload ?? {},
    ...(e.occurredAt ? { occurredAt: e.occurredAt } : {}),
  })));
}
