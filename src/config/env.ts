import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../domain/duration';
import { connectionOverrideProblems, RECOMMENDED_CONNECTION_OVERRIDES } from '../domain/twilio-overrides';
import { parsePayloadKeys } from './payload-key-spec';

/**
 * The one place that reads process.env. Every entry point calls loadEnv() (or readEnvOrExit()) once and passes
 * the result into factories; nothing reads the environment inside a request or an activity.
 */
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.url().optional());
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      try {
        return parseDuration(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });

/** A retention limit: `off` or `0` keeps everything; else a duration of at least a day, such as `180d`. */
function parseRetention(value: string, ctx: z.RefinementCtx): number | null {
  if (value === 'off' || value === '0') return null;
  try {
    const ms = parseDuration(value);
    if (ms < 86_400_000) ctx.addIssue({ code: 'custom', message: 'must be at least 1d (or off)' });
    return ms;
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
}
const retention = (unset: string) =>
  z
    .preprocess((v) => (v === '' || v === undefined ? unset : v), z.string())
    .transform((value, ctx) => (value === 'inherit' ? ('inherit' as const) : parseRetention(value, ctx)));

/** A media model setting: `off` → null; unset → the default with OpenAI itself, null with another endpoint. */
const mediaModel = (value: string | undefined, baseUrl: string | undefined, fallback: string): string | null =>
  value === 'off' ? null : (value ?? (baseUrl ? null : fallback));

const fields = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_BASE_URL: optionalUrl,
  DATABASE_URL: optionalUrl,
  CAUSEWAY_DATA_DIR: z.string().default('.data'),
  /**
   * Keys sealing secrets at rest (Twilio auth tokens): `id:base64,id:base64…`, newest first (it seals; all open).
   * Unset: the key file `npm start` creates in CAUSEWAY_DATA_DIR (secrets.key).
   */
  CAUSEWAY_SECRETS_KEYS: optionalString,
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('causeway'),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  TEMPORAL_CLI_PATH: optionalString,
  /** `npm run cluster`: explicit paths of the Temporal server, its SQL tool and the Web UI server (else PATH, cache, build). */
  TEMPORAL_SERVER_PATH: optionalString,
  TEMPORAL_SQL_TOOL_PATH: optionalString,
  TEMPORAL_UI_SERVER_PATH: optionalString,
  /** Where operators open the Web UI (printed links); default: the local dev server's UI. */
  TEMPORAL_UI_URL: optionalUrl,
  TWILIO_ACCOUNT_SID: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits')
      .optional(),
  ),
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_PHONE_NUMBER: optionalString,
  TWILIO_API_BASE_URL: z.url().default('https://api.twilio.com'),
  /**
   * The connection overrides configured on the webhook URLs in Twilio (the part after `#`), so signatures Twilio
   * computed over the URL with its fragment verify too; '' when the URLs carry none.
   */
  TWILIO_CONNECTION_OVERRIDES: z
    .string()
    .default(RECOMMENDED_CONNECTION_OVERRIDES)
    .transform((v) => v.replace(/^#/, ''))
    .superRefine((v, ctx) => {
      for (const message of connectionOverrideProblems(v)) ctx.addIssue({ code: 'custom', message });
    }),
  /**
   * Payload encryption keys, `<id>:<base64 of 32 bytes>` separated by commas, newest first: the first encrypts,
   * all decrypt (rotation). Unset: see src/temporal/payload-keys.ts (npm start makes a local key).
   */
  /**
   * Issue 18 B: `refuse` makes workers and clients reject payloads that are not encrypted (a forged plain-JSON start
   * or signal fails its workflow task instead of running); `accept` lets them through (histories written before
   * encryption). Default: refuse in production, accept elsewhere.
   */
  CAUSEWAY_PLAINTEXT_PAYLOADS: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['refuse', 'accept']).optional()),
  CAUSEWAY_PAYLOAD_KEYS: z
    .preprocess((v) => (v === '' ? undefined : v), z.string().optional())
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      try {
        return parsePayloadKeys(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /** Origin allowed to call the codec endpoint (the Web UI); default: TEMPORAL_UI_URL's origin, else the local dev UI. */
  CODEC_CORS_ORIGINS: optionalString,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  /** Issue 18 E: AI calls one conversation may make in any hour; past it the conversation goes to a human. */
  AI_MAX_TURNS_PER_CONVERSATION_HOUR: z.coerce.number().int().min(1).max(10_000).default(30),
  /**
   * Issue 18 E: AI tokens (prompt + completion) one tenant may spend in any 24 h; past it every conversation that
   * wants an AI turn goes to a human. 5M is ~2,500 turns of a 2k-token prompt: generous for a desk, a ceiling
   * for a runaway. Per tenant: `causeway tenant update --ai-max-tokens-per-day`.
   */
  AI_MAX_TOKENS_PER_TENANT_DAY: z.coerce.number().int().min(1).default(5_000_000),
  /** Issue 18 E: a promise to pay may fall at most this many days ahead (per tenant: --promise-max-days). */
  PROMISE_MAX_DAYS_AHEAD: z.coerce.number().int().min(1).max(3650).default(60),
  /**
   * `openai` or `scripted` (the offline keyword responder). Unset: openai when OPENAI_API_KEY is set; else scripted
   * under `npm start` and outside production, while production refuses to start (src/config/ai-provider.ts).
   */
  AI_PROVIDER: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['openai', 'scripted']).optional()),
  /**
   * Issue 23 C: the model that transcribes voice notes (`/v1/audio/transcriptions`) and the vision-capable chat model
   * that describes images. Unset: on with OpenAI itself (no OPENAI_BASE_URL: gpt-4o-mini-transcribe and OPENAI_MODEL),
   * off with another endpoint (it may not serve them); `off` turns one off.
   */
  AI_TRANSCRIBE_MODEL: optionalString,
  AI_VISION_MODEL: optionalString,
  /** Media larger than this (bytes) or voice notes longer than this are not sent to the model (their description stays). */
  AI_MEDIA_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(16 * 1024 * 1024),
  AI_MEDIA_MAX_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  /**
   * Upper bound on the tokens one AI answer may generate (OpenAI's max_completion_tokens, set on every call; issue 18
   * E and 23 A): a reply is a few WhatsApp lines; an answer cut at the bound is not sent.
   */
  AI_MAX_COMPLETION_TOKENS: z.coerce.number().int().min(16).max(100_000).default(1024),
  MESSAGE_DEBOUNCE: duration('2s'),
  CONVERSATION_IDLE_AFTER: duration('10m'),
  CONVERSATION_CLOSE_AFTER: duration('30m'),
  NPS_WAIT: duration('24h'),
  /** Desk (issue 20 A): an agent answered and the customer went silent this long → resolved with the closing message. */
  HUMAN_CLOSE_AFTER: duration('24h'),
  /** Desk SLAs (issue 20 C), counted in desk hours; a department may set its own (`causeway desk sla set`). */
  DESK_FIRST_RESPONSE_SLA: duration('15m'),
  DESK_NEXT_RESPONSE_SLA: duration('15m'),
  CAMPAIGN_DELIVERY_TIMEOUT: duration('15m'),
  PROMISE_REMINDER_BEFORE: duration('24h'),
  PROMISE_CHECK_AFTER: duration('24h'),
  /** Reconciliation with Twilio's message log: how often each tenant's Schedule runs it. */
  RECONCILE_INTERVAL: duration('10m'),
  /** An outbound message with no final status this long after it was sent gets Twilio's current status. */
  RECONCILE_SETTLE_AFTER: duration('15m'),
  /** Pages (of 200 messages) one run lists per Twilio account at most: a run stays bounded on a busy account. */
  RECONCILE_MAX_PAGES: z.coerce.number().int().min(1).max(1000).default(25),
  /**
   * How far back a scheduled run may reach to catch up after an outage (to the last run that completed). Twilio
   * keeps the message log far longer; the page limit (RECONCILE_MAX_PAGES) bounds each run's work.
   */
  RECONCILE_MAX_LOOKBACK: duration('7d'),
  WHATSAPP_WINDOW: duration('24h'),
  /** A resend after a retryable delivery error (30008, 63018…) waits this × 4^n (n = resends so far): 30 s, 2 min. */
  DELIVERY_RETRY_BACKOFF: duration('30s'),
  /**
   * Issue 21 D: an acknowledged inbound message with no outcome (reply, handoff, hold, refusal, recorded failure)
   * this long after it arrived raises one `inbound_stuck` alert and counts in causeway_inbound_without_outcome.
   */
  INBOUND_OUTCOME_SLA: duration('2m'),
  /** Hybrid mode: an AI draft no agent sent, edited or rejected this long raises a `draft_unattended` alert. */
  HYBRID_DRAFT_TIMEOUT: duration('5m'),
  /**
   * F: message bodies (and media links) older than this are blanked by the daily `retention` Schedule. Issue 18 H:
   * 180 days by default (LGPD art. 6 III, necessity; docs/privacy.md); a tenant may keep longer
   * (`causeway tenant update --retention-days`); `off` keeps everything.
   */
  RETENTION_MESSAGE_BODIES: retention('180d'),
  /** F: AI result texts and thread summaries; unset: the same limit as RETENTION_MESSAGE_BODIES (they quote it). */
  RETENTION_AI_TEXTS: retention('inherit'),
  /** A draining worker (SIGTERM, deploy) cancels activities still running after this long, so a drain ends. */
  WORKER_SHUTDOWN_FORCE_AFTER: duration('30s'),
  /**
   * Issue 25 B: workflows kept in the worker's sticky cache. Each cached conversation holds its workflow state and
   * isolate context, about 2 MB of RSS measured; the SDK's default scales with the V8 heap limit (≈ 2,300 on this
   * 24 GiB machine, ≈ 4.5 GB), so memory grew with every open conversation. A bounded cache keeps the worker's memory
   * flat whatever the number of open conversations: an evicted one replays its (continue-as-new bounded) history
   * when its next message or timer comes. The worker's V8 heap limit is sized from it (src/config/worker-heap.ts:
   * 256 MB + 1.5 MB per cached workflow), which is what keeps its RSS bounded: 500 ≈ 1.3 GB.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(500),
  /** A standalone worker's Prometheus /metrics port (all interfaces); 0 = no metrics listener. */
  /**
   * Issue 18 D: the bearer token /metrics asks for (API and workers). Unset: open outside production, and the API's
   * /metrics is off in production (a worker's stays on its own, unpublished port).
   */
  METRICS_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16).optional()),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Loopback port of the Temporal SDK's own exporter, appended to the worker's /metrics; default WORKER_METRICS_PORT + 1. */
  WORKER_SDK_METRICS_PORT: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce.number().int().min(1).max(65535).optional(),
  ),
  /** Set by `npm start` for its child processes: DATABASE_URL is the embedded PGlite server (one shared session). */
  CAUSEWAY_EMBEDDED_DATABASE: z.enum(['0', '1']).default('0'),
  CONVERSATION_MAX_TURNS_PER_RUN: z.coerce.number().int().min(1).max(10_000).default(200),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  OTEL_SERVICE_NAME: z.string().min(1).default('causeway'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TEST_DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/postgres'),
  /** `npm run bench`: targets of the large-campaign measurement (C6 asks for 100k). */
  BENCH_CAMPAIGN_TARGETS: z.coerce.number().int().min(100).max(1_000_000).default(100_000),
  /** `npm run bench -- campaign`: the pacing limits measured, per second, comma-separated (issue 25 C). */
  BENCH_CAMPAIGN_LIMITS: z
    .string()
    .default('50,100,200')
    .transform((v, ctx) => {
      const limits = v.split(',').map((x) => Number(x.trim()));
      if (limits.some((l) => !Number.isInteger(l) || l < 1 || l > 1000))
        ctx.addIssue({ code: 'custom', message: 'a comma-separated list of whole sends per second, 1 to 1000' });
      return limits;
    }),
  /** Tests: `1` writes the workflow histories of selected scenarios to test/fixtures/histories (replay fixtures). */
  CAUSEWAY_RECORD_HISTORIES: z.enum(['0', '1']).default('0'),
  XDG_CACHE_HOME: optionalString,
  PATH: z.string().default(''),
  /** Node's own; a worker's gets its heap limit added unless it has one (src/config/worker-heap.ts). */
  NODE_OPTIONS: optionalString,
});

/** Every variable the service reads (docker-compose.yml's pass-through list is checked against it). */
export const ENV_VARIABLES = Object.keys(fields.shape);

/** WORKER_MAX_CACHED_WORKFLOWS alone, as loadEnv reads it (the worker's heap limit is sized from it before it starts). */
export function maxCachedWorkflowsOf(source: Record<string, string | undefined>): number | null {
  const parsed = fields.shape.WORKER_MAX_CACHED_WORKFLOWS.safeParse(source.WORKER_MAX_CACHED_WORKFLOWS);
  return parsed.success ? parsed.data : null;
}

const schema = fields
  .superRefine((env, ctx) => {
    const twilio = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_PHONE_NUMBER];
    if (twilio.some(Boolean) && !twilio.every(Boolean)) {
      ctx.addIssue({
        code: 'custom',
        path: ['TWILIO_ACCOUNT_SID'],
        message: 'set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER together, or none of them',
      });
    }
    if (env.RECONCILE_INTERVAL < 60_000) {
      ctx.addIssue({
        code: 'custom',
        path: ['RECONCILE_INTERVAL'],
        message: "must be at least 1m (each run lists Twilio's log)",
      });
    }
    if (
      env.WORKER_METRICS_PORT !== 0 &&
      (env.WORKER_SDK_METRICS_PORT ?? env.WORKER_METRICS_PORT + 1) === env.WORKER_METRICS_PORT
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKER_SDK_METRICS_PORT'],
        message: 'must differ from WORKER_METRICS_PORT',
      });
    }
    if (env.CONVERSATION_CLOSE_AFTER <= env.CONVERSATION_IDLE_AFTER) {
      ctx.addIssue({
        code: 'custom',
        path: ['CONVERSATION_CLOSE_AFTER'],
        message: 'must be longer than CONVERSATION_IDLE_AFTER',
      });
    }
  })
  .transform((env) => ({
    ...env,
    PUBLIC_BASE_URL: (env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    CAUSEWAY_PLAINTEXT_PAYLOADS:
      env.CAUSEWAY_PLAINTEXT_PAYLOADS ?? (env.NODE_ENV === 'production' ? ('refuse' as const) : ('accept' as const)),
    CAUSEWAY_DATA_DIR: path.resolve(env.CAUSEWAY_DATA_DIR),
    WORKER_SDK_METRICS_PORT: env.WORKER_SDK_METRICS_PORT ?? Math.min(65535, env.WORKER_METRICS_PORT + 1),
    RETENTION_MESSAGE_BODIES: env.RETENTION_MESSAGE_BODIES === 'inherit' ? null : env.RETENTION_MESSAGE_BODIES,
    RETENTION_AI_TEXTS:
      env.RETENTION_AI_TEXTS === 'inherit'
        ? env.RETENTION_MESSAGE_BODIES === 'inherit'
          ? null
          : env.RETENTION_MESSAGE_BODIES
        : env.RETENTION_AI_TEXTS,
    AI_TRANSCRIBE_MODEL: mediaModel(env.AI_TRANSCRIBE_MODEL, env.OPENAI_BASE_URL, 'gpt-4o-mini-transcribe'),
    AI_VISION_MODEL: mediaModel(env.AI_VISION_MODEL, env.OPENAI_BASE_URL, env.OPENAI_MODEL),
    CACHE_DIR: path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'causeway'),
  }));

export type Env = z.infer<typeof schema>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
  }
  return parsed.data;
}

/** The environment for a child process this service spawns (a build tool), with `extra` on top. */
export function childProcessEnv(extra: Record<string, string>): Record<string, string | undefined> {
  return { ...process.env, ...extra };
}

/** For entry points: print the field errors and exit instead of a stack trace. */
export function readEnvOrExit(overrides: Record<string, string | undefined> = {}): Env {
  try {
    return loadEnv({ ...process.env, ...overrides });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
