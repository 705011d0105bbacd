import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/core/client';
import { inboxDepth } from '../db/ingress/inbox';
import { oldestUnansweredAgeMs } from '../db/conversations/metrics';
import type { AiResponder } from '../integrations/ai';

/**
 * Every Prometheus series of the service, in one place (docs/operations.md "Metrics" lists them). Each process builds its
 * own set on its own registry (createMetrics), served at its /metrics; nothing here is a process-wide singleton,
 * so the API and a worker in one test process keep their series apart.
 */

/** What became of one webhook request (`reason` only for `rejected`). */
export type WebhookOutcome =
  | 'accepted'
  | 'duplicate'
  | 'parked'
  | 'orphan'
  | 'applied'
  | 'handed_to_temporal'
  | 'rejected'
  | 'unavailable'
  | 'error';
export type WebhookEndpoint = 'messages' | 'fallback' | 'status';
/** What one send attempt did (campaign or not): `retrying` is a retryable Twilio error, Temporal tries again. */
export type SendResult =
  'sent' | 'simulated' | 'adopted' | 'failed' | 'window_closed' | 'template_variables' | 'retrying';

export interface Metrics {
  registry: Registry;
  webhooks: Counter<'endpoint' | 'outcome' | 'reason'>;
  aiDuration: Histogram<'operation' | 'outcome'>;
  aiTokens: Counter<'operation' | 'kind'>;
  sends: Counter<'kind' | 'result'>;
  messageStatus: Counter<'status'>;
  slaBreaches: Counter<'kind' | 'department'>;
  inboundWithoutOutcome: Gauge;
}

export function createMetrics(role: 'api' | 'worker'): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  // process_* and nodejs_* (CPU, memory, event loop lag, GC): the first thing to look at when a process is slow.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    webhooks: new Counter({
      name: 'causeway_webhooks_total',
      help: 'Twilio webhook requests by endpoint and outcome (accepted, duplicate, parked in the inbox, orphan, applied status, handed_to_temporal, rejected with a reason, unavailable = 503, error = 500)',
      labelNames: ['endpoint', 'outcome', 'reason'],
      registers,
    }),
    aiDuration: new Histogram({
      name: 'causeway_ai_request_duration_seconds',
      help: 'AI responder calls (reply = one conversation turn, summary = continue-as-new summary) by outcome',
      labelNames: ['operation', 'outcome'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 20, 30],
      registers,
    }),
    aiTokens: new Counter({
      name: 'causeway_ai_tokens_total',
      help: 'Tokens the AI provider reported, by operation and kind (prompt, completion)',
      labelNames: ['operation', 'kind'],
      registers,
    }),
    sends: new Counter({
      name: 'causeway_sends_total',
      help: 'Outbound send attempts by kind (campaign, conversation = everything else) and result; rate() of kind="campaign",result="sent" is the campaign send rate',
      labelNames: ['kind', 'result'],
      registers,
    }),
    messageStatus: new Counter({
      name: 'causeway_message_status_total',
      help: 'Delivery statuses outbound messages moved to (status callbacks, reconciliation); delivered, read, undelivered, failed, canceled are final',
      labelNames: ['status'],
      registers,
    }),
    slaBreaches: new Counter({
      name: 'causeway_sla_breaches_total',
      help: 'Desk SLA breaches (one per waiting period): kind first or next response, by department',
      labelNames: ['kind', 'department'],
      registers,
    }),
    inboundWithoutOutcome: new Gauge({
      name: 'causeway_inbound_without_outcome',
      help: 'Inbound messages of the last day past INBOUND_OUTCOME_SLA with no outcome (reply, handoff, hold, refusal, recorded failure), as of the last watchdog run (the worker running the inbox-drain schedule sets it; aggregate with max())',
      registers,
    }),
  };
}

/** Wraps the AI responder so every call is timed and its tokens counted, whichever activity makes it. */
export function instrumentAiResponder(ai: AiResponder, metrics: Metrics): AiResponder {
  async function timed<T extends { usage: { promptTokens: number; completionTokens: number } | null }>(
    operation: 'reply' | 'summary',
    call: () => Promise<T>,
  ): Promise<T> {
    const stop = metrics.aiDuration.startTimer({ operation });
    try {
      const result = await call();
      stop({ outcome: 'ok' });
      if (result.usage) {
        metrics.aiTokens.inc({ operation, kind: 'prompt' }, result.usage.promptTokens);
        metrics.aiTokens.inc({ operation, kind: 'completion' }, result.usage.completionTokens);
      }
      return result;
    } catch (error) {
      stop({ outcome: 'error' });
      throw error;
    }
  }
  return {
    provider: ai.provider,
    model: ai.model,
    respond: (request) => timed('reply', () => ai.respond(request)),
    summarize: (request) => timed('summary', () => ai.summarize(request)),
  };
}

/** A bounded scrape: a slow database answers "unknown" (the _up gauge 0) instead of hanging Prometheus. */
const DATABASE_GAUGE_TIMEOUT_MS = 3000;

/**
 * Gauges read from Postgres at scrape time: the webhook inbox (messages parked while Temporal was down) and the
 * oldest customer message nobody has answered yet, split by who owes the answer (the AI, or an agent in HUMAN).
 * Their values are global (the same from every API process): aggregate them with max(), not sum().
 */
export function addDatabaseGauges(metrics: Metrics, db: Database, onError: (error: unknown) => void): void {
  const registers = [metrics.registry];
  let snapshot: Promise<DatabaseSnapshot | null> | null = null;
  // One query round per scrape, shared by the gauges below (each gauge's collect asks for it).
  const read = () =>
    (snapshot ??= readDatabaseSnapshot(db)
      .catch((error: unknown) => {
        onError(error);
        return null;
      })
      .finally(() =>
        setTimeout(() => {
          snapshot = null;
        }, 0),
      ));

  new Gauge({
    name: 'causeway_database_gauges_up',
    help: '1 when the database gauges below were read at this scrape, 0 when the database did not answer',
    registers,
    async collect() {
      this.set((await read()) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'causeway_inbox_pending',
    help: 'Verified inbound messages parked in the Postgres inbox (Temporal did not take them), not yet drained',
    registers,
    async collect() {
      const s = await read();
      if (s) this.set(s.inboxPending);
    },
  });
  new Gauge({
    name: 'causeway_inbox_oldest_pending_age_seconds',
    help: 'Age of the oldest message waiting in the inbox (0 when none)',
    registers,
    async collect() {
      const s = await read();
      if (s) this.set(s.inboxOldestAgeMs / 1000);
    },
  });
  new Gauge({
    name: 'causeway_oldest_unanswered_message_age_seconds',
    help: 'Age of the oldest inbound message of an active conversation with no reply sent after it (0 when none), by who owes the answer',
    labelNames: ['waiting_on'],
    registers,
    async collect() {
      const s = await read();
      if (!s) return;
      this.set({ waiting_on: 'ai' }, s.unansweredAgeMs.ai / 1000);
      this.set({ waiting_on: 'human' }, s.unansweredAgeMs.human / 1000);
    },
  });
}

interface DatabaseSnapshot {
  inboxPending: number;
  inboxOldestAgeMs: number;
  unansweredAgeMs: { ai: number; human: number };
}

async function readDatabaseSnapshot(db: Database): Promise<DatabaseSnapshot> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('database gauges timed out')), DATABASE_GAUGE_TIMEOUT_MS);
  });
  try {
    const [inbox, unanswered] = await Promise.race([Promise.all([inboxDepth(db), oldestUnansweredAgeMs(db)]), timeout]);
    return {
      inboxPending: inbox.pending,
      inboxOldestAgeMs: inbox.oldestPendingAgeMs ?? 0,
      unansweredAgeMs: unanswered,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** 1 when the Temporal SDK's (core's) own exporter answered at this scrape; its `temporal_*` series follow ours. */
export function addSdkMetricsGauge(metrics: Metrics): Gauge {
  return new Gauge({
    name: 'causeway_temporal_sdk_metrics_up',
    help: 'Whether the Temporal SDK metrics (temporal_*) were read from the SDK runtime at this scrape',
    registers: [metrics.registry],
  });
}

const SDK_SCRAPE_TIMEOUT_MS = 2000;

/**
 * The exposition text of one process: our registry, then (on a worker) the Temporal SDK's series as core's own
 * Prometheus exporter renders them on loopback (`sdkMetricsUrl`). One scrape target per process, one port to
 * open; the two sets never share a name (ours are causeway_*, process_*, nodejs_*; core's are temporal_*).
 */
export async function renderMetrics(metrics: Metrics, sdk?: { url: string; up: Gauge }): Promise<string> {
  let sdkText = '';
  if (sdk) {
    try {
      const response = await fetch(sdk.url, { signal: AbortSignal.timeout(SDK_SCRAPE_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      sdkText = await response.text();
      sdk.up.set(1);
    } catch {
      sdk.up.set(0);
    }
  }
  const own = await metrics.registry.metrics();
  return sdkText ? `${own.endsWith('\n') ? own : `${own}\n`}${sdkText}` : own;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
