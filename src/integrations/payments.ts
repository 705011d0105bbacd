import type { Database } from '../db/core/client';
import { sumPaymentsSince } from '../db/campaigns/payment-ledger';

export interface PaymentQuery {
  tenantId: string;
  contactId: string;
  promiseId: string;
  amountCents: number;
  /** Payments from this instant on count towards the promise. */
  since: Date;
}

export interface PaymentCheckResult {
  paid: boolean;
  paidCents: number;
}

/** Where the promise check asks whether a customer paid (C4): pluggable, so a tenant's billing system can answer. */
export interface PaymentChecker {
  check(query: PaymentQuery): Promise<PaymentCheckResult>;
}

/**
 * The default checker reads the `payments` ledger that the billing system feeds through `POST /api/payments`:
 * a promise is kept when the contact's payments since it was made add up to the promised amount.
 */
export function createLedgerPaymentChecker(db: Database): PaymentChecker {
  return {
    async check(query) {
      const paidCents = await sumPaymentsSince(db, query);
      return { paid: paidCents >= query.amountCents, paidCents };
    },
  };
}
