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

type EventSink = (events: EventInput[]) => void;
const sinks = new Set<EventSink>();

/** Also send every recorded event elsewhere (the OTLP exporter); returns the function that removes it. */
export function addEventSink(sink: EventSink): () => void {
  sinks.add(sink);
  return () => sinks.delete(sink);
}

/** Appends to the `events` table, the source for trace and journey reconstruction (seed 001). */
export async function recordEvents(db: DbOrTx, inputs: EventInput[]): Promise<void> {
  if (inputs.length === 0) return;
  const stamped = inputs.map((e) => ({ ...e, occurredAt: e.occurredAt ?? new Date() }));
  for (const sink of sinks) sink(stamped);
  inputs = stamped;
  await db.insert(events).values(
    inputs.map((e) => ({
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
    })),
  );
}
