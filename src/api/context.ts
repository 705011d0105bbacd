import type { Client } from '@temporalio/client';
import type { Env } from '../config/env';
import type { Database } from '../db/client';
import type { Operator } from '../db/users';
import type { Logger } from '../logger';
import type { Metrics, WebhookOutcome } from '../observability/metrics';
import type { InboxDrainer } from '../temporal/inbox-drainer';
import type { EncryptionCodec } from '../temporal/payload-codec';

export interface AppDeps {
  env: Pick<Env, 'PUBLIC_BASE_URL' | 'TEMPORAL_TASK_QUEUE'> &
    Partial<
      Pick<
        Env,
        | 'TWILIO_CONNECTION_OVERRIDES'
        | 'DELIVERY_RETRY_BACKOFF'
        | 'TEMPORAL_NAMESPACE'
        | 'TEMPORAL_UI_URL'
        | 'TEMPORAL_UI_PORT'
        | 'CODEC_CORS_ORIGINS'
        | 'TWILIO_API_BASE_URL'
      >
    >;
  db: Database;
  temporal: Client;
  log: Logger;
  clock?: () => Date;
  /** The payload codec behind /codec/decode and /codec/encode (the same keys as the worker); none: those answer 404. */
  payloadCodec?: EncryptionCodec | null;
  /** Drains messages the webhook parked while Temporal was down; made by createApp when not given. */
  inboxDrainer?: InboxDrainer;
  /** The API's series (GET /metrics); made by createApp, with the database gauges, when not given. */
  metrics?: Metrics;
  webhook?: {
    /** How long a resolved tenant / account is reused (default 10 s); past it, served only while the database is down. */
    tenantCacheTtlMs?: number;
    /** How long the webhook waits for Temporal to accept a start before parking the message (default 5 s). */
    startDeadlineMs?: number;
  };
}

export type AppEnv = {
  Variables: {
    requestId: string;
    log: Logger;
    operator: Operator;
    /** Set by a webhook handler once it knows what became of the request (counted by causeway_webhooks_total). */
    webhookOutcome: WebhookOutcome | undefined;
    /** A rejection's reason when the error code alone says less (`unknown_account` rather than invalid_signature). */
    webhookReason: string | undefined;
  };
};
