import type { Env } from '../../config/env';
import { ensureGoBinary, findGoBinary, type BinarySource, type GoBinary } from '../temporal-cli';

/** The server inside the pinned CLI (src/local/temporal-cli.ts): the cluster runs the same Temporal as dev. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
/** The Web UI release compose runs (temporalio/ui:2.42.1), also the one embedded in the pinned CLI. */
export const TEMPORAL_UI_VERSION = 'v2.42.1';

export const TEMPORAL_SERVER: GoBinary = {
  name: 'temporal-server',
  goPackage: 'go.temporal.io/server/cmd/server',
  version: TEMPORAL_SERVER_VERSION,
  cacheSubdir: `temporal-server-${TEMPORAL_SERVER_VERSION}`,
  pathVariable: 'TEMPORAL_SERVER_PATH',
};
/** Creates and migrates Temporal's SQL databases; the schemas are embedded in it (`--schema-name`). */
export const TEMPORAL_SQL_TOOL: GoBinary = {
  name: 'temporal-sql-tool',
  goPackage: 'go.temporal.io/server/cmd/tools/sql',
  version: TEMPORAL_SERVER_VERSION,
  cacheSubdir: `temporal-server-${TEMPORAL_SERVER_VERSION}`,
  pathVariable: 'TEMPORAL_SQL_TOOL_PATH',
};
export const TEMPORAL_UI_SERVER: GoBinary = {
  name: 'temporal-ui-server',
  goPackage: 'github.com/temporalio/ui-server/v2/cmd/server',
  version: TEMPORAL_UI_VERSION,
  cacheSubdir: `temporal-ui-server-${TEMPORAL_UI_VERSION}`,
  pathVariable: 'TEMPORAL_UI_SERVER_PATH',
};

export interface ClusterBinaries {
  server: { path: string; source: BinarySource };
  sqlTool: { path: string; source: BinarySource };
  /** null when the Web UI server could not be built: the cluster runs without it and says so. */
  ui: { path: string; source: BinarySource } | null;
  uiError?: string;
}

const lookup = (env: Env, explicitPath: string | undefined) => ({
  explicitPath,
  pathEnv: env.PATH,
  cacheDir: env.CACHE_DIR,
});

/**
 * The cluster's binaries: explicit path, PATH, the cache, else `go install` at the pinned versions (first run
 * only). The Web UI is optional: a failed UI build is reported, the rest of the cluster runs anyway.
 */
export async function ensureClusterBinaries(
  env: Env,
  progress: (line: string) => void,
  options: { ui?: boolean } = {},
): Promise<ClusterBinaries> {
  const server = await ensureGoBinary(TEMPORAL_SERVER, lookup(env, env.TEMPORAL_SERVER_PATH), progress);
  const sqlTool = await ensureGoBinary(TEMPORAL_SQL_TOOL, lookup(env, env.TEMPORAL_SQL_TOOL_PATH), progress);
  if (options.ui === false)
    return { server, sqlTool, ui: findGoBinary(TEMPORAL_UI_SERVER, lookup(env, env.TEMPORAL_UI_SERVER_PATH)) };
  try {
    const ui = await ensureGoBinary(TEMPORAL_UI_SERVER, lookup(env, env.TEMPORAL_UI_SERVER_PATH), progress);
    return { server, sqlTool, ui };
  } catch (error) {
    return { server, sqlTool, ui: null, uiError: (error as Error).message };
  }
}
