// `npm start`: the whole service on this machine, offline, with embedded defaults.
import { fileURLToPath } from 'node:url';
import { chooseAiProvider } from './config/ai-provider';
import { sealSecretsAtStart, startProcess, temporalClientFor } from './boot';
import { childProcessEnv } from './config/env';
import { workerNodeOptions } from './config/worker-heap';
import { bootstrapTenant } from './db/tenants/bootstrap';
import { connectDatabase } from './local/connect-database';
import { runMigrations } from './db/core/migrate';
import { setUpSecrets } from './secrets/setup';
import { removeRuntimeInfo, writeRuntimeInfo } from './runtime-file';
import { ensureTemporalCli } from './local/temporal-cli';
import { ensureSearchAttributes } from './temporal/connection';
import { formatPayloadKeys } from './temporal/payload-codec';
import { ensureLocalPayloadKeys } from './temporal/payload-keys';
import { startDevServer, type DevServer } from './local/temporal-dev-server';
import { orderedShutdown } from './shutdown';
import { startSupervisor } from './supervisor';

const WORKER_ENTRY = fileURLToPath(new URL('../worker.ts', import.meta.url));
const API_ENTRY = fileURLToPath(new URL('./api/server.ts', import.meta.url));

const { env, log } = startProcess();
// `npm start` without a key runs the offline scripted responder, on purpose and said aloud; production still refuses.
const aiProvider = (() => {
  try {
    const chosen = env.AI_PROVIDER ?? (!env.OPENAI_API_KEY && env.NODE_ENV !== 'production' ? 'scripted' : undefined);
    return chooseAiProvider({ ...env, AI_PROVIDER: chosen }, 'npm start').provider;
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
})();
const stops: (() => Promise<unknown>)[] = [];

/**
 * This process owns the embedded services (Postgres, Temporal dev server) and supervises the worker and the API,
 * which run as the standalone entries (`npm run worker`, `npm run api`) in child processes, restarted when they
 * die (src/supervisor.ts). Telemetry starts in the children, where the work happens.
 */
async function main() {
  const database = await connectDatabase(env);
  stops.unshift(() => database.close());
  await runMigrations(database.url, { embedded: database.embedded });
  setUpSecrets(env, log, { createIfMissing: true });
  await sealSecretsAtStart(database.db, log);
  await bootstrapTenant(database.db, env, log);
  log.info(
    { embedded: database.embedded },
    database.embedded
      ? `database: embedded Postgres (PGlite) in ${env.CAUSEWAY_DATA_DIR}/pgdata`
      : 'database: DATABASE_URL',
  );

  // Before Temporal: the dev server's UI is pointed at the API's codec endpoint, and every child gets the keys.
  const payloadKeys = ensureLocalPayloadKeys(env, log);
  // The browser reaches the API on this machine (PUBLIC_BASE_URL may be a tunnel for Twilio).
  const codecEndpoint = `http://localhost:${env.PORT}/codec`;

  let address = env.TEMPORAL_ADDRESS;
  let devServer: DevServer | null = null;
  if (!address) {
    const cli = await ensureTemporalCli(
      { explicitPath: env.TEMPORAL_CLI_PATH, pathEnv: env.PATH, cacheDir: env.CACHE_DIR },
      (line) => log.info(line),
    );
    devServer = await startDevServer({
      cliPath: cli.path,
      dataDir: env.CAUSEWAY_DATA_DIR,
      port: 7233,
      uiPort: env.TEMPORAL_UI_PORT,
      namespace: env.TEMPORAL_NAMESPACE,
      codecEndpoint,
    });
    stops.push(() => devServer!.stop());
    address = devServer.address;
    log.info({ cli: cli.source, reused: !devServer.owned }, `temporal: dev server at ${address}`);
  }
  const temporal = temporalClientFor(env, address, payloadKeys);
  await ensureSearchAttributes(temporal.connection, env.TEMPORAL_NAMESPACE);
  await temporal.close();

  const supervisor = startSupervisor({
    children: [
      // The worker's V8 heap limit, sized from its workflow cache (src/config/worker-heap.ts), as `npm run worker` sets it.
      {
        name: 'worker',
        entry: WORKER_ENTRY,
        env: { NODE_OPTIONS: workerNodeOptions(env.NODE_OPTIONS, env.WORKER_MAX_CACHED_WORKFLOWS) },
      },
      { name: 'api', entry: API_ENTRY },
    ],
    env: childProcessEnv({
      DATABASE_URL: database.url,
      CAUSEWAY_EMBEDDED_DATABASE: database.embedded ? '1' : '0',
      TEMPORAL_ADDRESS: address,
      PORT: String(env.PORT),
      PUBLIC_BASE_URL: env.PUBLIC_BASE_URL,
      CAUSEWAY_DATA_DIR: env.CAUSEWAY_DATA_DIR,
      CAUSEWAY_PAYLOAD_KEYS: formatPayloadKeys(payloadKeys),
      AI_PROVIDER: aiProvider,
    }),
    log: log.child({ component: 'supervisor' }),
    // A child gets its own drain time (WORKER_SHUTDOWN_FORCE_AFTER) and a little more before it is killed.
    stopTimeoutMs: env.WORKER_SHUTDOWN_FORCE_AFTER + 10_000,
  });
  // Children stop first (API, then worker), then the embedded services they use.
  stops.unshift(() => supervisor.stop());
  await supervisor.ready;

  const apiUrl = `http://localhost:${env.PORT}`;
  const webUiUrl = devServer ? devServer.uiUrl : null;
  writeRuntimeInfo(env.CAUSEWAY_DATA_DIR, {
    pid: process.pid,
    databaseUrl: database.url,
    temporalAddress: address,
    temporalNamespace: env.TEMPORAL_NAMESPACE,
    apiUrl,
    publicBaseUrl: env.PUBLIC_BASE_URL,
    webUiUrl,
  });
  stops.push(() => Promise.resolve(removeRuntimeInfo(env.CAUSEWAY_DATA_DIR)));

  const lines = [
    '',
    'Causeway is running.',
    `  Webhook URL (Twilio → "A message comes in"):  ${env.PUBLIC_BASE_URL}/webhooks/twilio/messages${env.TWILIO_CONNECTION_OVERRIDES ? `#${env.TWILIO_CONNECTION_OVERRIDES}` : ''}`,
    `  Fallback URL ("Primary handler fails"):       ${env.PUBLIC_BASE_URL}/webhooks/twilio/messages/fallback`,
    `  Status callback URL:                          ${env.PUBLIC_BASE_URL}/webhooks/twilio/status`,
    `  Temporal Web UI:                              ${webUiUrl ?? `(external Temporal at ${address})`}`,
    `  Payloads: AES-256-GCM, key ${payloadKeys[0]!.id}; to read them in the Web UI, sign in at ${codecEndpoint}/sign-in (SUPERVISOR or ADMIN key)`,
    `  AI:      ${aiProvider === 'openai' ? `OpenAI-compatible endpoint, model ${env.OPENAI_MODEL}` : `${env.OPENAI_API_KEY ? 'AI_PROVIDER=scripted' : 'no OPENAI_API_KEY'}: runs the offline scripted responder (keyword rules, not a model); set OPENAI_API_KEY for the real assistant`}`,
    `  Twilio:  ${env.TWILIO_ACCOUNT_SID ? `live sends through ${env.TWILIO_API_BASE_URL}` : 'no credentials: demo tenant, outbound messages recorded as "simulated"'}`,
    '  Try it:  npx causeway simulate --body "Olá"',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

const { shutdown } = orderedShutdown(stops, log);

main().catch((error: unknown) => {
  log.fatal({ err: error }, 'failed to start');
  void shutdown(1);
});
