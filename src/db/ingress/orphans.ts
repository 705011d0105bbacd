import type { DbOrTx } from '../core/client';
import { orphanInbound } from '../schema';

/**
 * Keeps a verified inbound message for a number no tenant owns (I2: no fallback tenant), for an operator to look
 * at; a redelivered webhook for the same MessageSid is kept once.
 */
export async function recordOrphanInbound(
  db: DbOrTx,
  orphan: {
    messageSid: string;
    accountSid: string;
    toAddress: string;
    reason: string;
    payload: Record<string, string>;
  },
): Promise<void> {
  await db.insert(orphanInbound).values(orphan).onConflictDoNothing({ target: orphanInbound.messageSid });
}
