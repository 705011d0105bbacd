import { and, asc, eq, exists, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import { hasRole } from '../../domain/api-keys';
import type { Database } from '../core/client';
import { visibleTo } from '../conversations/console';
import { contacts, conversations, events, outbox, sendDecisions } from '../schema';
import type { Operator } from '../operators/users';

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

/** The most events one API answer carries; the next page starts at `nextCursor`. */
export const RECONSTRUCTION_PAGE = 500;

export interface ReconstructionPage {
  /** Whose view: an AGENT sees only events of conversations visible to them (visibleTo); absent = everything. */
  viewer?: Pick<Operator, 'id' | 'tenantId' | 'role' | 'department'>;
  /** The previous page's `nextCursor`. */
  after?: string | null;
  /** Page size; absent = every event (the CLI, run by whoever holds the database anyway). */
  limit?: number;
}

/** Opaque page cursor: the last event's timestamp as Postgres prints it (microseconds kept) and its id. */
export function encodeCursor(at: string, id: string) {
  return Buffer.from(`${at}|${id}`).toString('base64url');
}
export function decodeCursor(cursor: string): { at: string; id: string } | null {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!at || !id || !/^[0-9a-f-]{36}$/.test(id) || !/^\d{4}-\d\d-\d\d[ T][\d:.]+[+-]\d\d(:\d\d)?$/.test(at))
    return null;
  return { at, id };
}

export class CursorError extends Error {
  override readonly name = 'CursorError';
}

/**
 * Issue 18 F: what an AGENT may see of the events. An event of a conversation counts when that conversation is
 * visible to them; an event with no conversation (the webhook's, a campaign send) when its contact has a
 * conversation visible to them; events naming neither (campaign-wide) are not theirs. SUPERVISOR and ADMIN: all.
 */
function eventsVisibleTo(db: Database, viewer: ReconstructionPage['viewer']): SQL | undefined {
  if (!viewer || hasRole(viewer.role, 'SUPERVISOR')) return undefined;
  return or(
    exists(
      db
        .select({ one: sql`1` })
        .from(conversations)
        .where(and(eq(conversations.id, events.conversationId), visibleTo(viewer))),
    ),
    and(
      isNull(events.conversationId),
      exists(
        db
          .select({ one: sql`1` })
          .from(conversations)
          .where(and(eq(conversations.contactId, events.contactId), visibleTo(viewer))),
      ),
    ),
  );
}

async function pageOfEvents(db: Database, where: (SQL | undefined)[], page: ReconstructionPage) {
  const cursor = page.after ? decodeCursor(page.after) : null;
  if (page.after && !cursor) throw new CursorError('invalid cursor');
  const rows = await db
    .select({ ...columns, cursorAt: sql<string>`${events.occurredAt}::text` })
    .from(events)
    .where(
      and(
        ...where,
        eventsVisibleTo(db, page.viewer),
        cursor
          ? sql`(${events.occurredAt}, ${events.id}) > (${cursor.at}::timestamptz, ${cursor.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(asc(events.occurredAt), asc(events.id))
    .limit(page.limit !== undefined ? page.limit + 1 : Number.MAX_SAFE_INTEGER);
  const more = page.limit !== undefined && rows.length > page.limit;
  const kept = more ? rows.slice(0, page.limit) : rows;
  const last = kept[kept.length - 1];
  return {
    rows: kept.map(({ cursorAt: _c, ...row }) => row),
    nextCursor: more && last ? encodeCursor(last.cursorAt, last.id) : null,
  };
}

/**
 * Seed 001 §6: the events of one trace in time order, and as a tree by parent span. Paged (issue 18 F): a 100k-target
 * campaign's trace is read 500 events at a time; the tree is of the page.
 */
export async function transactionTrace(db: Database, tenantId: string, traceId: string, page: ReconstructionPage = {}) {
  const { rows, nextCursor } = await pageOfEvents(
    db,
    [eq(events.traceId, traceId), or(eq(events.tenantId, tenantId), isNull(events.tenantId))],
    page,
  );
  if (rows.length === 0) return null;
  return { traceId, events: rows, tree: buildTree(rows), nextCursor };
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
/** The events that say a message went out: the journey shows the policy decision it went out on (issue 21 C). */
const SENT_EVENTS = new Set(['reply.sent', 'campaign.send']);

/**
 * Issue 21 C: each sent message's decision in brief (the whole record is `GET /api/messages/:id/why`): the verdict,
 * purpose, rule table version, each check's name and result, and Twilio's price once reconciliation has it.
 */
async function decisionsOf(db: Database, tenantId: string, messageIds: string[]) {
  const found = new Map<
    string,
    {
      decision: string;
      purpose: string;
      rulesVersion: string;
      price: string | null;
      priceUnit: string | null;
      checks: { name: string; result: string }[];
    }
  >();
  if (messageIds.length === 0) return found;
  const rows = await db
    .select({
      messageId: outbox.messageId,
      decision: sendDecisions.decision,
      purpose: sendDecisions.purpose,
      rulesVersion: sendDecisions.rulesVersion,
      price: sendDecisions.price,
      priceUnit: sendDecisions.priceUnit,
      checks: sendDecisions.checks,
    })
    .from(sendDecisions)
    .innerJoin(outbox, eq(outbox.idempotencyKey, sendDecisions.idempotencyKey))
    .where(and(eq(sendDecisions.tenantId, tenantId), inArray(outbox.messageId, [...new Set(messageIds)])));
  for (const { messageId, checks, ...rest } of rows)
    if (messageId)
      found.set(messageId, {
        ...rest,
        checks: checks.map((c) => ({ name: String(c.name), result: String(c.result) })),
      });
  return found;
}

export async function contactJourney(db: Database, tenantId: string, phone: string, page: ReconstructionPage = {}) {
  const [contact] = await db
    .select({ id: contacts.id, name: contacts.name, phone: contacts.phone })
    .from(contacts)
    .where(and(eq(contacts.tenantId, tenantId), eq(contacts.phone, phone)));
  if (!contact) return null;
  const visible = page.viewer
    ? and(eq(conversations.contactId, contact.id), visibleTo(page.viewer))
    : eq(conversations.contactId, contact.id);
  const ids = (await db.select({ id: conversations.id }).from(conversations).where(visible)).map((r) => r.id);
  // Issue 18 F: an AGENT with no conversation of this contact in sight gets nothing, not even the name (no
  // phone → name lookup across departments); the caller answers 404 as for an unknown contact.
  if (page.viewer && !hasRole(page.viewer.role, 'SUPERVISOR') && ids.length === 0) return null;
  const { rows, nextCursor } = await pageOfEvents(
    db,
    [
      or(eq(events.tenantId, tenantId), isNull(events.tenantId)),
      or(eq(events.contactId, contact.id), ids.length > 0 ? inArray(events.conversationId, ids) : sql`false`),
    ],
    page,
  );
  const decisions = await decisionsOf(
    db,
    tenantId,
    rows.filter((r) => SENT_EVENTS.has(r.type) && r.messageId).map((r) => r.messageId!),
  );
  const clusters = new Map<string, JourneyCluster>();
  for (const plain of rows) {
    const decision = plain.messageId && SENT_EVENTS.has(plain.type) ? decisions.get(plain.messageId) : undefined;
    const row = decision ? { ...plain, decision } : plain;
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
  return { contact, clusters: list, links, nextCursor };
}
