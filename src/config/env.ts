import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../domain/duration';
import { connectionOverrideProblems, RECOMMENDED_CONNECTION_OVERRIDES } from '../domain/twilio-overrides';

/**
 * The one place that reads process.env. Every entry point calls loadEnv() (or readEnvOrExit()) once and passes
 * the result into factories; nothing reads the environment inside a request or an activity.
 */
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.url().optional());
const duration = (fallback: string) =>
  z.string().default(fallback).transform((value, ctx) => {
    try {
      return parseDuration(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    PUBLIC_BASE_URL: optionalUrl,
    DATABASE_URL: optionalUrl,
    CAUSEWAY_DATA_DIR: z.string().default('.data'),
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
    TWILIO_ACCOUNT_SID: z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits').optional()),
    TWILIO_AUTH_TOKEN: optionalString,
    TWILIO_PHONE_NUMBER: optionalString,
    TWILIO_API_BASE_URL: z.url().default('https://api.twilio.com'),
    /**
     * The connection overrides configured on the webhook URLs in Twilio (the part after `#`), so signatures Twilio
     * computed over the URL with its fragment verify too; '' when the URLs carry none.
     */
    TWILIO_CONNECTION_OVERRIDES: z.string().default(RECOMMENDED_CONNECTION_OVERRIDES).transform((v) => v.replace(/^#/, ''))
      .superRefine((v, ctx) => { for (const message of connectionOverrideProblems(v)) ctx.addIssue({ code: 'custom', message }); }),
    OPENAI_API_KEY: optionalString,
    OPENAI_BASE_URL: optionalUrl,
    OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
    MESSAGE_DEBOUNCE: duration('2s'),
    CONVERSATION_IDLE_AFTER: duration('10m'),
    CONVERSATION_CLOSE_AFTER: duration('30m'),
    NPS_WAIT: duration('24h'),
    CAMPAIGN_DELIVERY_TIMEOUT: duration('15m'),
    PROMISE_REMINDER_BEFORE: duration('24h'),
    PROMISE_CHECK_AFTER: duration('24h'),
    /** Reconciliation with Twilio's message log: how often each tenant's Schedule runs it. */
    RECONCILE_INTERVAL: duration('10m'),
    /** An outbound message with no final status this long after it was sent gets Twilio's current status. */
    RECONCILE_SETTLE_AFTER: duration('15m'),
    /** Pages (of 200 messages) one run lists per Twilio account at most: a run stays bounded on a busy account. */
    RECONCILE_MAX_PAGES: z.coerce.number().int().min(1).max(1000).default(25),
    WHATSAPP_WINDOW: duration('24h'),
    /** A draining worker (SIGTERM, deploy) cancels activities still running after this long, so a drain ends. */
    WORKER_SHUTDOWN_FORCE_AFTER: duration('30s'),
    /** Set by `npm start` for its child processes: DATABASE_URL is the embedded PGlite server (one shared session). */
    CAUSEWAY_EMBEDDED_DATABASE: z.enum(['0', '1']).default('0'),
    CONVERSATION_MAX_TURNS_PER_RUN: z.coerce.number().int().min(1).max(10_000).default(200),
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
    OTEL_SERVICE_NAME: z.string().min(1).default('causeway'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TEST_DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/postgres'),
    /** `npm run bench`: targets of the large-campaign measurement (C6 asks for 100k). */
    BENCH_CAMPAIGN_TARGETS: z.coerce.number().int().min(100).max(1_000_000).default(100_000),
    /** Tests: `1` writes the workflow histories of selected scenarios to test/fixtures/histories (replay fixtures). */
    CAUSEWAY_RECORD_HISTORIES: z.enum(['0', '1']).default('0'),
    XDG_CACHE_HOME: optionalString,
    PATH: z.string().default(''),
  })
  .superRefine((env, ctx) => {
    const twilio = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_PHONE_NUMBER];
    if (twilio.some(Boolean) && !twilio.every(Boolean)) {
      ctx.addIssue({ code: 'custom', path: ['TWILIO_ACCOUNT_SID'], message: 'set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER together, or none of them' });
    }
    if (env.RECONCILE_INTERVAL < 60_000) {
      ctx.addIssue({ code: 'custom', path: ['RECONCILE_INTERVAL'], message: 'must be at least 1m (each run lists Twilio\'s log)' });
    }
    if (env.CONVERSATION_CLOSE_AFTER <= env.CONVERSATION_IDLE_AFTER) {
      ctx.addIssue({ code: 'custom', path: ['CONVERSATION_CLOSE_AFTER'], message: 'must be longer than CONVERSATION_IDLE_AFTER' });
    }
  })
  .transform((env) => ({
    ...env,
    PUBLIC_BASE_URL: (env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    CAUSEWAY_DATA_DIR: path.resolve(env.CAUSEWAY_DATA_DIR),
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
