// `npm start`: the whole service on this machine, offline, with embedded defaults.
import { serve } from '@hono/node-server';
import { NativeConnection } from '@temporalio/worker';
import { createWorker } from '../worker';
import { createApp } from './api/app';
import { readEnvOrExit } from './config/env';
import { bootstrapTenant } from './db/bootstrap';
import { connectDatabase } from './db/connect';
import { runMigrations } from './db/migrate';
import { createLogger } from './logger';
import { removeRuntimeInfo, writeRuntimeInfo } from './runtime-file';
import { ensureTemporalCli } from './temporal/cli-binary';
import { createTemporalClient, ensureSearchAttributes } from './temporal/connection';
import { startDevServer, type DevServer } from './temporal/dev-server';
import { ensureReconcileSchedules, reconcileScheduleSettings } from './temporal/reconcile-schedule';
import { installTemporalRuntime } from './temporal/runtime';
import { startTelemetry } from './tracing/telemetry';

const env = readEnvOrExit();
const log = createLogger(env.LOG_LEVEL);
installTemporalRuntime(log.child({ component: 'temporal-sdk' }));
const stops: (() => Promise<unknown>)[] = [];

async function main() {
  stops.push(startTelemetry(env, log));
  const database = await connectDatabase(env);
  stops.unshift(() => database.close());
  await runMigrations(database.url, { embedded: database.embedded });
  await bootstrapTenant(database.db, env, log);
  log.info({ embedded: database.embedded }, database.embedded ? `database: embedded Postgres (PGlite) in ${env.CAUSEWAY_DATA_DIR}/pgdata` : 'database: DATABASE_URL');

  let address = env.TEMPORAL_ADDRESS;
  let devServer: DevServer | null = null;
  if (!address) {
    const cli = await ensureTemporalCli({ explicitPath: env.TEMPORAL_CLI_PATH, pathEnv: env.PATH, cacheDir: env.CACHE_DIR }, (line) => log.info(line));
    devServer = await startDevServer({ cliPath: cli.path, dataDir: env.CAUSEWAY_DATA_DIR, port: 7233, uiPort: env.TEMPORAL_UI_PORT, namespace: env.TEMPORAL_NAMESPACE });
    stops.push(() => devServer!.stop());
    address = devServer.address;
    log.info({ cli: cli.source, reused: !devServer.owned }, `temporal: dev server at ${address}`);
  }
  const temporal = createTemporalClient({ address, namespace: env.TEMPORAL_NAMESPACE });
  await ensureSearchAttributes(temporal.connection, env.TEMPORAL_NAMESPACE);
  const connection = await NativeConnection.connect({ address });
  const worker = await createWorker({ env, db: database.db, client: temporal.client, connection, log: log.child({ component: 'worker' }) });
  const running = worker.run();
  // The SDK already drains the worker on SIGINT/SIGTERM; only ask when it is still running.
  stops.unshift(async () => { if (worker.getState() === 'RUNNING') worker.shutdown(); await running; await connection.close(); await temporal.close(); });
  // Every tenant (the bootstrapped demo one included) gets its reconciliation Schedule, created or updated.
  await ensureReconcileSchedules(temporal.client, database.db, reconcileScheduleSettings(env), log.child({ component: 'reconcile' }))
    .catch((error: unknown) => log.error({ err: error }, 'reconciliation schedules not set up'));

  const app = createApp({ env, db: database.db, temporal: temporal.client, log: log.child({ component: 'api' }) });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: env.PORT, hostname: '0.0.0.0' }, () => resolve(s));
  });
  stops.unshift(() => new Promise((resolve) => server.close(resolve)));

  const apiUrl = `http://localhost:${env.PORT}`;
  const webUiUrl = devServer ? devServer.uiUrl : null;
  writeRuntimeInfo(env.CAUSEWAY_DATA_DIR, { pid: process.pid, databaseUrl: database.url, temporalAddress: address, temporalNamespace: env.TEMPORAL_NAMESPACE, apiUrl, publicBaseUrl: env.PUBLIC_BASE_URL, webUiUrl });
  stops.push(() => Promise.resolve(removeRuntimeInfo(env.CAUSEWAY_DATA_DIR)));

  const lines = [
    '',
    'Causeway is running.',
    `  Webhook URL (Twilio → "A message comes in"):  ${env.PUBLIC_BASE_URL}/webhooks/twilio/messages${env.TWILIO_CONNECTION_OVERRIDES ? `#${env.TWILIO_CONNECTION_OVERRIDES}` : ''}`,
    `  Fallback URL ("Primary handler fails"):       ${env.PUBLIC_BASE_URL}/webhooks/twilio/messages/fallback`,
    `  Status callback URL:                          ${env.PUBLIC_BASE_URL}/webhooks/twilio/status`,
    `  Temporal Web UI:                              ${webUiUrl ?? `(external Temporal at ${address})`}`,
    `  AI:      ${env.OPENAI_API_KEY ? `OpenAI-compatible endpoint, model ${env.OPENAI_MODEL}` : 'no OPENAI_API_KEY: offline scripted responder (keyword rules, not a model)'}`,
    `  Twilio:  ${env.TWILIO_ACCOUNT_SID ? `live sends through ${env.TWILIO_API_BASE_URL}` : 'no credentials: demo tenant, outbound messages recorded as "simulated"'}`,
    '  Try it:  npx causeway simulate --body "Olá"',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await running;
}

let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  for (const stop of stops) {
    try {
      await stop();
    } catch (error) {
      log.warn({ err: error }, 'error during shutdown');
    }
  }
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));

main().catch((error: unknown) => {
  log.fatal({ err: error }, 'failed to start');
  void shutdown(1);
});
