import { and, eq, gte, sql } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import { contacts, payments } from '../schema';

/** The sum of a contact's payments from `since` on, in cents (0 when none): what a promise is checked against (C4). */
export async function sumPaymentsSince(
  db: DbOrTx,
  query: { tenantId: string; contactId: string; since: Date },
): Promise<number> {
  const [row] = await db
    .select({ total: sql<string | null>`sum(${payments.amountCents})` })
    .from(payments)
    .where(
      and(
        eq(payments.tenantId, query.tenantId),
        eq(payments.contactId, query.contactId),
        gte(payments.paidAt, query.since),
      ),
    );
  return Number(row?.total ?? 0);
}

export interface NewPayment {
  tenantId: string;
  /** The contact's phone, E.164 (the billing system knows the customer by it). */
  phone: string;
  amountCents: number;
  /** The billing system's id: recording the same payment twice records it once. */
  externalId: string;
  paidAt: Date;
}

/**
 * Records a payment the billing system reported, idempotent by its external id. `no_contact` when the tenant has no
 * contact with that phone; `recorded: false` when the payment was already there.
 */
export async function recordPayment(db: DbOrTx, payment: NewPayment): Promise<'no_contact' | { recorded: boolean }> {
  const [contact] = await db
    .select({ id: contacts.id })
    .from(contacts)
    .where(and(eq(contacts.tenantId, payment.tenantId), eq(contacts.phone, payment.phone)));
  if (!contact) return 'no_contact';
  const [row] = await db
    .insert(payments)
    .values({
      tenantId: payment.tenantId,
      contactId: contact.id,
      amountCents: payment.amountCents,
      externalId: payment.externalId,
      paidAt: payment.paidAt,
    })
    .onConflictDoNothing()
    .returning({ id: payments.id });
  return { recorded: Boolean(row) };
}
