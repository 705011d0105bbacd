import { and, asc, desc, eq, gt, lte, ne, or, sql } from 'drizzle-orm';
import type { MediaItem, TraceContext } from '../../contract/types';
import { childSpan } from '../../domain/trace';
import type { Database, DbOrTx } from '../core/client';
import { recordEvents } from '../events/events';
import { aiResults, conversations, messages, tenants } from '../schema';
import type { AiResultRow } from './turn';

// Thread rotation (I13): the reads and the write of summarizeConversation (src/activities/ai.ts).

/** Messages a prompt may show: with text or media, not failed, newer than what the summary already covers. */
const usable = (conversationId: string, after: Date | null) =>
  and(
    eq(messages.conversationId, conversationId),
    or(ne(messages.body, ''), sql`${messages.media} <> '[]'::jsonb`),
    ne(messages.status, 'failed'),
    after ? gt(messages.createdAt, after) : undefined,
  );

export interface SummaryContext {
  assistantType: string;
  summary: string | null;
  summarizedUntil: Date | null;
  contactId: string;
  tenantLocale: string;
}

/** The conversation's summary so far and what it covers; undefined when there is no such conversation. */
export async function loadSummaryContext(db: DbOrTx, conversationId: string): Promise<SummaryContext | undefined> {
  const [row] = await db
    .select({
      assistantType: conversations.assistantType,
      summary: conversations.summary,
      summarizedUntil: conversations.summarizedUntil,
      contactId: conversations.contactId,
      tenantLocale: tenants.locale,
    })
    .from(conversations)
    .innerJoin(tenants, eq(tenants.id, conversations.tenantId))
    .where(eq(conversations.id, conversationId));
  return row;
}

export interface MessageToFold {
  direction: 'inbound' | 'outbound';
  body: string;
  media: MediaItem[];
  createdAt: Date;
}

/**
 * The usable messages after `after` that no longer fit the prompt window (the newest `historyWindow` stay out),
 * oldest first; empty when everything fits.
 */
export async function messagesToFold(
  db: DbOrTx,
  input: { conversationId: string; after: Date | null; historyWindow: number },
): Promise<MessageToFold[]> {
  const window = await db
    .select({ createdAt: messages.createdAt })
    .from(messages)
    .where(usable(input.conversationId, input.after))
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .offset(input.historyWindow - 1)
    .limit(1);
  const keepFrom = window[0]?.createdAt;
  if (!keepFrom) return [];
  return db
    .select({
      direction: messages.direction,
      body: messages.body,
      media: messages.media,
      createdAt: messages.createdAt,
    })
    .from(messages)
    .where(and(usable(input.conversationId, input.after), lte(messages.createdAt, new Date(keepFrom.getTime() - 1))))
    .orderBy(asc(messages.createdAt), asc(messages.id));
}

/**
 * The new summary, in one transaction: the conversation's summary and how far it reaches, the ai_results row of the
 * summarizing call and the conversation.summarized event.
 */
export async function recordSummary(
  db: Database,
  input: {
    summary: string;
    summarizedUntil: Date;
    messages: number;
    result: AiResultRow & { status: 'ok' };
    trace: TraceContext;
  },
): Promise<void> {
  const { result } = input;
  await db.transaction(async (tx) => {
    await tx
      .update(conversations)
      .set({ summary: input.summary, summarizedUntil: input.summarizedUntil, updatedAt: sql`now()` })
      .where(eq(conversations.id, result.conversationId));
    await tx.insert(aiResults).values(result);
    await recordEvents(tx, [
      {
        trace: childSpan(input.trace),
        type: 'conversation.summarized',
        tenantId: result.tenantId,
        conversationId: result.conversationId,
        payload: { messages: input.messages },
      },
    ]);
  });
}
