import { and, desc, eq, gte, lt, or, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { ConversationStatus } from '../../contract';
import type { Database } from '../core/client';
import { visibleTo } from './console';
import { contacts, conversations, messages, users } from '../schema';
import type { Operator } from '../operators/users';

export interface ConversationSearch {
  /** Words searched in message bodies (Portuguese full-text) and in the contact's name (trigram / full-text). */
  q?: string;
  /** The contact's keyed hash (the caller turns an E.164 number into it): never a LIKE on a phone. */
  phoneHash?: string;
  status?: ConversationStatus;
  department?: string;
  /** Conversations started at or after `from` and before `to`. */
  from?: Date;
  to?: Date;
  /** Keyset: rows strictly after this one in (started_at desc, id desc) order. */
  after?: { startedAt: Date; id: string };
  limit: number;
}

const agent = alias(users, 'search_agent');

/** `%`, `_` and `\` in a user's words match themselves in ILIKE. */
const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

/**
 * One page of the operator's conversations matching `query`, newest first, department-scoped like every console
 * read (visibleTo). Returns up to `limit` rows and whether more follow. Message matches go through the GIN index on
 * to_tsvector('portuguese', body) (an IN over the tenant's matching messages, not a per-row test); the contact name
 * through the pg_trgm index (ILIKE) or full-text on the name (`simple`, no stemming: names are not Portuguese words).
 */
export async function searchConversations(db: Database, operator: Operator, query: ConversationSearch) {
  const where: (SQL | undefined)[] = [visibleTo(operator)];
  if (query.status) where.push(eq(conversations.status, query.status));
  if (query.department) where.push(eq(conversations.department, query.department));
  if (query.from) where.push(gte(conversations.startedAt, query.from));
  if (query.to) where.push(lt(conversations.startedAt, query.to));
  if (query.phoneHash)
    where.push(and(eq(contacts.tenantId, operator.tenantId), eq(contacts.phoneHash, query.phoneHash)));
  if (query.after)
    where.push(
      sql`(${conversations.startedAt}, ${conversations.id}) < (${query.after.startedAt.toISOString()}::timestamptz, ${query.after.id}::uuid)`,
    );
  const q = query.q?.trim();
  if (q) {
    const words = sql`websearch_to_tsquery('portuguese', ${q})`;
    where.push(
      or(
        sql`${conversations.id} in (select ${messages.conversationId} from ${messages} where ${messages.tenantId} = ${operator.tenantId} and to_tsvector('portuguese', ${messages.body}) @@ ${words})`,
        sql`${contacts.name} ilike ${likePattern(q)}`,
        sql`to_tsvector('simple', coalesce(${contacts.name}, '')) @@ websearch_to_tsquery('simple', ${q})`,
      ),
    );
  }
  const rows = await db
    .select({
      id: conversations.id,
      status: conversations.status,
      channel: conversations.channel,
      department: conversations.department,
      assignedAgent: conversations.assignedAgent,
      assignedAgentName: agent.name,
      startedAt: conversations.startedAt,
      lastMessageAt: conversations.lastMessageAt,
      closedAt: conversations.closedAt,
      resolvedBy: conversations.resolvedBy,
      contact: { id: contacts.id, name: contacts.name, phone: contacts.phone },
    })
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .leftJoin(agent, eq(agent.id, conversations.assignedAgent))
    .where(and(...where))
    .orderBy(desc(conversations.startedAt), desc(conversations.id))
    .limit(query.limit + 1);
  return { rows: rows.slice(0, query.limit), more: rows.length > query.limit };
}
export type SearchRow = Awaited<ReturnType<typeof searchConversations>>['rows'][number];
