import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import { conversationNotes, users } from '../schema';

/** Adds an internal note (agents only; never sent, never in the AI's context: it is not a message). */
export async function addConversationNote(
  db: DbOrTx,
  input: { tenantId: string; conversationId: string; authorId: string | null; body: string },
) {
  const [row] = await db.insert(conversationNotes).values(input).returning();
  return row!;
}

/** The conversation's notes, oldest first, with their authors' names. */
export async function conversationNotesOf(db: DbOrTx, conversationId: string) {
  return db
    .select({
      id: conversationNotes.id,
      body: conversationNotes.body,
      createdAt: conversationNotes.createdAt,
      authorId: conversationNotes.authorId,
      author: users.name,
    })
    .from(conversationNotes)
    .leftJoin(users, eq(users.id, conversationNotes.authorId))
    .where(eq(conversationNotes.conversationId, conversationId))
    .orderBy(asc(conversationNotes.createdAt), asc(conversationNotes.id));
}

/** Erasure: the notes of the contact's conversations lose their text (agents write about the person). */
export async function eraseConversationNotes(db: DbOrTx, conversationIds: string[], erased: string) {
  if (conversationIds.length === 0) return 0;
  const rows = await db
    .update(conversationNotes)
    .set({ body: erased })
    .where(inArray(conversationNotes.conversationId, conversationIds))
    .returning({ id: conversationNotes.id });
  return rows.length;
}

/** Retention: blanks up to `limit` notes older than `cutoff` (same batches as message bodies). */
export async function blankNotesBefore(db: DbOrTx, cutoff: Date, limit: number): Promise<number> {
  const rows = await db.execute<{ id: string }>(sql`
    update ${conversationNotes} set body = ''
    where id in (select id from ${conversationNotes} where ${conversationNotes.createdAt} < ${cutoff.toISOString()}::timestamptz and ${conversationNotes.body} <> ''
                 limit ${limit} for update skip locked)
    returning id`);
  return rows.length;
}
