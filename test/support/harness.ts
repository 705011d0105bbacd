import { randomBytes, randomInt } from 'node:crypto';
import path from 'node:path';
import pino from 'pino';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createWorker } from '../../worker';
import { sharedWorkflowBundle } from './workflow-bundle';
import { createApp } from '../../src/api/app';
import { loadEnv, type Env } from '../../src/config/env';
import { createDb } from '../../src/db/core/client';
import { createTenant } from '../../src/db/tenants/tenants';
import { createUser } from '../../src/db/operators/users';
import type { Role } from '../../src/domain/api-keys';
import { formatAddress } from '../../src/domain/address';
import { parseDuration } from '../../src/domain/duration';
import { newMessageSid, pathAndQuery, signedWebhook } from '../../src/integrations/signed-webhook';
import { createLogger, type Logger } from '../../src/logger';
import { createTemporalClient } from '../../src/temporal/connection';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { EncryptionCodec } from '../../src/temporal/payload-codec';
import { createInboxDrainer } from '../../src/services/inbox';
import { createMetrics } from '../../src/observability/metrics';
import { startFakeOpenAi } from './fake-openai';
import { startFakeTwilio } from './fake-twilio';
import type { PaymentChecker } from '../../src/integrations/payments';
import type { HostResolver } from '../../src/integrations/public-media-url';

export const PUBLIC_BASE_URL = 'https://causeway.example.test';

export const TEST_LOG_DIR = path.resolve(import.meta.dirname, '../../test-results/logs');
let testLog: ReturnType<typeof pino.destination> | undefined;
function testLogDestination() {
  testLog ??= pino.destination({
    dest: path.join(TEST_LOG_DIR, `${process.pid}-${randomBytes(3).toString('hex')}.ndjson`),
    mkdir: true,
    sync: true,
  });
  return testLog;
}

let runtimeInstalled = false;

export interface TestTenant {
  tenantId: string;
  slug: string;
  accountSid: string;
  authToken: string;
  /** The tenant's WhatsApp sender, `whatsapp:+1…`. */
  address: string;
  phone: string;
}

export const randomPhone = () => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
/**
 * A test tenant's own number: unique across the run's shared database (phone_numbers is unique per channel), so drawn
 * from 10^10 numbers, not randomPhone's 10^7 (a run makes ~1,000 tenants: a clash about one run in twenty).
 */
export const randomTenantNumber = () => `+1555${randomInt(1e10).toString().padStart(10, '0')}`;

/**
 * Per test file: the real API (HTTP on loopback), a real worker on its own task queue, the run's Temporal dev
 * server and Postgres database, and fake Twilio / OpenAI servers that the real SDKs talk to.
 */
export interface HarnessOptions {
  statusCallbacks?: boolean;
  payments?: PaymentChecker;
  /**
   * The API's own connections, for outage tests (test/support/tcp-proxy.ts in between): the API gets its own
   * database pool and Temporal client at these addresses; the worker stays on the direct ones.
   */
  /**
   * Where the API's, the worker's and (if this file installs it first) the Temporal SDK's logs go: tests that
   * assert what is logged capture them here. Default: silent (SDK errors only, on stdout).
   */
  log?: { app: Logger; sdk: Logger };
  api?: { databaseUrl?: string; temporalAddress?: string; tenantCacheTtlMs?: number; startDeadlineMs?: number };
  /**
   * `host:port` for the Temporal SDK's Prometheus exporter (src/temporal/runtime.ts). Takes effect only in the
   * first harness of a test process: the SDK runtime is installed once per process.
   */
  sdkMetricsAddress?: string;
}

/**
 * DNS for the API's public-address check (issue 18 A): this box has no resolver. `example.com` names are public
 * (IANA's addresses); a test adds its own names (one resolving to loopback, say) to `h.dns`.
 */
function testResolver(dns: Map<string, string[]>): HostResolver {
  return (host) => {
    const known = dns.get(host.toLowerCase());
    if (known) return Promise.resolve(known);
    if (host === 'example.com' || host.endsWith('.example.com'))
      return Promise.resolve(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
    return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
  };
}

export async function startHarness(overrides: Record<string, string> = {}, options: HarnessOptions = {}) {
  const dns = new Map<string, string[]>();
  let apiUrlForCallbacks = '';
  // The fake applies the same WhatsApp window as the service under test (Meta's 24 h unless a test shortens both).
  const window = overrides.WHATSAPP_WINDOW ? { whatsappWindowMs: parseDuration(overrides.WHATSAPP_WINDOW) } : {};
  const twilio = await startFakeTwilio(
    options.statusCallbacks
      ? {
          ...window,
          statusCallbacks: {
            rewrite: (url) => url.replace(PUBLIC_BASE_URL, apiUrlForCallbacks),
            sign: (url, authToken, params) =>
              signedWebhook({ publicBaseUrl: PUBLIC_BASE_URL, path: pathAndQuery(url), authToken, params }),
          },
        }
      : window,
  );

  const openai = await startFakeOpenAi();
  // Every test's application log goes to test-results/logs (debug level): `npm test` ends by checking that none of
  // it holds a phone number or a message body (scripts/check-test-logs.mjs).
  const log = options.log?.app ?? createLogger('debug', { destination: testLogDestination() });
  if (!runtimeInstalled) {
    // Expected failures (retried activities) are part of several tests; only errors are worth printing.
    if (options.log) installTemporalRuntime(options.log.sdk, 'INFO', { metricsBindAddress: options.sdkMetricsAddress });
    // The SDK's warnings ("Activity failed" carries the failure's message) go to the checked log file too; its
    // errors also to stderr, as before.
    else
      installTemporalRuntime(
        createLogger('warn', {
          name: 'temporal-sdk',
          destination: pino.multistream([
            { level: 'warn', stream: testLogDestination() },
            { level: 'error', stream: process.stderr },
          ]),
        }),
        'WARN',
        { metricsBindAddress: options.sdkMetricsAddress },
      );
    runtimeInstalled = true;
  }
  const env: Env = loadEnv({
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `test-${randomBytes(4).toString('hex')}`,
    TWILIO_API_BASE_URL: twilio.url,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: openai.url,
    OPENAI_MODEL: 'fake-model',
    PUBLIC_BASE_URL,
    MESSAGE_DEBOUNCE: '300ms',
    // Resends after a retryable delivery error wait 30 s, 2 min in production; the suite keeps them short.
    DELIVERY_RETRY_BACKOFF: '100ms',
    CONVERSATION_IDLE_AFTER: '10m',
    CONVERSATION_CLOSE_AFTER: '30m',
    LOG_LEVEL: 'silent',
    // Every test runs with payload encryption, as production does; a random key per harness.
    CAUSEWAY_PAYLOAD_KEYS: `test-${randomBytes(3).toString('hex')}:${randomBytes(32).toString('base64')}`,
    ...overrides,
  });
  const payloadKeys = env.CAUSEWAY_PAYLOAD_KEYS ?? null;
  const database = createDb(env.DATABASE_URL!, { max: 10, embedded: inject('databaseEmbedded') });
  const temporal = createTemporalClient({
    address: env.TEMPORAL_ADDRESS!,
    namespace: env.TEMPORAL_NAMESPACE,
    payloadKeys,
  });
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS! });
  // One set of worker series across restarts, as one worker process would keep them.
  const workerMetrics = createMetrics('worker');
  // Bundled once per run by the global setup (test/support/workflow-bundle.ts).
  const bundle = sharedWorkflowBundle();
  const startWorker = async () => {
    const worker: Worker = await createWorker({
      env,
      db: database.db,
      client: temporal.client,
      connection,
      log,
      payloadKeys,
      workflowBundle: bundle,
      metrics: workerMetrics,
      ...(options.payments ? { payments: options.payments } : {}),
    });
    return { worker, running: worker.run() };
  };
  let current = await startWorker();

  const apiDatabase = options.api?.databaseUrl
    ? createDb(options.api.databaseUrl, { max: 10, embedded: inject('databaseEmbedded') })
    : null;
  const apiTemporal = options.api?.temporalAddress
    ? createTemporalClient({ address: options.api.temporalAddress, namespace: env.TEMPORAL_NAMESPACE, payloadKeys })
    : null;
  const apiDb = apiDatabase?.db ?? database.db;
  const apiClient = apiTemporal?.client ?? temporal.client;
  const inboxDrainer = createInboxDrainer(
    { db: apiDb, temporal: { client: apiClient, taskQueue: env.TEMPORAL_TASK_QUEUE }, log },
    options.api?.startDeadlineMs ? { startDeadlineMs: options.api.startDeadlineMs } : {},
  );
  const webhook = {
    ...(options.api?.tenantCacheTtlMs !== undefined ? { tenantCacheTtlMs: options.api.tenantCacheTtlMs } : {}),
    ...(options.api?.startDeadlineMs ? { startDeadlineMs: options.api.startDeadlineMs } : {}),
  };
  const app = createApp({
    env,
    db: apiDb,
    temporal: apiClient,
    log,
    inboxDrainer,
    webhook,
    payloadCodec: payloadKeys ? new EncryptionCodec(payloadKeys) : null,
    resolveHost: testResolver(dns),
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  apiUrlForCallbacks = apiUrl;

  async function createTestTenant(mode: 'live' | 'simulated' = 'live'): Promise<TestTenant> {
    const slug = `t-${randomBytes(5).toString('hex')}`;
    const accountSid = `AC${randomBytes(16).toString('hex')}`;
    const authToken = randomBytes(16).toString('hex');
    const phone = randomTenantNumber();
    const { tenant } = await createTenant(database.db, {
      slug,
      name: slug,
      accountSid,
      authToken,
      mode,
      numbers: [
        { channel: 'whatsapp', phone },
        { channel: 'sms', phone },
      ],
    });
    twilio.addAccount(accountSid, authToken);
    return { tenantId: tenant.id, slug, accountSid, authToken, address: formatAddress('whatsapp', phone), phone };
  }

  function inboundParams(
    tenant: TestTenant,
    message: { body: string; from: string; messageSid?: string; to?: string; extra?: Record<string, string> },
  ) {
    const messageSid = message.messageSid ?? newMessageSid();
    return {
      ...message.extra,
      MessageSid: messageSid,
      SmsMessageSid: messageSid,
      AccountSid: tenant.accountSid,
      From: message.from,
      To: message.to ?? tenant.address,
      Body: message.body,
      NumMedia: '0',
      ApiVersion: '2010-04-01',
    };
  }

  /** POSTs an inbound webhook signed with the tenant's auth token (or the given signature). */
  async function postInbound(
    tenant: TestTenant,
    message: {
      body: string;
      from: string;
      messageSid?: string;
      to?: string;
      /** Media Twilio received with the message: the webhook then carries NumMedia, MediaUrlN, MediaContentTypeN. */
      media?: { contentType: string; data?: Buffer }[];
      /** More webhook parameters (e.g. ExternalUserIdentifier). */
      extra?: Record<string, string>;
    },
    options: { signature?: string | null; authToken?: string } = {},
  ) {
    const params: Record<string, string> = inboundParams(tenant, message);
    // Twilio logs the message before it calls the webhook: reconciliation and the WhatsApp window read this log.
    if (!twilio.received.some((m) => m.sid === params.MessageSid))
      twilio.receive({
        sid: params.MessageSid!,
        accountSid: params.AccountSid!,
        from: params.From!,
        to: params.To!,
        body: params.Body!,
        ...(message.media ? { media: message.media } : {}),
      });
    if (message.media?.length) {
      params.NumMedia = String(message.media.length);
      message.media.forEach((m, i) => {
        params[`MediaUrl${i}`] = twilio.mediaUrl({ accountSid: params.AccountSid!, sid: params.MessageSid! }, i)!;
        params[`MediaContentType${i}`] = m.contentType;
      });
    }
    const request = signedWebhook({
      publicBaseUrl: PUBLIC_BASE_URL,
      path: '/webhooks/twilio/messages',
      authToken: options.authToken ?? tenant.authToken,
      params,
    });
    const headers: Record<string, string> = { ...request.headers };
    if (options.signature === null) delete headers['x-twilio-signature'];
    else if (options.signature !== undefined) headers['x-twilio-signature'] = options.signature;
    const response = await fetch(`${apiUrl}/webhooks/twilio/messages`, { method: 'POST', headers, body: request.body });
    return { response, messageSid: params.MessageSid!, text: await response.text() };
  }

  /** `callbackUrl`: the StatusCallback the send gave Twilio (its `?m=` query is signed and sent, as Twilio does). */
  async function postStatus(tenant: TestTenant, params: Record<string, string>, callbackUrl?: string) {
    const full = { AccountSid: tenant.accountSid, ApiVersion: '2010-04-01', ...params };
    const path = callbackUrl ? pathAndQuery(callbackUrl) : '/webhooks/twilio/status';
    const request = signedWebhook({ publicBaseUrl: PUBLIC_BASE_URL, path, authToken: tenant.authToken, params: full });
    return fetch(`${apiUrl}${path}`, { method: 'POST', headers: request.headers, body: request.body });
  }

  /** An operator with an API key, for the /api routes. */
  async function createOperator(
    tenant: TestTenant,
    role: Role = 'AGENT',
    name = `Agent ${randomBytes(2).toString('hex')}`,
  ) {
    const { user, apiKey } = await createUser(database.db, {
      tenantId: tenant.tenantId,
      name,
      role,
      department: 'support',
    });
    return { id: user.id, name, role, apiKey };
  }

  async function api(
    path: string,
    options: { key?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const response = await fetch(`${apiUrl}${path}`, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        'content-type': 'application/json',
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, json: (text ? JSON.parse(text) : null) as Record<string, any> };
  }

  return {
    env,
    payloadKeys,
    db: database.db,
    sql: database.sql,
    client: temporal.client,
    twilio,
    openai,
    apiUrl,
    app,
    /** Host → addresses for the API's media-URL check; names not here fail to resolve (example.com is public). */
    dns,
    inboxDrainer,
    workerMetrics,
    createTestTenant,
    postInbound,
    postStatus,
    createOperator,
    api,
    /** The running worker's state ('RUNNING' while it polls); a worker that crashed is 'FAILED'. */
    workerState: () => current.worker.getState(),
    /** Stops the worker (as a crash or deploy would) and starts a new one on the same task queue. */
    async restartWorker() {
      current.worker.shutdown();
      await current.running;
      current = await startWorker();
    },
    async close() {
      await inboxDrainer.stop();
      current.worker.shutdown();
      await current.running;
      await new Promise((resolve) => server.close(resolve));
      await Promise.all([connection.close(), temporal.close(), twilio.close(), openai.close(), apiTemporal?.close()]);
      await Promise.all([database.close(), apiDatabase?.close()]);
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/** Waits for an observable condition (a row, a workflow state), checking every 50 ms, failing after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
