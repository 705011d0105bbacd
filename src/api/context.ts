import type { Client } from '@temporalio/client';
import type { Env } from '../config/env';
import type { AuditOutcome } from '../db/operators/audit';
import type { Database } from '../db/core/client';
import type { Operator } from '../db/operators/users';
import type { Logger } from '../logger';
import type { Metrics, WebhookOutcome } from '../observability/metrics';
import type { InboxDrainer } from '../services/inbox';
import type { EncryptionCodec } from '../temporal/payload-codec';
import type { HostResolver } from '../integrations/public-media-url';
import { operatorContext, type OperatorContext } from '../services/context';

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
        | 'METRICS_TOKEN'
        | 'NODE_ENV'
      >
    >;
  db: Database;
  temporal: Client;
  log: Logger;
  clock?: () => Date;
  /** The payload codec behind /codec/decode and /codec/encode (the same keys as the worker); none: those answer 404. */
  payloadCodec?: EncryptionCodec | null;
  /** Issue 18 D: per-address sign-in and per-key API rate limits (defaults in src/api/limits.ts). */
  rateLimits?: Partial<RateLimits>;
  /** Resolves operator-supplied media hosts for the public-address check (issue 18 A); default: the system's DNS. */
  resolveHost?: HostResolver;
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
    /** What the audit record of this request should say beyond its route (src/api/audit.ts). */
    audit: AuditNote | undefined;
    /** Set by a webhook handler once it knows what became of the request (counted by causeway_webhooks_total). */
    webhookOutcome: WebhookOutcome | undefined;
    /** A rejection's reason when the error code alone says less (`unknown_account` rather than invalid_signature). */
    webhookReason: string | undefined;
  };
};

/** What a route tells the audit trail about its request (src/api/audit.ts); defined here so the context needs no import of it. */
export interface AuditNote {
  /** Replaces `METHOD /route` (e.g. `console.sign_in`). */
  action?: string;
  targetType?: string;
  targetId?: string;
  /** A console action answers 303 either way; it says here whether it was refused. */
  outcome?: AuditOutcome;
  /** Ids and enums only: never text an operator or a customer typed. */
  details?: Record<string, unknown>;
}

/** Token buckets of the sign-in and API rate limits (src/api/limits.ts). */
export interface RateLimits {
  /** Per client address, on /console/sign-in and /codec/session (each try of an API key). */
  signIn: { capacity: number; refillPerSecond: number };
  /** Per API key (its hash) or, without one, per address, on /api/*. */
  api: { capacity: number; refillPerSecond: number };
}

/** The use cases' context (src/services/context.ts) from the API's dependencies; built once per route group. */
export function serviceContext(deps: AppDeps): OperatorContext {
  return operatorContext({
    db: deps.db,
    temporal: deps.temporal,
    taskQueue: deps.env.TEMPORAL_TASK_QUEUE,
    log: deps.log,
    clock: deps.clock,
  });
}

/** The conversation actions' options from the API's dependencies (the media URL check's resolver and Twilio host). */
export const conversationOptions = (deps: AppDeps) => ({
  twilioApiBaseUrl: deps.env.TWILIO_API_BASE_URL,
  resolveHost: deps.resolveHost,
});
