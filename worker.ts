import { fileURLToPath } from 'node:url';
import path from 'node:path';
import v8 from 'node:v8';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createActivities, type ActivityDeps } from './src/activities';
import {
  applyTwilioEnvAtStart,
  connectStandalone,
  sealSecretsAtStart,
  startProcess,
  startStandalone,
  stopOn,
} from './src/boot';
import type { Env } from './src/config/env';
import type { Database } from './src/db/core/client';
import type { Logger } from './src/logger';
import { describeFatal, reportReady } from './src/fatal';
import { clientOver, ensureSearchAttributes } from './src/temporal/connection';
import { recordEvents } from './src/db/events/events';
import { traceActivityInterceptor } from './src/tracing/interceptors';
import { dbFailureActivityInterceptor } from './src/activities/db-failures';
import type { AiResponder } from './src/integrations/ai';
import { createOpenAiResponder } from './src/integrations/openai-responder';
import { chooseAiProvider } from './src/config/ai-provider';
import { hasHeapLimit, workerHeapMb } from './src/config/worker-heap';
import { createMediaUnderstanding } from './src/integrations/media-understanding';
import { createScriptedResponder } from './src/integrations/scripted-responder';
import { createTwilioGateway, type TwilioGateway } from './src/integrations/twilio-gateway';
import { createLedgerPaymentChecker, type PaymentChecker } from './src/integrations/payments';
import { createDataConverter, FAILURE_CONVERTER_PATH } from './src/temporal/data-converter';
import type { PayloadKey } from './src/temporal/payload-codec';
import { ensureReconcileSchedules, reconcileScheduleSettings } from './src/temporal/reconcile-schedule';
import { installTemporalRuntime } from './src/temporal/runtime';
import { createInboxDrainer } from './src/services/inbox';
import { createMetrics, instrumentAiResponder, type Metrics } from './src/observability/metrics';
import { startMetricsServer } from './src/observability/metrics-server';
import { ensureInboxDrainSchedule } from './src/temporal/inbox-schedule';
import { ensureRetentionSchedule, retentionInput } from './src/temporal/retention-schedule';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./src/workflows/index.ts', import.meta.url));
export { FAILURE_CONVERTER_PATH };
/** Workflow interceptors (trace propagation); bundles made elsewhere must list it in workflowInterceptorModules. */
export const WORKFLOW_INTERCEPTORS_PATH = fileURLToPath(new URL('./src/workflows/interceptors.ts', import.meta.url));

/**
 * Modules the reusable V8 context evaluates once per worker instead of once per run (issue 25): the SDK keeps a
 * module cache per run, so every new run (each inbound message's `inbound:<sid>`, each new conversation) evaluated
 * all 44 of our workflow modules again, about a millisecond of its first workflow task. Preloaded modules are
 * shared by every run and frozen by the SDK, so they must hold no per-run state: the workflow modules keep theirs in
 * the run's function scope, and interceptors.ts (the run's trace, loaded per run) is imported by none of them
 * (test/unit/workflow-preload.test.ts checks both).
 */
export const WORKFLOW_PRELOAD_MODULES = [WORKFLOWS_PATH];

/** Everything a workflow bundle of this worker is built with (bundleWorkflowCode takes it as it is). */
export const WORKFLOW_BUNDLE_OPTIONS = {
  workflowsPath: WORKFLOWS_PATH,
  workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_PATH],
  failureConverterPath: FAILURE_CONVERTER_PATH,
  preloadModules: WORKFLOW_PRELOAD_MODULES,
};

/** The AI call's own timeout, below the generateReply activity's 30 s start-to-close. */
const AI_TIMEOUT_MS = 20_000;
const TWILIO_TIMEOUT_MS = 15_000;
/** Fetching and reading one attachment, inside the turn's 30 s with the model's own call. */
const MEDIA_TIMEOUT_MS = 8_000;

/** The responder AI_PROVIDER / OPENAI_API_KEY choose; throws AiProviderError when production has no key. */
export function createAiResponder(env: Env, log?: Logger): AiResponder {
  const { provider, warning } = chooseAiProvider(env);
  if (warning) log?.warn(warning);
  return provider === 'openai'
    ? createOpenAiResponder({
        apiKey: env.OPENAI_API_KEY!,
        baseURL: env.OPENAI_BASE_URL,
        model: env.OPENAI_MODEL,
        timeoutMs: AI_TIMEOUT_MS,
        maxCompletionTokens: env.AI_MAX_COMPLETION_TOKENS,
      })
    : createScriptedResponder();
}

/** Issue 23 C: voice notes and images through the OpenAI-compatible endpoint, when it has a model for them. */
export function createMediaDeps(env: Env, ai: AiResponder): ActivityDeps['media'] {
  if (ai.provider !== 'openai' || !env.OPENAI_API_KEY) return null;
  if (!env.AI_TRANSCRIBE_MODEL && !env.AI_VISION_MODEL) return null;
  return {
    understanding: createMediaUnderstanding({
      apiKey: env.OPENAI_API_KEY,
      baseURL: env.OPENAI_BASE_URL,
      transcribeModel: env.AI_TRANSCRIBE_MODEL,
      visionModel: env.AI_VISION_MODEL,
      timeoutMs: MEDIA_TIMEOUT_MS,
    }),
    maxBytes: env.AI_MEDIA_MAX_BYTES,
    maxSeconds: env.AI_MEDIA_MAX_SECONDS,
    twilioOrigins: [...new Set(['https://api.twilio.com', new URL(env.TWILIO_API_BASE_URL).origin])],
  };
}

export interface WorkerWiring {
  env: Env;
  db: Database;
  client: Client;
  connection: NativeConnection;
  log: Logger;
  /** Payload encryption keys (newest first; null: unencrypted). The client above must use the same ones. */
  payloadKeys: PayloadKey[] | null;
  ai?: AiResponder;
  twilio?: TwilioGateway;
  payments?: PaymentChecker;
  /** The worker's series (served by main's /metrics listener); a fresh set when not given. */
  metrics?: Metrics;
  /** Tests pass a prebuilt bundle so workflow code is bundled once per file. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** The one place that builds activity dependencies and wires them into a Temporal worker. */
export async function createWorker(w: WorkerWiring): Promise<Worker> {
  const metrics = w.metrics ?? createMetrics('worker');
  const ai = w.ai ?? createAiResponder(w.env, w.log);
  // The worker's data converter and the eager-start client's refuse the same payloads.
  const refusePlaintext = w.env.CAUSEWAY_PLAINTEXT_PAYLOADS === 'refuse';
  const deps: ActivityDeps = {
    db: w.db,
    twilio: w.twilio ?? createTwilioGateway({ apiBaseUrl: w.env.TWILIO_API_BASE_URL, timeoutMs: TWILIO_TIMEOUT_MS }),
    ai: instrumentAiResponder(ai, metrics),
    media: createMediaDeps(w.env, ai),
    payments: w.payments ?? createLedgerPaymentChecker(w.db),
    temporal: {
      client: w.client,
      taskQueue: w.env.TEMPORAL_TASK_QUEUE,
      eager: clientOver(w.connection, {
        namespace: w.env.TEMPORAL_NAMESPACE,
        payloadKeys: w.payloadKeys,
        refusePlaintext,
      }),
    },
    config: {
      publicBaseUrl: w.env.PUBLIC_BASE_URL,
      twilioConnectionOverrides: w.env.TWILIO_CONNECTION_OVERRIDES,
      timing: {
        debounceMs: w.env.MESSAGE_DEBOUNCE,
        idleAfterMs: w.env.CONVERSATION_IDLE_AFTER,
        closeAfterMs: w.env.CONVERSATION_CLOSE_AFTER,
        npsWaitMs: w.env.NPS_WAIT,
        humanCloseAfterMs: w.env.HUMAN_CLOSE_AFTER,
        maxTurnsPerRun: w.env.CONVERSATION_MAX_TURNS_PER_RUN,
      },
      campaign: { deliveryTimeoutMs: w.env.CAMPAIGN_DELIVERY_TIMEOUT },
      promises: { reminderBeforeMs: w.env.PROMISE_REMINDER_BEFORE, checkAfterMs: w.env.PROMISE_CHECK_AFTER },
      reconcile: {
        settleAfterMs: w.env.RECONCILE_SETTLE_AFTER,
        maxPages: w.env.RECONCILE_MAX_PAGES,
        maxLookbackMs: w.env.RECONCILE_MAX_LOOKBACK,
      },
      whatsappWindowMs: w.env.WHATSAPP_WINDOW,
      deliveryRetryBackoffMs: w.env.DELIVERY_RETRY_BACKOFF,
      hybrid: { draftTimeoutMs: w.env.HYBRID_DRAFT_TIMEOUT },
      inboundOutcomeSlaMs: w.env.INBOUND_OUTCOME_SLA,
      aiBudget: {
        maxTurnsPerHour: w.env.AI_MAX_TURNS_PER_CONVERSATION_HOUR,
        maxTokensPerDay: w.env.AI_MAX_TOKENS_PER_TENANT_DAY,
        promiseMaxDaysAhead: w.env.PROMISE_MAX_DAYS_AHEAD,
      },
      desk: { firstResponseSlaMs: w.env.DESK_FIRST_RESPONSE_SLA, nextResponseSlaMs: w.env.DESK_NEXT_RESPONSE_SLA },
    },
    log: w.log,
    clock: () => new Date(),
    metrics,
  };
  const worker = await Worker.create({
    connection: w.connection,
    namespace: w.env.TEMPORAL_NAMESPACE,
    taskQueue: w.env.TEMPORAL_TASK_QUEUE,
    // Encrypts workflow inputs / results, signals, updates, queries, activity inputs / results, memo and failure
    // messages; a prebuilt workflowBundle must be bundled with WORKFLOW_BUNDLE_OPTIONS.
    dataConverter: createDataConverter(w.payloadKeys, { refusePlaintext }),
    ...(w.workflowBundle
      ? { workflowBundle: w.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: WORKFLOW_PRELOAD_MODULES } }),
    activities: createActivities(deps),
    // Campaign send activities heartbeat every 100 ms and learn of a pause from a heartbeat's answer: the throttle
    // matches, so a pause stops their sends within about a tenth of a second (src/activities/send-gate.ts).
    maxHeartbeatThrottleInterval: '100ms',
    // A drain never hangs: activities still running after this are cancelled (and retried by another worker).
    shutdownForceTime: w.env.WORKER_SHUTDOWN_FORCE_AFTER,
    // A cache sized on purpose (src/config/env.ts): worker memory stays flat with the number of open conversations.
    maxCachedWorkflows: w.env.WORKER_MAX_CACHED_WORKFLOWS,
    interceptors: {
      workflowModules: [WORKFLOW_INTERCEPTORS_PATH],
      // Outermost first: the trace wraps the call, and database errors are classified before they leave it.
      activity: [
        dbFailureActivityInterceptor(),
        traceActivityInterceptor(({ place, ...ids }, trace) =>
          recordEvents(w.db, [
            {
              trace,
              type: 'trace.broken',
              level: 'warn',
              ...ids,
              payload: { message: `broken trace chain at ${place}` },
            },
          ]),
        ),
      ],
    },
  });
  // Messages parked in the inbox while Temporal was down: the schedule drains them every minute, and a worker
  // start (often the moment Temporal is back after a deploy or crash) drains them at once, in the background.
  await ensureInboxDrainSchedule(w.client, w.env.TEMPORAL_TASK_QUEUE);
  // F: the daily retention run, with this deployment's limits (off by default: no schedule).
  await ensureRetentionSchedule(w.client, w.env.TEMPORAL_TASK_QUEUE, retentionInput(w.env));
  const log = w.log.child({ component: 'inbox-drain' });
  createInboxDrainer({ db: w.db, temporal: { client: w.client, taskQueue: w.env.TEMPORAL_TASK_QUEUE }, log })
    .drainNow()
    .catch((error: unknown) =>
      log.warn({ err: (error as Error).name }, 'inbox drain at worker start failed; the schedule retries'),
    );
  return worker;
}

/** `npm run worker`: a standalone worker process (scale out by running more of these on the same queue). */
async function main() {
  const start = startProcess({ name: 'worker', fatalExits: true });
  const { env, log } = start;
  // Core's own Prometheus exporter stays on loopback: the worker's /metrics (WORKER_METRICS_PORT) serves its series.
  const sdkMetricsAddress = env.WORKER_METRICS_PORT ? `127.0.0.1:${env.WORKER_SDK_METRICS_PORT}` : undefined;
  installTemporalRuntime(log.child({ component: 'temporal-sdk' }), 'INFO', { metricsBindAddress: sdkMetricsAddress });
  const standalone = startStandalone(start, 'the worker');
  const { payloadKeys } = standalone;
  // Before any connection: production without an AI key stops here with the reason (AiProviderError).
  const ai = createAiResponder(env, log);
  const { database, temporal, close } = connectStandalone(standalone);
  await ensureSearchAttributes(temporal.connection, env.TEMPORAL_NAMESPACE);
  await sealSecretsAtStart(database.db, log);
  const connection = await NativeConnection.connect({ address: standalone.temporalAddress });
  // TWILIO_* registers or updates its tenant from the worker too (compose), before schedules are set up for tenants.
  await applyTwilioEnvAtStart(database.db, start, 'throw');
  const metrics = createMetrics('worker');
  // A metrics port that cannot be bound is a configuration error like a taken API port: exit, loudly.
  const metricsServer = sdkMetricsAddress
    ? await startMetricsServer({
        port: env.WORKER_METRICS_PORT,
        metrics,
        sdkMetricsUrl: `http://${sdkMetricsAddress}/metrics`,
        ...(env.METRICS_TOKEN ? { token: env.METRICS_TOKEN } : {}),
      })
    : null;
  if (metricsServer) log.info({ port: env.WORKER_METRICS_PORT }, 'worker metrics at /metrics');
  const worker = await createWorker({
    env,
    db: database.db,
    client: temporal.client,
    connection,
    log,
    metrics,
    payloadKeys,
    ai,
  });
  // Issue 25 B: the memory bound is the cache and the heap limit together (src/config/worker-heap.ts).
  const heapLimitMb = Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20);
  log.info(
    {
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      ai: ai.provider,
      payloadKeyIds: payloadKeys?.map((k) => k.id) ?? null,
      maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
      heapLimitMb,
    },
    'worker started',
  );
  if (!hasHeapLimit(process.execArgv, env.NODE_OPTIONS))
    log.warn(
      { heapLimitMb, suggested: workerHeapMb(env.WORKER_MAX_CACHED_WORKFLOWS) },
      'worker started without --max-old-space-size (run it with `npm run worker`): V8 lets garbage grow toward its default limit',
    );
  // The SDK drains on SIGINT/SIGTERM itself; a supervisor that vanished gets the same drain.
  stopOn(
    () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
    { signals: false },
  );
  reportReady();
  const running = worker.run();
  await ensureReconcileSchedules(temporal.client, database.db, reconcileScheduleSettings(env), log).catch(
    (error: unknown) => log.error({ err: describeFatal(error) }, 'reconciliation schedules not set up'),
  );
  try {
    await running;
  } catch (error) {
    // The worker stopped polling for good (a fatal core error): exit non-zero so a supervisor restarts it.
    log.fatal({ error: describeFatal(error) }, 'worker failed; exiting');
    process.exit(1);
  }
  await Promise.all([connection.close(), close(), metricsServer?.close()]);
  process.exit(0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main().catch((error: unknown) => {
    console.error(`worker failed to start: ${describeFatal(error).message}`);
    process.exit(1);
  });
}
