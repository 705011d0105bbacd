import type { ActivityDeps } from '../../src/activities/deps';
import { createLedgerPaymentChecker } from '../../src/integrations/payments';
import { createScriptedResponder } from '../../src/integrations/scripted-responder';
import { createTwilioGateway } from '../../src/integrations/twilio-gateway';
import { createLogger } from '../../src/logger';
import { PUBLIC_BASE_URL, type Harness } from './harness';

export type ActivityDepsOverrides = Partial<Omit<ActivityDeps, 'config'>> & {
  config?: Partial<ActivityDeps['config']>;
};

/**
 * Activity dependencies for a test that calls activities or the sender directly, against the harness's database,
 * Temporal and fake Twilio: the real Twilio gateway and the offline responder, the run's config with timers that a
 * direct call never waits on. Typed by ActivityDeps, so a new dependency fails to compile here, once.
 */
export function testActivityDeps(
  h: Pick<Harness, 'db' | 'client' | 'env' | 'twilio'>,
  overrides: ActivityDepsOverrides = {},
): ActivityDeps {
  const { config, ...rest } = overrides;
  return {
    db: h.db,
    twilio: createTwilioGateway({ apiBaseUrl: h.twilio.url, timeoutMs: 15_000 }),
    ai: createScriptedResponder(),
    payments: createLedgerPaymentChecker(h.db),
    temporal: { client: h.client, taskQueue: h.env.TEMPORAL_TASK_QUEUE },
    log: createLogger('silent'),
    clock: () => new Date(),
    ...rest,
    config: {
      publicBaseUrl: PUBLIC_BASE_URL,
      timing: { debounceMs: 0, idleAfterMs: 1, closeAfterMs: 2, npsWaitMs: 0, maxTurnsPerRun: 1 },
      campaign: { deliveryTimeoutMs: 60_000 },
      promises: { reminderBeforeMs: 0, checkAfterMs: 0 },
      whatsappWindowMs: h.env.WHATSAPP_WINDOW,
      ...config,
    },
  };
}
