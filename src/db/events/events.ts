import type { TraceContext } from '../../contract/types';
import type { DbOrTx } from '../core/client';
import { events } from '../schema';

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

/**
 * For statements that write their own events (one round trip with the rows they belong to): the events stamped and
 * encoded for `jsonb_to_recordset` (see EVENT_RECORDSET_COLUMNS). Once the statement has committed, hand the events
 * as finally written to publishEvents.
 */
export function eventRecordset(inputs: EventInput[]): { json: string; stamped: EventInput[] } {
  const stamped = inputs.map((e) => ({ ...e, occurredAt: e.occurredAt ?? new Date() }));
  const json = JSON.stringify(
    stamped.map((e) => ({
      trace_id: e.trace.traceId,
      span_id: e.trace.spanId,
      parent_id: e.trace.parentId ?? null,
      causal_trace_id: e.trace.causalTraceId ?? null,
      type: e.type,
      level: e.level ?? 'info',
      tenant_id: e.tenantId ?? null,
      contact_id: e.contactId ?? null,
      conversation_id: e.conversationId ?? null,
      message_id: e.messageId ?? null,
      payload: e.payload ?? {},
      occurred_at: e.occurredAt.toISOString(),
    })),
  );
  return { json, stamped };
}

/** Tells the sinks about events a statement wrote itself (see eventRecordset). */
export function publishEvents(written: EventInput[]): void {
  if (written.length === 0) return;
  for (const sink of sinks) sink(written);
}

/** The column list of an `eventRecordset` (use as `jsonb_to_recordset($json::jsonb) as e(<this>)`). */
export const EVENT_RECORDSET_COLUMNS =
  'trace_id text, span_id text, parent_id text, causal_trace_id text, type text, level text, tenant_id uuid, ' +
  'contact_id uuid, conversation_id uuid, message_id uuid, payload jsonb, occurred_at timestamptz';
