import type { MediaUnderstanding } from '../integrations/media-understanding';
import type { PaymentChecker } from '../integrations/payments';
import type { ServiceContext } from '../services/context';

/**
 * Everything activities may touch, built once in worker.ts; tests pass their own, checked by the compiler. It is a
 * whole service context (src/services/context.ts), so an activity hands `deps` to a use case as it is.
 */
export interface ActivityDeps extends ServiceContext {
  payments: PaymentChecker;
  /**
   * Issue 23 C: voice notes and images read by the model (null/absent: off, they stay `[audio 0:12]`, `[image]`).
   * `twilioOrigins`: the only origins media is fetched from with a tenant's credentials.
   */
  media?: { understanding: MediaUnderstanding; maxBytes: number; maxSeconds: number; twilioOrigins: string[] } | null;
}
