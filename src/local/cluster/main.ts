// `npm run cluster`: the production topology on one machine without Docker. A Temporal server built from its Go
// module on Postgres (persistence + SQL visibility), its Web UI, two API processes and two worker processes, all
// with the environment compose gives them. `npm run cluster -- --ensure` only finds or builds the binaries (CI).
// Options (src/local/cluster/options.ts, `--help`): `--workers N`, `--apis N` (default 2 each), `--no-ui`,
// `--ui-write-actions` (the Web UI is read-only without it: issue 18 C), and `--dev-server`: the same processes on the
// Temporal dev server (SQLite) instead, which is what `npm run bench -- cluster` compares against.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childProcessEnv, readEnvOrExit } from '../../config/env';
import { workerNodeOptions } from '../../config/worker-heap';
import { bootstrapTenant } from '../../db/tenants/bootstrap';
import { sealStoredSecrets } from '../../db/tenants/secrets';
import { setUpSecrets } from '../../secrets/setup';
import { formatPayloadKeys } from '../../temporal/payload-codec';
import { ensureLocalPayloadKeys } from '../../temporal/payload-keys';
import { createDb } from '../../db/core/client';
import { runMigrations } from '../../db/core/migrate';
import { createLogger } from '../../logger';
import { ensureTemporalCli } from '../temporal-cli';
import { temporalClientFor } from '../../boot';
import { ensureSearchAttributes } from '../../temporal/connection';
import { startDevServer } from '../temporal-dev-server';
import { readRuntimeInfo, removeRuntimeInfo, writeRuntimeInfo } from '../../runtime-file';
import { orderedShutdown } from '../../shutdown';
import { startSupervisor } from '../../supervisor';
import { ensureClusterBinaries } from './binaries';
import { CLUSTER_USAGE, ClusterUsageError, parseClusterOptions, type ClusterOptions } from './options';
import { clusterLayout, type ClusterLayout, renderDynamicConfig, renderServerConfig, renderUiConfig } from './config';
import { createDatabases, setupTemporalSchemas } from './databases';
import {
  assertPortsFree,
  clusterDir,
  logTail,
  prepareNamespace,
  startProcess,
  type ManagedProcess,
} from './temporal-server';

const WORKER_ENTRY = fileURLToPath(new URL('../../../worker.ts', import.meta.url));
const API_ENTRY = fileURLToPath(new URL('../../api/server.ts', import.meta.url));

/** Defaults for a local Postgres with trust auth and the usual Temporal port; both overridable as for compose. */
export const CLUSTER_DEFAULTS = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/causeway',
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
};
/** Temporal's retention of closed workflow histories in this namespace (compose's auto-setup used 1 day). */
const RETENTION_DAYS = 7;

// Help and usage errors come before anything else, so neither touches the environment or the data directory.
let options: ClusterOptions;
try {
  options = parseClusterOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof ClusterUsageError)) throw error;
  process.stderr.write(`${error.message}\n\n${CLUSTER_USAGE}`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(CLUSTER_USAGE);
  process.exit(0);
}
const devServerMode = options.devServer;
const given = readEnvOrExit();
const env = readEnvOrExit({
  DATABASE_URL: given.DATABASE_URL ?? CLUSTER_DEFAULTS.DATABASE_URL,
  TEMPORAL_ADDRESS: given.TEMPORAL_ADDRESS ?? CLUSTER_DEFAULTS.TEMPORAL_ADDRESS,
});
const log = createLogger(env.LOG_LEVEL, { name: 'cluster' });
const progress = (line: string) => log.info(line);
const stops: (() => Promise<unknown>)[] = [];
// Every process of the cluster encrypts Temporal payloads with the same keys (a local key when none is configured).
const payloadKeys = ensureLocalPayloadKeys(env, log);

async function main() {
  const started = Date.now();
  if (options.ensure) {
    const binaries = await ensureClusterBinaries(env, progress);
    for (const [name, found] of Object.entries({
      server: binaries.server,
      sqlTool: binaries.sqlTool,
      ui: binaries.ui,
    })) {
      console.log(`${name}: ${found ? `${found.path} (${found.source})` : `not available: ${binaries.uiError}`}`);
    }
    console.error(`cluster binaries ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return;
  }
  const databaseUrl = env.DATABASE_URL!;
  const temporalAddress = env.TEMPORAL_ADDRESS!;
  const layout = clusterLayout({
    databaseUrl,
    temporalAddress,
    uiPort: env.TEMPORAL_UI_PORT,
    uiWriteActions: options.uiWriteActions,
    apiPort: env.PORT,
    namespace: env.TEMPORAL_NAMESPACE,
    workers: options.workers,
    apis: options.apis,
  });
  const running = readRuntimeInfo(env.CAUSEWAY_DATA_DIR);
  if (running)
    throw new Error(
      `another Causeway (pid ${running.pid}) runs with the data directory ${env.CAUSEWAY_DATA_DIR}: stop it or set CAUSEWAY_DATA_DIR`,
    );

  if (devServerMode) {
    await assertPortsFree([
      { port: layout.frontendPort, host: '127.0.0.1' },
      { port: layout.uiPort, host: '127.0.0.1' },
      ...layout.apiPorts.map((port) => ({ port, host: '0.0.0.0' })),
    ]);
    await prepareDatabase(layout, []);
    const cli = await ensureTemporalCli(
      { explicitPath: env.TEMPORAL_CLI_PATH, pathEnv: env.PATH, cacheDir: env.CACHE_DIR },
      progress,
    );
    const dev = await startDevServer({
      cliPath: cli.path,
      dataDir: clusterDir(env.CAUSEWAY_DATA_DIR),
      port: layout.frontendPort,
      uiPort: layout.uiPort,
      namespace: env.TEMPORAL_NAMESPACE,
    });
    stops.push(() => dev.stop());
    const temporal = temporalClientFor(env, temporalAddress, payloadKeys);
    await ensureSearchAttributes(temporal.connection, env.TEMPORAL_NAMESPACE).finally(() => temporal.close());
    await superviseAndReport(layout, dev.uiUrl, `dev server, SQLite in ${clusterDir(env.CAUSEWAY_DATA_DIR)}`, started);
    return;
  }
  const binaries = await ensureClusterBinaries(env, progress, { ui: options.ui });
  if (binaries.uiError) log.warn(`temporal web UI: not available (${binaries.uiError}); the cluster runs without it`);
  await assertPortsFree([
    ...[
      layout.frontendPort,
      ...Object.values(layout.ports).flatMap((p) => (typeof p === 'number' ? [p] : Object.values(p))),
    ].map((port) => ({ port, host: '127.0.0.1' })),
    ...(binaries.ui ? [{ port: layout.uiPort, host: '127.0.0.1' }] : []),
    ...layout.apiPorts.map((port) => ({ port, host: '0.0.0.0' })),
  ]);

  // Databases: Causeway's (migrated) and Temporal's two (schemas set up or updated), on DATABASE_URL's server.
  await prepareDatabase(layout, [layout.temporalDatabase, layout.visibilityDatabase]);
  await setupTemporalSchemas(binaries.sqlTool.path, layout, progress);

  const dir = clusterDir(env.CAUSEWAY_DATA_DIR);
  fs.mkdirSync(path.join(dir, 'config'), { recursive: true });
  const dynamicConfig = path.join(dir, 'config', 'dynamicconfig.yaml');
  fs.writeFileSync(dynamicConfig, renderDynamicConfig());
  // The server config holds the Postgres password: readable by this user only.
  fs.writeFileSync(path.join(dir, 'config', 'cluster.yaml'), renderServerConfig(layout, dynamicConfig), {
    mode: 0o600,
  });
  fs.chmodSync(path.join(dir, 'config', 'cluster.yaml'), 0o600);
  fs.writeFileSync(path.join(dir, 'config', 'ui.yaml'), renderUiConfig(layout));

  const serverLog = path.join(dir, 'temporal-server.log');
  // The frontend binds loopback only and has no authorizer (as compose keeps it off the host network): anything
  // beyond this machine needs mTLS and an authorizer (docs/operations.md, "Cluster (no Docker)").
  const server = startProcess(
    'temporal-server',
    binaries.server.path,
    ['--root', dir, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start'],
    serverLog,
  );
  stops.push(() => server.stop(30_000));
  await prepareNamespace({
    address: temporalAddress,
    namespace: env.TEMPORAL_NAMESPACE,
    retentionDays: RETENTION_DAYS,
    serverExited: server.exited,
    progress,
  }).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n--- ${serverLog} ---\n${logTail(serverLog)}`);
  });

  let ui: ManagedProcess | null = null;
  if (binaries.ui) {
    const uiLog = path.join(dir, 'temporal-ui.log');
    ui = startProcess(
      'temporal-ui',
      binaries.ui.path,
      ['--root', dir, '--config', 'config', '--env', 'ui', 'start'],
      uiLog,
    );
    stops.unshift(() => ui!.stop(5_000));
  }
  const webUiUrl = binaries.ui ? `http://localhost:${layout.uiPort}` : null;
  void server.exited.then((code) => {
    if (stopper.stopping) return;
    log.fatal({ code }, `the Temporal server exited; stopping the cluster (see ${serverLog})`);
    void shutdown(1);
  });
  await superviseAndReport(
    layout,
    webUiUrl,
    `Postgres ${layout.temporalDatabase}, ${layout.visibilityDatabase}`,
    started,
  );
}

/** Creates Causeway's database (and `temporalDatabases`) if missing, migrates it and bootstraps a tenant. */
async function prepareDatabase(layout: ClusterLayout, temporalDatabases: string[]) {
  const databaseUrl = env.DATABASE_URL!;
  const created = await createDatabases(layout.postgres, [layout.postgres.database, ...temporalDatabases]);
  if (created.length > 0) log.info({ created }, `postgres: created ${created.join(', ')}`);
  await runMigrations(databaseUrl, { embedded: false });
  const database = createDb(databaseUrl, { max: 2 });
  try {
    // As npm start: the secrets keyring (a local key under the data directory if none is set) before any token is stored.
    setUpSecrets(env, log, { createIfMissing: true });
    await sealStoredSecrets(database.db);
    await bootstrapTenant(database.db, env, log);
  } finally {
    await database.close();
  }
}

/** Starts the workers and the APIs under the supervisor, then writes runtime.json and prints where things are. */
async function superviseAndReport(
  layout: ClusterLayout,
  webUiUrl: string | null,
  temporalStore: string,
  started: number,
) {
  const databaseUrl = env.DATABASE_URL!;
  const temporalAddress = env.TEMPORAL_ADDRESS!;
  const dir = clusterDir(env.CAUSEWAY_DATA_DIR);
  // Each worker's V8 heap limit, sized from its workflow cache (src/config/worker-heap.ts), as `npm run worker` sets it.
  const workerEnv = { NODE_OPTIONS: workerNodeOptions(env.NODE_OPTIONS, env.WORKER_MAX_CACHED_WORKFLOWS) };
  const children = [
    ...Array.from({ length: layout.workers }, (_, i) => ({
      name: `worker-${i + 1}`,
      entry: WORKER_ENTRY,
      env: workerEnv,
    })),
    ...layout.apiPorts.map((port, i) => ({ name: `api-${i + 1}`, entry: API_ENTRY, env: { PORT: String(port) } })),
  ];
  const supervisor = startSupervisor({
    children,
    // Everything this process got (the variables compose passes), with the cluster's addresses on top.
    env: childProcessEnv({
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      CAUSEWAY_EMBEDDED_DATABASE: '0',
      PUBLIC_BASE_URL: env.PUBLIC_BASE_URL,
      CAUSEWAY_DATA_DIR: env.CAUSEWAY_DATA_DIR,
      ...(webUiUrl && !env.TEMPORAL_UI_URL ? { TEMPORAL_UI_URL: webUiUrl } : {}),
      CAUSEWAY_PAYLOAD_KEYS: formatPayloadKeys(payloadKeys),
    }),
    log: log.child({ component: 'supervisor' }),
    stopTimeoutMs: env.WORKER_SHUTDOWN_FORCE_AFTER + 10_000,
  });
  // Stop order: APIs (no new webhooks), workers (drain), then the Web UI and Temporal.
  stops.unshift(() => supervisor.stop());
  await supervisor.ready;

  const apiUrls = layout.apiPorts.map((port) => `http://localhost:${port}`);
  writeRuntimeInfo(env.CAUSEWAY_DATA_DIR, {
    pid: process.pid,
    databaseUrl,
    temporalAddress,
    temporalNamespace: env.TEMPORAL_NAMESPACE,
    apiUrl: apiUrls[0]!,
    publicBaseUrl: env.PUBLIC_BASE_URL,
    webUiUrl,
  });
  stops.push(() => Promise.resolve(removeRuntimeInfo(env.CAUSEWAY_DATA_DIR)));
  const lines = [
    '',
    `Causeway cluster is running (ready in ${Math.round((Date.now() - started) / 1000)} s).`,
    ...apiUrls.map(
      (url, i) =>
        `  API ${i + 1}:              ${url}   (put a load balancer in front; PUBLIC_BASE_URL=${env.PUBLIC_BASE_URL})`,
    ),
    `  Workers:            ${layout.workers} processes on task queue ${env.TEMPORAL_TASK_QUEUE}`,
    `  Temporal frontend:  ${temporalAddress} (namespace ${env.TEMPORAL_NAMESPACE}; ${temporalStore})`,
    `  Temporal Web UI:    ${webUiUrl ?? '(not available; the compose stack has one)'}`,
    `  Database:           ${layout.postgres.database} on ${layout.postgres.host}:${layout.postgres.port}`,
    `  Logs and config:    ${dir}`,
    '  Try it:  npx causeway simulate --body "Olá"      Stop: Ctrl-C',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

const stopper = orderedShutdown(stops, log, (code) => log.info({ code }, 'cluster stopped'));
const shutdown = stopper.shutdown;

main()
  .then(() => {
    if (options.ensure) process.exit(0);
  })
  .catch((error: unknown) => {
    log.fatal({ err: { message: (error as Error).message } }, 'cluster failed to start');
    void shutdown(1);
  });
