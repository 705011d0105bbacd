import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import { messages } from '../schema';

/** The outbound messages sharing an inbound message's correlation id (its MessageSid): the replies to it. */
export function findRepliesTo(db: DbOrTx, correlationId: string) {
  return db
    .select({ body: messages.body, status: messages.status, sentBy: messages.sentBy })
    .from(messages)
    .where(and(eq(messages.correlationId, correlationId), eq(messages.direction, 'outbound')));
}
