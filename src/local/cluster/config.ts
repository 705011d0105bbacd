// Pure rendering of the cluster's configuration: where each part listens and how the Temporal server and the Web
// UI server reach their databases. No I/O here, so the layout is unit-tested (test/unit/cluster-config.test.ts).

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Causeway's own database (DATABASE_URL's path). */
  database: string;
}

export interface ClusterLayout {
  postgres: PostgresTarget;
  /** Temporal's persistence and visibility databases, on the same Postgres server as Causeway's. */
  temporalDatabase: string;
  visibilityDatabase: string;
  /** The frontend gRPC port (TEMPORAL_ADDRESS); the other services use the ports just above it. */
  frontendPort: number;
  ports: {
    frontendHttp: number;
    history: number;
    matching: number;
    worker: number;
    membership: { frontend: number; history: number; matching: number; worker: number };
    metrics: number;
  };
  uiPort: number;
  /** Issue 18 C: the Web UI's write actions (terminate, signal, reset, start); off unless `--ui-write-actions`. */
  uiWriteActions: boolean;
  /** The API processes, in order (API 1 on PORT, API 2 on PORT + 1). */
  apiPorts: number[];
  workers: number;
  namespace: string;
}

/** Postgres database names are identifiers: the cluster only makes ones that never need quoting. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,40}$/;

export function parsePostgresUrl(url: string): PostgresTarget {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new Error('DATABASE_URL must be a postgres:// URL for the cluster');
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'causeway';
  if (!IDENTIFIER.test(database))
    throw new Error(
      "DATABASE_URL database name must be lower-case letters, digits and _ (it prefixes Temporal's database names)",
    );
  return {
    host: parsed.hostname || '127.0.0.1',
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username || 'postgres'),
    password: decodeURIComponent(parsed.password),
    database,
  };
}

/** A block of ports from the frontend's up: frontend, its HTTP API, history, matching, worker, membership, metrics. */
export function clusterLayout(options: {
  databaseUrl: string;
  temporalAddress: string;
  uiPort: number;
  uiWriteActions?: boolean;
  apiPort: number;
  apis?: number;
  workers?: number;
  namespace: string;
}): ClusterLayout {
  const postgres = parsePostgresUrl(options.databaseUrl);
  const match = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(options.temporalAddress);
  if (!match)
    throw new Error(
      'TEMPORAL_ADDRESS must be 127.0.0.1:<port> (or localhost:<port>) for the local cluster: its frontend listens on loopback there',
    );
  const f = Number(match[2]);
  if (f + 9 > 65535) throw new Error('TEMPORAL_ADDRESS port leaves no room for the 9 service ports above it');
  return {
    postgres,
    temporalDatabase: `${postgres.database}_temporal`,
    visibilityDatabase: `${postgres.database}_temporal_visibility`,
    frontendPort: f,
    ports: {
      frontendHttp: f + 1,
      history: f + 2,
      matching: f + 3,
      worker: f + 4,
      membership: { frontend: f + 5, history: f + 6, matching: f + 7, worker: f + 8 },
      metrics: f + 9,
    },
    uiPort: options.uiPort,
    uiWriteActions: options.uiWriteActions ?? false,
    apiPorts: Array.from({ length: options.apis ?? 2 }, (_, i) => options.apiPort + i),
    workers: options.workers ?? 2,
    namespace: options.namespace,
  };
}

/** Every port the cluster listens on (checked free before anything starts). */
export function listenPorts(layout: ClusterLayout, withUi: boolean): number[] {
  const p = layout.ports;
  return [
    layout.frontendPort,
    p.frontendHttp,
    p.history,
    p.matching,
    p.worker,
    ...Object.values(p.membership),
    p.metrics,
    ...(withUi ? [layout.uiPort] : []),
    ...layout.apiPorts,
  ];
}

const q = (value: string) => JSON.stringify(value);

function datastore(layout: ClusterLayout, database: string, maxConns: number) {
  const pg = layout.postgres;
  return `      sql:
        pluginName: "postgres12"
        databaseName: ${q(database)}
        connectAddr: ${q(`${pg.host}:${pg.port}`)}
        connectProtocol: "tcp"
        user: ${q(pg.user)}
        password: ${q(pg.password)}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
}

/**
 * The Temporal server's static config, shaped like the module's config/development-postgres12.yaml: Postgres for
 * persistence and SQL visibility, 4 history shards, the four services in one process bound to loopback.
 */
export function renderServerConfig(layout: ClusterLayout, dynamicConfigFile: string): string {
  const p = layout.ports;
  const service = (grpc: number, membership: number, extra = '') => `    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${extra}`;
  return `# Written by npm run cluster (src/local/cluster/config.ts) at every start; edit that file, not this one.
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${datastore(layout, layout.temporalDatabase, 20)}
    postgres-visibility:
${datastore(layout, layout.visibilityDatabase, 5)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:${p.metrics}"

services:
  frontend:
${service(layout.frontendPort, p.membership.frontend, `\n      httpPort: ${p.frontendHttp}`)}
  history:
${service(p.history, p.membership.history)}
  matching:
${service(p.matching, p.membership.matching)}
  worker:
${service(p.worker, p.membership.worker)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${layout.frontendPort}"
      httpAddress: "127.0.0.1:${p.frontendHttp}"

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: ${q(dynamicConfigFile)}
  pollInterval: "10s"
`;
}

/**
 * Dynamic config. The namespace cache refreshes every 2 s instead of 10 s: with SQL visibility a new search
 * attribute is part of the namespace record, so this is how soon every service sees it (the dev server forces a
 * refresh on every read instead, which Temporal calls a testing setting).
 */
export function renderDynamicConfig(): string {
  return `# Written by npm run cluster (src/local/cluster/config.ts).
system.namespaceCacheRefreshInterval:
  - value: 2s
frontend.maxNamespaceVisibilityRPSPerInstance:
  - value: 100
`;
}

/** The Web UI server's config (temporalio/ui-server), pointed at the cluster's frontend. */
export function renderUiConfig(layout: ClusterLayout): string {
  return `# Written by npm run cluster (src/local/cluster/config.ts).
temporalGrpcAddress: ${q(`127.0.0.1:${layout.frontendPort}`)}
host: "127.0.0.1"
port: ${layout.uiPort}
enableUi: true
# Loopback only, no login: read-only unless npm run cluster -- --ui-write-actions (docs/security.md).
disableWriteActions: ${layout.uiWriteActions ? 'false' : 'true'}
defaultNamespace: ${q(layout.namespace)}
refreshInterval: 1m
notifyOnNewVersion: false
cors:
  cookieInsecure: true
  allowOrigins:
    - ${q(`http://localhost:${layout.uiPort}`)}
    - ${q(`http://127.0.0.1:${layout.uiPort}`)}
auth:
  enabled: false
`;
}
