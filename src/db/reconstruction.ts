import { and, asc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Database } from './client';
import { contacts, conversations, events } from './schema';

export interface TraceEvent {
  id: string;
  type: string;
  level: string;
  spanId: string;
  parentId: string | null;
  traceId: string;
  causalTraceId: string | null;
  occurredAt: Date;
  conversationId: string | null;
  messageId: string | null;
  payload: Record<string, unknown>;
}

export interface TraceNode extends TraceEvent {
  children: TraceNode[];
}

const columns = {
  id: events.id,
  type: events.type,
  level: events.level,
  spanId: events.spanId,
  parentId: events.parentId,
  traceId: events.traceId,
  causalTraceId: events.causalTraceId,
  occurredAt: events.occurredAt,
  conversationId: events.conversationId,
  messageId: events.messageId,
  payload: events.payload,
};

/** Seed 001 §6: the events of one trace in time order, and as a tree by parent span. */
export async function transactionTrace(db: Database, tenantId: string, traceId: string) {
  const rows = await db
    .select(columns)
    .from(events)
    .where(and(eq(events.traceId, traceId), or(eq(events.tenantId, tenantId), isNull(events.tenantId))))
    .orderBy(asc(events.occurredAt), asc(events.id));
  if (rows.length === 0) return null;
  return { traceId, events: rows, tree: buildTree(rows) };
}

/** Nodes under their parent span; a parent with no event of its own (or in another trace) makes a root. */
export function buildTree(rows: TraceEvent[]): TraceNode[] {
  const nodes = rows.map((r) => ({ ...r, children: [] as TraceNode[] }));
  const bySpan = new Map<string, TraceNode>();
  for (const node of nodes) if (!bySpan.has(node.spanId)) bySpan.set(node.spanId, node);
  const roots: TraceNode[] = [];
  for (const node of nodes) {
    const parent = node.parentId ? bySpan.get(node.parentId) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

export interface JourneyCluster {
  traceId: string;
  causalTraceId: string | null;
  startedAt: Date;
  endedAt: Date;
  events: TraceEvent[];
}

/**
 * Seed 001 §6: everything that happened to a contact, by time, grouped into trace clusters with their causal
 * links. Events are found by contact or by one of the contact's conversations (so a broken chain that only
 * knew the conversation is still placed here).
 */
export async function contactJourney(db: Database, tenantId: string, phone: string) {
  const [contact] = await db
    .select({ id: contacts.id, name: contacts.name, phone: contacts.phone })
    .from(contacts)
    .where(and(eq(contacts.tenantId, tenantId), eq(contacts.phone, phone)));
  if (!contact) return null;
  const ids = (
    await db.select({ id: conversations.id }).from(conversations).where(eq(conversations.contactId, contact.id))
  ).map((r) => r.id);
  const rows = await db
    .select(columns)
    .from(events)
    .where(
      and(
        or(eq(events.tenantId, tenantId), isNull(events.tenantId)),
        or(eq(events.contactId, contact.id), ids.length > 0 ? inArray(events.conversationId, ids) : sql`false`),
      ),
    )
    .orderBy(asc(events.occurredAt), asc(events.id));
  const clusters = new Map<string, JourneyCluster>();
  for (const row of rows) {
    const cluster = clusters.get(row.traceId) ?? {
      traceId: row.traceId,
      causalTraceId: null,
      startedAt: row.occurredAt,
      endedAt: row.occurredAt,
      events: [],
    };
    cluster.events.push(row);
    cluster.causalTraceId ??= row.causalTraceId;
    if (row.occurredAt > cluster.endedAt) cluster.endedAt = row.occurredAt;
    clusters.set(row.traceId, cluster);
  }
  const list = [...clusters.values()].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
  const known = new Set(list.map((c) => c.traceId));
  const links = list
    .filter((c) => c.causalTraceId && known.has(c.causalTraceId))
    .map((c) => ({ from: c.causalTraceId!, to: c.traceId }));
  return { contact, clusters: list, links };
}
